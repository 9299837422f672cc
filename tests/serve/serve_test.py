"""manushya serve, tested over real HTTP on a loopback port (tests/serve/test_serve.sh).

usage: serve_test.py MANUSHYA DB_URL TOP

Sets up a tenant with an admin, an agent and their keys through the CLI (the bootstrap the man
page documents), starts `manushya serve --listen 127.0.0.1:0`, and checks each route and each
kind of bad input. Prints "ok N - what" / "not ok N - what", then "N passed, N failed".
"""
import gzip
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

M, DB, TOP = sys.argv[1], sys.argv[2], sys.argv[3]
WORK = tempfile.mkdtemp(prefix="manushya-serve-")
ORIGIN = "https://app.example"
MAX_BODY = 65536
passed = failed = 0


def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok {passed + failed} - {what}")
    else:
        failed += 1
        print(f"not ok {passed + failed} - {what} {detail}")


def cli(*args):
    r = subprocess.run([M, "--db", DB, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"setup: manushya {' '.join(args)}: {r.stderr}")
    return r.stdout.strip()


class Server:
    def __init__(self, *extra):
        self.log = os.path.join(WORK, f"access-{time.time_ns()}.log")
        self.proc = subprocess.Popen(
            [M, "--db", DB, "serve", "--listen", "127.0.0.1:0", "--timeout", "2",
             "--max-body", str(MAX_BODY), "--cors-origin", ORIGIN, "--access-log", self.log,
             *extra], stderr=subprocess.PIPE, text=True)
        # Notices may come first (a build without libcurl says it delivers no webhooks).
        seen = ""
        for _ in range(5):
            line = self.proc.stderr.readline()
            seen += line
            m = re.search(r"listening on https?://127\.0\.0\.1:(\d+)", line)
            if m or not line:
                break
        if not m:
            sys.exit(f"serve did not start: {seen}{self.proc.stderr.read()}")
        self.port = int(m.group(1))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(20)
        return rc, self.proc.stderr.read()


def request(srv, method, path, body=None, key=None, headers=None, raw=None):
    """(status, headers dict lowercased, body bytes decoded when gzip, parsed JSON or None)"""
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    h = dict(headers or {})
    if key:
        h.setdefault("Authorization", "Bearer " + key)
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None:
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    payload = r.read()
    hd = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    if hd.get("content-encoding") == "gzip":
        payload = gzip.decompress(payload)
    try:
        j = json.loads(payload) if payload else None
    except ValueError:
        j = None
    return r.status, hd, payload, j


def is_error(j, code):
    return (isinstance(j, dict) and set(j) == {"error"} and j["error"].get("code") == code
            and isinstance(j["error"].get("message"), str) and j["error"]["message"] != "")


# ---- setup: the first admin key comes from the CLI, never from an HTTP route -------------
cli("tenant", "create", "acme")
cli("--tenant", "acme", "identity", "create", "boss", "--role", "admin")
cli("--tenant", "acme", "identity", "create", "bot")
ADMIN = cli("--tenant", "acme", "key", "create", "--identity", "boss")
BOT = cli("--tenant", "acme", "key", "create", "--identity", "bot")
READER = cli("--tenant", "acme", "key", "create", "--identity", "boss", "--scopes", "memory:read")
cli("tenant", "create", "other")
cli("--tenant", "other", "identity", "create", "lone")
OTHER = cli("--tenant", "other", "key", "create", "--identity", "lone")
# other's searches are limited to 2 an hour, for the 429 case
cli("--tenant", "other", "ratelimit", "set-limit", "--endpoint", "memory:search", "--limit", "2")

srv = Server()

# ---- open routes ----------------------------------------------------------------------------
st, hd, _, j = request(srv, "GET", "/healthz")
check("GET /healthz without a key: 200 with the health JSON",
      st == 200 and j and j.get("status") in ("ok", "degraded"), st)
st, hd, body, _ = request(srv, "GET", "/metrics")
check("GET /metrics: Prometheus text", st == 200 and hd["content-type"].startswith("text/plain")
      and b"# TYPE" in body, st)
st, hd, _, doc = request(srv, "GET", "/openapi.json")
check("GET /openapi.json: an OpenAPI 3.1 document", st == 200 and doc["openapi"] == "3.1.0")

# ---- the OpenAPI document against the routes served and the man page ------------------------
ops = [(m.upper(), p) for p, item in doc["paths"].items() for m in item]
check("the document lists the routes", len(ops) >= 30, len(ops))
wrong = []
for method, path in ops:
    concrete = re.sub(r"\{[^}]+\}", "x", path)
    st, _, _, j = request(srv, method, concrete)
    is_open = doc["paths"][path][method.lower()].get("security") == []
    if (is_open and st != 200) or (not is_open and (st != 401 or not is_error(j, "unauthorized"))):
        wrong.append((method, path, st))
check("every documented route is served (open ones 200, the others 401 without a key)",
      not wrong, wrong)
st, _, _, j = request(srv, "GET", "/v1/nothing-here", key=ADMIN)
check("a path no route has: 404 no_route", st == 404 and is_error(j, "no_route"), st)
st, hd, _, j = request(srv, "PATCH", "/v1/memory", key=ADMIN)
check("a method a path lacks: 405 with Allow", st == 405 and "POST" in hd.get("allow", "")
      and is_error(j, "method_not_allowed"), st)
man = open(os.path.join(TOP, "man", "manushya-serve.1"), encoding="utf-8").read()
man = man.split("\n.SH ROUTES\n", 1)[1].split("\n.SH ", 1)[0]
documented = set(re.findall(r"^\.B \"?(GET|POST|PUT|DELETE) (/\S*?)\"?$", man, re.M))
served = set(ops)
check("manushya-serve(1) lists exactly the routes served", documented == served,
      f"only in the page: {documented - served}; only served: {served - documented}")

# ---- auth -----------------------------------------------------------------------------------
st0, _, b0, _ = request(srv, "GET", "/v1/identity/me")
wrong_key = ADMIN[:-4] + ("0000" if not ADMIN.endswith("0000") else "1111")
st1, _, b1, _ = request(srv, "GET", "/v1/identity/me", key=wrong_key)
st2, hd2, b2, _ = request(srv, "GET", "/v1/identity/me", key="not-a-key")
check("no key, a wrong key, a malformed key: 401 with one body",
      st0 == st1 == st2 == 401 and b0 == b1 == b2, (st0, st1, st2))
check("401 says how to authenticate", hd2.get("www-authenticate") == "Bearer")
st, _, _, j = request(srv, "GET", "/v1/identity/me", key=ADMIN)
check("Authorization: Bearer: /v1/identity/me is the key's identity",
      st == 200 and j["external_id"] == "boss" and j["role"] == "admin", st)
st, _, _, j = request(srv, "GET", "/v1/identity/me", headers={"X-API-Key": BOT})
check("X-API-Key works too", st == 200 and j["external_id"] == "bot", st)

# ---- memory ---------------------------------------------------------------------------------
def count_memories(key=ADMIN):
    st, _, _, j = request(srv, "GET", "/v1/memory?limit=1000", key=key)
    return len(j["items"]) if st == 200 else -1


def count_events():
    st, _, _, j = request(srv, "GET", "/v1/events?limit=1000", key=ADMIN)
    return len(j["items"]) if st == 200 else -1


st, _, _, m = request(srv, "POST", "/v1/memory", {"text": "The user likes green tea",
                                                    "metadata": {"topic": "drinks"},
                                                    "importance": 0.8}, key=ADMIN)
check("POST /v1/memory: 201 with the memory", st == 201 and m["outcome"] == "created"
      and m["metadata"] == {"topic": "drinks"}, st)
mid = m["id"]
st, _, _, j = request(srv, "POST", "/v1/memory", {"text": "the user likes  GREEN tea"}, key=ADMIN)
check("the same text again: 200, the memory found", st == 200 and j["id"] == mid
      and j["outcome"] in ("unchanged", "updated"), st)
st, _, _, j = request(srv, "GET", f"/v1/memory/{mid}", key=ADMIN)
check("GET /v1/memory/{id}", st == 200 and j["text"] == "The user likes green tea", st)
st, _, _, j = request(srv, "PUT", f"/v1/memory/{mid}", {"text": "The user likes oolong tea"},
                      key=ADMIN)
check("PUT /v1/memory/{id}: a new version", st == 200 and j["version"] >= 2, st)
st, _, _, j = request(srv, "GET", f"/v1/memory/{mid}/history", key=ADMIN)
check("GET /v1/memory/{id}/history", st == 200 and len(j["items"]) >= 1, st)
st, hd, _, j = request(srv, "POST", "/v1/memory/search", {"query": "oolong tea", "k": 5},
                       key=ADMIN)
check("POST /v1/memory/search finds it", st == 200 and j["items"]
      and j["items"][0]["id"] == mid and "score" in j["items"][0], st)
check("search answers with X-RateLimit-* headers", "x-ratelimit-limit" in hd
      and "x-ratelimit-remaining" in hd and "x-ratelimit-reset" in hd, hd)
st, _, _, j = request(srv, "GET", "/v1/memory?limit=10", key=ADMIN)
check("GET /v1/memory lists it", st == 200 and any(i["id"] == mid for i in j["items"]), st)
st, _, _, j = request(srv, "DELETE", f"/v1/memory/{mid}", key=ADMIN)
check("DELETE /v1/memory/{id}: 204", st == 204, st)
st, _, _, j = request(srv, "GET", f"/v1/memory/{mid}", key=ADMIN)
check("a deleted memory: 404 not_found", st == 404 and is_error(j, "not_found"), st)
st, _, _, j = request(srv, "POST", f"/v1/memory/{mid}/restore", key=ADMIN)
check("POST /v1/memory/{id}/restore: back", st == 200 and j["id"] == mid, st)
ids = [request(srv, "POST", "/v1/memory", {"text": f"bulk {i}", "type": "note"},
               key=ADMIN)[3]["id"] for i in range(3)]
st, _, _, j = request(srv, "POST", "/v1/memory/bulk-delete", {"ids": ids, "hard": True},
                      key=ADMIN)
check("POST /v1/memory/bulk-delete", st == 200 and j == {"deleted": 3}, st)
st, _, _, _ = request(srv, "GET", f"/v1/memory/{ids[0]}?with_deleted=true", key=ADMIN)
check("a hard-deleted memory is gone", st == 404, st)
st, _, _, j = request(srv, "GET", f"/v1/memory/{mid}", key=OTHER)
check("another tenant's key does not see it", st == 404, st)
st, _, _, j = request(srv, "POST", "/v1/memory", {"text": "scoped out"}, key=READER)
check("a key scoped to memory:read cannot add: 403 denied", st == 403
      and is_error(j, "denied"), st)

# ---- identity, policy, keys, events, jobs, rate limits ---------------------------------------
st, _, _, j = request(srv, "POST", "/v1/identity", {"external_id": "helper", "role": "agent"},
                      key=ADMIN)
check("POST /v1/identity: 201", st == 201 and j["external_id"] == "helper", st)
st, _, _, j = request(srv, "GET", "/v1/identity", key=ADMIN)
check("GET /v1/identity", st == 200 and {"boss", "bot", "helper"} <=
      {i["external_id"] for i in j["items"]}, st)
st, _, _, j = request(srv, "GET", "/v1/identity/helper", key=ADMIN)
check("GET /v1/identity/{id}", st == 200 and j["active"] is True, st)
st, _, _, _ = request(srv, "DELETE", "/v1/identity/helper", key=ADMIN)
st2, _, _, j = request(srv, "GET", "/v1/identity/helper", key=ADMIN)
check("DELETE /v1/identity/{id} deactivates", st == 204 and st2 == 200
      and j["active"] is False, (st, st2))
st, _, _, j = request(srv, "POST", "/v1/identity", {"external_id": "boss"}, key=ADMIN)
check("an identity that exists: 409 exists", st == 409 and is_error(j, "exists"), st)

rule = {"effect": "allow", "actions": ["read"], "resource": "memory"}
st, _, _, p = request(srv, "POST", "/v1/policy", {"role": "auditor", "rule": rule,
                                                    "description": "reads"}, key=ADMIN)
check("POST /v1/policy: 201", st == 201 and p["role"] == "auditor", (st, p))
pid = p["id"] if st == 201 else "none"
st, _, _, j = request(srv, "GET", "/v1/policy", key=ADMIN)
check("GET /v1/policy", st == 200 and any(i["id"] == pid for i in j["items"]), st)
st, _, _, j = request(srv, "PUT", f"/v1/policy/{pid}", {"priority": 7}, key=ADMIN)
check("PUT /v1/policy/{id}", st == 200 and j["priority"] == 7, st)
st, _, _, j = request(srv, "GET", f"/v1/policy/{pid}", key=ADMIN)
check("GET /v1/policy/{id}", st == 200 and j["priority"] == 7, st)
st, _, _, j = request(srv, "POST", "/v1/policy/test", {"action": "read", "resource": "memory"},
                      key=ADMIN)
check("POST /v1/policy/test: a decision", st == 200 and j["allowed"] in (True, False), st)
st, _, _, _ = request(srv, "DELETE", f"/v1/policy/{pid}", key=ADMIN)
check("DELETE /v1/policy/{id}: 204", st == 204, st)

st, _, _, k = request(srv, "POST", "/v1/api-keys", {"identity": "bot"}, key=ADMIN)
check("POST /v1/api-keys: 201 with the key, shown once", st == 201
      and k["key"].startswith("mk_"), st)
st, _, body, j = request(srv, "GET", "/v1/api-keys", key=ADMIN)
check("GET /v1/api-keys lists it, never a key", st == 200 and any(i["id"] == k["id"]
      for i in j["items"]) and k["key"].encode() not in body, st)
st1, _, _, _ = request(srv, "GET", "/v1/identity/me", key=k["key"])
st2, _, _, _ = request(srv, "DELETE", f"/v1/api-keys/{k['id']}", key=ADMIN)
time.sleep(1.2)  # revocation reaches the key cache within about a second
st3, _, b3, _ = request(srv, "GET", "/v1/identity/me", key=k["key"])
check("DELETE /v1/api-keys/{id}: the key stops working (401, the same body)",
      st1 == 200 and st2 == 204 and st3 == 401 and b3 == b0, (st1, st2, st3))

st, _, _, j = request(srv, "GET", "/v1/events?action=memory:", key=ADMIN)
check("GET /v1/events: the audit log", st == 200 and any(e["action"] == "memory:create"
      for e in j["items"]), st)
st, _, _, j = request(srv, "GET", "/v1/jobs", key=ADMIN)
check("GET /v1/jobs", st == 200 and j["items"] == [], st)
st, _, _, j = request(srv, "POST", f"/v1/jobs/{mid}/retry", key=ADMIN)
check("POST /v1/jobs/{memory_id}/retry without a job: 404", st == 404
      and is_error(j, "not_found"), st)
st, _, _, j = request(srv, "GET", "/v1/rate-limits", key=ADMIN)
check("GET /v1/rate-limits", st == 200 and any(i["endpoint"] == "memory:search"
      and "remaining" in i for i in j["items"]), st)

# ---- webhooks: subscriptions over HTTP, delivered by the server's own thread ---------------
import hashlib  # noqa: E402
import hmac  # noqa: E402
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

received = []


class Hook(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


hook_srv = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=hook_srv.serve_forever, daemon=True).start()
hook_url = f"http://127.0.0.1:{hook_srv.server_address[1]}/in"
for bad, why in (({"url": "ftp://x/y", "events": ["memory.created"]}, "an ftp URL"),
                 ({"url": hook_url, "events": ["memory.exploded"]}, "an unknown event"),
                 ({"url": hook_url, "events": []}, "no event"),
                 ({"url": hook_url, "events": "memory.created"}, "events not an array"),
                 ({"events": ["memory.created"]}, "no url")):
    st, _, _, j = request(srv, "POST", "/v1/webhooks", bad, key=ADMIN)
    check(f"POST /v1/webhooks with {why}: 400 with a message", st == 400
          and isinstance(j, dict) and "error" in j, (st, j))
st, _, _, j = request(srv, "GET", "/v1/webhooks", key=ADMIN)
check("... and nothing was stored", st == 200 and j["items"] == [], (st, j))
st, _, _, j = request(srv, "POST", "/v1/webhooks", {"url": hook_url, "events": ["memory.created"]},
                      key=BOT)
check("POST /v1/webhooks by an agent: 403", st == 403, st)
st, _, _, w = request(srv, "POST", "/v1/webhooks",
                      {"url": hook_url, "events": ["memory.created", "policy.changed"]}, key=ADMIN)
check("POST /v1/webhooks: 201 with the secret, shown once", st == 201
      and w["secret"].startswith("whsec_") and w["events"] == ["memory.created", "policy.changed"],
      (st, w))
st, _, _, j = request(srv, "GET", "/v1/webhooks", key=ADMIN)
check("GET /v1/webhooks lists it, never a secret", st == 200 and [i["id"] for i in j["items"]]
      == [w["id"]] and "secret" not in j["items"][0], (st, j))
st, _, _, t = request(srv, "POST", f"/v1/webhooks/{w['id']}/test", key=ADMIN)
check("POST /v1/webhooks/{id}/test queues a delivery", st == 200 and t["delivery_id"] > 0, (st, t))
# Deliveries are made with libcurl: a build without it (WITH_CURL=0) queues them only.
delivers = "http-embed" in subprocess.run([M, "--version"], capture_output=True,
                                          text=True).stdout
deadline = time.time() + 30
while delivers and not received and time.time() < deadline:
    time.sleep(0.1)
ok = not delivers
if received:
    h, body = received[0]
    parts = dict(p.split("=", 1) for p in h.get("Manushya-Signature", "").split(","))
    mac = hmac.new(w["secret"].encode(), parts.get("t", "").encode() + b"." + body,
                   hashlib.sha256).hexdigest()
    doc = json.loads(body)
    ok = (hmac.compare_digest(mac, parts.get("v1", "")) and doc["type"] == "webhook.test"
          and h.get("Manushya-Event-Id") == doc["id"] and abs(time.time() - int(parts["t"])) < 300)
check("the server's thread delivered it, signed, with its idempotency id", ok, received[:1])
st, _, _, j = request(srv, "GET", f"/v1/webhooks/deliveries?webhook={w['id']}&status=done",
                      key=ADMIN)
check("GET /v1/webhooks/deliveries shows it done", st == 200 and (not delivers or [
      i["id"] for i in j["items"]] == [t["delivery_id"]]), (st, j))
st, _, _, j = request(srv, "GET", "/v1/webhooks/deliveries?status=gone", key=ADMIN)
check("GET /v1/webhooks/deliveries?status=gone: 400", st == 400, st)
st, _, _, j = request(srv, "POST", f"/v1/webhooks/deliveries/{t['delivery_id']}/retry", key=ADMIN)
check("POST /v1/webhooks/deliveries/{id}/retry of one not dead: 404", st == 404, (st, j))
st, _, _, j = request(srv, "POST", "/v1/webhooks/deliveries/retry", key=ADMIN)
check("POST /v1/webhooks/deliveries/retry: none dead", st == 200 and j["retried"] == 0, (st, j))
st, _, _, _ = request(srv, "DELETE", f"/v1/webhooks/{w['id']}", key=ADMIN)
st2, _, _, _ = request(srv, "DELETE", f"/v1/webhooks/{w['id']}", key=ADMIN)
check("DELETE /v1/webhooks/{id}: 204, then 404", st == 204 and st2 == 404, (st, st2))
hook_srv.shutdown()

# ---- rate limit: 429 with Retry-After, nothing done ------------------------------------------
request(srv, "POST", "/v1/memory", {"text": "lonely memory"}, key=OTHER)
codes = [request(srv, "POST", "/v1/memory/search", {"query": "lonely"}, key=OTHER)
         for _ in range(3)]
st, hd, _, j = codes[2]
check("the third search under a limit of 2: 429 rate_limited",
      [c[0] for c in codes] == [200, 200, 429] and is_error(j, "rate_limited"),
      [c[0] for c in codes])
check("429 has Retry-After and X-RateLimit-Remaining 0", int(hd.get("retry-after", 0)) >= 1
      and hd.get("x-ratelimit-remaining") == "0" and hd.get("x-ratelimit-limit") == "2", hd)

# ---- gzip, CORS, request ids, the access log ------------------------------------------------
big = "word " * 400
request(srv, "POST", "/v1/memory", {"text": big}, key=ADMIN)
st, hd, body, j = request(srv, "GET", "/v1/memory?limit=5", key=ADMIN,
                          headers={"Accept-Encoding": "gzip"})
check("a body over 1 KiB is gzipped when accepted", st == 200
      and hd.get("content-encoding") == "gzip" and j and j["items"], hd)
st, hd, _, _ = request(srv, "GET", "/v1/memory?limit=5", key=ADMIN,
                       headers={"Accept-Encoding": "gzip;q=0, identity"})
check("not when gzip;q=0", "content-encoding" not in hd, hd)
st, hd, _, _ = request(srv, "GET", "/v1/identity/me", key=ADMIN,
                       headers={"Accept-Encoding": "gzip"})
check("not for a small body", "content-encoding" not in hd, hd)
st, hd, _, _ = request(srv, "GET", "/v1/identity/me", key=ADMIN, headers={"Origin": ORIGIN})
check("CORS: an allowed origin gets Access-Control-Allow-Origin",
      hd.get("access-control-allow-origin") == ORIGIN, hd)
st, hd, _, _ = request(srv, "GET", "/v1/identity/me", key=ADMIN,
                       headers={"Origin": "https://evil.example"})
check("CORS: another origin gets none", "access-control-allow-origin" not in hd, hd)
st, hd, _, _ = request(srv, "OPTIONS", "/v1/memory", headers={
    "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
check("CORS preflight: 204 with the methods and headers allowed", st == 204
      and "POST" in hd.get("access-control-allow-methods", "")
      and "Authorization" in hd.get("access-control-allow-headers", ""), (st, hd))
st, hd, _, _ = request(srv, "GET", "/healthz", headers={"X-Request-Id": "trace-42.a"})
check("X-Request-Id is echoed", hd.get("x-request-id") == "trace-42.a", hd)
st, hd, _, _ = request(srv, "GET", "/healthz", headers={"X-Request-Id": "bad id\x01"[:6]})
gen = hd.get("x-request-id", "")
check("else one is made (32 hex digits)", re.fullmatch(r"[0-9a-f]{32}", gen) is not None, gen)
lines = [json.loads(x) for x in open(srv.log, encoding="utf-8")]
ours = [x for x in lines if x.get("request_id") == "trace-42.a"]
check("the access log has a JSON line per request, with its id", len(ours) == 1
      and ours[0]["status"] == 200 and ours[0]["path"] == "/healthz" and "ms" in ours[0], ours)
check("the access log never holds a key", all(ADMIN not in json.dumps(x) for x in lines)
      and any(x.get("key_id") and x["key_id"] in ADMIN for x in lines))

# ---- bad input: 4xx with a message, nothing changed -------------------------------------------
before = (count_memories(), count_events())
bad = [
    ("malformed JSON", "POST", "/v1/memory", b'{"text": "x"', 400),
    ("not an object", "POST", "/v1/memory", b'["text"]', 400),
    ("text after the object", "POST", "/v1/memory", b'{"text": "x"} {}', 400),
    ("a wrong type", "POST", "/v1/memory", b'{"text": 42}', 400),
    ("a wrong type in an array", "POST", "/v1/memory/bulk-delete", b'{"ids": [1]}', 400),
    ("an unknown field", "POST", "/v1/memory", b'{"text": "x", "colour": "red"}', 400),
    ("a field given twice", "POST", "/v1/memory", b'{"text": "x", "text": "y"}', 400),
    ("invalid UTF-8 in the body", "POST", "/v1/memory", b'{"text": "caf\xc3("}', 400),
    ("an overlong UTF-8 sequence", "POST", "/v1/memory", b'{"text": "\xc0\xaf"}', 400),
    ("a NUL byte", "POST", "/v1/memory", b'{"text": "a\x00b"}', 400),
    ("a body where none is taken", "GET", "/v1/identity/me", b'{"x": 1}', 400),
    ("importance out of range", "POST", "/v1/memory", b'{"text": "x", "importance": 7}', 400),
    ("an empty text", "POST", "/v1/memory", b'{"text": ""}', 400),
    ("a missing text", "POST", "/v1/memory", b'{"type": "fact"}', 400),
    ("metadata not an object", "POST", "/v1/memory", b'{"text": "x", "metadata": [1]}', 400),
    ("an unknown query parameter", "GET", "/v1/memory?colour=red", None, 400),
    ("a query integer that is not one", "GET", "/v1/memory?limit=ten", None, 400),
    ("invalid UTF-8 in the query", "GET", "/v1/memory?type=%C3%28", None, 400),
    ("invalid UTF-8 in the path", "GET", "/v1/memory/%C3%28", None, 400),
    ("an empty bulk delete", "POST", "/v1/memory/bulk-delete", b'{"ids": []}', 400),
    ("an update with nothing to change", "PUT", f"/v1/memory/{mid}", b'{}', 400),
    ("a body that is not JSON", "POST", "/v1/memory", b'text=x', 415),
]
for what, method, path, raw, want in bad:
    hdr = {"Content-Type": "text/plain"} if want == 415 else None
    st, _, _, j = request(srv, method, path, raw=raw, key=ADMIN, headers=hdr)
    check(f"bad input, {what}: {want} with a message", st == want
          and j and j["error"]["message"], (st, j))
st, hd, _, j = request(srv, "POST", "/v1/memory", raw=b'{"text": "' + b"a" * MAX_BODY + b'"}',
                       key=ADMIN)
check("a body over --max-body: 413 too_large", st == 413 and is_error(j, "too_large"), st)


def chunked_upload(n):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(f"POST /v1/memory HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
              "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
              "Connection: close\r\n\r\n".encode())
    chunk = b'{"text": "' + b"b" * n + b'"}'
    try:
        s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk))
    except OSError:
        pass
    data = b""
    try:
        while True:
            got = s.recv(65536)
            if not got:
                break
            data += got
    except OSError:
        pass
    s.close()
    return data


resp = chunked_upload(MAX_BODY * 2)
check("a chunked body past --max-body: 413", resp.startswith(b"HTTP/1.1 413"), resp[:40])
check("bad input changed nothing (memories, audit log)",
      (count_memories(), count_events()) == before, ((count_memories(), count_events()), before))

# ---- slowloris: a connection sending its headers slowly is cut after --timeout ---------------
s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
t0 = time.monotonic()
closed = False
try:
    for _ in range(40):
        time.sleep(0.5)
        s.sendall(b"")  # nothing more: the headers never end
        s.settimeout(0.1)
        try:
            if s.recv(1024) == b"":
                closed = True
                break
        except socket.timeout:
            pass
except OSError:
    closed = True
elapsed = time.monotonic() - t0
s.close()
check("a slow sender is cut after the --timeout (2 s)", closed and 1.5 < elapsed < 15, elapsed)
st, _, _, _ = request(srv, "GET", "/healthz")
check("the server still answers", st == 200, st)

# ---- SIGTERM: stops accepting, finishes the request in flight, exits 0 ----------------------
s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
payload = json.dumps({"text": "written during the drain"}).encode()
s.sendall(f"POST /v1/memory HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
          f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
          + payload[:10])
time.sleep(0.3)
srv.proc.send_signal(signal.SIGTERM)
time.sleep(0.5)
refused = False
try:
    socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
except OSError:
    refused = True
check("after SIGTERM no new connection is accepted", refused)
s.sendall(payload[10:])
resp = b""
while b"\r\n\r\n" not in resp:
    got = s.recv(65536)
    if not got:
        break
    resp += got
s.close()
check("the request in flight at SIGTERM is finished (201)", resp.startswith(b"HTTP/1.1 201"),
      resp[:40])
rc = srv.proc.wait(20)
err = srv.proc.stderr.read()
check("then the server exits 0", rc == 0 and "stopped" in err, (rc, err))
out = subprocess.run([M, "--db", DB, "--tenant", "acme", "--json", "memory", "list"],
                     capture_output=True, text=True).stdout
check("what it acknowledged is in the store", "written during the drain" in out)

# ---- TLS, when GnuTLS and openssl are here ----------------------------------------------------
cert, pkey = os.path.join(WORK, "cert.pem"), os.path.join(WORK, "key.pem")
try:
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                           "1", "-subj", "/CN=127.0.0.1", "-keyout", pkey, "-out", cert],
                          capture_output=True).returncode == 0
except OSError:
    made = False
if not made:
    print("# no openssl to make a certificate: the TLS cases are skipped")
else:
    tls = Server("--tls-cert", cert, "--tls-key", pkey)
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = False
    c = http.client.HTTPSConnection("127.0.0.1", tls.port, context=ctx, timeout=10)
    c.request("GET", "/v1/identity/me", headers={"X-API-Key": ADMIN})
    r = c.getresponse()
    check("--tls-cert/--tls-key serve HTTPS", r.status == 200 and b"boss" in r.read())
    c.close()
    rc, _ = tls.stop()
    check("the HTTPS server stops on SIGTERM", rc == 0, rc)

# ---- usage errors ------------------------------------------------------------------------------
r = subprocess.run([M, "--db", DB, "serve", "--listen", "localhost"], capture_output=True,
                   text=True)
check("--listen without a port: usage error naming the form", r.returncode == 2
      and "ADDR:PORT" in r.stderr, r.stderr)
r = subprocess.run([M, "--db", DB, "--tenant", "acme", "serve"], capture_output=True, text=True)
check("serve with --tenant: usage error (each request acts for its key)", r.returncode == 2,
      r.stderr)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
