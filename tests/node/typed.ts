// The TypeScript declarations (bindings/node/index.d.ts) against the package: test_node.sh
// compiles this file with tsc --strict (so every call below must type-check, and each line
// marked @ts-expect-error must not) and runs the result, which throws when a value at run
// time is not what the declarations say.
import manushya = require('manushya');

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`typed.ts: ${what}`);
}

const db: manushya.Database = manushya.open(':memory:', { embedDim: 64, poolSize: 1 });
try {
  const tenant: manushya.Tenant = db.tenants.create('typed');
  check(typeof tenant.createdAt === 'number', 'Tenant.createdAt is a number');
  const sys: manushya.Actor = db.actor('typed');
  const who: manushya.Identity = sys.identities.create('agent', { claims: { a: 1 } });
  check(who.active === true && who.claims.a === 1, 'Identity.active, claims');
  const bot = db.actor('typed', { identity: 'agent' });
  const m: manushya.Memory = bot.memories.add({ text: 'typed tea', metadata: { k: 'v' } });
  check(m.metadata.k === 'v' && m.embedding === null && m.embedStatus === 'done', 'Memory fields');
  const put: { outcome: manushya.Outcome; memory: manushya.Memory } =
    bot.memories.put('typed tea');
  check(put.outcome === 'unchanged', 'put outcome');
  const ids: string[] = bot.memories.addMany(['one', { text: 'two', importance: 0.2 }]);
  check(ids.length === 2 && typeof ids[0] === 'string', 'addMany ids');
  const page: manushya.Page = bot.memories.search('tea', { k: 1, mode: 'hybrid' });
  check(page.items[0].id === m.id && typeof page.items[0].similarity === 'number', 'search page');
  let n = 0;
  for (const item of bot.memories.listAll({ limit: 1 })) n += item.text.length > 0 ? 1 : 0;
  check(n === 3, 'listAll yields every memory');
  const updated: manushya.Memory = bot.memories.update(m.id, { importance: 0.9 });
  check(updated.version === 2, 'update version');
  const history: manushya.HistoryEntry[] = bot.memories.history(m.id);
  check(history[0].after.importance === 0.9, 'history after');
  const decision: manushya.Decision = bot.policies.test('read', 'memory', { type: 'fact' });
  check(typeof decision.allowed === 'boolean', 'Decision.allowed');
  const created = sys.apiKeys.create('agent', { scopes: ['memory:read'] });
  check(created.key.startsWith('mk_') && created.apiKey.scopes !== null, 'API key');
  const status: manushya.RateLimitStatus = bot.rateLimits.status('memory:create');
  check(status.allowed && status.remaining >= 0, 'rate limit status');
  try {
    bot.memories.get('not-an-id');
    check(false, 'get of a bad id throws');
  } catch (err) {
    check(err instanceof manushya.InvalidArgumentError && err.code === 2, 'InvalidArgumentError');
  }
  check(manushya.RateLimitedError.code === 6 && manushya.constants.RATELIMIT_OFF === 1,
    'constants');
} finally {
  db.close();
}

// Never called: what the declarations must refuse.
export function refused(actor: manushya.Actor): void {
  // @ts-expect-error: no such input field
  actor.memories.add({ text: 'x', tags: ['a'] });
  // @ts-expect-error: vectors are Float32Arrays
  actor.memories.search(null, { vector: [1, 2, 3] });
  // @ts-expect-error: no such mode
  actor.memories.search('x', { mode: 'fuzzy' });
  // @ts-expect-error: no such config key
  manushya.open('x.db', { embedDims: 8 });
}
