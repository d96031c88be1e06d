/// A problem with a checkpoint on disk: which file, which tensor (if any),
/// and what was wrong, in one line.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file's name or path, as given.
    public let file: String
    /// The tensor concerned, if the problem is with one tensor.
    public let tensor: String?
    /// What was wrong.
    public let reason: String

    /// An error about `file` (and `tensor`, when given).
    public init(file: String, tensor: String? = nil, _ reason: String) {
        self.file = file
        self.tensor = tensor
        self.reason = reason
    }

    public var description: String {
        if let tensor { return "\(file): tensor \(tensor): \(reason)" }
        return "\(file): \(reason)"
    }
}
