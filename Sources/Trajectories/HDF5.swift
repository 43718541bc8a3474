import CHDF5
import Foundation

/// The few HDF5 calls the store needs, typed. Every failing call becomes a `TrajectoryError.hdf5` that carries
/// HDF5's own description; nothing is printed on stderr and nothing traps.
enum HDF5 {
    /// Opens the library once and turns off its automatic error printing. HDF5's own exit handler is turned off:
    /// every step is flushed when it is written, and after a failed write (disk full) that handler would try to
    /// flush the file once more and crash the process on its way out.
    static let ready: Void = {
        _ = H5dont_atexit()
        _ = H5open()
        _ = chdf5_silence_errors()
    }()

    static let utf8String: hid_t = {
        _ = ready
        let type = H5Tcopy(chdf5_c_s1())
        _ = H5Tset_size(type, chdf5_variable())
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }()

    /// HDF5's error stack, outermost call first and the deepest cause last, as one line; clears the stack.
    static func takeErrorDescription() -> String {
        let box = ErrorLines()
        let context = Unmanaged.passRetained(box)
        _ = H5Ewalk2(chdf5_error_stack(), H5E_WALK_DOWNWARD, { _, description, data in
            guard let description, let data, let text = description.pointee.desc else { return 0 }
            Unmanaged<ErrorLines>.fromOpaque(data).takeUnretainedValue().lines.append(String(cString: text))
            return 0
        }, context.toOpaque())
        context.release()
        _ = H5Eclear2(chdf5_error_stack())
        // HDF5's descriptions can span lines ("time = …\n, filename = …"): one line reads better in an error.
        box.lines = box.lines.map { $0.split(whereSeparator: \.isNewline).joined(separator: " ") }
        guard let first = box.lines.first else { return "no detail from HDF5" }
        guard let last = box.lines.last, last != first else { return first }
        return "\(first) (\(last))"
    }

    @discardableResult
    static func check(_ status: herr_t, _ operation: @autoclosure () -> String) throws -> herr_t {
        if status < 0 { throw TrajectoryError.hdf5(operation: operation(), detail: takeErrorDescription()) }
        return status
    }

    static func check(id: hid_t, _ operation: @autoclosure () -> String) throws -> hid_t {
        if id < 0 { throw TrajectoryError.hdf5(operation: operation(), detail: takeErrorDescription()) }
        return id
    }

    /// True when `path` is an HDF5 file; false for any other file. Throws nothing: callers check existence first.
    static func isHDF5(_ path: String) -> Bool {
        _ = ready
        let result = H5Fis_hdf5(path)
        _ = H5Eclear2(chdf5_error_stack())
        return result > 0
    }

    static func exists(_ location: hid_t, _ path: String) -> Bool {
        // H5Lexists needs every intermediate group to exist: walk the path one link at a time.
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += prefix.isEmpty ? String(part) : "/\(part)"
            if H5Lexists(location, prefix, chdf5_default()) <= 0 {
                _ = H5Eclear2(chdf5_error_stack())
                return false
            }
        }
        return true
    }

    // MARK: Attributes

    static func writeAttribute(_ object: hid_t, _ name: String, string: String) throws {
        try writeAttribute(object, name, strings: [string], scalar: true)
    }

    static func writeAttribute(_ object: hid_t, _ name: String, strings: [String], scalar: Bool = false) throws {
        let pointers = strings.map { strdup(sanitized($0)) }
        defer { pointers.forEach { free($0) } }
        try writeAttribute(object, name, fileType: utf8String, memoryType: utf8String,
                           count: scalar ? nil : strings.count) { buffer in
            let storage: [UnsafeMutablePointer<CChar>?] = pointers.isEmpty ? [nil] : pointers
            try storage.withUnsafeBufferPointer { try buffer($0.baseAddress!) }
        }
    }

    static func writeAttribute(_ object: hid_t, _ name: String, int64: Int64) throws {
        var value = int64
        try writeAttribute(object, name, fileType: chdf5_std_i64le(), memoryType: chdf5_native_int64(), count: nil) {
            try $0(&value)
        }
    }

    static func writeAttribute(_ object: hid_t, _ name: String, uint64: UInt64) throws {
        var value = uint64
        try writeAttribute(object, name, fileType: chdf5_std_u64le(), memoryType: chdf5_native_uint64(), count: nil) {
            try $0(&value)
        }
    }

    static func writeAttribute(_ object: hid_t, _ name: String, doubles: [Double]) throws {
        try writeAttribute(object, name, fileType: chdf5_ieee_f64le(), memoryType: chdf5_native_double(),
                           count: doubles.count) { buffer in
            // HDF5 wants a buffer even for zero values.
            let storage = doubles.isEmpty ? [0] : doubles
            try storage.withUnsafeBufferPointer { try buffer($0.baseAddress!) }
        }
    }

    private static func writeAttribute(_ object: hid_t, _ name: String, fileType: hid_t, memoryType: hid_t, count: Int?,
                                       body: ((UnsafeRawPointer) throws -> Void) throws -> Void) throws {
        if H5Aexists(object, name) > 0 { try check(H5Adelete(object, name), "replace attribute \(name)") }
        let space: hid_t
        if let count {
            var dims = [hsize_t(count)]
            space = try check(id: H5Screate_simple(1, &dims, nil), "attribute \(name)")
        } else {
            space = try check(id: H5Screate(H5S_SCALAR), "attribute \(name)")
        }
        defer { H5Sclose(space) }
        let attribute = try check(id: H5Acreate2(object, name, fileType, space, chdf5_default(), chdf5_default()),
                                  "create attribute \(name)")
        defer { H5Aclose(attribute) }
        try body { pointer in try check(H5Awrite(attribute, memoryType, pointer), "write attribute \(name)") }
    }

    static func hasAttribute(_ object: hid_t, _ name: String) -> Bool {
        let result = H5Aexists(object, name)
        _ = H5Eclear2(chdf5_error_stack())
        return result > 0
    }

    /// The attribute's strings (one for a scalar), or nil when it is missing or not text.
    static func readStringsAttribute(_ object: hid_t, _ name: String) throws -> [String]? {
        guard hasAttribute(object, name) else { return nil }
        let attribute = try check(id: H5Aopen(object, name, chdf5_default()), "open attribute \(name)")
        defer { H5Aclose(attribute) }
        let type = try check(id: H5Aget_type(attribute), "attribute \(name)")
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_STRING, H5Tis_variable_str(type) > 0 else { return nil }
        let space = try check(id: H5Aget_space(attribute), "attribute \(name)")
        defer { H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        try check(H5Aread(attribute, utf8String, &pointers), "read attribute \(name)")
        let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
        _ = chdf5_reclaim(utf8String, space, &pointers)
        return strings
    }

    static func readStringAttribute(_ object: hid_t, _ name: String) throws -> String? {
        try readStringsAttribute(object, name)?.first
    }

    /// Numbers of an integer or float attribute converted to Double (exact for the integers we store), or nil.
    static func readNumbersAttribute(_ object: hid_t, _ name: String) throws -> [Double]? {
        guard hasAttribute(object, name) else { return nil }
        let attribute = try check(id: H5Aopen(object, name, chdf5_default()), "open attribute \(name)")
        defer { H5Aclose(attribute) }
        let type = try check(id: H5Aget_type(attribute), "attribute \(name)")
        defer { H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else { return nil }
        let space = try check(id: H5Aget_space(attribute), "attribute \(name)")
        defer { H5Sclose(space) }
        var values = [Double](repeating: 0, count: Int(H5Sget_simple_extent_npoints(space)))
        try check(H5Aread(attribute, chdf5_native_double(), &values), "read attribute \(name)")
        return values
    }

    static func readUInt64Attribute(_ object: hid_t, _ name: String) throws -> UInt64? {
        guard hasAttribute(object, name) else { return nil }
        let attribute = try check(id: H5Aopen(object, name, chdf5_default()), "open attribute \(name)")
        defer { H5Aclose(attribute) }
        let type = try check(id: H5Aget_type(attribute), "attribute \(name)")
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_INTEGER else { return nil }
        var value: UInt64 = 0
        try check(H5Aread(attribute, chdf5_native_uint64(), &value), "read attribute \(name)")
        return value
    }

    /// HDF5's description with the operating system's words first when it reports an errno:
    /// "No space left on device: unable to flush … (… errno = 28, error message = 'No space left on device' …)".
    static func leadingSystemReason(_ description: String) -> String {
        if let range = description.range(of: "error message = '") {
            let rest = description[range.upperBound...]
            if let end = rest.firstIndex(of: "'") { return "\(rest[..<end]): \(description)" }
        }
        return description
    }

    /// HDF5 strings end at the first NUL; a NUL inside text is stored as U+FFFD so nothing after it is lost.
    static func sanitized(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\0", with: "\u{FFFD}") : text
    }
}

private final class ErrorLines { var lines: [String] = [] }

/// The element types the schema uses, with their little-endian file types and native memory types.
enum ElementKind: String, Sendable {
    case float32, float64, int32, int64, uint8, string

    var fileType: hid_t {
        switch self {
        case .float32: return chdf5_ieee_f32le()
        case .float64: return chdf5_ieee_f64le()
        case .int32: return chdf5_std_i32le()
        case .int64: return chdf5_std_i64le()
        case .uint8: return chdf5_std_u8le()
        case .string: return HDF5.utf8String
        }
    }

    /// The numpy dtype h5py reports for this kind (strings: h5py's variable-length str, dtype('O')).
    var numpyName: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .string: return "str"
        }
    }

    fileprivate func matches(_ type: hid_t) -> Bool {
        switch self {
        case .string:
            return H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0
        case .float32, .float64:
            return H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == (self == .float32 ? 4 : 8)
        case .int32, .int64, .uint8:
            let size = self == .int32 ? 4 : self == .int64 ? 8 : 1
            let signed = H5Tget_sign(type) == H5T_SGN_2
            return H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == size && signed == (self != .uint8)
        }
    }
}

/// Swift element types that map to a native HDF5 memory type.
protocol HDF5Number {
    static var memoryType: hid_t { get }
    static var kind: ElementKind { get }
}
extension Float: HDF5Number {
    static var memoryType: hid_t { chdf5_native_float() }
    static var kind: ElementKind { .float32 }
}
extension Double: HDF5Number {
    static var memoryType: hid_t { chdf5_native_double() }
    static var kind: ElementKind { .float64 }
}
extension Int32: HDF5Number {
    static var memoryType: hid_t { chdf5_native_int32() }
    static var kind: ElementKind { .int32 }
}
extension Int64: HDF5Number {
    static var memoryType: hid_t { chdf5_native_int64() }
    static var kind: ElementKind { .int64 }
}
extension UInt8: HDF5Number {
    static var memoryType: hid_t { chdf5_native_uint8() }
    static var kind: ElementKind { .uint8 }
}

/// One extendable dataset of the run file: a column of rows, 1-D, or 2-D with a fixed row width.
final class Column {
    let path: String
    let id: hid_t
    let kind: ElementKind
    /// nil for a 1-D column; the number of values per row for a 2-D column.
    let width: Int?
    private(set) var rows: Int

    private init(path: String, id: hid_t, kind: ElementKind, width: Int?, rows: Int) {
        self.path = path
        self.id = id
        self.kind = kind
        self.width = width
        self.rows = rows
    }

    deinit { H5Dclose(id) }

    private var rank: Int32 { width == nil ? 1 : 2 }
    private var valuesPerRow: Int { width ?? 1 }

    static func create(in file: hid_t, path: String, kind: ElementKind, width: Int?, chunkRows: Int,
                       fill: Double?, deflateLevel: UInt32?) throws -> Column {
        var dims: [hsize_t] = width.map { [0, hsize_t($0)] } ?? [0]
        // The second axis is unlimited too, so a column with zero rules or zero extra metrics is still chunkable.
        var maxDims: [hsize_t] = width == nil ? [chdf5_unlimited()] : [chdf5_unlimited(), chdf5_unlimited()]
        var chunk: [hsize_t] = width.map { [hsize_t(chunkRows), hsize_t(max($0, 1))] } ?? [hsize_t(chunkRows)]
        let space = try HDF5.check(id: H5Screate_simple(Int32(dims.count), &dims, &maxDims), "dataspace of \(path)")
        defer { H5Sclose(space) }
        let properties = try HDF5.check(id: H5Pcreate(chdf5_p_dataset_create()), "properties of \(path)")
        defer { H5Pclose(properties) }
        try HDF5.check(H5Pset_chunk(properties, Int32(chunk.count), &chunk), "chunking of \(path)")
        if let deflateLevel {
            try HDF5.check(H5Pset_shuffle(properties), "shuffle filter of \(path)")
            try HDF5.check(H5Pset_deflate(properties, deflateLevel), "deflate filter of \(path)")
        }
        if let fill {
            switch kind {
            case .float32: var value = Float(fill); try HDF5.check(H5Pset_fill_value(properties, Float.memoryType, &value), "fill of \(path)")
            case .float64: var value = fill; try HDF5.check(H5Pset_fill_value(properties, Double.memoryType, &value), "fill of \(path)")
            case .int32: var value = Int32(fill); try HDF5.check(H5Pset_fill_value(properties, Int32.memoryType, &value), "fill of \(path)")
            case .int64: var value = Int64(fill); try HDF5.check(H5Pset_fill_value(properties, Int64.memoryType, &value), "fill of \(path)")
            case .uint8: var value = UInt8(fill); try HDF5.check(H5Pset_fill_value(properties, UInt8.memoryType, &value), "fill of \(path)")
            case .string: break
            }
        }
        let id = try HDF5.check(id: H5Dcreate2(file, path, kind.fileType, space, chdf5_default(), properties, chdf5_default()),
                                "create dataset \(path)")
        return Column(path: path, id: id, kind: kind, width: width, rows: 0)
    }

    /// Opens an existing column and checks its element type and rank against the schema.
    static func open(in file: hid_t, path: String, kind: ElementKind, twoDimensional: Bool, fileName: String) throws -> Column {
        guard HDF5.exists(file, path) else { throw TrajectoryError.missingDataset(path: fileName, dataset: path) }
        let id = try HDF5.check(id: H5Dopen2(file, path, chdf5_default()), "open dataset \(path)")
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        guard kind.matches(type), rank == (twoDimensional ? 2 : 1) else {
            H5Dclose(id)
            throw TrajectoryError.schemaMismatch(path: fileName, detail:
                "dataset \(path) should be \(twoDimensional ? "2-D" : "1-D") \(kind.numpyName)")
        }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space, &dims, nil)
        return Column(path: path, id: id, kind: kind, width: twoDimensional ? Int(dims[1]) : nil, rows: Int(dims[0]))
    }

    /// Re-reads the row count: a SWMR reader sees rows a running writer appended since.
    func refresh() throws {
        try HDF5.check(H5Drefresh(id), "refresh \(path)")
        let space = try HDF5.check(id: H5Dget_space(id), "dataspace of \(path)")
        defer { H5Sclose(space) }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space, &dims, nil)
        rows = Int(dims[0])
    }

    /// Cuts the column back to `count` rows, before a resumed writer appends to it.
    func truncate(toRows count: Int) throws {
        guard kind == .string else {
            if count != rows { try setExtent(rows: count) }
            return
        }
        // A killed writer may have left on disk chunks that hold rows past the extent on disk, pointing to text in
        // the global heap it never wrote. HDF5 reads the old value of each string it overwrites (to free its text),
        // so writing those rows again would fail. Every chunk from the one holding row `count` on is dropped whole
        // (shrinking first brings the chunks past the extent within it), and the complete rows among them rewritten.
        let chunkRows = try self.chunkRows()
        let chunkStart = count / chunkRows * chunkRows
        let kept = try readStrings(rows: chunkStart..<count)
        try setExtent(rows: count + Column.chunksAKilledWriterMayHaveLeft * chunkRows)
        try setExtent(rows: chunkStart)
        try append(strings: kept, rows: count - chunkStart)
    }

    /// One step's rows at most (a few thousand completions) lie past the extent a flush last recorded.
    private static let chunksAKilledWriterMayHaveLeft = 256

    private func setExtent(rows count: Int) throws {
        var dims: [hsize_t] = width.map { [hsize_t(count), hsize_t($0)] } ?? [hsize_t(count)]
        try HDF5.check(H5Dset_extent(id, &dims), "set the extent of \(path) to \(count) rows")
        rows = count
    }

    private func chunkRows() throws -> Int {
        let properties = try HDF5.check(id: H5Dget_create_plist(id), "properties of \(path)")
        defer { H5Pclose(properties) }
        var chunk = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Pget_chunk(properties, rank, &chunk) == rank, chunk[0] > 0 else {
            throw TrajectoryError.schemaMismatch(path: path, detail: "dataset \(path) is not chunked")
        }
        return Int(chunk[0])
    }

    // MARK: Appending

    /// Appends `rowCount` rows holding `values` (row-major, `width` values per row for a 2-D column).
    func append<T: HDF5Number>(_ values: [T], rows rowCount: Int) throws {
        precondition(T.kind == kind, "\(path) holds \(kind), not \(T.kind)")
        try values.withUnsafeBufferPointer { try appendRaw(rowCount, values.count, T.memoryType, $0.baseAddress) }
    }

    func append(strings values: [String], rows rowCount: Int) throws {
        precondition(kind == .string, "\(path) holds \(kind), not strings")
        let pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup(HDF5.sanitized($0)) }
        defer { pointers.forEach { free($0) } }
        try pointers.withUnsafeBufferPointer { try appendRaw(rowCount, values.count, HDF5.utf8String, $0.baseAddress) }
    }

    private func appendRaw(_ newRows: Int, _ valueCount: Int, _ memoryType: hid_t, _ buffer: UnsafeRawPointer?) throws {
        precondition(valueCount == newRows * valuesPerRow, "\(path): \(valueCount) values for \(newRows) rows of \(valuesPerRow)")
        guard newRows > 0 else { return }
        var dims: [hsize_t] = width.map { [hsize_t(rows + newRows), hsize_t($0)] } ?? [hsize_t(rows + newRows)]
        try HDF5.check(H5Dset_extent(id, &dims), "extend \(path)")
        if valueCount > 0 {
            try withSelection(rows: rows..<(rows + newRows)) { memorySpace, fileSpace in
                try withTransferProperties(values: valueCount) { transfer in
                    try HDF5.check(H5Dwrite(id, memoryType, memorySpace, fileSpace, transfer, buffer), "write \(path)")
                }
            }
        }
        rows += newRows
    }

    // MARK: Reading

    func read<T: HDF5Number>(rows range: Range<Int>, as: T.Type = T.self) throws -> [T] {
        precondition(T.kind == kind, "\(path) holds \(kind), not \(T.kind)")
        let count = range.count * valuesPerRow
        guard count > 0 else { return [] }
        try checkRange(range)
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            try withSelection(rows: range) { memorySpace, fileSpace in
                try HDF5.check(H5Dread(id, T.memoryType, memorySpace, fileSpace, chdf5_default(), buffer.baseAddress),
                               "read \(path)")
            }
            initialized = count
        }
    }

    func readStrings(rows range: Range<Int>) throws -> [String] {
        precondition(kind == .string, "\(path) holds \(kind), not strings")
        let count = range.count * valuesPerRow
        guard count > 0 else { return [] }
        try checkRange(range)
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        var strings: [String] = []
        try withSelection(rows: range) { memorySpace, fileSpace in
            try withTransferProperties(values: count) { transfer in
                try HDF5.check(H5Dread(id, HDF5.utf8String, memorySpace, fileSpace, transfer, &pointers), "read \(path)")
            }
            strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = chdf5_reclaim(HDF5.utf8String, memorySpace, &pointers)
        }
        return strings
    }

    /// Strings are converted between memory and file through a buffer that HDF5 allocates and zeroes on every
    /// call, 1 MiB by default: sized to the values instead, a step's string writes cost a fifth less.
    private func withTransferProperties(values: Int, _ body: (hid_t) throws -> Void) throws {
        guard kind == .string else { return try body(chdf5_default()) }
        let transfer = try HDF5.check(id: H5Pcreate(chdf5_p_dataset_xfer()), "transfer properties of \(path)")
        defer { H5Pclose(transfer) }
        try HDF5.check(H5Pset_buffer(transfer, max(values, 16) * 32, nil, nil), "conversion buffer of \(path)")
        try body(transfer)
    }

    private func checkRange(_ range: Range<Int>) throws {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw TrajectoryError.schemaMismatch(path: path, detail:
                "rows \(range.lowerBound)..<\(range.upperBound) requested from \(path), which has \(rows) rows")
        }
    }

    private func withSelection(rows range: Range<Int>, _ body: (hid_t, hid_t) throws -> Void) throws {
        let fileSpace = try HDF5.check(id: H5Dget_space(id), "dataspace of \(path)")
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = width == nil ? [hsize_t(range.lowerBound)] : [hsize_t(range.lowerBound), 0]
        var count: [hsize_t] = width.map { [hsize_t(range.count), hsize_t($0)] } ?? [hsize_t(range.count)]
        try HDF5.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil), "select rows of \(path)")
        let memorySpace = try HDF5.check(id: H5Screate_simple(rank, &count, nil), "memory space for \(path)")
        defer { H5Sclose(memorySpace) }
        try body(memorySpace, fileSpace)
    }
}
