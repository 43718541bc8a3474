/// Everything that can be wrong with a checkpoint or an input batch, said so a user can fix it.
public enum PolicyModelError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case invalidConfig(file: String, key: String, expected: String, found: String)
    case unsupported(file: String, key: String, value: String, supported: String)
    case invalidSafetensors(file: String, reason: String)
    case missingTensor(name: String, searched: String)
    case tensorShapeMismatch(file: String, name: String, expected: [Int], found: [Int])
    case unsupportedDType(file: String, name: String, dtype: String)
    case tokenOutOfVocabulary(sequence: Int, position: Int, token: Int, vocabularySize: Int)
    case emptyPrompt(sequence: Int)
    case sequenceTooLong(sequence: Int, length: Int, maximum: Int)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .invalidConfig(file, key, expected, found):
            return "\(file): \(key): expected \(expected), found \(found)"
        case let .unsupported(file, key, value, supported):
            return "\(file): \(key) = \(value) is not supported (supported: \(supported))"
        case let .invalidSafetensors(file, reason):
            return "\(file): not a valid safetensors file: \(reason)"
        case let .missingTensor(name, searched):
            return "tensor \(name) is missing (searched \(searched))"
        case let .tensorShapeMismatch(file, name, expected, found):
            return "\(file): tensor \(name) has shape \(found), expected \(expected) from config.json"
        case let .unsupportedDType(file, name, dtype):
            return "\(file): tensor \(name) has dtype \(dtype); supported: F32, F16, BF16"
        case let .tokenOutOfVocabulary(sequence, position, token, vocabularySize):
            return "sequence \(sequence), position \(position): token id \(token) is outside the vocabulary [0, \(vocabularySize))"
        case let .emptyPrompt(sequence):
            return "sequence \(sequence): the prompt is empty; the first completion token needs at least one prompt token (e.g. BOS) to condition on"
        case let .sequenceTooLong(sequence, length, maximum):
            return "sequence \(sequence): \(length) tokens exceed max_position_embeddings = \(maximum)"
        case let .invalidArgument(message):
            return message
        }
    }
}
