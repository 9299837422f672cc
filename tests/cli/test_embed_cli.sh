#!/bin/sh
# manushya embed / bench embed with the openai embedder against a real HTTP server on loopback
# (tests/support/embed_server.py): global options and environment, --json, the embedding cache
# (hits never reach the server: its request counter says so; pruning what no memory uses),
# error messages and exit codes,
# and that the API key never shows.
# needs: http-embed
. "$MN_TOP/tests/cli/lib.sh"
cli_setup embed

embed_server 4
requests() { python3 -c 'import json,sys,urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + "/_stats"))["requests"])' "http://127.0.0.1:$port"; }

O="--db e.db --embedder openai --embed-url $url --embed-model tiny --embed-dim 4"
expect 0 "embed --json with openai" $O --json embed "the cat" "a dog"
check "json has model, dim and two 4-d vectors" json \
    'd["model"] == "tiny" and d["dim"] == 4 and len(d["vectors"]) == 2 and all(len(v) == 4 for v in d["vectors"])'
check "first call: two misses, one request" json 'd["cache"] == {"enabled": True, "hits": 0, "misses": 2}'
[ "$(requests)" = 1 ] && pass "the server saw one request" || fail "the server saw $(requests) requests"
first=$(jget 'd["vectors"][0]')

expect 0 "the same text again" $O --json embed "the cat"
check "a cache hit" json 'd["cache"]["hits"] == 1 and d["cache"]["misses"] == 0'
check "the same vector" [ "$(jget 'd["vectors"][0]')" = "$first" ]
[ "$(requests)" = 1 ] && pass "a cache hit never reaches the server" || fail "requests: $(requests)"

MANUSHYA_EMBEDDER=openai MANUSHYA_EMBED_URL=$url MANUSHYA_EMBED_MODEL=tiny \
    expect 0 "the environment chooses the embedder" --db e.db --embed-dim 4 embed --stats "the cat"
check "--stats on stderr" err_has "cache on, 1 hits, 0 misses"

mode '{"mode": "500", "times": 1}'
expect 0 "--json --stats, the server failing once" $O --json embed --stats "a bird" "the cat"
check "--json --stats has the stats: one text embedded, two requests, one retry" json \
    'd["stats"] == {"texts": 1, "requests": 2, "retries": 1, "max_inflight": 1, "max_batch": 1}'
check "... and stderr stays empty" [ ! -s "$ERR" ]
expect 0 "--json without --stats" $O --json embed "the cat"
check "... has no stats" json '"stats" not in d'

expect 0 "a tenant" $O tenant create t
expect 0 "an identity" $O --tenant t identity create agent
expect 0 "memory add embeds through openai" $O --tenant t --as agent --json memory add "the cat sat on the mat"
id=$(jget 'd["id"]')
expect 0 "search finds it" $O --tenant t --as agent --json memory search "the cat sat on the mat"
check "the memory is the top hit, similarity 1" json \
    "d['hits'][0]['id'] == '$id' and d['hits'][0]['similarity'] > 0.999"

# The cache keeps what memories use: "the cat sat on the mat" stays, the texts embedded for no
# tenant ("the cat", "a dog", "a bird") and the search query's (the same text) go or stay.
expect 0 "cache prune, nothing old enough" $O --json cache prune
check "removes nothing" json 'd["removed"] == 0'
expect 0 "cache prune --older-than-hours 0" $O --json cache prune --older-than-hours 0
check "removes the three texts of no tenant" json 'd["removed"] == 3'
expect 0 "a pruned text embedded again" $O --json embed "the cat"
check "is a miss" json 'd["cache"]["misses"] == 1'
expect 2 "a negative age" $O cache prune --older-than-hours -1

mode '{"mode": "500", "times": -1}'
MANUSHYA_EMBED_API_KEY=sk-test-SECRET-KEY expect 1 "a failing server is an error" $O embed "never seen"
check "the message names the status and the server's words" err_has "HTTP 500: the model crashed"
check "and the retries" err_has "gave up after 4 attempts"
check "the API key is not shown" sh -c "! grep -q SECRET '$ERR'"
mode '{"mode": "ok", "times": 0}'

expect 1 "a database of another dimension" --db e.db --embedder openai --embed-url "$url" --embed-dim 8 embed x
check "the message names both dimensions" err_has "4-dimensional embeddings but 8"
expect 1 "the local embedder cannot open an openai database" --db e.db embed x
check "it names the embedder" err_has '"openai" embedder'
expect 1 "nor another model of the same embedder" --db e.db --embedder openai --embed-url "$url" \
    --embed-model other --embed-dim 4 embed x
check "it names both models" sh -c "grep -q '\"tiny\"' '$ERR' && grep -q '\"other\"' '$ERR'"
mode '{"mode": "500", "times": -1}'
before=$(requests)
expect 0 "external opens it without the model" --db e.db --embedder external --tenant t --as agent \
    --json memory get "$id"
check "and reads its memory" json 'd["text"] == "the cat sat on the mat"'
expect 1 "external embeds nothing" --db e.db --embedder external --tenant t --as agent \
    memory add "a new text"
check "it says so, and what to do" sh -c "grep -q 'embeds nothing' '$ERR' && grep -q 'pass the vectors' '$ERR'"
[ "$(requests)" = "$before" ] && pass "external never asked the server" || fail "requests: $(requests)"
mode '{"mode": "ok", "times": 0}'
expect 2 "--embed-dim must be a number" --embed-dim 4x embed x
expect 1 "an unknown embedder" --db f.db --embedder word2vec embed x
check "the message lists the embedders" err_has "local, openai, external"
expect 1 "a URL that is not http" --db g.db --embedder openai --embed-url ftp://x/v1 embed x
check "the message says what a URL must be" err_has "http:// or https://"

expect 0 "bench embed (local)" --json bench embed --n 2000
check "bench embed reports texts/s" json 'd["embedder"] == "local" and d["n"] == 2000 and d["texts_per_s"] > 0'
expect 0 "bench embed (openai)" --json bench embed --embedder openai --embed-url "$url" --embed-dim 4 --n 300
check "bench embed shows requests, in flight and batch" json \
    'd["requests"] == 3 and d["max_batch"] == 100 and 1 <= d["max_inflight"] <= 4'

cli_finish
