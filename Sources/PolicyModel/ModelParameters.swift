import Foundation
import Tensors

/// All weights of a model in one contiguous float32 buffer, with a view per Hugging Face tensor name;
/// gradients mirror the buffer element for element, so zeroing, clipping, saving and optimizer steps
/// are one loop over `count` floats.
///
/// The layout puts tensors that are multiplied together side by side: q, k and v projections (and their
/// biases) form one [(q+2kv), hidden] matrix, gate and up projections one [2·intermediate, hidden]
/// matrix, so each is a single GEMM.
public final class ModelParameters: @unchecked Sendable {
    public struct Slot: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let config: TransformerConfig
    public let slots: [Slot]
    public let values: TensorStorage
    public let gradients: TensorStorage
    private let slotIndex: [String: Int]

    public var count: Int { values.count }

    public init(config: TransformerConfig) {
        self.config = config
        var slots: [Slot] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) {
            slots.append(Slot(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        let d = config.hiddenSize, i = config.intermediateSize
        add("model.embed_tokens.weight", [config.vocabularySize, d])
        for layer in 0..<config.layerCount {
            let p = "model.layers.\(layer)."
            add(p + "input_layernorm.weight", [d])
            add(p + "self_attn.q_proj.weight", [config.queryWidth, d])
            add(p + "self_attn.k_proj.weight", [config.keyValueWidth, d])
            add(p + "self_attn.v_proj.weight", [config.keyValueWidth, d])
            if config.qkvBias {
                add(p + "self_attn.q_proj.bias", [config.queryWidth])
                add(p + "self_attn.k_proj.bias", [config.keyValueWidth])
                add(p + "self_attn.v_proj.bias", [config.keyValueWidth])
            }
            add(p + "self_attn.o_proj.weight", [d, config.queryWidth])
            if config.outputProjectionBias { add(p + "self_attn.o_proj.bias", [d]) }
            add(p + "post_attention_layernorm.weight", [d])
            add(p + "mlp.gate_proj.weight", [i, d])
            add(p + "mlp.up_proj.weight", [i, d])
            add(p + "mlp.down_proj.weight", [d, i])
        }
        add("model.norm.weight", [d])
        if !config.tieWordEmbeddings { add("lm_head.weight", [config.vocabularySize, d]) }
        self.slots = slots
        self.slotIndex = Dictionary(uniqueKeysWithValues: slots.enumerated().map { ($1.name, $0) })
        self.values = TensorStorage(count: offset)
        self.gradients = TensorStorage(count: offset)
    }

    public func slot(_ name: String) -> Slot? { slotIndex[name].map { slots[$0] } }

    /// The weights named `name` (a Hugging Face key), as a view into the buffer.
    public func tensor(_ name: String) -> Tensor {
        guard let slot = slot(name) else { preconditionFailure("no parameter named \(name)") }
        return Tensor(view: values, offset: slot.offset, shape: slot.shape)
    }

    public func gradient(_ name: String) -> Tensor {
        guard let slot = slot(name) else { preconditionFailure("no parameter named \(name)") }
        return Tensor(view: gradients, offset: slot.offset, shape: slot.shape)
    }

    public func zeroGradients() { gradients.pointer.update(repeating: 0, count: count) }

    /// Normal(0, std) weights and unit norm scales, as `transformers` initializes a fresh model.
    public func initializeRandomly(seed: UInt64, standardDeviation: Float = 0.02) {
        var generator = SeededGenerator(seed: seed)
        for slot in slots {
            let pointer = values.pointer + slot.offset
            if slot.name.hasSuffix("norm.weight") {
                pointer.update(repeating: 1, count: slot.count)
            } else if slot.name.hasSuffix(".bias") {
                pointer.update(repeating: 0, count: slot.count)
            } else {
                for index in 0..<slot.count { pointer[index] = generator.nextNormal() * standardDeviation }
            }
        }
    }

    /// Copies every tensor from a checkpoint, checking names, shapes and dtypes against the config.
    public func load(from checkpoint: CheckpointTensors) throws {
        for slot in slots {
            guard let (file, entry) = checkpoint.entry(slot.name) else {
                throw PolicyModelError.missingTensor(name: slot.name, searched: checkpoint.directory)
            }
            guard entry.shape == slot.shape else {
                throw PolicyModelError.tensorShapeMismatch(file: file.path, name: slot.name, expected: slot.shape, found: entry.shape)
            }
            try file.read(slot.name, into: values.pointer + slot.offset, count: slot.count)
        }
    }

    /// Writes all weights as one float32 `model.safetensors` with Hugging Face names.
    public func save(to url: URL) throws {
        let tensors = slots.map { slot in
            (name: slot.name, shape: slot.shape,
             values: UnsafeBufferPointer(start: values.pointer + slot.offset, count: slot.count))
        }
        try SafetensorsFile.write(tensors, metadata: ["format": "pt"], to: url)
    }

    public func copyValues(from other: ModelParameters) {
        precondition(other.count == count, "parameter buffers differ in size")
        values.pointer.update(from: other.values.pointer, count: count)
    }
}
