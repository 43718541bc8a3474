import Foundation

/// The architecture of a Qwen2 or Llama decoder, read from a Hugging Face `config.json`.
public struct TransformerConfig: Codable, Equatable, Sendable {
    public enum ModelType: String, Codable, Sendable { case qwen2, llama }

    public struct RopeScaling: Codable, Equatable, Sendable {
        public var type: String // "default", "linear" or "llama3"
        public var factor: Double
        public var lowFrequencyFactor: Double
        public var highFrequencyFactor: Double
        public var originalMaxPositionEmbeddings: Int

        public init(type: String, factor: Double = 1, lowFrequencyFactor: Double = 1, highFrequencyFactor: Double = 4,
                    originalMaxPositionEmbeddings: Int = 8192) {
            self.type = type
            self.factor = factor
            self.lowFrequencyFactor = lowFrequencyFactor
            self.highFrequencyFactor = highFrequencyFactor
            self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        }
    }

    public var modelType: ModelType
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var keyValueHeadCount: Int
    public var headDimension: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    /// Biases on q/k/v projections (always on for Qwen2; `attention_bias` for Llama).
    public var qkvBias: Bool
    /// Bias on the output projection (Llama with `attention_bias`; never for Qwen2).
    public var outputProjectionBias: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]

    public init(modelType: ModelType = .qwen2, vocabularySize: Int, hiddenSize: Int, intermediateSize: Int,
                layerCount: Int, headCount: Int, keyValueHeadCount: Int, headDimension: Int? = nil,
                rmsNormEpsilon: Float = 1e-6, ropeTheta: Double = 10_000, ropeScaling: RopeScaling? = nil,
                maxPositionEmbeddings: Int = 1024, tieWordEmbeddings: Bool = true, qkvBias: Bool? = nil,
                outputProjectionBias: Bool = false, bosTokenId: Int? = nil, eosTokenIds: [Int] = []) {
        self.modelType = modelType
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.headDimension = headDimension ?? hiddenSize / headCount
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.tieWordEmbeddings = tieWordEmbeddings
        self.qkvBias = qkvBias ?? (modelType == .qwen2)
        self.outputProjectionBias = outputProjectionBias
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
    }

    public var queryWidth: Int { headCount * headDimension }
    public var keyValueWidth: Int { keyValueHeadCount * headDimension }
    /// Columns of the fused q|k|v projection output.
    public var qkvWidth: Int { queryWidth + 2 * keyValueWidth }

    // MARK: Hugging Face config.json

    /// Reads `config.json`. Every error names the file, the key and what was expected.
    public static func load(from url: URL) throws -> TransformerConfig {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw PolicyModelError.fileNotFound(path: path) }
        let data = try Data(contentsOf: url)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw PolicyModelError.invalidConfig(file: path, key: "(root)", expected: "a JSON object", found: "invalid JSON (\(error.localizedDescription))")
        }
        guard let json = object as? [String: Any] else {
            throw PolicyModelError.invalidConfig(file: path, key: "(root)", expected: "a JSON object", found: describe(object))
        }
        return try TransformerConfig(huggingFace: json, file: path)
    }

    public init(huggingFace json: [String: Any], file: String = "config.json") throws {
        let reader = ConfigReader(json: json, file: file)
        let typeName: String = try reader.required("model_type")
        guard let modelType = ModelType(rawValue: typeName) else {
            throw PolicyModelError.unsupported(file: file, key: "model_type", value: "\"\(typeName)\"", supported: "qwen2, llama")
        }
        let hiddenAct: String = try reader.optional("hidden_act") ?? "silu"
        guard hiddenAct == "silu" else {
            throw PolicyModelError.unsupported(file: file, key: "hidden_act", value: "\"\(hiddenAct)\"", supported: "silu")
        }
        if try reader.optional("use_sliding_window") as Bool? == true {
            throw PolicyModelError.unsupported(file: file, key: "use_sliding_window", value: "true", supported: "false")
        }
        if try reader.optional("mlp_bias") as Bool? == true {
            throw PolicyModelError.unsupported(file: file, key: "mlp_bias", value: "true", supported: "false")
        }
        let hiddenSize: Int = try reader.positive("hidden_size")
        let headCount: Int = try reader.positive("num_attention_heads")
        let keyValueHeadCount: Int = try reader.optionalPositive("num_key_value_heads") ?? headCount
        guard headCount % keyValueHeadCount == 0 else {
            throw PolicyModelError.invalidConfig(file: file, key: "num_key_value_heads",
                                                 expected: "a divisor of num_attention_heads (\(headCount))", found: "\(keyValueHeadCount)")
        }
        let headDimension: Int
        if let explicit: Int = try reader.optionalPositive("head_dim") {
            headDimension = explicit
        } else {
            guard hiddenSize % headCount == 0 else {
                throw PolicyModelError.invalidConfig(file: file, key: "head_dim", expected: "a value, since hidden_size (\(hiddenSize)) is not a multiple of num_attention_heads (\(headCount))", found: "nothing")
            }
            headDimension = hiddenSize / headCount
        }
        guard headDimension % 2 == 0 else {
            throw PolicyModelError.invalidConfig(file: file, key: "head_dim", expected: "an even number (rotary embeddings rotate pairs)", found: "\(headDimension)")
        }

        // transformers ≥ 5 writes rope settings as `rope_parameters`; earlier versions as rope_theta + rope_scaling.
        let ropeObject: [String: Any]? = try reader.optional("rope_parameters") ?? reader.optional("rope_scaling")
        let ropeKey = json["rope_parameters"] != nil ? "rope_parameters" : "rope_scaling"
        var ropeTheta: Double = try reader.optional("rope_theta") ?? 10_000
        var ropeScaling: RopeScaling?
        if let rope = ropeObject {
            let ropeReader = ConfigReader(json: rope, file: file, prefix: ropeKey + ".")
            if let theta: Double = try ropeReader.optional("rope_theta") { ropeTheta = theta }
            let type: String = try ropeReader.optional("rope_type") ?? ropeReader.optional("type") ?? "default"
            switch type {
            case "default":
                ropeScaling = nil
            case "linear":
                ropeScaling = RopeScaling(type: "linear", factor: try ropeReader.required("factor"))
            case "llama3":
                ropeScaling = RopeScaling(
                    type: "llama3", factor: try ropeReader.required("factor"),
                    lowFrequencyFactor: try ropeReader.required("low_freq_factor"),
                    highFrequencyFactor: try ropeReader.required("high_freq_factor"),
                    originalMaxPositionEmbeddings: try ropeReader.required("original_max_position_embeddings"))
            default:
                throw PolicyModelError.unsupported(file: file, key: ropeKey + ".rope_type", value: "\"\(type)\"", supported: "default, linear, llama3")
            }
        }
        guard ropeTheta > 0 else {
            throw PolicyModelError.invalidConfig(file: file, key: "rope_theta", expected: "a positive number", found: "\(ropeTheta)")
        }

        let attentionBias: Bool = try reader.optional("attention_bias") ?? false
        let eosTokenIds: [Int]
        if let single: Int = try? reader.optional("eos_token_id") {
            eosTokenIds = [single]
        } else {
            eosTokenIds = try reader.optional("eos_token_id") ?? []
        }
        let epsilon: Double = try reader.optional("rms_norm_eps") ?? 1e-6
        self.init(
            modelType: modelType,
            vocabularySize: try reader.positive("vocab_size"),
            hiddenSize: hiddenSize,
            intermediateSize: try reader.positive("intermediate_size"),
            layerCount: try reader.positive("num_hidden_layers"),
            headCount: headCount,
            keyValueHeadCount: keyValueHeadCount,
            headDimension: headDimension,
            rmsNormEpsilon: Float(epsilon),
            ropeTheta: ropeTheta,
            ropeScaling: ropeScaling,
            maxPositionEmbeddings: try reader.optionalPositive("max_position_embeddings") ?? (modelType == .qwen2 ? 32768 : 2048),
            tieWordEmbeddings: try reader.optional("tie_word_embeddings") ?? false,
            qkvBias: modelType == .qwen2 ? true : attentionBias,
            outputProjectionBias: modelType == .llama && attentionBias,
            bosTokenId: try reader.optional("bos_token_id"),
            eosTokenIds: eosTokenIds)
    }

    /// The `config.json` a Hugging Face `from_pretrained` reads back as the same architecture.
    public func huggingFaceJSON() -> [String: Any] {
        var json: [String: Any] = [
            "architectures": [modelType == .qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
            "model_type": modelType.rawValue,
            "vocab_size": vocabularySize,
            "hidden_size": hiddenSize,
            "intermediate_size": intermediateSize,
            "num_hidden_layers": layerCount,
            "num_attention_heads": headCount,
            "num_key_value_heads": keyValueHeadCount,
            "head_dim": headDimension,
            "hidden_act": "silu",
            "rms_norm_eps": Double(rmsNormEpsilon),
            "rope_theta": ropeTheta,
            "max_position_embeddings": maxPositionEmbeddings,
            "tie_word_embeddings": tieWordEmbeddings,
            "torch_dtype": "float32",
        ]
        if modelType == .llama { json["attention_bias"] = qkvBias; json["mlp_bias"] = false }
        if modelType == .qwen2 { json["use_sliding_window"] = false }
        if let scaling = ropeScaling {
            var rope: [String: Any] = ["rope_type": scaling.type, "factor": scaling.factor]
            if scaling.type == "llama3" {
                rope["low_freq_factor"] = scaling.lowFrequencyFactor
                rope["high_freq_factor"] = scaling.highFrequencyFactor
                rope["original_max_position_embeddings"] = scaling.originalMaxPositionEmbeddings
            }
            json["rope_scaling"] = rope
        }
        if let bos = bosTokenId { json["bos_token_id"] = bos }
        if eosTokenIds.count == 1 { json["eos_token_id"] = eosTokenIds[0] } else if !eosTokenIds.isEmpty { json["eos_token_id"] = eosTokenIds }
        return json
    }
}

func describe(_ value: Any?) -> String {
    guard let value else { return "nothing" }
    switch value {
    case is NSNull: return "null"
    case let string as String: return "the string \"\(string)\""
    case let number as NSNumber:
        if isBoolean(number) { return "the boolean \(number.boolValue)" }
        return "the number \(number)"
    case is [Any]: return "an array"
    case is [String: Any]: return "an object"
    default: return "\(value)"
    }
}

/// JSONSerialization gives booleans as NSNumber too; their Objective-C type code is `c`.
func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

/// Typed access to a JSON object whose errors name the file and key.
struct ConfigReader {
    let json: [String: Any]
    let file: String
    var prefix = ""

    func required<T>(_ key: String) throws -> T {
        guard let value: T = try optional(key) else {
            throw PolicyModelError.invalidConfig(file: file, key: prefix + key, expected: expectation(T.self), found: "nothing (the key is missing)")
        }
        return value
    }

    func optional<T>(_ key: String) throws -> T? {
        guard let raw = json[key], !(raw is NSNull) else { return nil }
        if let value = convert(raw, to: T.self) { return value }
        throw PolicyModelError.invalidConfig(file: file, key: prefix + key, expected: expectation(T.self), found: describe(raw))
    }

    func positive(_ key: String) throws -> Int {
        let value: Int = try required(key)
        guard value > 0 else {
            throw PolicyModelError.invalidConfig(file: file, key: prefix + key, expected: "a positive integer", found: "\(value)")
        }
        return value
    }

    func optionalPositive(_ key: String) throws -> Int? {
        guard let value: Int = try optional(key) else { return nil }
        guard value > 0 else {
            throw PolicyModelError.invalidConfig(file: file, key: prefix + key, expected: "a positive integer", found: "\(value)")
        }
        return value
    }

    private func convert<T>(_ raw: Any, to type: T.Type) -> T? {
        let number = raw as? NSNumber
        let isBool = number.map(isBoolean) ?? false
        switch type {
        case is Int.Type:
            guard let number, !isBool, number.doubleValue == number.doubleValue.rounded() else { return nil }
            return number.intValue as? T
        case is Double.Type:
            guard let number, !isBool else { return nil }
            return number.doubleValue as? T
        case is Bool.Type:
            guard let number, isBool else { return nil }
            return number.boolValue as? T
        case is [Int].Type:
            guard let array = raw as? [Any] else { return nil }
            let ints = array.compactMap { convert($0, to: Int.self) }
            return ints.count == array.count ? ints as? T : nil
        default:
            return raw as? T
        }
    }

    private func expectation<T>(_ type: T.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is [Int].Type: return "an array of integers"
        default: return "an object"
        }
    }
}
