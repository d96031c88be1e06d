"""Aggregate decode throughput of an OpenAI-compatible server (called by
scripts/serve-throughput): N streaming clients at once, each asking for
TOKENS tokens (greedy, the end-of-text token ignored where the server allows),
for each N given; prints completion tokens per second over the wall time of
the round, and per client."""
import concurrent.futures
import json
import sys
import time
import urllib.request

base, tokens = sys.argv[1], int(sys.argv[2])
clients = [int(n) for n in sys.argv[3].split(",")]
label = sys.argv[4] if len(sys.argv) > 4 else base


def stream(i):
    # Text, not token ids, so any model's tokenizer takes it (each client's its own).
    body = {"prompt": f"The quick brown fox {i}", "max_tokens": tokens, "temperature": 0, "stream": True,
            "ignore_eos": True, "stream_options": {"include_usage": True}}
    req = urllib.request.Request(base + "/v1/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    count, first, start = 0, None, time.perf_counter()
    with urllib.request.urlopen(req) as resp:
        for line in resp:
            line = line.strip()
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                count = chunk["usage"]["completion_tokens"]
            elif first is None:
                first = time.perf_counter()
    return count, first - start if first else 0


for n in clients:
    stream(0)                                                      # warm-up
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        results = list(pool.map(stream, range(n)))
    wall = time.perf_counter() - start
    total = sum(c for c, _ in results)
    print(f"{label}: {n} clients × {tokens} tokens: {total} tokens in {wall:.2f} s = {total / wall:.1f} tokens/s aggregate, "
          f"{total / wall / n:.1f} per client, first token after {max(f for _, f in results) * 1e3:.0f} ms at most", flush=True)
