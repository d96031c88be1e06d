import Foundation

/// A command's failure that is not a flag's or the model's: an output that
/// cannot be written, an input that cannot be read or is not text, a bad
/// environment variable. It carries its exit code (BSD `sysexits`).
package struct CommandError: Error, CustomStringConvertible {
    package let description: String
    package let code: Int32

    /// An error with its message and exit code.
    package init(description: String, code: Int32) {
        self.description = description
        self.code = code
    }

    /// Standard output or a file that cannot be written (exit 74).
    package static func cannotWrite(_ target: String, errno code: Int32) -> CommandError {
        CommandError(description: "cannot write to \(target): \(String(cString: strerror(code)))", code: 74)
    }

    /// Standard input or a file that cannot be read (exit 74).
    package static func cannotRead(_ target: String, errno code: Int32) -> CommandError {
        CommandError(description: "cannot read \(target): \(String(cString: strerror(code)))", code: 74)
    }
}

/// Every byte `gpt` and `bench` write to standard output, standard error or a
/// file goes through here, unbuffered, and every failure is reported: a full
/// disk or a closed descriptor is an error (exit 74), never a silent success.
/// (A pipe whose reader has gone ends the process by `SIGPIPE`, quietly, as
/// `head` expects.)
package enum Console {
    /// The standard descriptors that were closed when the process started (see ``claimStandardDescriptors()``).
    nonisolated(unsafe) private static var closed: Set<Int32> = []

    /// Call first thing in `main`: a standard descriptor the process started
    /// without (`>&-`) is taken by `/dev/null`, so that no file the program opens
    /// later gets its number (and standard output's bytes), and is remembered as
    /// closed: writing to it or reading from it is then an error, as it would have been.
    package static func claimStandardDescriptors() {
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            if open("/dev/null", O_RDWR) == fd { closed.insert(fd) }
        }
    }

    /// Writes `text` and `terminator` to standard output.
    ///
    /// - Throws: ``CommandError`` (exit 74) when it cannot be written.
    package static func print(_ text: String, terminator: String = "\n") throws {
        try write(text + terminator, to: STDOUT_FILENO, name: "standard output")
    }

    /// Writes a line to standard error; when that fails, exits 74 at once (there is no one left to tell).
    package static func note(_ line: String, terminator: String = "\n") {
        do {
            try write(line + terminator, to: STDERR_FILENO, name: "standard error")
        } catch {
            exit(74)
        }
    }

    /// Writes `text` to the file at `path`, replacing it.
    ///
    /// - Throws: ``CommandError`` (exit 74) naming the file.
    package static func write(_ text: String, toFile path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CommandError.cannotWrite(path, errno: errno) }
        defer { close(fd) }
        try write(text, to: fd, name: path)
        guard fsync(fd) == 0 || errno == EINVAL else { throw CommandError.cannotWrite(path, errno: errno) }
    }

    /// Writes all of `text`'s UTF-8 to `fd`, retrying interrupted and partial writes.
    static func write(_ text: String, to fd: Int32, name: String) throws {
        if closed.contains(fd) { throw CommandError.cannotWrite(name, errno: EBADF) }
        var text = text
        try text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw CommandError.cannotWrite(name, errno: n < 0 ? errno : EIO) }
                done += n
            }
        }
    }

    /// All of standard input, which must be UTF-8.
    ///
    /// - Throws: ``CommandError``: exit 74 when it cannot be read (closed, a
    ///   directory), exit 65 naming the offset of the first byte that is not UTF-8.
    package static func readStandardInput() throws -> String {
        if closed.contains(STDIN_FILENO) { throw CommandError.cannotRead("standard input", errno: EBADF) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw CommandError.cannotRead("standard input", errno: errno) }
            if n == 0 { break }
            bytes += chunk[..<n]
        }
        return try text(bytes, name: "standard input")
    }

    /// `bytes` as a string, refusing (exit 65) any that are not UTF-8 rather than replacing them.
    package static func text(_ bytes: [UInt8], name: String) throws -> String {
        var parser = Unicode.UTF8.ForwardParser(), iterator = bytes.makeIterator(), offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(scalar): offset += scalar.count
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            case .error:
                throw CommandError(description: "\(name) is not UTF-8: invalid byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at offset \(offset)", code: 65)
            }
        }
    }
}

extension String {
    /// The string with control characters written as escapes (`\n`, `\u{1B}`), for one-line messages.
    package var escapingControlCharacters: String {
        unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
    }
}
