'use strict';
// The manushya package against the real library: SQLite files in a temp dir and, when
// tests/run.sh started it, the PostgreSQL server (MN_PG_URL; skipped, visibly, without it).
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const manushya = require('manushya');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mn-node-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fresh = 0;
const backends = [
  ['sqlite', () => path.join(tmp, `db${fresh++}.db`), false],
  ['postgres', () => `${process.env.MN_PG_URL}?schema=node_${process.pid}_${fresh++}` +
    '&vector=local', process.env.MN_PG_URL ? false : 'MN_PG_URL is not set'],
];

for (const [backend, url, skip] of backends) {
  describe(`on ${backend}`, { skip }, () => {
    let db, sys, bot;
    before(() => {
      db = manushya.open(url());
      db.tenants.create('acme');
      sys = db.actor('acme');
      sys.identities.create('bot', { role: 'agent', claims: { team: 'support' } });
      bot = db.actor('acme', { identity: 'bot' });
    });
    after(() => db.close());

    test('tenants and identities come back as plain objects', () => {
      const [t] = db.tenants.list();
      assert.strictEqual(t.name, 'acme');
      assert.strictEqual(db.tenants.get('acme').id, t.id);
      const i = sys.identities.get('bot');
      assert.deepStrictEqual([i.externalId, i.role, i.claims, i.active, i.tenantId],
        ['bot', 'agent', { team: 'support' }, true, t.id]);
      assert.strictEqual(typeof i.createdAt, 'number');
      sys.identities.create('temp');
      sys.identities.deactivate('temp');
      assert.strictEqual(sys.identities.get('temp').active, false);
      sys.identities.delete('temp');
      assert.deepStrictEqual(sys.identities.list().map((x) => x.externalId), ['bot']);
    });

    test('add, get, update, delete, restore and history of a memory', () => {
      const m = bot.memories.add({ text: 'The customer prefers green tea', type: 'preference',
        metadata: { topic: 'drinks' }, importance: 0.8 });
      assert.deepStrictEqual([m.text, m.type, m.metadata, m.importance, m.version, m.deleted],
        ['The customer prefers green tea', 'preference', { topic: 'drinks' }, 0.8, 1, false]);
      const u = bot.memories.update(m.id, { text: 'The customer prefers jasmine tea',
        metadata: { topic: 'tea' } });
      assert.deepStrictEqual([u.version, u.text, u.metadata, u.type],
        [2, 'The customer prefers jasmine tea', { topic: 'tea' }, 'preference']);
      const got = bot.memories.get(m.id, { withEmbedding: true });
      assert.ok(got.embedding instanceof Float32Array);
      assert.strictEqual(got.embedding.length, db.embedDim);
      assert.strictEqual(bot.memories.get(m.id).embedding, null);
      bot.memories.delete(m.id);
      assert.throws(() => bot.memories.update(m.id, { importance: 0.1 }), manushya.NotFoundError);
      const listed = bot.memories.list({ withDeleted: true, type: 'preference' });
      assert.strictEqual(listed.items[0].deleted, true);
      bot.memories.restore(m.id);
      const h = bot.memories.history(m.id);
      assert.strictEqual(h[0].version, 2);
      assert.deepStrictEqual([h[0].before.text, h[0].after.text],
        ['The customer prefers green tea', 'The customer prefers jasmine tea']);
      bot.memories.delete(m.id, { hard: true });
      assert.throws(() => bot.memories.get(m.id), manushya.NotFoundError);
    });

    test('put says what became of each input; addMany returns the ids in order', () => {
      const first = bot.memories.put({ text: 'Ships on Mondays', externalKey: 'ship-day' });
      assert.strictEqual(first.outcome, 'created');
      const again = bot.memories.put({ text: 'Ships on Tuesdays', externalKey: 'ship-day' });
      assert.deepStrictEqual([again.outcome, again.memory.id, again.memory.version,
        again.memory.externalKey], ['updated', first.memory.id, 2, 'ship-day']);
      const same = bot.memories.put({ text: 'Ships on Tuesdays', externalKey: 'ship-day' });
      assert.strictEqual(same.outcome, 'unchanged');
      const ids = bot.memories.addMany(['batch one', { text: 'batch two', type: 'event' }]);
      assert.strictEqual(ids.length, 2);
      assert.deepStrictEqual(ids.map((id) => bot.memories.get(id).text),
        ['batch one', 'batch two']);
      const many = bot.memories.putMany(['batch one', 'batch three']);
      assert.deepStrictEqual(many.outcomes, ['unchanged', 'created']);
      assert.strictEqual(many.ids[0], ids[0]);
    });

    test('a batch with a bad input adds nothing and names the input', () => {
      const before = [...bot.memories.listAll()].length;
      assert.throws(() => bot.memories.addMany(['fine', 'also fine', '']), (err) =>
        err instanceof manushya.InvalidArgumentError && err.code === 2 && err.index === 2 &&
        /text is empty/.test(err.message));
      assert.strictEqual([...bot.memories.listAll()].length, before);
    });

    test('list and search page with the cursor', () => {
      const ids = bot.memories.addMany(Array.from({ length: 7 },
        (_, i) => ({ text: `paging note ${i} about parcels`, type: 'paging' })));
      const page = bot.memories.list({ type: 'paging', limit: 3 });
      assert.strictEqual(page.items.length, 3);
      assert.ok(page.nextCursor);
      const all = [...bot.memories.listAll({ type: 'paging', limit: 3 })].map((m) => m.id);
      assert.deepStrictEqual(all.sort(), [...ids].sort());
      const hits = [...bot.memories.searchAll('parcels', { type: 'paging', k: 2 })];
      assert.deepStrictEqual(hits.map((m) => m.id).sort(), [...ids].sort());
      const first = bot.memories.search('parcels', { type: 'paging', k: 2 });
      assert.strictEqual(first.items.length, 2);
      assert.ok(first.items[0].score >= first.items[1].score);
      assert.ok(first.nextCursor);
    });

    test('search ranks the memory that matches first and filters by metadata', () => {
      bot.memories.addMany([
        { text: 'Order 1042 shipped by courier', metadata: { topic: 'orders' } },
        { text: 'Order 1042 was paid by card', metadata: { topic: 'billing' } },
        { text: 'The office closes at six', metadata: { topic: 'hours' } },
      ]);
      const r = bot.memories.search('order 1042 courier', { k: 3 });
      assert.strictEqual(r.items[0].text, 'Order 1042 shipped by courier');
      assert.ok(r.items[0].similarity > 0);
      const f = bot.memories.search('order 1042', { metadata: { topic: 'billing' } });
      assert.deepStrictEqual(f.items.map((m) => m.text), ['Order 1042 was paid by card']);
      const kw = bot.memories.search('courier', { mode: 'keyword' });
      assert.ok(kw.items[0].keywordRank === 1 && kw.items[0].vectorRank >= 0);
    });

    test('a caller-supplied vector is stored and searched', () => {
      const v = new Float32Array(db.embedDim);
      v[3] = 1;
      const m = bot.memories.add({ text: 'vector of my own', embedding: v, type: 'vec' });
      const r = bot.memories.search(null, { vector: v, k: 1, type: 'vec' });
      assert.strictEqual(r.items[0].id, m.id);
      assert.ok(Math.abs(r.items[0].similarity - 1) < 1e-5);
    });

    test('policies: list, add, test', () => {
      const n = sys.policies.list().length;
      assert.ok(n > 0, 'a new tenant has its default policies');
      const deny = bot.policies.test('delete', 'memory', { type: 'fact', identity_id: 'x' });
      assert.strictEqual(typeof deny.allowed, 'boolean');
      const p = sys.policies.add({ role: 'auditor', description: 'reads facts', priority: 5,
        rule: { effect: 'allow', actions: ['read', 'list'], resource: 'memory' } });
      assert.deepStrictEqual([p.role, p.priority, p.active, p.description],
        ['auditor', 5, true, 'reads facts']);
      assert.strictEqual(sys.policies.list().length, n + 1);
      sys.identities.create('aud', { role: 'auditor' });
      const auditor = db.actor('acme', { identity: 'aud' });
      const d = auditor.policies.test('read', 'memory', { type: 'fact' });
      assert.deepStrictEqual([d.allowed, d.policyId], [true, p.id]);
      sys.policies.delete(p.id);
      assert.strictEqual(sys.policies.list().length, n);
    });

    test('a call the policies refuse is a DeniedError with the reason', () => {
      assert.throws(() => bot.policies.list(), (err) => err instanceof manushya.DeniedError &&
        err.code === 5 && /may not list policy/.test(err.message));
    });

    test('API keys: create, act by the key within its scopes, list, revoke', () => {
      const scopes = ['memory:read', 'memory:search'];
      const { key, apiKey } = sys.apiKeys.create('bot', { scopes });
      assert.match(key, /^mk_[0-9a-f]{16}_[0-9a-f]{64}$/);
      assert.deepStrictEqual(apiKey.scopes, ['memory:read', 'memory:search']);
      const byKey = db.actor({ apiKey: key });
      assert.ok(Array.isArray(byKey.memories.search('order').items));
      assert.throws(() => byKey.memories.add('not allowed'), (err) =>
        err instanceof manushya.DeniedError && err.message.includes('memory:create') &&
        !err.message.includes(key.slice(20)));
      assert.deepStrictEqual(sys.apiKeys.list('bot').map((k) => k.id), [apiKey.id]);
      sys.apiKeys.revoke(apiKey.id);
      assert.throws(() => byKey.memories.search('order'), manushya.DeniedError);
    });

    test('rate limits: status, limits, and a refused call with its retry-after', () => {
      const s = bot.rateLimits.status('memory:create');
      assert.deepStrictEqual([s.allowed, s.checked, s.limit], [true, true, 1000]);
      // Room for one more search than the tenant made so far in this window.
      const searches = bot.rateLimits.status('memory:search');
      const used = searches.limit - searches.remaining;
      sys.rateLimits.set('memory:search', used + 1, 3600000);
      const mine = sys.rateLimits.limits().find((l) => l.endpoint === 'memory:search');
      assert.deepStrictEqual([mine.limit, mine.overridden], [used + 1, true]);
      bot.memories.search('first');
      assert.throws(() => bot.memories.search('second'), (err) =>
        err instanceof manushya.RateLimitedError && err.code === 6 && err.retryAfterMs > 0);
      sys.rateLimits.unset('memory:search');
    });

    test('the library\'s errors: not found, exists, invalid', () => {
      assert.throws(() => db.tenants.get('nobody'), manushya.NotFoundError);
      assert.throws(() => db.tenants.create('acme'), (err) =>
        err instanceof manushya.AlreadyExistsError && /already exists/.test(err.message));
      assert.throws(() => bot.memories.get('not-an-id'), (err) =>
        err instanceof manushya.InvalidArgumentError && /not a valid id/.test(err.message));
      assert.throws(() => bot.memories.add({ text: 'x', importance: 7 }),
        manushya.InvalidArgumentError);
    });
  });
}

describe('arguments', () => {
  let db, bot;
  before(() => {
    db = manushya.open(path.join(tmp, 'args.db'));
    db.tenants.create('t');
    db.actor('t').identities.create('a');
    bot = db.actor('t', { identity: 'a' });
  });
  after(() => db.close());

  test('an unknown option is an InvalidArgumentError naming it, and changes nothing', () => {
    assert.throws(() => bot.memories.add({ text: 'hello', tags: ['x'] }), (err) =>
      err instanceof manushya.InvalidArgumentError && /no option "tags"/.test(err.message));
    assert.throws(() => bot.memories.search('hello', { limit: 3 }), /no option "limit"/);
    assert.throws(() => bot.memories.search('hello', { mode: 'fuzzy' }), /no mode "fuzzy"/);
    assert.throws(() => manushya.open(path.join(tmp, 'x.db'), { embedDims: 8 }),
      /no option "embedDims"/);
    assert.strictEqual(fs.existsSync(path.join(tmp, 'x.db')), false);
    assert.throws(() => bot.memories.add({ text: 'v', embedding: [1, 2] }), /Float32Array/);
    assert.deepStrictEqual(bot.memories.list().items, []);
  });

  test('config reaches the library: embedDim of a new database', () => {
    const small = manushya.open(path.join(tmp, 'small.db'), { embedDim: 64, poolSize: 2 });
    try {
      assert.strictEqual(small.embedDim, 64);
    } finally {
      small.close();
    }
  });

  test('a failed open says why', () => {
    assert.throws(() => manushya.open(path.join(tmp, 'missing.db'),
      { flags: manushya.constants.OPEN_NOCREATE }), manushya.NotFoundError);
  });

  test('close() releases the handle once; later calls say it is closed', () => {
    const d = manushya.open(path.join(tmp, 'closing.db'));
    d.close();
    d.close();
    assert.throws(() => d.tenants.list(), /the database is closed/);
  });
});

describe('constants', () => {
  test('each has the value of its MN_ macro in the header', () => {
    const header = fs.readFileSync(path.join(process.env.MN_TOP, 'include/manushya.h'), 'utf8');
    for (const [name, value] of Object.entries(manushya.constants)) {
      const m = header.match(new RegExp(`^#define MN_${name}\\s+\\(?(-?(?:0x)?[0-9a-f]+)`, 'm'));
      assert.ok(m, `MN_${name} is in the header`);
      assert.strictEqual(value, Number(m[1]), `MN_${name}`);
    }
  });
});

describe('errors', () => {
  test('every MN_E* code of the header has its Error subclass', () => {
    const header = fs.readFileSync(path.join(process.env.MN_TOP, 'include/manushya.h'), 'utf8');
    const codes = [...header.matchAll(/^\s+MN_E[A-Z]*\s*=\s*(\d+)/gm)].map((m) => Number(m[1]));
    assert.ok(codes.length >= 12);
    const classes = Object.values(manushya).filter((v) => typeof v === 'function' &&
      v.prototype instanceof manushya.ManushyaError);
    assert.deepStrictEqual(classes.map((c) => c.code).sort((a, b) => a - b), codes);
    for (const c of classes) {
      const e = new c(c.code, 'm');
      assert.ok(e instanceof Error && e.code === c.code && e.name === c.name);
    }
  });
});
