import Foundation
import SwiftAttention

/// A JSON value written with full double precision (Swift's shortest
/// round-tripping representation), keys in the order given.
enum JSON {
    case number(Double)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    var text: String {
        switch self {
        case let .number(v): return v.isFinite ? "\(v)" : "null"
        case let .int(v): return "\(v)"
        case let .string(s): return Self.quote(s)
        case let .array(items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case let .object(pairs): return "{" + pairs.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    static func ints(_ values: [Int]) -> JSON { .array(values.map(JSON.int)) }

    /// The per-position form shared by `handmade` and `logits`: exactly
    /// `{"tokens": [ids], "logits": [[one row per position]]}`.
    static func logits(tokens: [Int], _ logits: Matrix) -> JSON {
        .object([("tokens", ints(tokens)), ("logits", .array((0..<logits.rows).map { numbers(logits[row: $0]) }))])
    }
    static func numbers(_ values: [Double]) -> JSON { .array(values.map(JSON.number)) }

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
