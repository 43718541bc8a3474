// Open-addressing hash tables for the BPE hot path. Keys are raw UTF-8 bytes (never Swift
// `String`s: `String` equality is canonical equivalence, so "é" and "e\u{301}" would collide, and
// hashing a non-ASCII `String` normalizes it first).

@inline(__always)
func hashBytes(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
    var index = 0
    let count = bytes.count
    while index + 8 <= count {
        let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 31
        index += 8
    }
    if index < count {
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 29
    }
    hash = (hash ^ (hash >> 32)) &* 0xD6E8_FEB8_6659_FD93
    return hash ^ (hash >> 32)
}

/// Byte-string keys to `UInt64` values. Keys live in one arena.
struct BytesMap {
    private struct Slot {
        var hash: UInt64 = 0
        var offset: UInt32 = 0
        var length: UInt32 = 0
        var value: UInt64 = 0
        var used = false
    }

    private var slots: [Slot]
    private var arena: [UInt8] = []
    private(set) var count = 0

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
    }

    func value(for key: UnsafeRawBufferPointer) -> UInt64? {
        let hash = hashBytes(key)
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            arena.withUnsafeBytes { arena in
                while true {
                    let slot = slots[index]
                    if !slot.used { return nil }
                    if slot.hash == hash && Int(slot.length) == key.count {
                        if key.count == 0
                            || memcmp(arena.baseAddress! + Int(slot.offset), key.baseAddress!, key.count) == 0 {
                            return slot.value
                        }
                    }
                    index = (index + 1) & mask
                }
            }
        }
    }

    func value(for key: [UInt8]) -> UInt64? {
        key.withUnsafeBytes { value(for: $0) }
    }

    /// Inserts or replaces (the last insertion of a key wins).
    mutating func set(_ value: UInt64, for key: UnsafeRawBufferPointer) {
        if (count + 1) * 2 > slots.count { grow() }
        let hash = hashBytes(key)
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].used {
            let slot = slots[index]
            if slot.hash == hash && Int(slot.length) == key.count
                && arena.withUnsafeBytes({ arena in
                    key.count == 0 || memcmp(arena.baseAddress! + Int(slot.offset), key.baseAddress!, key.count) == 0
                }) {
                slots[index].value = value
                return
            }
            index = (index + 1) & mask
        }
        let offset = arena.count
        arena.append(contentsOf: key)
        slots[index] = Slot(hash: hash, offset: UInt32(offset), length: UInt32(key.count), value: value, used: true)
        count += 1
    }

    mutating func set(_ value: UInt64, for key: [UInt8]) {
        key.withUnsafeBytes { set(value, for: $0) }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.used {
            var index = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[index].used { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}

/// `UInt64` keys (a pair of token ids) to `UInt64` values (rank and new id).
struct PairMap {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var used: [Bool]
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        values = [UInt64](repeating: 0, count: size)
        used = [Bool](repeating: false, count: size)
    }

    @inline(__always)
    private static func hash(_ key: UInt64) -> Int {
        var x = key &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return Int(truncatingIfNeeded: x)
    }

    @inline(__always)
    func value(for key: UInt64) -> UInt64? {
        let mask = keys.count - 1
        var index = PairMap.hash(key) & mask
        while used[index] {
            if keys[index] == key { return values[index] }
            index = (index + 1) & mask
        }
        return nil
    }

    mutating func set(_ value: UInt64, for key: UInt64) {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var index = PairMap.hash(key) & mask
        while used[index] {
            if keys[index] == key { values[index] = value; return }
            index = (index + 1) & mask
        }
        keys[index] = key
        values[index] = value
        used[index] = true
        count += 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values, oldUsed = used
        keys = [UInt64](repeating: 0, count: oldKeys.count * 2)
        values = [UInt64](repeating: 0, count: oldKeys.count * 2)
        used = [Bool](repeating: false, count: oldKeys.count * 2)
        count = 0
        for index in oldKeys.indices where oldUsed[index] { set(oldValues[index], for: oldKeys[index]) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif
