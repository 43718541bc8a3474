/// Everything that can go wrong with a run file, each saying what was wrong, where, and what to do.
public enum TrajectoryError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case notHDF5(path: String)
    case notARunFile(path: String)
    case unsupportedFormatVersion(path: String, found: Int, supported: Int)
    case missingDataset(path: String, dataset: String)
    case missingAttribute(path: String, attribute: String)
    case schemaMismatch(path: String, detail: String)
    case alreadyExists(path: String)
    case cannotCreate(path: String, reason: String)
    case cannotOpen(path: String, reason: String)
    /// Another writer (another run, or a run being resumed twice) has the file open.
    case busy(path: String)
    /// A write or flush failed (disk full, read-only file system, …). The file keeps every step through `lastCompleteStep`.
    case writeFailed(path: String, step: Int, lastCompleteStep: Int?, reason: String)
    /// An earlier write failed; the writer refuses further appends so the file stays consistent.
    case writerFailed(path: String)
    case writerClosed(path: String)
    case invalidRecord(String)
    case stepNotFound(path: String, step: Int, available: String)
    case hdf5(operation: String, detail: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .notHDF5(path):
            return "\(path): not an HDF5 file (a SwiftGRPO run file is HDF5; see docs/trajectory-format.md)"
        case let .notARunFile(path):
            return "\(path): an HDF5 file, but not a SwiftGRPO run file (its root has no format = \"\(TrajectorySchema.formatName)\" attribute)"
        case let .unsupportedFormatVersion(path, found, supported):
            return "\(path): run file format version \(found), but this SwiftGRPO reads version \(supported)"
                + (found > supported ? "; use a newer SwiftGRPO" : "; convert it or use the SwiftGRPO that wrote it")
        case let .missingDataset(path, dataset):
            return "\(path): dataset '\(dataset)' is missing (required by format version \(TrajectorySchema.version))"
        case let .missingAttribute(path, attribute):
            return "\(path): root attribute '\(attribute)' is missing (required by format version \(TrajectorySchema.version))"
        case let .schemaMismatch(path, detail):
            return "\(path): \(detail)"
        case let .alreadyExists(path):
            return "\(path): a run file already exists here; resume it, or choose another run directory"
        case let .cannotCreate(path, reason):
            return "\(path): cannot create the run file: \(reason)"
        case let .cannotOpen(path, reason):
            return "\(path): cannot open the run file: \(reason)"
        case let .busy(path):
            return "\(path): another process is writing this run file; stop it before resuming (two writers would corrupt it)"
        case let .writeFailed(path, step, lastCompleteStep, reason):
            let kept = lastCompleteStep.map { "it stays readable through step \($0)" } ?? "it holds no complete step"
            return "\(path): writing step \(step) failed (\(reason)); the run stops here and \(kept)"
        case let .writerFailed(path):
            return "\(path): an earlier write failed; reopen the file to resume from its last complete step"
        case let .writerClosed(path):
            return "\(path): the writer was closed; reopen the file with TrajectoryWriter(resuming:) to append"
        case let .invalidRecord(detail):
            return "invalid trajectory record: \(detail)"
        case let .stepNotFound(path, step, available):
            return "\(path): no step \(step) in this run (steps: \(available))"
        case let .hdf5(operation, detail):
            return "HDF5 could not \(operation): \(detail)"
        }
    }
}
