#!/bin/sh
# manushya key create|list|revoke, and acting by key (--api-key, MANUSHYA_API_KEY): the key
# printed alone and once, lists without it, scopes, revocation, the same refusal for every bad
# key, usage errors, and no key's secret on stderr.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup apikey

A="--db k.db --tenant acme"
"$M" --db k.db tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
"$M" $A identity create boss --role admin >/dev/null 2>&1

expect 0 "key create prints the key" $A key create --identity bot
KEY=$(cat "$OUT")
check "alone, in its format" sh -c "printf '%s\n' '$KEY' | grep -Eqx 'mk_[0-9a-f]{16}_[0-9a-f]{64}'"
ID=$(printf '%s' "$KEY" | cut -c4-19)
SECRET=$(printf '%s' "$KEY" | cut -c21-)
expect 0 "key create --json" $A --json key create --identity bot --scopes memory:read --expires-days 30
check "the object holds the key, its id and scopes" json 'd["key"].startswith("mk_" + d["id"] + "_")
    and d["scopes"] == ["memory:read"] and d["expires_at"] > d["created_at"]'
RO=$(jget 'd["key"]')
expect 0 "key list --json" $A --json key list --identity bot
check "two keys" json 'len(d) == 2'
check "no secret in the list" sh -c "! grep -q '$SECRET' '$OUT'"
expect 0 "key list, human-readable" $A key list
check "shows the id, never the key" sh -c "grep -q '^$ID ' '$OUT' && ! grep -q '$SECRET' '$OUT'"

expect 0 "memory add by --api-key" --db k.db --api-key "$KEY" memory add "by key"
export MANUSHYA_API_KEY="$KEY"
expect 0 "memory list by MANUSHYA_API_KEY" --db k.db --json memory list
unset MANUSHYA_API_KEY
check "the memory is there" json 'any(m["text"] == "by key" for m in d["memories"])'
expect 4 "a read-only key may not add" --db k.db --api-key "$RO" memory add "no"
check "the missing scope is named" err_has "memory:create"
expect 2 "a key and a tenant at once" $A --api-key "$KEY" memory list
export MANUSHYA_TENANT=acme
expect 0 "--api-key sets MANUSHYA_TENANT aside" --db k.db --api-key "$KEY" memory list
export MANUSHYA_API_KEY="$KEY"
expect 2 "a key and a tenant, both from the environment" --db k.db memory list
expect 0 "--tenant sets MANUSHYA_API_KEY aside" $A memory list
unset MANUSHYA_TENANT MANUSHYA_API_KEY
expect 4 "an agent may not make keys" $A --as bot key create --identity bot
expect 0 "an admin may" $A --as boss key create --identity bot
expect 2 "key create needs --identity" $A key create
expect 1 "an unknown scope is refused" $A key create --identity bot --scopes memory:fly
check "and named" err_has "memory:fly"
expect 3 "an unknown identity" $A key create --identity nobody

expect 0 "key revoke" $A key revoke "$ID"
check "says so" out_is "revoked $ID"
expect 4 "a revoked key is refused" --db k.db --api-key "$KEY" memory list
cp "$ERR" revoked.err
WRONG="mk_${ID}_$(printf '%064d' 0)"
expect 4 "a wrong key is refused" --db k.db --api-key "$WRONG" memory list
check "with the same message" cmp -s "$ERR" revoked.err
check "no secret on stderr" sh -c "! grep -q '$SECRET' revoked.err"
expect 3 "revoking it again: not found" $A key revoke "$ID"
expect 1 "a malformed key" --db k.db --api-key "nonsense" memory list
cli_finish
