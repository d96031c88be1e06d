import Foundation
import LinearAlgebra

/// The element types a safetensors file can declare, with their sizes.
/// The safetensors reader converts the floating-point ones to `Double`.
///
/// Cases are spelled as precisions are everywhere in the API (`float64`, `float32`, …);
/// their raw values are the format's own names (`F64`, `F32`, …).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL", uint8 = "U8", int8 = "I8", int16 = "I16", uint16 = "U16", float16 = "F16", bfloat16 = "BF16"
    case int32 = "I32", uint32 = "U32", float32 = "F32", float64 = "F64", int64 = "I64", uint64 = "U64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Whether the reader can convert it to `Double` (and a checkpoint be saved in it).
    public var isFloatingPoint: Bool { [.float16, .bfloat16, .float32, .float64].contains(self) }
}

/// A safetensors file, read from the format's specification: an 8-byte
/// little-endian header length, a JSON header mapping each tensor name to
/// `dtype`, `shape` and `data_offsets` (plus an optional `__metadata__` of
/// strings), then the tensor bytes.
///
/// The file is not memory-mapped: each tensor is read when asked for, in
/// 4 MiB `pread`s converted as they arrive. Every header field is validated before any
/// tensor is read, and each problem throws a ``CheckpointError`` naming the
/// file, the tensor and what was wrong. A corrupt or truncated file never
/// crashes or loads garbage.
package struct SafetensorsFile {
    /// One tensor's header entry.
    package struct TensorInfo: Equatable, Sendable {
        package let dtype: SafetensorsDType
        package let shape: [Int]
        /// Byte range within the data buffer (after the header).
        package let range: Range<Int>
        /// The number of elements, the product of `shape`.
        package var count: Int { shape.reduce(1, *) }
    }

    /// The largest header accepted, in bytes.
    package static let maxHeaderSize = 100_000_000

    /// The file's name, for messages.
    package let name: String
    /// The tensors, by name.
    package let tensors: [String: TensorInfo]
    /// The `__metadata__` strings, if any.
    package let metadata: [String: String]
    private let source: ByteSource
    private let bufferStart: Int

    /// Opens and validates `url`. Only the header is read now; each tensor's
    /// bytes are read when it is asked for, so loading holds at most one
    /// tensor's raw bytes beside the converted weights.
    ///
    /// - Throws: ``CheckpointError``: `.missing` when there is no such file,
    ///   `.unreadable` when it is not a regular file or cannot be opened,
    ///   `.malformed` for a bad header.
    package init(url: URL) throws {
        _ = try regularFileSize(url)
        let handle: FileHandle, size: Int
        do {
            handle = try FileHandle(forReadingFrom: url)
            size = Int(try handle.seekToEnd())
        } catch {
            throw CheckpointError(file: url.path, "cannot read: \((error as NSError).localizedDescription)", kind: .unreadable)
        }
        try self.init(source: .file(handle, size: size), name: url.lastPathComponent)
    }

    /// Validates a safetensors file already in memory; `name` is used in messages.
    package init(data: Data, name: String) throws {
        try self.init(source: .memory(data), name: name)
    }

    private init(source: ByteSource, name: String) throws {
        self.name = name
        let fileSize = source.count
        func fail(_ tensor: String?, _ reason: String) -> CheckpointError {
            CheckpointError(file: name, tensor: tensor, reason)
        }
        func fail(_ reason: String) -> CheckpointError { CheckpointError(file: name, reason) }
        guard fileSize >= 8 else { throw fail("file is \(fileSize) bytes, too short for the 8-byte header length") }
        let headerLength = try source.bytes(0..<8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(Self.maxHeaderSize) else {
            throw fail("header length \(headerLength) exceeds the \(Self.maxHeaderSize)-byte limit")
        }
        guard 8 + Int(headerLength) <= fileSize else {
            throw fail("header length \(headerLength) runs past the end of the \(fileSize)-byte file (truncated?)")
        }
        let headerBytes = try source.bytes(8 ..< 8 + Int(headerLength))
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes),
              let header = object as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        bufferStart = 8 + Int(headerLength)
        let bufferSize = fileSize - bufferStart
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let entry = value as? [String: Any] else { throw fail(key, "header entry is not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw fail(key, "missing dtype") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw fail(key, "unknown dtype \"\(dtypeName)\"") }
            guard let shape = Self.integers(entry["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail(key, "shape must be an array of non-negative integers")
            }
            guard let offsets = Self.integers(entry["data_offsets"]), offsets.count == 2 else {
                throw fail(key, "data_offsets must be two integers [begin, end]")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bufferSize else {
                throw fail(key, "data_offsets [\(offsets[0]), \(offsets[1])] are out of range for a \(bufferSize)-byte data buffer")
            }
            // In Double the product is exact below 2⁵³ bytes and stays at or above it past that: no overflow.
            let bytes = shape.reduce(Double(dtype.size)) { $0 * Double($1) }
            guard bytes == Double(offsets[1] - offsets[0]) else {
                throw fail(key, "shape \(shape) of \(dtypeName) needs \(bytes < 0x1p53 ? String(Int(bytes)) : "too many") bytes, but data_offsets span \(offsets[1] - offsets[0])")
            }
            tensors[key] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0] ..< offsets[1])
        }
        // The tensors must tile the buffer exactly: no overlaps, no holes.
        var end = 0
        for (key, info) in tensors.sorted(by: { ($0.value.range.lowerBound, $0.value.range.upperBound) < ($1.value.range.lowerBound, $1.value.range.upperBound) }) {
            if info.range.lowerBound < end { throw fail(key, "data_offsets overlap another tensor's bytes") }
            if info.range.lowerBound > end { throw fail(key, "bytes \(end)..<\(info.range.lowerBound) of the data buffer belong to no tensor") }
            end = info.range.upperBound
        }
        if end != bufferSize { throw fail("bytes \(end)..<\(bufferSize) of the data buffer belong to no tensor") }
        self.tensors = tensors
        self.metadata = metadata
        self.source = source
    }

    /// Reads a JSON array of integers (NSNumber-backed or Swift).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        let out = array.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
        return out.count == array.count ? out : nil
    }

    /// A tensor's elements as `Double` (F64, F32, F16 and BF16), in row-major order.
    package func doubles(_ tensor: String) throws -> [Double] {
        try elements(tensor, transposed: false) { try hugePageArray(count: $0, $1) }
    }

    /// A tensor's elements converted to `E` (exact for `Double`, and for `Float`
    /// from F32, F16 and BF16), in row-major order, or with `transposed` (a 2-D
    /// tensor `[rows, cols]`) in column-major order, written so as they are read
    /// into the storage `make(count, fill)` returns (an array, or a
    /// `WeightBuffer`) once `fill` has set its elements: no
    /// second, row-major copy is ever held.
    private func elements<E: MatrixScalar, Storage>(
        _ tensor: String, transposed: Bool,
        into make: (Int, (UnsafeMutableBufferPointer<E>) throws -> Void) throws -> Storage
    ) throws -> Storage {
        let info = try self.info(tensor)
        let lines = transposed ? info.shape[1] : info.shape.first ?? 1                  // every line: the whole tensor
        return try make(info.count) { try read(tensor, info, lines: 0 ..< lines, columns: transposed, into: $0.baseAddress!) }
    }

    /// A 2-D tensor as a `WeightMatrix` of shape `shape` in
    /// `precision` (see `WeightMatrix/init(_:precision:)`).
    /// F32, F16 and BF16 tensors are read once into `Float`s (exact) and widened
    /// from there as `precision` asks; F64 tensors keep a `Float` copy only when
    /// lossless. With `floatsTransposed` the `Float`s are kept transposed, as a
    /// ``Linear`` wants them; with `fileTransposed` the file holds the transpose
    /// (`[cols, rows]`, as a Llama-family checkpoint stores a projection). Either
    /// way they are read straight into the layout kept. Narrow storages are
    /// read and narrowed a chunk of lines at a time: no `Float` copy of the
    /// tensor is ever whole.
    package func weightMatrix(_ tensor: String, shape expected: [Int], precision: WeightMatrix.Precision,
                              floatsTransposed: Bool = false, fileTransposed: Bool = false) throws -> WeightMatrix {
        let stored = fileTransposed ? Array(expected.reversed()) : expected
        let info = try self.info(tensor, shape: stored)
        guard info.shape.count == 2 else {
            throw CheckpointError(file: name, tensor: tensor, "expected a 2-D tensor, found shape \(info.shape)")
        }
        if info.dtype == .float64 {                                                    // narrowed once in the layout kept
            let m = try matrix(tensor, shape: stored)
            let w = WeightMatrix(fileTransposed ? m.transposed() : m, precision: precision.isNarrow ? .float64 : precision)
            let laid = floatsTransposed ? w.transposingFloats() : w
            return precision.isNarrow ? laid.stored(as: precision) : laid
        }
        if precision.isNarrow {                                                        // a chunk of lines at a time
            return try WeightMatrix(rows: expected[0], cols: expected[1], floatsTransposed: floatsTransposed, narrow: precision) { lines, out in
                try read(tensor, info, lines: lines, columns: floatsTransposed != fileTransposed, into: out.baseAddress!)
            }
        }
        let floats = try elements(tensor, transposed: floatsTransposed != fileTransposed) { try WeightBuffer<Float>(count: $0, $1) }
        return WeightMatrix(rows: expected[0], cols: expected[1], floats: floats, floatsTransposed: floatsTransposed, precision: precision)
    }

    /// Lines `lines` of the floating-point tensor `info` describes, converted
    /// to `E`s at `out` (`lines.count` lines one after another): its rows (the
    /// slices along its first dimension), or with `columns` the columns of a 2-D
    /// tensor (read a row segment at a time, so a chunk of columns never needs
    /// the whole tensor in memory).
    ///
    /// - Throws: ``CheckpointError`` for a dtype that is not floating-point, or
    ///   (`.unreadable`) when the bytes cannot be read.
    private func read<E: MatrixScalar>(_ tensor: String, _ info: TensorInfo, lines: Range<Int>, columns: Bool,
                                       into out: UnsafeMutablePointer<E>) throws {
        guard info.dtype.isFloatingPoint else {
            throw CheckpointError(file: name, tensor: tensor, "dtype \(info.dtype.rawValue) is not a floating-point type")
        }
        let size = info.dtype.size, start = bufferStart + info.range.lowerBound
        do {
            if !columns {
                let length = info.count / max(info.shape.first ?? 1, 1), offset = start + lines.lowerBound * length * size
                try source.forEachChunk(offset ..< offset + lines.count * length * size) { raw, byteOffset in
                    Self.convert(raw, info.dtype, into: out + byteOffset / size, stride: 1)
                }
                return
            }
            let (rows, cols) = (info.shape[0], info.shape[1])
            for r in 0..<rows {                                                        // row r's part of each column line
                let offset = start + (r * cols + lines.lowerBound) * size
                try source.forEachChunk(offset ..< offset + lines.count * size) { raw, byteOffset in
                    Self.convert(raw, info.dtype, into: out + (byteOffset / size) * rows + r, stride: rows)
                }
            }
        } catch {
            throw CheckpointError(file: name, tensor: tensor, "cannot read its bytes: \((error as NSError).localizedDescription)",
                                  kind: .unreadable)
        }
    }

    /// Converts little-endian elements of `dtype` in `raw` to `E`s at `out`,
    /// `out[i * stride]` for the `i`th (F64 to `Float` rounds: callers only ask
    /// for it with `E == Double`, or on the way to a narrower storage).
    @_specialize(where E == Double)
    @_specialize(where E == Float)
    private static func convert<E: MatrixScalar>(_ raw: UnsafeRawBufferPointer, _ dtype: SafetensorsDType,
                                                 into out: UnsafeMutablePointer<E>, stride: Int) {
        @inline(__always) func store(_ element: (Int) -> E) {
            let n = raw.count / dtype.size
            if stride == 1 {
                for i in 0..<n { out[i] = element(i) }
            } else {
                for i in 0..<n { out[i &* stride] = element(i) }
            }
        }
        switch dtype {
        case .float64: store { E(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
        case .float32: store { E(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))) }
        case .float16: store { E(Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))))) }
        case .bfloat16: store { E(BFloat16.float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
        default: store { _ in 0 }
        }
    }

    /// A 1-D tensor as a `[1, n]` row vector or a 2-D tensor as a matrix,
    /// checked against `shape` when given (`[n]` or `[rows, cols]`).
    package func matrix(_ tensor: String, shape expected: [Int]? = nil) throws -> Matrix {
        let info = try self.info(tensor, shape: expected)
        switch info.shape.count {
        case 1: return Matrix(rows: 1, cols: info.shape[0], elements: try doubles(tensor))
        case 2: return Matrix(rows: info.shape[0], cols: info.shape[1], elements: try doubles(tensor))
        default: throw CheckpointError(file: name, tensor: tensor, "expected a 1-D or 2-D tensor, found shape \(info.shape)")
        }
    }

    /// A tensor's header entry, checked against `shape` when given.
    func info(_ tensor: String, shape expected: [Int]? = nil) throws -> TensorInfo {
        guard let info = tensors[tensor] else { throw CheckpointError(file: name, tensor: tensor, "missing") }
        if let expected, expected != info.shape {
            throw CheckpointError(file: name, tensor: tensor, "expected shape \(expected), found \(info.shape)")
        }
        return info
    }

    /// Whether two tensors hold the same shape and values (compared as
    /// stored when their dtypes agree, as `Double`s otherwise).
    package func sameValues(_ a: String, _ b: String) throws -> Bool {
        let (x, y) = (try info(a), try info(b))
        guard x.shape == y.shape else { return false }
        guard x.dtype == y.dtype else { return try doubles(a) == doubles(b) }
        var equal = true
        let chunk = 1 << 22
        var offset = 0
        while equal && offset < x.range.count {
            let n = min(chunk, x.range.count - offset)
            let start = bufferStart + offset
            equal = try source.bytes(start + x.range.lowerBound ..< start + x.range.lowerBound + n)
                == source.bytes(start + y.range.lowerBound ..< start + y.range.lowerBound + n)
            offset += n
        }
        return equal
    }

    /// Writes tensors to `url` in the safetensors format as `dtype` (F64, F32, F16
    /// or BF16; narrower types round to nearest even), or as `dtypes` gives for
    /// a tensor's name. Each entry is a name, a shape and row-major values; the
    /// header is padded with spaces to a multiple of 8 bytes.
    ///
    /// - Throws: ``CheckpointError`` for a `dtype` that is not floating-point.
    package static func write(_ tensors: [(name: String, shape: [Int], values: [Double])],
                              dtype: SafetensorsDType = .float64, dtypes: [String: SafetensorsDType] = [:],
                              metadata: [String: String] = [:], to url: URL) throws {
        if let bad = ([dtype] + dtypes.values).first(where: { !$0.isFloatingPoint }) {
            throw CheckpointError(file: url.path, "cannot write \(bad.rawValue): only F64, F32, F16 and BF16 are written")
        }
        var entries: [String] = []
        var offset = 0
        for t in tensors {
            let dtype = dtypes[t.name] ?? dtype
            precondition(t.shape.reduce(1, *) == t.values.count, "SafetensorsFile.write: \(t.name) has \(t.values.count) values for shape \(t.shape)")
            let bytes = t.values.count * dtype.size
            let name = String(decoding: try JSONSerialization.data(withJSONObject: t.name, options: .fragmentsAllowed), as: UTF8.self)
            entries.append("\(name):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        if !metadata.isEmpty {
            let m = String(decoding: try JSONSerialization.data(withJSONObject: metadata, options: .sortedKeys), as: UTF8.self)
            entries.insert("\"__metadata__\":\(m)", at: 0)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for t in tensors {                                                    // each value's little-endian bytes
            switch dtypes[t.name] ?? dtype {
            case .float64: t.values.map(\.bitPattern.littleEndian).withUnsafeBytes { out.append(contentsOf: $0) }
            case .float16: t.values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBytes { out.append(contentsOf: $0) }
            case .bfloat16: t.values.map { BFloat16.bits($0).littleEndian }.withUnsafeBytes { out.append(contentsOf: $0) }
            default: t.values.map { Float($0).bitPattern.littleEndian }.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        try out.write(to: url, options: .atomic)
    }
}

/// Where a safetensors file's bytes come from: memory, or a file read by range.
private enum ByteSource {
    case memory(Data)
    case file(FileHandle, size: Int)

    var count: Int {
        switch self {
        case let .memory(data): return data.count
        case let .file(_, size): return size
        }
    }

    /// The bytes at `range` (which the caller has checked lies within `count`).
    func bytes(_ range: Range<Int>) throws -> Data {
        var out = Data(capacity: range.count)
        try forEachChunk(range) { raw, _ in out.append(contentsOf: raw) }
        return out
    }

    /// Calls `body` with consecutive pieces of `range` and each piece's offset
    /// from the range's start. A file is read 4 MiB at a time into one buffer,
    /// so no copy of a whole tensor is ever held.
    func forEachChunk(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer, Int) -> Void) throws {
        switch self {
        case let .memory(data):
            data[data.startIndex + range.lowerBound ..< data.startIndex + range.upperBound].withUnsafeBytes { body($0, 0) }
        case let .file(handle, _):
            let chunk = 1 << 22
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(chunk, max(range.count, 1)), alignment: 16)
            defer { buffer.deallocate() }
            var done = 0
            while done < range.count {
                let want = min(chunk, range.count - done)
                var got = 0
                while got < want {
                    let n = pread(handle.fileDescriptor, buffer.baseAddress! + got, want - got, off_t(range.lowerBound + done + got))
                    guard n > 0 else {
                        throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "short read (the file changed while it was read?)"])
                    }
                    got += n
                }
                body(UnsafeRawBufferPointer(rebasing: buffer[0..<want]), done)
                done += want
            }
        }
    }
}
