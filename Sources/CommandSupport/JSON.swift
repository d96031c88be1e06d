import Foundation
import SwiftAttention

/// The one JSON writer of `gpt` and `bench`: a value written with full double
/// precision (Swift's shortest round-tripping representation), keys in the
/// order given; NaN and infinities as the strings `"nan"`, `"inf"` and `"-inf"`,
/// as ``encoded(_:)`` writes them in an `Encodable` value.
package enum JSON {
    case number(Double)
    case int(Int)
    case string(String)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])
    case null

    package var text: String {
        switch self {
        case let .number(v): return v.isFinite ? "\(v)" : Self.quote(v.isNaN ? Self.nan : v > 0 ? Self.infinity : "-" + Self.infinity)
        case let .int(v): return "\(v)"
        case let .string(s): return Self.quote(s)
        case let .bool(b): return b ? "true" : "false"
        case let .array(items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case let .object(pairs): return "{" + pairs.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        case .null: return "null"
        }
    }

    package static func ints(_ values: [Int]) -> JSON { .array(values.map(JSON.int)) }

    /// The per-position form shared by `handmade` and `logits`: exactly
    /// `{"tokens": [ids], "logits": [[one row per position]]}`.
    package static func logits(tokens: [Int], _ logits: Matrix) -> JSON {
        .object([("tokens", ints(tokens)), ("logits", .array((0..<logits.rows).map { numbers(logits[row: $0]) }))])
    }
    package static func numbers(_ values: [Double]) -> JSON { .array(values.map(JSON.number)) }

    /// How NaN and +∞ are written (−∞ as `"-inf"`).
    static let nan = "nan", infinity = "inf"

    /// `value` as JSON text, non-finite numbers written as ``text`` writes them.
    package static func encoded<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: infinity, negativeInfinity: "-" + infinity, nan: nan)
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
