import Foundation
import LinearAlgebra

/// The safetensors files of a model directory: `model.safetensors`, or the
/// shards that `model.safetensors.index.json` names (its `weight_map` gives
/// each tensor's file). Every file's header is validated when opened; no
/// tensor is read until asked for.
package struct CheckpointFiles {
    /// The files, each opened once.
    let files: [SafetensorsFile]
    /// The checkpoint's name in messages: the file's, or the index's.
    let name: String
    /// Which of ``files`` holds each tensor.
    private let owner: [String: Int]

    /// One file holding every tensor.
    package init(_ file: SafetensorsFile) {
        self.init(files: [file], name: file.name, owner: file.tensors.mapValues { _ in 0 })
    }

    private init(files: [SafetensorsFile], name: String, owner: [String: Int]) {
        (self.files, self.name, self.owner) = (files, name, owner)
    }

    /// The checkpoint in `directory`: `model.safetensors` when it is there,
    /// else the shards of `model.safetensors.index.json`.
    ///
    /// - Throws: ``CheckpointError``: `.missing` when neither is there or a shard
    ///   is missing; `.malformed` for an index that is not a map of tensor names
    ///   to file names in the directory, or that disagrees with the shards.
    package init(directory: URL) throws {
        let single = directory.appendingPathComponent("model.safetensors"), index = directory.appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: single.path) || !FileManager.default.fileExists(atPath: index.path) {
            try self.init(SafetensorsFile(url: single))
            return
        }
        let data = try readRegularFile(index, limit: 64 << 20)
        func fail(_ reason: String, tensor: String? = nil) -> CheckpointError { CheckpointError(file: index.path, tensor: tensor, reason) }
        do { try refuseRepeatedKeys(data) } catch { throw fail("\(error)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: Any] else { throw fail("is not a JSON object with a \"weight_map\" object") }
        var names: [String] = [], position: [String: Int] = [:], owner: [String: Int] = [:]
        for (tensor, value) in map.sorted(by: { $0.key < $1.key }) {
            guard let file = value as? String, !file.isEmpty, !file.contains("/"), !file.hasPrefix(".") else {
                throw fail("must name a file in the model directory, found \(value)", tensor: tensor)
            }
            if position[file] == nil { (position[file], names) = (names.count, names + [file]) }
            owner[tensor] = position[file]
        }
        let files = try names.map { try SafetensorsFile(url: directory.appendingPathComponent($0)) }
        for (tensor, i) in owner where files[i].tensors[tensor] == nil {
            throw fail("the index places it in \(names[i]), which does not hold it", tensor: tensor)
        }
        for (i, file) in files.enumerated() {
            if let stray = file.tensors.keys.sorted().first(where: { owner[$0] != i }) {
                throw CheckpointError(file: file.name, tensor: stray, "is not in \(index.lastPathComponent)'s weight_map for this file")
            }
        }
        self.init(files: files, name: index.lastPathComponent, owner: owner)
    }

    /// Every tensor's name.
    var names: Dictionary<String, Int>.Keys { owner.keys }

    /// The file holding `tensor`, if any.
    func file(_ tensor: String) -> SafetensorsFile? { owner[tensor].map { files[$0] } }

    /// Several tensors at once: all are checked (present, of the given shape)
    /// before any is read, then `reader` reads request `i` from `file` for every
    /// `i` on `threadCount` threads, largest first, or one at a time when not
    /// `concurrently` (a reader that runs its own work on all threads).
    /// Results are in request order.
    func read<T>(_ requests: [(name: String, shape: [Int])], concurrently: Bool = true,
                 _ reader: (_ i: Int, _ file: SafetensorsFile) throws -> T) throws -> [T] {
        let infos = try requests.map { request in
            guard let file = file(request.name) else { throw CheckpointError(file: name, tensor: request.name, "missing") }
            return try file.info(request.name, shape: request.shape)
        }
        let order = requests.indices.sorted { infos[$0].range.count > infos[$1].range.count }
        var results = [Result<T, Error>?](repeating: nil, count: requests.count)
        let workers = concurrently ? max(1, min(threadCount, requests.count)) : 1
        results.withUnsafeMutableBufferPointer { out in
            parallelFor(workers) { w in
                for i in stride(from: w, to: order.count, by: workers) {
                    out[order[i]] = Result { try reader(order[i], file(requests[order[i]].name)!) }
                }
            }
        }
        return try results.map { try $0!.get() }
    }
}
