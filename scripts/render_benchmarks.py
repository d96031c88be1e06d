#!/usr/bin/env python3
"""Turns `bench --json` output into BENCHMARKS.md and Benchmarks/gemm.svg.

    python3 scripts/render_benchmarks.py RESULTS.json "COMMAND THAT PRODUCED IT"
"""
import datetime
import json
import os
import platform
import subprocess
import sys


def machine():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in ("model name", "cpu family", "model", "cpu MHz") and key not in info:
                    info[key] = value
                if key == "flags" and "flags" not in info:
                    info["flags"] = " ".join(x for x in ("avx2", "fma", "avx512f") if x in value.split())
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"
    blas = run(["dpkg-query", "-W", "-f=${Version}", "libopenblas0-pthread"]) or "?"
    kernels = run([".build-release/release/bench", "--blas-kernels"]) or "?"
    swift = run(["swift", "--version"]).splitlines()
    return [
        f"- CPU: {info.get('model name', '?')} (family {info.get('cpu family', '?')}, model {info.get('model', '?')}), {os.cpu_count()} cores, {info.get('cpu MHz', '?')} MHz nominal, {info.get('flags', '')}",
        f"- Memory: {mem}",
        f"- OpenBLAS (Debian libopenblas0-pthread): {blas}; kernels {kernels}",
        f"- Swift: {swift[0] if swift else '?'}; built by `scripts/build-release` (`-c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DSWIFTATTENTION_FMA`)",
        f"- OS: {platform.platform()}",
    ]


def fmt_seconds(s):
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.3f} s"


def table(rows):
    out = ["| name | shape | backend | threads | median | min | rate | notes |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rate = ""
        if "gflops" in r:
            rate = f"{r['gflops']:.1f} GFLOP/s"
        if "gbytes_per_second" in r:
            b = r["gbytes_per_second"]
            rate = f"{b * 1000:.1f} MB/s" if b < 0.1 else f"{b:.1f} GB/s"
        if "tokens_per_second" in r:
            rate = f"{r['tokens_per_second']:.1f} tokens/s"
        out.append(f"| {r['name']} | {r['shape']} | {r['backend']} | {r['threads']} | {fmt_seconds(r['median_seconds'])} "
                   f"| {fmt_seconds(r['min_seconds'])} | {rate} | {r.get('notes', '')} |")
    return out


def svg(rows, peak_per_thread):
    squares = [r for r in rows if r["suite"] == "gemm" and r["name"] == "square"]
    sizes = sorted({int(r["shape"].split(",")[0].strip("[")) for r in squares})
    if not sizes:
        return None
    series = {}
    for r in squares:
        n = int(r["shape"].split(",")[0].strip("["))
        series.setdefault((r["backend"], r["threads"]), {})[n] = r["gflops"]
    threads = sorted({k[1] for k in series})
    top = max([max(v.values()) for v in series.values()] + [peak_per_thread * max(threads) if peak_per_thread else 0]) * 1.1
    w, h, left, bottom, right, top_pad = 720, 420, 60, 50, 190, 30
    pw, ph = w - left - right, h - bottom - top_pad
    def x(i):
        return left + (pw * i / max(len(sizes) - 1, 1))
    def y(v):
        return top_pad + ph * (1 - v / top)
    colors = {"raw": "#888888", "blas": "#1f77b4", "swift": "#d62728"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{left}" y="18" font-size="14">Square DGEMM, GFLOP/s by size (higher is better)</text>']
    for k in range(6):
        v = top * k / 5
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eeeeee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    for i, n in enumerate(sizes):
        parts.append(f'<text x="{x(i):.1f}" y="{h - bottom + 18}" text-anchor="middle">{n}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{h - 12}" text-anchor="middle">n (n×n · n×n)</text>')
    legend_y = top_pad + 10
    if peak_per_thread:
        for t in threads:
            v = peak_per_thread * t
            parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="black" stroke-dasharray="6,4"/>')
            parts.append(f'<text x="{left + 6}" y="{y(v) - 5:.1f}">nominal peak, {t} thread{"s" if t > 1 else ""}</text>')
    for (backend, t), points in sorted(series.items()):
        color = colors.get(backend, "black")
        dash = "" if t == min(threads) else ' stroke-dasharray="3,3"'
        coords = " ".join(f"{x(sizes.index(n)):.1f},{y(v):.1f}" for n, v in sorted(points.items()))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for n, v in points.items():
            parts.append(f'<circle cx="{x(sizes.index(n)):.1f}" cy="{y(v):.1f}" r="3" fill="{color}"/>')
        parts.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 34}" y1="{legend_y + 40}" y2="{legend_y + 40}" stroke="{color}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{left + pw + 40}" y="{legend_y + 44}">{backend}, {t} thread{"s" if t > 1 else ""}</text>')
        legend_y += 18
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    rows = json.load(open(sys.argv[1]))
    command = sys.argv[2] if len(sys.argv) > 2 else "scripts/bench-report"
    mhz, cpuinfo = None, ""
    try:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read()
        mhz = next(float(l.split(":")[1]) for l in cpuinfo.splitlines() if l.startswith("cpu MHz"))
    except (OSError, StopIteration):
        pass
    # As bench's doubleFlopsPerCycle: two FMA units per core, 8 lanes wide with full-width AVX-512
    # (Intel's; AMD's from Zen 5, family 26), 4 otherwise (AVX2; Zen 4 runs AVX-512 as two halves).
    flags = next((l.split(":")[1].split() for l in cpuinfo.splitlines() if l.startswith("flags")), [])
    family = next((int(l.split(":")[1]) for l in cpuinfo.splitlines() if l.startswith("cpu family")), 0)
    full = "avx512f" in flags and ("GenuineIntel" in cpuinfo or ("AuthenticAMD" in cpuinfo and family >= 26))
    per_cycle = 32 if full else 16
    unit = "two full-width AVX-512 FMA units" if full else "two 256-bit FMA units"
    peak = mhz * per_cycle / 1000 if mhz else None
    lines = ["# Benchmarks", "",
             f"Produced by `{command}` on {datetime.date.today().isoformat()}; every number below is what that run printed.",
             "Medians of repeated runs after a warm-up (min beside them). Timings on this machine are noisy (±5–10 %):",
             "compare rows of the same run, not runs of different days. On the project's VMs the memory's read bandwidth",
             "also swings between about 35 and 65 GB/s from one minute to the next, so a product timed in a fast minute",
             "can read at over 100 % of a `memory read` timed in a slow one; the model suite times its read between the",
             "decode runs it is compared with.", "", "## Machine", ""] + machine() + [""]
    if peak:
        lines += [f"Nominal peak: {peak:.1f} GFLOP/s per core in `Double`, twice that in `Float` (the nominal clock × {per_cycle} "
                  f"double-precision flops per cycle: {unit}); each row's share of peak is against its thread count's "
                  "(2 threads: twice that), and boost clocks can exceed it.", ""]
    lines += ["![GFLOP/s by size](Benchmarks/gemm.svg)", ""]
    titles = {"gemm": "GEMM (`raw` is `cblas_dgemm` called directly on the same buffers)",
              "sgemm": "SGEMM: the same shapes in `Float` (`raw` is `cblas_sgemm`; peak is twice the double-precision one)",
              "gemv": "GEMV (bytes of the matrix read per second; `memory read` is a plain streaming sum)",
              "sgemv": "SGEMV: `Float` matrix–vector products (`raw` is `cblas_sgemv`), and the same weights held as bfloat16 and int8 (`int8` is the kernel this CPU takes, `int8 swift` the pure-Swift one)",
              "ops": "Operations (GPT-2 widths: d = 768, 12 heads)",
              "model": "GPT-2 124M shapes, random Float-valued weights: computed in Double with the weights held as Double (…/f64-double), as Float (…/f64-float32) or both (…/f64-both, the default), and computed in Float (…/f32, `--dtype float32`), and in Float with bfloat16 or int8 weights (…/f32-bf16, …/f32-int8, `--weights bf16|int8`); then SmolLM2-135M shapes (the Llama family) in f64-both, f32, f32-bf16 and f32-int8"}
    titles["tokenizer"] = "Tokenizer (GPT-2 byte-level BPE, 1 MB of English)"
    for suite in ("gemm", "sgemm", "gemv", "sgemv", "ops", "model", "tokenizer"):
        group = [r for r in rows if r["suite"] == suite]
        if group:
            lines += [f"## {titles[suite]}", ""] + table(group) + [""]
    open("BENCHMARKS.md", "w").write("\n".join(lines))
    chart = svg(rows, peak)
    if chart:
        os.makedirs("Benchmarks", exist_ok=True)
        open("Benchmarks/gemm.svg", "w").write(chart)
    print("wrote BENCHMARKS.md" + (" and Benchmarks/gemm.svg" if chart else ""))


if __name__ == "__main__":
    main()
