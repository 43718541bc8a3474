import CHDF5
import Foundation

/// An open run file: its HDF5 handle, its columns by path, its metadata, and the extent of its complete rows.
/// Shared by `TrajectoryWriter` and `TrajectoryReader`.
final class RunFile {
    let path: String
    let id: hid_t
    let metadata: RunMetadata
    private(set) var columns: [String: Column]
    private(set) var isOpen = true
    /// The descriptor holding the writer's lock (see `lockForWriting`), or -1 for a reader.
    private let lockDescriptor: Int32

    private init(path: String, id: hid_t, metadata: RunMetadata, columns: [String: Column], lockDescriptor: Int32) {
        self.path = path
        self.id = id
        self.metadata = metadata
        self.columns = columns
        self.lockDescriptor = lockDescriptor
    }

    func column(_ path: String) -> Column {
        guard let column = columns[path] else { preconditionFailure("\(path) is not in the schema") }
        return column
    }

    deinit { try? close() }

    /// Closes every column, then the file; throws when the final flush fails. Closing twice does nothing.
    func close() throws {
        guard isOpen else { return }
        isOpen = false
        // Columns close their datasets when released; HDF5 closes the file only once none is open.
        columns = [:]
        defer { if lockDescriptor >= 0 { closeDescriptor(lockDescriptor) } }
        try HDF5.check(H5Fclose(id), "close \(path)")
    }

    /// Takes the exclusive writer's lock on `path` (an open-file-description lock on its first byte, released when
    /// the descriptor closes or the process dies). Throws `busy` when another writer holds it: resuming clears
    /// HDF5's own "open for writing" mark, so without this lock a second writer could corrupt a live run.
    static func lockForWriting(_ path: String) throws -> Int32 {
        let descriptor = openDescriptor(path)
        guard descriptor >= 0 else {
            throw TrajectoryError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        let status = chdf5_lock_exclusively(descriptor)
        guard status == 0 else {
            closeDescriptor(descriptor)
            if status == EAGAIN || status == EACCES { throw TrajectoryError.busy(path: path) }
            throw TrajectoryError.cannotOpen(path: path, reason: "cannot lock it: " + String(cString: strerror(status)))
        }
        return descriptor
    }

    // MARK: Creating

    static func create(path: String, metadata: RunMetadata, overwrite: Bool) throws -> RunFile {
        _ = HDF5.ready
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw TrajectoryError.cannotCreate(path: path, reason: "directory \(directory) does not exist")
        }
        let exists = FileManager.default.fileExists(atPath: path)
        if exists, !overwrite { throw TrajectoryError.alreadyExists(path: path) }
        let access = try fileAccessProperties(clearStatusFlags: false)
        defer { H5Pclose(access) }
        let creation = try fileCreationProperties()
        defer { H5Pclose(creation) }
        // Replacing a file: lock it first (truncation keeps the inode, and with it the lock).
        var lock: Int32 = exists ? try lockForWriting(path) : -1
        let id = H5Fcreate(path, chdf5_acc_trunc(), creation, access)
        guard id >= 0 else {
            if lock >= 0 { closeDescriptor(lock) }
            throw TrajectoryError.cannotCreate(path: path, reason: HDF5.leadingSystemReason(HDF5.takeErrorDescription()))
        }
        do {
            if lock < 0 { lock = try lockForWriting(path) }
            try writeRootAttributes(id, metadata)
            for table in TrajectorySchema.tables {
                let group = try HDF5.check(id: H5Gcreate2(id, table, chdf5_default(), chdf5_default(), chdf5_default()),
                                           "create group \(table)")
                H5Gclose(group)
            }
            var columns: [String: Column] = [:]
            for spec in TrajectorySchema.columns {
                let width: Int?
                switch spec.width {
                case .one: width = nil
                case .rules: width = metadata.rewardRules.count
                case .extra: width = metadata.extraStepMetrics.count
                }
                let column = try Column.create(in: id, path: spec.path, kind: spec.kind, width: width,
                                               chunkRows: TrajectorySchema.chunkRows(of: spec.table), fill: spec.fill,
                                               deflateLevel: spec.compressed ? TrajectorySchema.deflateLevel : nil)
                switch spec.width {
                case .one: break
                case .rules: try HDF5.writeAttribute(column.id, "rule_names", strings: metadata.rewardRules)
                case .extra: try HDF5.writeAttribute(column.id, "metric_names", strings: metadata.extraStepMetrics)
                }
                columns[spec.path] = column
            }
            return RunFile(path: path, id: id, metadata: metadata, columns: columns, lockDescriptor: lock)
        } catch {
            H5Fclose(id)
            if lock >= 0 { closeDescriptor(lock) }
            if case TrajectoryError.busy = error { throw error }
            throw TrajectoryError.cannotCreate(path: path, reason: "\(error)")
        }
    }

    private static func writeRootAttributes(_ id: hid_t, _ metadata: RunMetadata) throws {
        guard metadata.rewardWeights.count == metadata.rewardRules.count else {
            throw TrajectoryError.invalidRecord("metadata has \(metadata.rewardRules.count) reward rules but "
                + "\(metadata.rewardWeights.count) weights")
        }
        try HDF5.writeAttribute(id, "format", string: TrajectorySchema.formatName)
        try HDF5.writeAttribute(id, "format_version", int64: Int64(TrajectorySchema.version))
        try HDF5.writeAttribute(id, "swiftgrpo_version", string: metadata.swiftGRPOVersion)
        try HDF5.writeAttribute(id, "experiment", string: metadata.experiment)
        try HDF5.writeAttribute(id, "seed", uint64: metadata.seed)
        try HDF5.writeAttribute(id, "model_path", string: metadata.modelPath)
        try HDF5.writeAttribute(id, "model_hash", string: metadata.modelHash)
        try HDF5.writeAttribute(id, "tokenizer_path", string: metadata.tokenizerPath)
        try HDF5.writeAttribute(id, "tokenizer_hash", string: metadata.tokenizerHash)
        try HDF5.writeAttribute(id, "reward_rules", strings: metadata.rewardRules)
        try HDF5.writeAttribute(id, "reward_weights", doubles: metadata.rewardWeights)
        try HDF5.writeAttribute(id, "extra_step_metrics", strings: metadata.extraStepMetrics)
        try HDF5.writeAttribute(id, "start_time", string: metadata.startTime)
    }

    // MARK: Opening

    /// Opens an existing run file and checks it against the schema. `writable` opens it for appending (and clears
    /// the "open for writing" mark a killed writer leaves); otherwise it opens for SWMR reading, so a file that a
    /// run is still writing can be read.
    static func open(path: String, writable: Bool) throws -> RunFile {
        _ = HDF5.ready
        guard FileManager.default.fileExists(atPath: path) else { throw TrajectoryError.fileNotFound(path: path) }
        guard HDF5.isHDF5(path) else { throw TrajectoryError.notHDF5(path: path) }
        let lock = writable ? try lockForWriting(path) : -1
        let access: hid_t
        do {
            access = try fileAccessProperties(clearStatusFlags: writable)
        } catch {
            if lock >= 0 { closeDescriptor(lock) }
            throw error
        }
        defer { H5Pclose(access) }
        var id: hid_t
        if writable {
            id = H5Fopen(path, chdf5_acc_rdwr(), access)
        } else {
            id = H5Fopen(path, chdf5_acc_rdonly() | chdf5_acc_swmr_read(), access)
            if id < 0 {
                // Files not written in the SWMR format (not ours, or from other tools) open without SWMR.
                _ = HDF5.takeErrorDescription()
                id = H5Fopen(path, chdf5_acc_rdonly(), chdf5_default())
            }
        }
        guard id >= 0 else {
            if lock >= 0 { closeDescriptor(lock) }
            throw TrajectoryError.cannotOpen(path: path, reason: HDF5.leadingSystemReason(HDF5.takeErrorDescription()))
        }
        do {
            if writable {
                // A writer killed between two flushes can leave the superblock's end of allocation behind data that
                // flushed metadata points to (HDF5 also writes metadata out when its cache is full, and a compressed
                // chunk moves when rewritten). Left so, new data would be allocated over it. SWMR writes every
                // object before anything points to it, so all of it lies below the end of the file (`h5clear -i`).
                // Rounded up to a whole page: paged allocation hands out pages from the end of allocation.
                var endOfAllocation: haddr_t = 0
                try HDF5.check(H5Fget_eoa(id, &endOfAllocation), "end of allocation of \(path)")
                let endOfFile = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
                let end = max(UInt64(endOfAllocation), endOfFile)
                let pageEnd = (end + filePageSize - 1) / filePageSize * filePageSize
                try HDF5.check(H5Fincrement_filesize(id, pageEnd - end), "move the end of allocation of \(path) to the end of the file")
            }
            let metadata = try readRootAttributes(id, path: path)
            var columns: [String: Column] = [:]
            for spec in TrajectorySchema.columns {
                let column = try Column.open(in: id, path: spec.path, kind: spec.kind, twoDimensional: spec.width != .one,
                                             fileName: path)
                let expectedWidth: Int?
                switch spec.width {
                case .one: expectedWidth = nil
                case .rules: expectedWidth = metadata.rewardRules.count
                case .extra: expectedWidth = metadata.extraStepMetrics.count
                }
                guard column.width == expectedWidth else {
                    throw TrajectoryError.schemaMismatch(path: path, detail:
                        "dataset \(spec.path) has \(column.width ?? 1) columns, the root attributes name \(expectedWidth ?? 1)")
                }
                columns[spec.path] = column
            }
            return RunFile(path: path, id: id, metadata: metadata, columns: columns, lockDescriptor: lock)
        } catch {
            H5Fclose(id)
            if lock >= 0 { closeDescriptor(lock) }
            guard case let TrajectoryError.hdf5(operation, detail) = error else { throw error }
            let damage = detail.contains("checksum") ? " (the file is damaged: part of it fails its checksum)" : ""
            throw TrajectoryError.cannotOpen(path: path, reason: "could not \(operation): \(detail)\(damage)")
        }
    }

    private static func readRootAttributes(_ id: hid_t, path: String) throws -> RunMetadata {
        guard try HDF5.readStringAttribute(id, "format") == TrajectorySchema.formatName else {
            throw TrajectoryError.notARunFile(path: path)
        }
        guard let version = try HDF5.readNumbersAttribute(id, "format_version")?.first else {
            throw TrajectoryError.missingAttribute(path: path, attribute: "format_version")
        }
        guard let found = Int(exactly: version) else {
            throw TrajectoryError.schemaMismatch(path: path, detail: "format_version \(version) is not a whole number")
        }
        guard found == TrajectorySchema.version else {
            throw TrajectoryError.unsupportedFormatVersion(path: path, found: found, supported: TrajectorySchema.version)
        }
        func string(_ name: String) throws -> String {
            guard let value = try HDF5.readStringAttribute(id, name) else {
                throw TrajectoryError.missingAttribute(path: path, attribute: name)
            }
            return value
        }
        func strings(_ name: String) throws -> [String] {
            guard let value = try HDF5.readStringsAttribute(id, name) else {
                throw TrajectoryError.missingAttribute(path: path, attribute: name)
            }
            return value
        }
        guard let seed = try HDF5.readUInt64Attribute(id, "seed") else {
            throw TrajectoryError.missingAttribute(path: path, attribute: "seed")
        }
        guard var weights = try HDF5.readNumbersAttribute(id, "reward_weights") else {
            throw TrajectoryError.missingAttribute(path: path, attribute: "reward_weights")
        }
        let rules = try strings("reward_rules")
        if rules.isEmpty { weights = [] }  // an empty attribute is stored with one placeholder value
        return RunMetadata(experiment: try string("experiment"), seed: seed, swiftGRPOVersion: try string("swiftgrpo_version"),
                           modelPath: try string("model_path"), modelHash: try string("model_hash"),
                           tokenizerPath: try string("tokenizer_path"), tokenizerHash: try string("tokenizer_hash"),
                           rewardRules: rules, rewardWeights: weights,
                           extraStepMetrics: try strings("extra_step_metrics"), startTime: try string("start_time"))
    }

    /// A kill can stop a write at any page boundary (Linux checks for a fatal signal between pages), and HDF5 rewrites
    /// a dataset's object header in place on every append. With paged allocation no object smaller than a page
    /// straddles one, so a kill leaves each such object whole, old or new, never torn (a torn header fails its
    /// checksum and takes its dataset with it).
    static let filePageSize: UInt64 = 4096

    private static func fileCreationProperties() throws -> hid_t {
        let creation = try HDF5.check(id: H5Pcreate(chdf5_p_file_create()), "file creation properties")
        do {
            try HDF5.check(H5Pset_file_space_strategy(creation, H5F_FSPACE_STRATEGY_PAGE, false, 1), "paged file space")
            try HDF5.check(H5Pset_file_space_page_size(creation, filePageSize), "file space page size")
        } catch {
            H5Pclose(creation)
            throw error
        }
        return creation
    }

    private static func fileAccessProperties(clearStatusFlags: Bool) throws -> hid_t {
        let access = try HDF5.check(id: H5Pcreate(chdf5_p_file_access()), "file access properties")
        // SWMR needs the 1.10 file format (superblock version 3); nothing newer, so HDF5 1.10 readers read it too.
        try HDF5.check(H5Pset_libver_bounds(access, chdf5_libver_v110(), chdf5_libver_v110()), "set file format bounds")
        // A SWMR reader rereads an object that fails its checksum, in case the writer is halfway through writing it,
        // sleeping twice as long each time: HDF5's 100 attempts would wait for ages on an object that a kill left
        // torn. 28 attempts wait at most 2^28 ns ≈ 0.27 s, far longer than any one write takes.
        try HDF5.check(H5Pset_metadata_read_attempts(access, 28), "metadata read attempts")
        if clearStatusFlags {
            try HDF5.check(chdf5_set_clear_status_flags(access), "clear the file's open-for-writing flags")
        }
        return access
    }

    func startSingleWriterMultipleReaders() throws {
        try HDF5.check(H5Fstart_swmr_write(id), "start SWMR writing on \(path)")
    }

    func flush() throws {
        try HDF5.check(H5Fflush(id, H5F_SCOPE_LOCAL), "flush \(path)")
    }

    func refresh() throws {
        for column in columns.values { try column.refresh() }
    }

    // MARK: Complete rows

    /// How many rows of each table belong to complete steps and evaluations; rows past these are a write that
    /// was cut short (a kill, a full disk) and are ignored by the reader and dropped on resume.
    struct Extent: Equatable {
        var steps = 0, prompts = 0, completions = 0, tokens = 0, evals = 0, evalProblems = 0
    }

    /// The complete rows, optionally only those of steps ≤ `throughStep` (and evaluations at steps ≤ it).
    func completeExtent(throughStep: Int? = nil) throws -> Extent {
        func rows(_ table: String) -> Int {
            TrajectorySchema.columns.filter { $0.table == table }.map { column($0.path).rows }.min() ?? 0
        }
        let promptRows = rows("prompts"), completionRows = rows("completions"), tokenRows = rows("tokens")
        var extent = Extent()
        let stepRows = rows("steps")
        if stepRows > 0 {
            let steps: [Int64] = try column("steps/step").read(rows: 0..<stepRows)
            let firstPrompt: [Int64] = try column("steps/first_prompt").read(rows: 0..<stepRows)
            let promptCount: [Int64] = try column("steps/prompt_count").read(rows: 0..<stepRows)
            let firstCompletion: [Int64] = try column("steps/first_completion").read(rows: 0..<stepRows)
            let completionCount: [Int64] = try column("steps/completion_count").read(rows: 0..<stepRows)
            let firstToken: [Int64] = try column("steps/first_token").read(rows: 0..<stepRows)
            let tokenCount: [Int64] = try column("steps/token_count").read(rows: 0..<stepRows)
            var previous = Int64.min
            // A row counts when it follows on from the previous one in every table and fits in it; checked without
            // arithmetic that could overflow, so a damaged file cannot trap.
            func follows(_ first: Int64, _ count: Int64, end: Int, rows: Int) -> Bool {
                first == Int64(end) && count >= 0 && count <= Int64(rows - end)
            }
            for row in 0..<stepRows {
                guard steps[row] >= 0, steps[row] > previous,
                      follows(firstPrompt[row], promptCount[row], end: extent.prompts, rows: promptRows),
                      follows(firstCompletion[row], completionCount[row], end: extent.completions, rows: completionRows),
                      follows(firstToken[row], tokenCount[row], end: extent.tokens, rows: tokenRows) else { break }
                if let throughStep, steps[row] > Int64(throughStep) { break }
                previous = steps[row]
                extent = Extent(steps: row + 1, prompts: extent.prompts + Int(promptCount[row]),
                                completions: extent.completions + Int(completionCount[row]),
                                tokens: extent.tokens + Int(tokenCount[row]))
            }
        }
        let evalRows = rows("evals"), problemRows = rows("eval_problems")
        if evalRows > 0 {
            let steps: [Int64] = try column("evals/step").read(rows: 0..<evalRows)
            let first: [Int64] = try column("evals/first_problem").read(rows: 0..<evalRows)
            let count: [Int64] = try column("evals/problem_count").read(rows: 0..<evalRows)
            for row in 0..<evalRows {
                guard steps[row] >= 0, first[row] == Int64(extent.evalProblems), count[row] >= 0,
                      count[row] <= Int64(problemRows - extent.evalProblems) else { break }
                if let throughStep, steps[row] > Int64(throughStep) { break }
                extent.evals = row + 1
                extent.evalProblems += Int(count[row])
            }
        }
        return extent
    }

    /// Cuts every table back to `extent` (before SWMR writing starts: SWMR cannot shrink a dataset).
    func truncate(to extent: Extent) throws {
        let rowsByTable = ["steps": extent.steps, "prompts": extent.prompts, "completions": extent.completions,
                           "tokens": extent.tokens, "evals": extent.evals, "eval_problems": extent.evalProblems]
        for spec in TrajectorySchema.columns {
            try column(spec.path).truncate(toRows: rowsByTable[spec.table]!)
        }
    }
}

// File-scope wrappers: inside `RunFile`, `open` and `close` name its own methods.
private func openDescriptor(_ path: String) -> Int32 { open(path, O_RDWR | O_CLOEXEC) }
private func closeDescriptor(_ descriptor: Int32) { _ = close(descriptor) }
