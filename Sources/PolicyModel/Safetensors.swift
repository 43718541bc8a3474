import Foundation

/// One tensor of a safetensors file, converted to float32 on read.
public struct SafetensorsEntry: Sendable {
    public var dtype: String
    public var shape: [Int]
    /// Byte range inside the data section.
    public var dataRange: Range<Int>
}

/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets}}`, then the raw little-endian tensor bytes.
public struct SafetensorsFile {
    public let path: String
    public let entries: [String: SafetensorsEntry]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    public init(url: URL) throws {
        path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw PolicyModelError.fileNotFound(path: path) }
        data = try Data(contentsOf: url, options: .alwaysMapped)
        guard data.count >= 8 else {
            throw PolicyModelError.invalidSafetensors(file: path, reason: "\(data.count) bytes is shorter than the 8-byte header length (truncated?)")
        }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw PolicyModelError.invalidSafetensors(file: path, reason: "header length \(headerLength) exceeds the file size \(data.count) (truncated?)")
        }
        dataStart = 8 + Int(headerLength)
        let headerObject: Any
        do {
            headerObject = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart))
        } catch {
            throw PolicyModelError.invalidSafetensors(file: path, reason: "the header is not valid JSON")
        }
        guard let header = headerObject as? [String: Any] else {
            throw PolicyModelError.invalidSafetensors(file: path, reason: "the header is not a JSON object")
        }
        let dataSize = data.count - dataStart
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let fields = value as? [String: Any],
                  let dtype = fields["dtype"] as? String,
                  let shape = (fields["shape"] as? [NSNumber])?.map(\.intValue),
                  let offsets = (fields["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2
            else {
                throw PolicyModelError.invalidSafetensors(file: path, reason: "header entry \(name) needs dtype, shape and two data_offsets")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw PolicyModelError.invalidSafetensors(file: path, reason: "tensor \(name) has data_offsets \(offsets)")
            }
            guard offsets[1] <= dataSize else {
                throw PolicyModelError.invalidSafetensors(file: path, reason: "tensor \(name) ends at byte \(offsets[1]) of a \(dataSize)-byte data section (truncated file?)")
            }
            if let width = Self.byteWidth(dtype), shape.reduce(1, *) * width != offsets[1] - offsets[0] {
                throw PolicyModelError.invalidSafetensors(file: path, reason: "tensor \(name): shape \(shape) of \(dtype) needs \(shape.reduce(1, *) * width) bytes, data_offsets span \(offsets[1] - offsets[0])")
            }
            entries[name] = SafetensorsEntry(dtype: dtype, shape: shape, dataRange: offsets[0]..<offsets[1])
        }
        self.entries = entries
        self.metadata = metadata
    }

    static func byteWidth(_ dtype: String) -> Int? {
        switch dtype {
        case "F32": return 4
        case "F16", "BF16": return 2
        default: return nil
        }
    }

    /// Converts tensor `name` to float32 into `destination` (exactly `count` elements).
    public func read(_ name: String, into destination: UnsafeMutablePointer<Float>, count: Int) throws {
        guard let entry = entries[name] else { throw PolicyModelError.missingTensor(name: name, searched: path) }
        guard Self.byteWidth(entry.dtype) != nil else {
            throw PolicyModelError.unsupportedDType(file: path, name: name, dtype: entry.dtype)
        }
        precondition(entry.shape.reduce(1, *) == count, "caller checks shapes first")
        data.withUnsafeBytes { raw in
            let source = raw.baseAddress! + dataStart + entry.dataRange.lowerBound
            switch entry.dtype {
            case "F32":
                for i in 0..<count {
                    destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case "BF16":
                for i in 0..<count {
                    let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    destination[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            default: // F16
                for i in 0..<count {
                    let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    destination[i] = Float(Float16(bitPattern: bits))
                }
            }
        }
    }

    /// Writes float32 tensors, in the order given, with optional string metadata.
    public static func write(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)],
                             metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in tensors {
            let bytes = tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var headerData = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while (8 + headerData.count) % 8 != 0 { headerData.append(0x20) }
        var output = Data(capacity: 8 + headerData.count + offset)
        withUnsafeBytes(of: UInt64(headerData.count).littleEndian) { output.append(contentsOf: $0) }
        output.append(headerData)
        for tensor in tensors {
            output.append(UnsafeBufferPointer(start: UnsafeRawPointer(tensor.values.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                              count: tensor.values.count * 4))
        }
        try output.write(to: url, options: .atomic)
    }
}

/// The tensors of a checkpoint directory: `model.safetensors`, or shards listed in
/// `model.safetensors.index.json`.
public struct CheckpointTensors {
    public let files: [SafetensorsFile]
    private let location: [String: Int]
    public let directory: String

    public init(directory url: URL) throws {
        directory = url.path
        let index = url.appendingPathComponent("model.safetensors.index.json")
        let single = url.appendingPathComponent("model.safetensors")
        if FileManager.default.fileExists(atPath: index.path) {
            let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: index))
            guard let map = (object as? [String: Any])?["weight_map"] as? [String: String] else {
                throw PolicyModelError.invalidConfig(file: index.path, key: "weight_map", expected: "an object mapping tensor names to shard files", found: describe((object as? [String: Any])?["weight_map"]))
            }
            let shardNames = Array(Set(map.values)).sorted()
            files = try shardNames.map { try SafetensorsFile(url: url.appendingPathComponent($0)) }
            var location: [String: Int] = [:]
            for (name, shard) in map {
                let fileIndex = shardNames.firstIndex(of: shard)!
                guard files[fileIndex].entries[name] != nil else {
                    throw PolicyModelError.missingTensor(name: name, searched: "\(files[fileIndex].path), where \(index.lastPathComponent) says it is")
                }
                location[name] = fileIndex
            }
            self.location = location
        } else if FileManager.default.fileExists(atPath: single.path) {
            files = [try SafetensorsFile(url: single)]
            location = Dictionary(uniqueKeysWithValues: files[0].entries.keys.map { ($0, 0) })
        } else {
            throw PolicyModelError.fileNotFound(path: single.path + " (or model.safetensors.index.json)")
        }
    }

    public func entry(_ name: String) -> (file: SafetensorsFile, entry: SafetensorsEntry)? {
        guard let index = location[name], let entry = files[index].entries[name] else { return nil }
        return (files[index], entry)
    }

    public var names: [String] { Array(location.keys) }
}
