"""Three `manushya serve` processes on one PostgreSQL and one Redis behind nginx, over real
HTTP on loopback ports (tests/deploy/test_nginx.sh starts the databases and says why).

usage: nginx_test.py MANUSHYA DB_URL REDIS_URL TOP WORK [all|consistency]

all (default): reads and searches across servers, a rate limit, a server killed; consistency:
the first alone (for PGlite, which serves one connection at a time).

Starts the servers and nginx (examples/deploy/nginx.conf with the servers' ports put in, inside
a top-level configuration of its own: pid, logs and temp files under WORK), writing every pid to
WORK/pids for the caller's trap. Prints "ok N - what" / "not ok N - what", then the count.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

M, DB, REDIS, TOP, WORK = sys.argv[1:6]
PART = sys.argv[6] if len(sys.argv) > 6 else "all"
NGINX = os.environ.get("MN_NGINX", "nginx")  # not NGINX: nginx reads that variable
LIMIT = 12         # searches allowed to the limited tenant's identity
CLIENTS = 4        # client threads of the write load
lock = threading.Lock()
passed = failed = 0


def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok {passed + failed} - {what}", flush=True)
    else:
        failed += 1
        print(f"not ok {passed + failed} - {what} {detail}", flush=True)


def note_pid(pid):
    with open(os.path.join(WORK, "pids"), "a") as f:
        f.write(f"{pid}\n")


def cli(*args):
    r = subprocess.run([M, "--db", DB, "--redis", REDIS, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"setup: manushya {' '.join(args)}: {r.stderr}")
    return r.stdout.strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None, key=None):
    """(status, headers lowercased, parsed JSON or None); status 0 when the connection failed."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Authorization": "Bearer " + key} if key else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        hd = {k.lower(): v for k, v in r.getheaders()}
    except OSError:
        return 0, {}, None
    finally:
        c.close()
    try:
        j = json.loads(payload) if payload else None
    except ValueError:
        j = None
    return r.status, hd, j


class Serve:
    def __init__(self, n):
        self.log = os.path.join(WORK, f"access-{n}.log")
        self.proc = subprocess.Popen(
            [M, "--db", DB, "--redis", REDIS, "serve", "--listen", "127.0.0.1:0",
             "--threads", "4", "--access-log", self.log], stderr=subprocess.PIPE, text=True)
        note_pid(self.proc.pid)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            sys.exit(f"serve did not start: {line}{self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.addr = f"127.0.0.1:{self.port}"
        # The rest of its standard error (the library's log, a sanitizer's report) is shown as
        # it comes: a pipe nobody reads would stop the server once full.
        threading.Thread(target=self.relay, args=(n,), daemon=True).start()

    def relay(self, n):
        for line in self.proc.stderr:
            print(f"# serve {n}: {line.rstrip()}", flush=True)


def nginx_conf(servers, port):
    """The shipped configuration with loopback addresses, inside a top-level one of this test."""
    shipped = open(os.path.join(TOP, "examples", "deploy", "nginx.conf"), encoding="utf-8").read()
    site = shipped
    for i, s in enumerate(servers, 1):
        site, n = re.subn(rf"^(\s*server )api{i}:8000\b", rf"\g<1>{s.addr}", site, flags=re.M)
        if n != 1:
            sys.exit(f"examples/deploy/nginx.conf: expected one 'server api{i}:8000', found {n}")
    site, n = re.subn(r"^(\s*)listen 80;$", rf"\1listen 127.0.0.1:{port};", site, flags=re.M)
    if n != 1:
        sys.exit(f"examples/deploy/nginx.conf: expected one 'listen 80;', found {n}")
    d = os.path.join(WORK, "nginx")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "manushya.conf"), "w") as f:
        f.write(site)
    temps = "\n".join(f"    {t}_temp_path {d}/{t};" for t in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, nginx's workers would switch to nobody: they stay the current user.
    user = "user root;\n" if os.getuid() == 0 else ""
    main = f"""{user}daemon off;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 512; }}
http {{
{temps}
    log_format upstream '$request_method $uri $status $upstream_addr $upstream_status';
    access_log {d}/access.log upstream;
    include {d}/manushya.conf;
}}
"""
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(main)
    return d, conf


def upstream_log(d, start=0):
    """nginx's access log from byte start: (method, path, status, upstream addresses)."""
    with open(os.path.join(d, "access.log")) as f:
        f.seek(start)
        rows = [line.split(" ", 4) for line in f if line.strip()]
    return [(r[0], r[1], r[2], r[3]) for r in rows if len(r) >= 4]


def log_size(d):
    return os.path.getsize(os.path.join(d, "access.log"))


def read_your_writes(servers):
    """Each server writes in turn; the others read and search at once, with no pause. They
    have searched for the same text just before (an empty result a cache could keep) and read
    the memory after it is deleted (a row a cache could keep)."""
    stale = []
    for w, writer in enumerate(servers):
        text = f"the deploy check number {w} prefers jasmine tea brewed at {70 + w} degrees"
        readers = [s for s in servers if s is not writer]
        for r in readers:
            st, _, j = request(r.port, "POST", "/v1/memory/search", {"query": text, "k": 3}, KEY)
            if st != 200 or any(h["text"] == text for h in j["items"]):
                stale.append(("before", r.addr, st))
        st, _, m = request(writer.port, "POST", "/v1/memory", {"text": text}, KEY)
        if st != 201:
            stale.append(("write", writer.addr, st, m))
            continue
        for port, name in [(r.port, r.addr) for r in readers] + [(PROXY, "nginx")]:
            st, _, j = request(port, "GET", f"/v1/memory/{m['id']}", key=KEY)
            if st != 200 or j["text"] != text:
                stale.append(("get", name, st))
            st, _, j = request(port, "POST", "/v1/memory/search", {"query": text, "k": 3}, KEY)
            if st != 200 or not j["items"] or j["items"][0]["id"] != m["id"]:
                stale.append(("search", name, st, j))
        changed = text + " and oolong on sundays"
        st, _, _ = request(readers[0].port, "PUT", f"/v1/memory/{m['id']}", {"text": changed}, KEY)
        st2, _, j = request(readers[1].port, "GET", f"/v1/memory/{m['id']}", key=KEY)
        if st != 200 or st2 != 200 or j["text"] != changed:
            stale.append(("update", readers[1].addr, st, st2))
        st, _, _ = request(readers[1].port, "DELETE", f"/v1/memory/{m['id']}", key=KEY)
        for s in [writer, readers[0]]:
            st2, _, _ = request(s.port, "GET", f"/v1/memory/{m['id']}", key=KEY)
            st3, _, j = request(s.port, "POST", "/v1/memory/search",
                                {"query": changed, "k": 3}, KEY)
            if st not in (200, 204) or st2 != 404 or st3 != 200 or any(
                    h["id"] == m["id"] for h in j["items"]):
                stale.append(("delete", s.addr, st, st2, st3))
    check("a memory written through one server is read and found through each other at once; "
          "an update and a delete through another are seen by the rest at once", not stale, stale)


def rate_limits(servers, ndir):
    """One count for the three servers: in Redis."""
    mark = log_size(ndir)
    codes = []

    def limited_search(i):
        st, _, _ = request(PROXY, "POST", "/v1/memory/search", {"query": f"anything {i}"}, LIMITED)
        with lock:
            codes.append(st)

    extra = 6
    threads = [threading.Thread(target=limited_search, args=(i,)) for i in range(LIMIT + extra)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    check(f"a limit of {LIMIT} through nginx: exactly {LIMIT} of {LIMIT + extra} concurrent "
          "searches succeed, the rest get 429",
          codes.count(200) == LIMIT and codes.count(429) == extra, sorted(codes))
    st, hd, j = request(PROXY, "POST", "/v1/memory/search", {"query": "one more"}, LIMITED)
    check("the next search gets 429 with Retry-After",
          st == 429 and int(hd.get("retry-after", 0)) >= 1
          and j["error"]["code"] == "rate_limited", (st, hd))
    ups = {r[3] for r in upstream_log(ndir, mark)}
    check("nginx spread those searches over the three servers",
          ups == {s.addr for s in servers}, ups)


def kill_one(servers, ndir):
    """One server SIGKILLed under a write load; returns it."""
    victim = servers[1]
    acked = {}           # id -> text, every add a client got 201 for
    other = []           # (status, error code) of the adds that were not acknowledged
    stop = threading.Event()
    killed = threading.Event()
    acked_after_kill = [0]

    def writer_loop(c):
        i = 0
        while not stop.is_set():
            text = f"load client {c} write {i} of the kill test"
            st, _, j = request(PROXY, "POST", "/v1/memory", {"text": text}, KEY)
            with lock:
                if st == 201 and j and j.get("text") == text:
                    acked[j["id"]] = text
                    if killed.is_set():
                        acked_after_kill[0] += 1
                else:
                    other.append((st, j["error"]["code"] if j and "error" in j else j))
            i += 1

    def victim_writes(start):
        return sum(1 for r in upstream_log(ndir, start) if r[0] == "POST" and victim.addr in r[3])

    mark = log_size(ndir)
    clients = [threading.Thread(target=writer_loop, args=(c,)) for c in range(CLIENTS)]
    for th in clients:
        th.start()
    deadline = time.time() + 60
    while victim_writes(mark) < 20 and time.time() < deadline:
        time.sleep(0.05)
    before_kill = len(acked)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    killed.set()
    deadline = time.time() + 60
    while acked_after_kill[0] < 100 and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    for th in clients:
        th.join()
    print(f"# kill test: {before_kill} adds acknowledged before the SIGKILL, {acked_after_kill[0]} "
          f"after, {len(acked)} in all; not acknowledged: {sorted(other)}")
    check("the victim served writes before it was killed", victim_writes(mark) >= 20,
          victim_writes(mark))
    check("adds went on through nginx after the kill", acked_after_kill[0] >= 100,
          acked_after_kill[0])
    # In flight on the victim when it died: one per client at most. Then nginx may send a few
    # more to connections it kept open to it, until max_fails (3) marks it down.
    check("the only failed adds are the victim's own, in flight: 502, in serve's error shape",
          all(o == (502, "upstream") for o in other) and len(other) <= CLIENTS + 3, other)

    def readable(mid, text):
        st, _, j = request(PROXY, "GET", f"/v1/memory/{mid}", key=KEY)
        return st == 200 and j["text"] == text

    lost = [i for i, text in acked.items() if not readable(i, text)]
    check(f"every acknowledged add ({len(acked)}) is there after the kill", not lost, lost[:5])
    st, _, j = request(PROXY, "POST", "/v1/memory/search",
                       {"query": "load client 0 write 0 of the kill test", "k": 1}, KEY)
    check("and found by search", st == 200 and j["items"]
          and j["items"][0]["text"] == "load client 0 write 0 of the kill test", (st, j))
    after = [request(PROXY, "GET", "/v1/memory?limit=1", key=KEY)[0] for _ in range(30)]
    check("nginx carries on with the other two: 30 requests after, all 200",
          after == [200] * 30, after)
    return victim


def start(servers):
    """nginx in front of the servers: (its process, its directory)."""
    ndir, conf = nginx_conf(servers, PROXY)
    args = ["-p", ndir, "-c", conf, "-e", os.path.join(ndir, "error.log")]
    t = subprocess.run([NGINX, "-t", *args], capture_output=True, text=True)
    check("the shipped nginx.conf passes nginx -t", t.returncode == 0, t.stderr)
    nginx = subprocess.Popen([NGINX, *args])
    note_pid(nginx.pid)
    for _ in range(100):
        if request(PROXY, "GET", "/healthz")[0] == 200:
            break
        time.sleep(0.1)
    st = request(PROXY, "GET", "/healthz")[0]
    check("nginx answers /healthz from the servers", st == 200, st)
    mark = log_size(ndir)
    st, _, j = request(PROXY, "POST", "/v1/memory", {"text": "x" * (1 << 20)}, KEY)
    # nginx logs a request after answering it: wait for the line.
    for _ in range(100):
        sent_on = [r[3] for r in upstream_log(ndir, mark) if r[0] == "POST"]
        if sent_on:
            break
        time.sleep(0.05)
    check("a body over serve's --max-body: nginx's 413, in serve's error shape, sent to no server",
          st == 413 and j and j["error"]["code"] == "too_large" and sent_on == ["-"],
          (st, j, sent_on))
    return nginx, ndir


# ---- setup: two tenants, their keys; the limited one may search LIMIT times an hour -----------
cli("tenant", "create", "acme")
cli("--tenant", "acme", "identity", "create", "boss", "--role", "admin")
KEY = cli("--tenant", "acme", "key", "create", "--identity", "boss")
cli("tenant", "create", "limited")
cli("--tenant", "limited", "identity", "create", "lone")
LIMITED = cli("--tenant", "limited", "key", "create", "--identity", "lone")
cli("--tenant", "limited", "ratelimit", "set-limit", "--endpoint", "memory:search",
    "--limit", str(LIMIT))

servers = [Serve(n) for n in (1, 2, 3)]
PROXY = free_port()
nginx, ndir = start(servers)
read_your_writes(servers)
dead = None
if PART == "all":
    rate_limits(servers, ndir)
    dead = kill_one(servers, ndir)
left = [s for s in servers if s is not dead]
for s in left:
    s.proc.send_signal(signal.SIGTERM)
rcs = [s.proc.wait(30) for s in left]
check("the servers left drain on SIGTERM and exit 0", rcs == [0] * len(left), rcs)
nginx.send_signal(signal.SIGQUIT)
nginx.wait(30)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
