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
