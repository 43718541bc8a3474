import Foundation

extension Transformer {
    /// Loads a Hugging Face checkpoint directory: `config.json` and `model.safetensors` (or shards with
    /// `model.safetensors.index.json`); F32, F16 and BF16 tensors become float32.
    public static func load(directory url: URL) throws -> Transformer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PolicyModelError.fileNotFound(path: url.path + " (a checkpoint directory with config.json and model.safetensors)")
        }
        let config = try TransformerConfig.load(from: url.appendingPathComponent("config.json"))
        let model = Transformer(config: config)
        try model.parameters.load(from: CheckpointTensors(directory: url))
        return model
    }

    /// Writes `config.json` and a float32 `model.safetensors` that `transformers` loads as the same model.
    public func save(to url: URL) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let json = try JSONSerialization.data(withJSONObject: config.huggingFaceJSON(), options: [.prettyPrinted, .sortedKeys])
        try json.write(to: url.appendingPathComponent("config.json"), options: .atomic)
        try parameters.save(to: url.appendingPathComponent("model.safetensors"))
    }
}
