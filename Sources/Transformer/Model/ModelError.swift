import Foundation
import LinearAlgebra

/// An error in a model's description (JSON or checkpoint): what is wrong and
/// where, worded for the person who supplied the file.
public enum ModelError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A weight has the wrong shape, e.g. `blocks[0].attn.c_attn.b`.
    case shapeMismatch(field: String, expected: String, found: String)
    /// A configuration value is out of range or inconsistent.
    case invalidValue(field: String, reason: String)
    /// The input is not valid JSON, or a field is missing or of the wrong type.
    case invalidJSON(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(field, expected, found):
            return "\(field): expected shape \(expected), found \(found)"
        case let .invalidValue(field, reason):
            return "\(field): \(reason)"
        case let .invalidJSON(message):
            return message
        }
    }

    public var errorDescription: String? { description }
}

/// A coding path as the JSON reader sees it: `blocks[0].attn.c_attn.w`.
func fieldPath(_ path: [CodingKey], _ last: CodingKey? = nil) -> String {
    var out = ""
    for key in path + (last.map { [$0] } ?? []) {
        if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
    }
    return out.isEmpty ? "(top level)" : out
}

extension ModelError {
    /// Rewords a `DecodingError` as a one-line message naming the field.
    init(_ error: DecodingError) {
        switch error {
        case let .keyNotFound(key, ctx):
            self = .invalidJSON("missing field \(fieldPath(ctx.codingPath, key))")
        case let .typeMismatch(type, ctx):
            self = .invalidJSON("\(fieldPath(ctx.codingPath)): expected \(Self.typeName(type))")
        case let .valueNotFound(type, ctx):
            self = .invalidJSON("\(fieldPath(ctx.codingPath)): expected \(Self.typeName(type)), found null")
        case let .dataCorrupted(ctx):
            if ctx.codingPath.isEmpty {
                let underlying = (ctx.underlyingError as NSError?)?.localizedDescription ?? ctx.debugDescription
                self = .invalidJSON("not valid JSON: \(underlying)")
            } else {
                self = .invalidJSON("\(fieldPath(ctx.codingPath)): \(ctx.debugDescription)")
            }
        @unknown default:
            self = .invalidJSON("\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type: return "a number"
        case is [[Double]].Type: return "an array of rows (nested arrays of numbers)"
        case is [Double].Type: return "an array of numbers"
        case is String.Type: return "a string"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "an array" : (name.hasPrefix("Dictionary") ? "an object" : name)
        }
    }
}
