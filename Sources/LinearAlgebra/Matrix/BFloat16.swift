/// bfloat16, the upper half of a `Float`'s bits: how BF16 checkpoints store weights.
package enum BFloat16 {
    /// The `Float` whose upper half is `bits` (exact).
    @inline(__always)
    package static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `value`'s nearest bfloat16 (ties to even, through its nearest `Float`); a NaN stays a NaN.
    package static func bits(_ value: Double) -> UInt16 { bits(Float(value)) }

    /// `value`'s nearest bfloat16 (ties to even); a NaN stays a NaN.
    @inline(__always)
    package static func bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}
