import Foundation

/// A JSON value as a request body holds it, with booleans, integers and other
/// numbers kept apart, so that a field of the wrong type is reported as such.
enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), int(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// What a message calls this value's type.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A request body's fields, read by name with their types checked: a field
/// that is absent or null reads as nil; one of another type, or out of range,
/// is an ``APIError`` naming it.
struct Fields {
    let values: [String: JSONValue]

    /// The body's top-level object.
    init(json bytes: [UInt8]) throws {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw APIError.invalid("the body is not valid JSON")
        }
        guard case let .object(values) = value else { throw APIError.invalid("the body must be a JSON object, found \(value.typeName)") }
        self.values = values
    }

    init(_ values: [String: JSONValue]) { self.values = values }

    private func wrong(_ name: String, _ expected: String, _ value: JSONValue) -> APIError {
        .invalid("'\(name)' must be \(expected), found \(value.typeName)", param: name)
    }

    func string(_ name: String) throws -> String? {
        switch values[name] {
        case nil, .null?: nil
        case let .string(s)?: s
        case let other?: throw wrong(name, "a string", other)
        }
    }

    func bool(_ name: String) throws -> Bool? {
        switch values[name] {
        case nil, .null?: nil
        case let .bool(b)?: b
        case let other?: throw wrong(name, "a boolean", other)
        }
    }

    /// An integer in `range` (a number with a fractional part is refused).
    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        let value: Int
        switch values[name] {
        case nil, .null?: return nil
        case let .int(i)?: value = i
        case let .number(d)? where d.rounded() == d && abs(d) < 9e18: value = Int(d)
        case let other?: throw wrong(name, "an integer", other)
        }
        guard range.contains(value) else { throw APIError.invalid("'\(name)' must be in \(range.lowerBound)…\(range.upperBound), found \(value)", param: name) }
        return value
    }

    /// A number in `range`.
    func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        let value: Double
        switch values[name] {
        case nil, .null?: return nil
        case let .int(i)?: value = Double(i)
        case let .number(d)?: value = d
        case let other?: throw wrong(name, "a number", other)
        }
        guard range.contains(value) else { throw APIError.invalid("'\(name)' must be in \(range.lowerBound)…\(range.upperBound), found \(value)", param: name) }
        return value
    }

    /// A string or an array of strings (`stop`), at most `limit` of them.
    func strings(_ name: String, limit: Int) throws -> [String] {
        switch values[name] {
        case nil, .null?: return []
        case let .string(s)?: return [s]
        case let .array(items)?:
            let strings = items.compactMap { if case let .string(s) = $0 { s } else { nil } }
            guard strings.count == items.count else { throw APIError.invalid("'\(name)' must be a string or an array of strings", param: name) }
            guard strings.count <= limit else { throw APIError.invalid("'\(name)' takes at most \(limit) strings, found \(strings.count)", param: name) }
            return strings
        case let other?: throw wrong(name, "a string or an array of strings", other)
        }
    }

    func value(_ name: String) -> JSONValue? {
        if case .null? = values[name] { return nil }
        return values[name]
    }
}
