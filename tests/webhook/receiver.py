#!/usr/bin/env python3
"""A webhook receiver on a loopback port, for tests/webhook/test_webhook.sh.

It verifies every request's Manushya-Signature the way a real receiver should (the example
verifier of manushya-webhook docs: HMAC-SHA256 over "<t>.<raw body>", constant-time compare,
a replay window), logs each request as a JSON line, and answers by the path's first segment:
  /ok     200
  /flaky  500 to the first request of each event id, then 200
  /slow   answers 200 after 3 s (longer than the test's --webhook-timeout-ms)
  /hang   holds the first request of each event id for 60 s, then 200 to the next ones
  /down   500, always
Secrets come from a file of "PATH SECRET" lines, read at each request. Prints "port N".
"""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLAY_WINDOW_S = 300


def verify(secret, header, body, now=None):
    """True when header ("t=<unix>,v1=<hex>") signs body with secret within the window."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - t) > REPLAY_WINDOW_S:
        return False
    want = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts.get("v1", ""))


class Receiver(BaseHTTPRequestHandler):
    seen = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = "/" + self.path.strip("/").split("/")[0]
        secrets = {}
        with open(self.server.secrets_file) as f:
            for line in f:
                if line.strip():
                    p, s = line.split()
                    secrets[p] = s
        event_id = self.headers.get("Manushya-Event-Id", "")
        with self.lock:
            first = (path, event_id) not in self.seen
            self.seen[(path, event_id)] = True
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        entry = {
            "path": path, "event_id": event_id, "body_id": doc.get("id"),
            "event": self.headers.get("Manushya-Event"), "type": doc.get("type"),
            "delivery": self.headers.get("Manushya-Delivery"), "data": doc.get("data"),
            "sig_ok": path in secrets and verify(secrets[path],
                                                 self.headers.get("Manushya-Signature", ""),
                                                 body),
        }
        status = 200
        if path == "/flaky" and first or path == "/down":
            status = 500
        elif path == "/slow":
            time.sleep(3)
        elif path == "/hang" and first:
            entry["held"] = True
            self.log(entry)
            time.sleep(60)
            return
        entry["status"] = status
        self.log(entry)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log(self, entry):
        with self.lock, open(self.server.log_file, "a") as f:
            f.write(json.dumps(entry) + "\n")


def main():
    secrets_file, log_file = sys.argv[1], sys.argv[2]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    srv.daemon_threads = True
    srv.secrets_file, srv.log_file = secrets_file, log_file
    print(f"port {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
