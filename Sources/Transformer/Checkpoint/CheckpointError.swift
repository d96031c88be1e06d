import Foundation

/// A problem with a checkpoint on disk: which file, which tensor (if any),
/// what was wrong, in one line, and of which ``Kind``.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    /// What sort of problem it is (the `gpt` tool's exit code follows it).
    public enum Kind: Sendable, Equatable {
        /// The file or directory does not exist.
        case missing
        /// It exists but its contents are not a valid checkpoint.
        case malformed
        /// It could not be read (permissions, an I/O error, not a regular file).
        case unreadable
    }

    /// The file's name or path, as given.
    public let file: String
    /// The tensor concerned, if the problem is with one tensor.
    public let tensor: String?
    /// What was wrong.
    public let reason: String
    /// What sort of problem it is.
    public let kind: Kind

    /// An error about `file` (and `tensor`, when given).
    public init(file: String, tensor: String? = nil, _ reason: String, kind: Kind = .malformed) {
        self.file = file
        self.tensor = tensor
        self.reason = reason
        self.kind = kind
    }

    public var description: String {
        if let tensor { return "\(file): tensor \(tensor): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// The size of the regular file at `url` (symbolic links followed), checked
/// before it is opened, so a FIFO, a device or a directory is refused rather
/// than blocked on or misread.
///
/// - Throws: ``CheckpointError`` of kind `.missing` or `.unreadable`.
func regularFileSize(_ url: URL) throws -> Int {
    var info = stat()
    guard stat(url.path, &info) == 0 else {
        let reason = String(cString: strerror(errno))
        throw errno == ENOENT ? CheckpointError(file: url.path, "missing", kind: .missing)
                              : CheckpointError(file: url.path, "cannot read: \(reason)", kind: .unreadable)
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return Int(info.st_size)
    case S_IFDIR: throw CheckpointError(file: url.path, "is a directory, not a file", kind: .unreadable)
    default: throw CheckpointError(file: url.path, "is not a regular file (a FIFO, socket or device?)", kind: .unreadable)
    }
}

/// The contents of the regular file at `url` (see ``regularFileSize(_:)``),
/// refused beyond `limit` bytes.
func readRegularFile(_ url: URL, limit: Int) throws -> Data {
    let size = try regularFileSize(url)
    guard size <= limit else {
        throw CheckpointError(file: url.path, "is \(size) bytes, more than the \(limit)-byte limit for this file")
    }
    do {
        return try Data(contentsOf: url)
    } catch {
        throw CheckpointError(file: url.path, "cannot read: \((error as NSError).localizedDescription)", kind: .unreadable)
    }
}

/// Throws unless `url` is a directory: `.missing` when nothing is there, `.unreadable` otherwise.
func checkModelDirectory(_ url: URL) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw CheckpointError(file: url.path, "no such model directory", kind: .missing)
    }
    guard isDirectory.boolValue else { throw CheckpointError(file: url.path, "is not a directory", kind: .unreadable) }
}

/// Throws ``ModelError/invalidJSON(_:)`` naming the first key that one object of
/// the JSON text `data` gives twice (JSON parsers keep one of the two silently).
/// Only the structure is scanned; a document that is not JSON is left to the parser.
func refuseRepeatedKeys(_ data: Data) throws {
    var objects: [Set<String>?] = []              // per open container: its keys so far, nil for an array
    var expectingKey = false
    try data.withUnsafeBytes { (json: UnsafeRawBufferPointer) in
        var i = 0
        while i < json.count {
            switch json[i] {
            case UInt8(ascii: "{"): objects.append([]); expectingKey = true
            case UInt8(ascii: "["): objects.append(nil); expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = objects.popLast(); expectingKey = false
            case UInt8(ascii: ","): expectingKey = objects.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < json.count && json[i] != UInt8(ascii: "\"") { i += json[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard expectingKey, i < json.count, var keys = objects.popLast() ?? nil else { break }
                let escaped = json[start + 1 ..< i].contains(UInt8(ascii: "\\")), literal = Data(json[start...i])
                let key = escaped ? (try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed)) as? String ?? ""
                                  : String(decoding: json[start + 1 ..< i], as: UTF8.self)
                guard keys.insert(key).inserted else { throw ModelError.invalidJSON("key \"\(key)\" appears twice in one object") }
                objects.append(keys)
                expectingKey = false
            default: break
            }
            i += 1
        }
    }
}
