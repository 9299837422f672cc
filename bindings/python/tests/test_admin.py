"""Tenants, identities, policies, API keys, rate limits, health and metrics."""

import json

import pytest

import manushya


def test_tenants(db, tenant):
    t = db.tenants.get(tenant)
    assert isinstance(t, manushya.Tenant) and t.name == tenant
    assert tenant in [x.name for x in db.tenants.list()]
    with pytest.raises(manushya.AlreadyExists):
        db.tenants.create(tenant)
    db.tenants.delete(tenant)
    with pytest.raises(manushya.NotFound):
        db.tenants.get(tenant)


def test_identities(system, bot):
    i = system.identities.get("bot")
    assert (i.external_id, i.role, i.claims, i.active) == ("bot", "agent", {"team": "support"},
                                                           True)
    assert [x.external_id for x in system.identities.list()] == ["bot"]
    system.identities.deactivate("bot")
    assert system.identities.get("bot").active is False
    with pytest.raises(manushya.Denied):
        bot.memories.add("a deactivated identity may not act")
    system.identities.delete("bot")
    with pytest.raises(manushya.NotFound):
        system.identities.get("bot")


def test_policies_decide_and_deny(system, bot):
    p = system.policies.add("reader", {"effect": "allow", "actions": ["read", "list"],
                                       "resource": "memory"}, description="read only",
                            priority=5)
    assert isinstance(p, manushya.Policy) and p.rule["effect"] == "allow" and p.active
    assert p.id in [x.id for x in system.policies.list()]
    assert system.policies.get(p.id).description == "read only"
    system.identities.create("reader-1", role="reader")
    reader = system.db.actor(system.tenant, "reader-1")
    assert reader.policies.test("read", "memory").allowed is True
    d = reader.policies.test("create", "memory")
    assert d.allowed is False and d.reason
    with pytest.raises(manushya.Denied) as e:
        reader.memories.add("not allowed")
    assert e.value.code == 5 and e.value.message
    system.policies.delete(p.id)
    with pytest.raises(manushya.NotFound):
        system.policies.get(p.id)


def test_api_keys(db, system, bot):
    new = system.api_keys.create("bot", scopes=["memory:create", "memory:read"])
    assert new.key.startswith("mk_" + new.info.id + "_")
    assert new.info.scopes == ["memory:create", "memory:read"]
    by_key = db.actor(api_key=new.key)
    m = by_key.memories.add("added with a key")
    assert bot.memories.get(m.id).text == "added with a key"
    assert [k.id for k in system.api_keys.list("bot")] == [new.info.id]
    system.api_keys.revoke(new.info.id)
    with pytest.raises(manushya.Denied):
        by_key.memories.add("revoked")


def test_rate_limits(system, bot):
    system.rate_limits.set_limit("memory:create", 2, 60000)
    limits = {l.endpoint: l for l in system.rate_limits.limits()}
    assert limits["memory:create"].limit == 2 and limits["memory:create"].overridden
    bot.memories.add("one")
    bot.memories.add("two")
    with pytest.raises(manushya.RateLimited) as e:
        bot.memories.add("three")
    assert e.value.retry_after_ms > 0 and e.value.code == 6
    r = system.rate_limits.hit("webhook:create", 1)
    assert isinstance(r, manushya.RateLimitResult) and r.allowed and r.checked
    system.rate_limits.set_limit("webhook:create", 1, 60000)  # a new window: a new counter
    assert bot.rate_limits.hit("webhook:create", 1).allowed is True
    refused = bot.rate_limits.hit("webhook:create", 1)
    assert refused.allowed is False and refused.retry_after_ms > 0
    assert bot.rate_limits.peek("webhook:create").allowed is False
    system.rate_limits.reset("webhook:create")
    assert bot.rate_limits.peek("webhook:create").allowed is True
    system.rate_limits.delete_limit("memory:create")
    bot.memories.add("three")
    assert system.db.rate_limit_stats().denied >= 1


def test_health_and_metrics(db, bot):
    bot.memories.add("something")
    h = db.health()
    assert h["status"] in ("ok", "degraded") and h["checks"]
    assert "manushya_" in db.metrics()
    assert json.loads(db.metrics("json"))["metrics"]
    with pytest.raises(manushya.InvalidArgument, match="metrics format"):
        db.metrics("xml")
