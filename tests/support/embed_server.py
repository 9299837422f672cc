#!/usr/bin/env python3
"""A real OpenAI-compatible embeddings server on loopback, for the tests (standard library only).

    python3 embed_server.py [--dim N] [--port P]

Prints "port N" on stdout once it listens, then serves until killed:
  POST /v1/embeddings   {"model", "input": [texts] or text, "dimensions"?}: deterministic vectors
                        (a text always gets the same one; different texts, different ones)
  POST /_control        {"mode": M, "times": N, "delay": S, "retry_after": S}: the next N
                        requests (-1: all) answer in mode M, then "ok" again
  GET  /_stats          {"requests": n, "inputs": n, "texts": {text: times embedded}}
  POST /_reset          counters back to zero, mode "ok"
Modes: ok; slow (sleep delay, then answer); 429 (with Retry-After: retry_after); 500; 400
(a client error, never to be retried); truncated (half the body, then the connection closes);
wrong_dim (vectors one short); out_of_order (data listed in reverse, indices kept right);
bad_count (one embedding missing); nonfinite (a value of 1e999); zero (the first input's vector
all zeros); tiny (every value scaled to float32's subnormal range, about 1e-45: a valid answer
whose squares underflow); hang (sleep delay, longer than the client waits); 401_echo (a 401
whose message repeats the Authorization header and the key in it, as careless servers do).
Faulty answers count as requests too.
"""
import argparse
import hashlib
import json
import random
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"mode": "ok", "times": 0, "delay": 0.0, "retry_after": 0}
stats = {"requests": 0, "inputs": 0, "texts": {}}


def vector(text, dim):
    """Deterministic pseudo-random unit-ish vector for text."""
    seed = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    rnd = random.Random(struct.unpack("<Q", seed[:8])[0])
    return [rnd.uniform(-1.0, 1.0) for _ in range(dim)]


def take_mode():
    with lock:
        mode = state["mode"]
        if state["times"] > 0:
            state["times"] -= 1
            if state["times"] == 0:
                state["mode"] = "ok"
        return mode, state["delay"], state["retry_after"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_dim = 8

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, code, obj, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                self.send_json(200, stats)
        else:
            self.send_json(404, {"error": {"message": "no such path " + self.path}})

    def do_POST(self):
        raw = self.read_body()
        if self.path == "/_control":
            req = json.loads(raw)
            with lock:
                state["mode"] = req.get("mode", "ok")
                state["times"] = int(req.get("times", -1))
                state["delay"] = float(req.get("delay", 0))
                state["retry_after"] = req.get("retry_after", 0)
            return self.send_json(200, {"ok": True})
        if self.path == "/_reset":
            with lock:
                state.update(mode="ok", times=0, delay=0.0, retry_after=0)
                stats.update(requests=0, inputs=0, texts={})
            return self.send_json(200, {"ok": True})
        if self.path != "/v1/embeddings":
            return self.send_json(404, {"error": {"message": "no such path " + self.path}})
        mode, delay, retry_after = take_mode()
        try:
            req = json.loads(raw)
        except ValueError:
            return self.send_json(400, {"error": {"message": "the body is not JSON"}})
        inputs = req.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) and t
                                                                for t in inputs):
            return self.send_json(400, {"error": {"message": "input must be non-empty strings"}})
        dim = int(req.get("dimensions") or self.default_dim)
        with lock:
            stats["requests"] += 1
            if mode == "ok" or mode in ("slow", "out_of_order", "tiny"):
                stats["inputs"] += len(inputs)
                for t in inputs:
                    stats["texts"][t] = stats["texts"].get(t, 0) + 1
        if mode in ("slow", "hang"):
            time.sleep(delay)
        if mode == "429":
            return self.send_json(429, {"error": {"message": "Rate limit reached for requests",
                                                  "type": "requests"}},
                                  headers={"Retry-After": str(retry_after)})
        if mode == "401_echo":
            auth = self.headers.get("Authorization") or ""
            return self.send_json(401, {"error": {"message": "bad credentials: %s (key %s)" % (
                auth, auth.partition(" ")[2])}})
        if mode == "500":
            return self.send_json(500, {"error": {"message": "the model crashed"}})
        if mode == "400":
            return self.send_json(400, {"error": {"message": "This model's maximum context "
                                                  "length is 8192 tokens"}})
        data = [{"object": "embedding", "index": i,
                 "embedding": vector(t, dim - 1 if mode == "wrong_dim" else dim)}
                for i, t in enumerate(inputs)]
        if mode == "nonfinite":
            data[0]["embedding"][0] = 12345.5  # a marker, turned into 1e999 (infinite) below
        if mode == "zero":
            data[0]["embedding"] = [0.0] * len(data[0]["embedding"])
        if mode == "tiny":
            for d in data:
                d["embedding"] = [x * 1e-44 for x in d["embedding"]]
        if mode == "out_of_order":
            data.reverse()
        if mode == "bad_count":
            data.pop()
        body = json.dumps({"object": "list", "data": data, "model": req.get("model"),
                           "usage": {"prompt_tokens": 0, "total_tokens": 0}})
        if mode == "nonfinite":
            body = body.replace("12345.5", "1e999", 1)
        body = body.encode()
        if mode == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_json(200, None, raw=body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=8)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    Handler.default_dim = a.dim
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print("port %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
