import CommandSupport
import Foundation
import SwiftAttention

/// `gpt inspect --html`: one self-contained page (inline CSS, data and script;
/// nothing fetched) showing a trace: every head's attention as a heat map in a
/// layer × head grid, one enlarged with token labels on both axes and exact
/// weights on hover; the residual stream's norm by layer and position; the
/// logit lens's top tokens by layer and position.
struct InspectPage {
    let trace: Trace
    let config: GPTConfig
    /// The model's name, for the title.
    let model: String
    /// The traced tokens as text.
    let labels: [String]
    /// Any token id as text (for the logit lens).
    let label: (Int) -> String
    /// How many tokens at the start of the input were left out, and why.
    let omitted: Int
    let reason: String

    var html: String {
        let n = trace.tokens.count, layers = trace.attention.count, heads = trace.attention.first?.count ?? 0
        let note = omitted > 0 ? " The first \(omitted) tokens of the input were left out (\(reason))." : ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <title>gpt inspect: \(escape(model))</title>
            <style>\(InspectPage.style)</style></head>
            <body>
            <h1>Inside \(escape(model))</h1>
            <p>\(n) tokens, \(layers) layers × \(heads) heads, width \(config.nEmbd).\(note)
            Made by <code>gpt inspect</code> from one traced forward pass.</p>
            <div class="tokens">\(labels.enumerated().map { "<span class=\"chip\" title=\"position \($0.offset), id \(trace.tokens[$0.offset])\">\(escape(visible($0.element)))</span>" }.joined())</div>
            <h2>Attention</h2>
            <p>Row: the position attending (query); column: a position it attends to (key). Each row sums to 1;
            nothing lies above the diagonal (a position sees only itself and earlier ones). Darker is more weight.
            Click a small map to enlarge it; hover for the exact weight.</p>
            <div id="detail"><div id="detail-title"></div>
            <div class="detail-grid"><div id="ylabels"></div><canvas id="detail-map"></canvas><div></div><div id="xlabels"></div></div></div>
            <table class="grid"><tr><th></th>\((0..<heads).map { "<th>head \($0)</th>" }.joined())</tr>
            \((0..<layers).map { l in "<tr><th>layer \(l)</th>" + (0..<heads).map { h in "<td><canvas class=\"heatmap\" data-layer=\"\(l)\" data-head=\"\(h)\"></canvas></td>" }.joined() + "</tr>" }.joined(separator: "\n"))
            </table>
            <h2>Residual stream</h2>
            <p>The norm of each position's vector after the embeddings and after each block; darker is larger (hover for the value).</p>
            <div class="lens-wrap"><table class="norms"><tr><th></th>\(labels.enumerated().map { "<th>\($0.offset)<br>\(escape(visible($0.element)))</th>" }.joined())</tr>
            \(normRows)
            </table></div>
            <h2>Logit lens</h2>
            <p>The final layer norm and the unembedding applied to the residual stream after each block: the tokens
            the model would predict next if it stopped there (probabilities over the whole vocabulary). The last row is the model's own prediction.</p>
            <div class="lens-wrap"><table class="lens"><tr><th></th>\(labels.enumerated().map { "<th>\($0.offset)<br>\(escape(visible($0.element)))</th>" }.joined())</tr>
            \(trace.logitLens.enumerated().map { l, lens in "<tr><th>after block \(l)</th>" + lens.top.map { top in "<td>" + top.map { "<div><span class=\"t\">\(escape(visible(label($0.token))))</span> \(String(format: "%.3f", $0.probability))</div>" }.joined() + "</td>" }.joined() + "</tr>" }.joined(separator: "\n"))
            </table></div>
            <div id="tip"></div>
            <script id="data" type="application/json">\(dataJSON)</script>
            <script>\(InspectPage.script)</script>
            </body></html>
            """
    }

    /// The residual norms as table rows, shaded by size (largest darkest).
    var normRows: String {
        let norms = trace.residual.map(\.norms), largest = max(norms.flatMap { $0 }.max() ?? 1, 1e-300)
        return norms.enumerated().map { s, row in
            "<tr><th>\(s == 0 ? "embeddings" : "after block \(s - 1)")</th>" + row.map { v in
                let a = v / largest
                let shade = "rgb(\(Int(255 - 247 * a)),\(Int(255 - 207 * a)),\(Int(255 - 148 * a)))"
                return "<td style=\"background:\(shade);color:\(a > 0.5 ? "#fff" : "#222")\" title=\"\(v)\">\(String(format: "%.3g", v))</td>"
            }.joined() + "</tr>"
        }.joined(separator: "\n")
    }

    /// The numbers the script draws: labels, attention weights (row-major per head).
    var dataJSON: String {
        func numbers(_ values: [Double]) -> String { "[" + values.map { String(format: "%.6g", $0) }.joined(separator: ",") + "]" }
        let attention = "[" + trace.attention.map { heads in "[" + heads.map { numbers($0.weights.elements) }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        let tokens = String(decoding: (try? JSONEncoder().encode(labels.map(visible))) ?? Data("[]".utf8), as: UTF8.self)
        return "{\"n\":\(trace.tokens.count),\"tokens\":\(tokens),\"attention\":\(attention)}"
            .replacingOccurrences(of: "</", with: "<\\/")
    }

    /// A token as it should show: spaces and line breaks made visible.
    func visible(_ text: String) -> String {
        text.replacingOccurrences(of: " ", with: "·").replacingOccurrences(of: "\n", with: "↵").replacingOccurrences(of: "\t", with: "⇥")
    }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let style = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
        .chip { display: inline-block; background: #eef2f7; border-radius: 3px; padding: 1px 4px; margin: 2px; font-family: monospace; white-space: pre; }
        table.grid { border-collapse: collapse; } table.grid th { font-weight: normal; color: #666; padding: 2px 6px; font-size: 12px; }
        table.grid td { padding: 3px; } canvas.heatmap { border: 1px solid #ccc; cursor: pointer; display: block; }
        canvas.heatmap.selected { border-color: #d62728; }
        .detail-grid { display: grid; grid-template-columns: max-content max-content; align-items: start; margin: 8px 0 16px; }
        #ylabels, #xlabels { font-family: monospace; font-size: 12px; color: #444; }
        #ylabels .token-label { display: block; text-align: right; padding-right: 4px; white-space: pre; overflow: hidden; }
        #xlabels { display: flex; } #xlabels .token-label { writing-mode: vertical-rl; white-space: pre; overflow: hidden; }
        #detail-title { font-weight: bold; margin-top: 8px; }
        #tip { position: fixed; pointer-events: none; background: #222; color: #fff; padding: 3px 6px; border-radius: 3px; font-size: 12px; display: none; white-space: pre; }
        .lens-wrap { overflow-x: auto; } table.lens { border-collapse: collapse; font-size: 12px; }
        table.lens th, table.lens td, table.norms th, table.norms td { border: 1px solid #ddd; padding: 2px 4px; vertical-align: top; white-space: nowrap; }
        table.lens th, table.norms th { background: #f6f6f6; font-weight: normal; font-family: monospace; white-space: pre; }
        table.norms { border-collapse: collapse; font-size: 11px; } table.norms td { text-align: right; }
        table.lens .t { font-family: monospace; background: #eef2f7; white-space: pre; }
        """

    static let script = """
        (() => {
        const data = JSON.parse(document.getElementById('data').textContent);
        const n = data.n, tip = document.getElementById('tip');
        function colour(w) { const a = Math.max(0, Math.min(1, w)); return `rgb(${255 - 247 * a},${255 - 207 * a},${255 - 148 * a})`; }
        function draw(canvas, weights, cell) {
          canvas.width = canvas.height = n * cell;
          const g = canvas.getContext('2d');
          for (let q = 0; q < n; q++) for (let k = 0; k < n; k++) { g.fillStyle = colour(weights[q * n + k]); g.fillRect(k * cell, q * cell, cell, cell); }
          if (cell < 40) return;   // big cells: the weights written in them too
          g.font = `${Math.min(16, cell / 4)}px sans-serif`; g.textAlign = 'center'; g.textBaseline = 'middle';
          for (let q = 0; q < n; q++) for (let k = 0; k <= q; k++) {
            const w = weights[q * n + k]; g.fillStyle = w > 0.5 ? '#fff' : '#222';
            g.fillText(w.toFixed(3), (k + 0.5) * cell, (q + 0.5) * cell);
          }
        }
        function hover(canvas, cell, text) {
          canvas.addEventListener('mousemove', e => {
            const r = canvas.getBoundingClientRect(), k = Math.floor((e.clientX - r.left) / cell), q = Math.floor((e.clientY - r.top) / cell);
            if (q < 0 || k < 0 || q >= n || k >= n) return;
            tip.textContent = text(q, k); tip.style.display = 'block'; tip.style.left = (e.clientX + 12) + 'px'; tip.style.top = (e.clientY + 12) + 'px';
          });
          canvas.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
        }
        const small = Math.max(2, Math.floor(160 / n)), big = Math.max(6, Math.floor(560 / n));
        let selected = null;
        function weightText(l, h, q, k) {
          return `layer ${l}, head ${h}\\nquery ${q} ${JSON.stringify(data.tokens[q])} → key ${k} ${JSON.stringify(data.tokens[k])}\\nweight ${data.attention[l][h][q * n + k]}`;
        }
        const detail = document.getElementById('detail-map');
        let current = [0, 0];
        function show(l, h, canvas) {
          current = [l, h];
          draw(detail, data.attention[l][h], big);
          document.getElementById('detail-title').textContent = `Layer ${l}, head ${h}`;
          if (selected) selected.classList.remove('selected');
          selected = canvas; canvas.classList.add('selected');
        }
        hover(detail, big, (q, k) => weightText(current[0], current[1], q, k));
        const ylabels = document.getElementById('ylabels'), xlabels = document.getElementById('xlabels');
        data.tokens.forEach((t, i) => {
          for (const [box, axis] of [[ylabels, 'y'], [xlabels, 'x']]) {
            const s = document.createElement('span');
            s.className = 'token-label ' + axis; s.textContent = t; s.title = `position ${i}`;
            if (axis === 'y') s.style.height = big + 'px'; else s.style.width = big + 'px';
            s.style.lineHeight = big + 'px'; s.style.maxHeight = axis === 'x' ? '120px' : null; s.style.maxWidth = axis === 'y' ? '140px' : null;
            box.appendChild(s);
          }
        });
        document.querySelectorAll('canvas.heatmap').forEach(c => {
          const l = +c.dataset.layer, h = +c.dataset.head;
          draw(c, data.attention[l][h], small);
          hover(c, small, (q, k) => weightText(l, h, q, k));
          c.addEventListener('click', () => show(l, h, c));
        });
        show(0, 0, document.querySelector('canvas.heatmap'));
        })();
        """
}
