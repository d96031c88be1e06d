"""Drives a running `gpt serve` with the official `openai` client (called by
scripts/check-server, which starts the servers): completions and chat, streamed
and not; greedy text against `gpt generate`; concurrent requests against their
serial answers; every bad request's status and error object; the API key."""
import concurrent.futures
import json
import subprocess
import sys
import time

import openai

import http_client

base, keyed_base, gpt, model_dir = sys.argv[1:5]
client = openai.OpenAI(base_url=base + "/v1", api_key="unused")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def complete(prompt, **kw):
    r = client.completions.create(model="m", prompt=prompt, **kw)
    return r.choices[0].text, r.choices[0].finish_reason, r.usage


# A greedy completion equals `gpt generate`'s for the same prompt.
prompt = "ROMEO:\nWhat light"
want = json.loads(subprocess.run([gpt, "generate", "--model", model_dir, "--prompt", prompt, "--max-new-tokens", "24", "--json"],
                                 check=True, capture_output=True, text=True).stdout)["completion"]
text, finish, usage = complete(prompt, max_tokens=24, temperature=0)
check(text == want, f"greedy completion equals gpt generate's ({text!r} vs {want!r})")
check(usage.completion_tokens <= 24 and usage.prompt_tokens > 0 and finish in ("length", "stop"), "usage and finish reason")

# Streamed, the same text, chunk by chunk.
chunks = list(client.completions.create(model="m", prompt=prompt, max_tokens=24, temperature=0, stream=True))
check("".join(c.choices[0].text for c in chunks if c.choices) == want, "streamed completion equals the whole one")
check(chunks[-1].choices[0].finish_reason == finish, "the last chunk carries the finish reason")

# Token ids as the prompt, echo, logprobs, a stop string.
ids = json.loads(subprocess.run([gpt, "tokenize", "--model", model_dir, prompt, "--json"], check=True, capture_output=True, text=True).stdout)["tokens"]
check(complete(ids, max_tokens=24, temperature=0)[0] == want, "a prompt of token ids gives the same text")
check(complete(prompt, max_tokens=5, temperature=0, echo=True)[0].startswith(prompt), "echo puts the prompt first")
r = client.completions.create(model="m", prompt=prompt, max_tokens=4, temperature=0, logprobs=2)
check(len(r.choices[0].logprobs.token_logprobs) == 4 and all(x <= 0 for x in r.choices[0].logprobs.token_logprobs), "logprobs")
if len(want) > 6:
    stop = want[3:6]
    got, reason, _ = complete(prompt, max_tokens=24, temperature=0, stop=[stop])
    check(got == want[:want.find(stop)] and reason == "stop", f"a stop string cuts the text ({got!r})")

# Chat, whole and streamed.
messages = [{"role": "system", "content": "You are a player."}, {"role": "user", "content": "Speak, friend."}]
c = client.chat.completions.create(model="m", messages=messages, max_tokens=16, temperature=0)
reply = c.choices[0].message.content
check(c.choices[0].message.role == "assistant" and c.object == "chat.completion" and c.usage.completion_tokens >= 1, f"chat completion ({reply!r})")
streamed = "".join(ch.choices[0].delta.content or "" for ch in client.chat.completions.create(model="m", messages=messages, max_tokens=16, temperature=0, stream=True) if ch.choices)
check(streamed == reply, "streamed chat equals the whole reply")

# Eight concurrent requests each equal their serial answer (greedy and seeded sampling).
def job(i):
    p = ["KING:", "First Citizen:\nWe", "O", "ROMEO:\nBut soft", "JULIET:", "Hark", "To be", "My lord,"][i]
    kw = dict(max_tokens=20 + i, temperature=0) if i % 2 == 0 else dict(max_tokens=20 + i, temperature=0.8, top_p=0.9, seed=i)
    return complete(p, **kw)[0]

serial = [job(i) for i in range(8)]
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    together = list(pool.map(job, range(8)))
check(together == serial, "eight concurrent requests equal their serial answers")


def raw(path, body=None, headers=None, url=base):
    code, answer = http_client.request(url + path, body, headers)
    return code, json.loads(answer or b"null")


def bad(path, body, status, what):
    code, answer = raw(path, body)
    error = (answer or {}).get("error", {}) if isinstance(answer, dict) else {}
    check(code == status and set(error) == {"message", "type", "param", "code"} and error["message"], f"{what}: {code} {error.get('message')!r}")


bad("/v1/completions", b"{not json", 400, "malformed JSON")
bad("/v1/completions", b"[1, 2]", 400, "a body that is not an object")
bad("/v1/completions", {"prompt": 5}, 400, "a prompt of the wrong type")
bad("/v1/completions", {"prompt": "x", "max_tokens": "ten"}, 400, "max_tokens of the wrong type")
bad("/v1/completions", {"prompt": "x", "stream": "yes"}, 400, "stream of the wrong type")
bad("/v1/completions", {"prompt": "x", "max_tokens": -3}, 400, "negative max_tokens")
bad("/v1/completions", {"prompt": "x", "max_tokens": 10**12}, 400, "huge max_tokens")
bad("/v1/completions", {"prompt": "x " * 400, "max_tokens": 100}, 400, "prompt plus max_tokens past the context")
bad("/v1/completions", {"prompt": "x", "temperature": -1}, 400, "negative temperature")
bad("/v1/completions", {"prompt": [1, 999999]}, 400, "a token id outside the vocabulary")
bad("/v1/completions", {"prompt": ""}, 400, "an empty prompt")
bad("/v1/chat/completions", {"messages": "hi"}, 400, "messages of the wrong type")
bad("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "x"}]}, 400, "an unknown role")
bad("/v1/completions", b'{"prompt": "' + b"a" * (2 << 20) + b'"}', 413, "an oversized body")
bad("/v2/anything", {}, 404, "an unknown path")
code, health = raw("/health")
check(code == 200 and health["status"] == "ok" and health["running"] == 0, f"/health after all that: {health}")
# A client that goes mid-answer frees its sequence at the next step, streamed or not.
def leave_early(stream):
    s = http_client.send_completion(base, {"prompt": "KING:", "max_tokens": 250, "temperature": 0, "ignore_eos": True, "stream": stream})
    time.sleep(0.3)
    running = raw("/health")[1]["running"]
    s.close()
    for _ in range(20):
        time.sleep(0.05)
        if raw("/health")[1]["running"] == 0:
            return running, True
    return running, False


for stream in (False, True):
    before, freed = leave_early(stream)
    check(before == 1 and freed, f"a {'streaming' if stream else 'waiting'} client that goes frees its sequence within a second (running {before} before)")
code, models = raw("/v1/models")
check(code == 200 and models["data"][0]["object"] == "model", "/v1/models")

# With --api-key: 401 without it, answers with it.
code, answer = raw("/v1/completions", {"prompt": "x", "max_tokens": 1}, url=keyed_base)
check(code == 401 and answer["error"]["code"] == "invalid_api_key", "no API key: 401")
keyed = openai.OpenAI(base_url=keyed_base + "/v1", api_key="sesame")
check(len(keyed.completions.create(model="m", prompt="x", max_tokens=2).choices) == 1, "the right API key: answered")

print(f"check_server: {len(failures)} failures")
sys.exit(1 if failures else 0)
