"""HTTP helpers the server checks share (scripts/check_server.py and
scripts/check_server_robustness.py): a plain request, and a completion
request sent on a raw socket for a client that goes away mid-answer."""
import json
import socket
import urllib.error
import urllib.request


def request(url, body=None, headers=None, timeout=120):
    """(status, body bytes) of a GET (no body) or of a POST of `body`
    (bytes as they are, anything else as JSON); error statuses too."""
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def send_completion(base, body, timeout=60):
    """A socket on which `POST /v1/completions` with `body` has been sent
    (the answer not read): the caller reads what it wants and closes it."""
    host, port = base.split("//")[1].split(":")
    data = json.dumps(body).encode()
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
    return s
