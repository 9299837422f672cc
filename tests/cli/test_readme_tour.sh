#!/bin/sh
# The README's tour of the CLI, run as a newcomer would: every ```sh block from "The CLI in 30
# seconds" up to "The C API", in order, in one shell, from a fresh directory that has build/
# and examples/ as the source tree does. Each command must exit 0, or the status its comment
# names ("# exit 4: ..."). What a reader fills in is filled in the same way: ID is the id the
# last `memory add` printed, the Ollama URL is the embeddings test server's
# (tests/support/embed_server.py), the Redis URL the test run's (MN_REDIS_URL). Skipped: the
# PostgreSQL block (it names a server of the reader's) and, without those, Redis and jq.
# needs: http-embed
. "$MN_TOP/tests/cli/lib.sh"
cli_setup readme-tour

embed_server 768

mkdir tour tour/build
ln -s "$M" tour/build/manushya
ln -s "$MN_TOP/examples" tour/examples

# The tour as a script of steps: `step WANT <<'MN_STEP'`, the command, `MN_STEP`.
python3 - "$MN_TOP/README.md" "http://127.0.0.1:$port/v1" "${MN_REDIS_URL:-}" \
    "$(command -v jq || true)" >tour.sh <<'EOF' || { fail "reading the README's tour"; exit 1; }
import re, shlex, sys
readme, embed_url, redis_url, jq = sys.argv[1:5]
text = open(readme, encoding="utf-8").read()
tour = text.split("## The CLI in 30 seconds", 1)[1].split("## The C API", 1)[0]
blocks = re.findall(r"^```sh\n(.*?)^```", tour, re.S | re.M)

def split_comment(line):
    """(code, comment) of one line, the comment being a # outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""

def commands(block):
    """Logical commands: lines joined across a final backslash or an open quote."""
    cmd, comment, want = "", "", 0
    for line in block.split("\n"):
        code, note = split_comment(line)
        if not cmd and not code:
            continue
        cmd += code + "\n"
        comment += " " + note
        if code.endswith("\\") or cmd.count("'") % 2:
            continue
        m = re.search(r"\bexit (\d+)", comment)
        yield cmd.rstrip("\n"), comment.strip(), int(m.group(1)) if m else 0
        cmd, comment = "", ""

for block in blocks:
    if "postgres" in block:
        print("skip 'the PostgreSQL block: it needs a server of the reader'\"'\"'s'")
        continue
    for cmd, comment, want in commands(block):
        cmd = re.sub(r"\bID\b", '"$ID"', cmd)
        cmd = cmd.replace("http://127.0.0.1:11434/v1", embed_url)
        if "redis://127.0.0.1:6379" in cmd:
            if not redis_url:
                print("skip 'needs Redis (MN_REDIS_URL)'")
                continue
            cmd = cmd.replace("redis://127.0.0.1:6379", redis_url)
        if "| jq" in cmd and not jq:
            print("skip 'needs jq'")
            continue
        if cmd.endswith("&"):  # it would outlive the test
            print("fail %s" % shlex.quote("not run in the background: " + cmd))
            continue
        print("step %d <<'MN_STEP'\n%s\nMN_STEP" % (want, cmd))
EOF

# step WANT: runs the command on stdin in this shell (so exports last), expects status WANT;
# after a memory add, ID is the first id it printed.
step() {
    cmd=$(cat)
    eval "$cmd" >"$OUT" 2>"$ERR"
    rc=$?
    what=$(printf '%s' "$cmd" | head -n 1)
    if [ "$rc" -eq "$1" ]; then pass "$what"; else
        echo "#   exit status $rc, expected $1"; fail "$what"; fi
    case $cmd in
    *"memory add"*)
        # shellcheck disable=SC2034 # the steps use it
        ID=$(grep -Eo '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$OUT" |
             head -n 1) ;;
    esac
}
skip() { n=$((n + 1)); echo "ok $n - # skip $1"; }

check "the README has a tour" grep -q '^step' tour.sh
cd tour || exit 1
# shellcheck disable=SC1091
. ../tour.sh
cd .. || exit 1
cli_finish
