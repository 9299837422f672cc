// The official MCP TypeScript SDK's client driving `manushya mcp` (run by test_mcp.sh, which
// prepares the database). Prints "ok N - what" / "not ok N - what" per case; exits 1 when one
// failed. Environment: MN_MCP_BIN (the manushya binary), MN_MCP_DB (the database: tenant acme;
// identities alice and bot (a guest the policy MN_MCP_POLICY keeps from creating memories);
// MN_MCP_KEY, an API key of alice's), MN_MCP_MODULES (the node_modules holding
// @modelcontextprotocol/sdk), MN_MCP_SLOW and MN_MCP_CONTROL (below; the case is skipped
// without them).
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const sdk = (file) =>
  import(pathToFileURL(path.join(env.MN_MCP_MODULES, '@modelcontextprotocol/sdk/dist/esm', file)).href);
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');

let n = 0, failed = 0;
async function test(what, fn) {
  n++;
  try {
    await fn();
    console.log(`ok ${n} - ${what}`);
  } catch (e) {
    failed++;
    console.log(`not ok ${n} - ${what}`);
    for (const line of String(e && e.stack || e).split('\n').slice(0, 8)) console.log(`#   ${line}`);
  }
}

// A connected client of a server started with these global options; its protocol errors (a
// response to an unknown request, say) collect in client.errors.
async function connect(...globals) {
  const transport = new StdioClientTransport({
    command: env.MN_MCP_BIN,
    args: ['--db', env.MN_MCP_DB, ...globals, 'mcp'],
    env: { PATH: env.PATH, HOME: env.HOME },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'manushya-tests', version: '1.0.0' });
  client.errors = [];
  client.onerror = (e) => client.errors.push(e);
  await client.connect(transport);
  return client;
}

const text = (r) => r.content.map((c) => c.text).join('');

const alice = await connect('--tenant', 'acme', '--as', 'alice');

await test('initialize: serverInfo names manushya, capabilities offer tools', async () => {
  const info = alice.getServerVersion();
  assert.equal(info.name, 'manushya');
  assert.match(info.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(alice.getServerCapabilities().tools, { listChanged: false });
  assert.match(alice.getInstructions(), /remember/);
});

let tools;
await test('tools/list: remember, recall, list, update, forget', async () => {
  tools = Object.fromEntries((await alice.listTools()).tools.map((t) => [t.name, t]));
  assert.deepEqual(Object.keys(tools), ['remember', 'recall', 'list', 'update', 'forget']);
});

await test('input schemas: exact, strict objects', async () => {
  const remember = tools.remember.inputSchema;
  assert.equal(remember.type, 'object');
  assert.equal(remember.additionalProperties, false);
  assert.deepEqual(remember.required, ['text']);
  assert.deepEqual(Object.keys(remember.properties), ['text', 'type', 'metadata', 'importance', 'external_key']);
  assert.deepEqual(remember.properties.importance, {
    type: 'number', minimum: 0, maximum: 1,
    description: remember.properties.importance.description,
  });
  const recall = tools.recall.inputSchema;
  assert.deepEqual(recall.required, ['query']);
  assert.deepEqual(Object.keys(recall.properties), ['query', 'k', 'mode', 'filters', 'cursor']);
  assert.deepEqual(recall.properties.mode.enum, ['hybrid', 'vector', 'keyword']);
  assert.deepEqual(Object.keys(recall.properties.filters.properties), ['type', 'metadata', 'identity']);
  assert.equal(recall.properties.filters.additionalProperties, false);
  assert.deepEqual(Object.keys(tools.list.inputSchema.properties), ['filters', 'limit', 'cursor']);
  assert.deepEqual(tools.update.inputSchema.required, ['id']);
  assert.deepEqual(Object.keys(tools.update.inputSchema.properties), ['id', 'text', 'type', 'metadata', 'importance']);
  assert.deepEqual(Object.keys(tools.forget.inputSchema.properties), ['id', 'hard']);
  for (const t of Object.values(tools)) {
    assert.equal(t.inputSchema.additionalProperties, false, t.name);
    assert.equal(t.outputSchema.type, 'object', t.name);
  }
});

await test('annotations: recall and list read only, update and forget destructive', async () => {
  assert.equal(tools.recall.annotations.readOnlyHint, true);
  assert.equal(tools.list.annotations.readOnlyHint, true);
  assert.equal(tools.remember.annotations.readOnlyHint, false);
  assert.equal(tools.remember.annotations.destructiveHint, false);
  assert.equal(tools.update.annotations.destructiveHint, true);
  assert.equal(tools.forget.annotations.destructiveHint, true);
});

let tea;
await test('remember: the memory, created, as structured content and as text', async () => {
  const r = await alice.callTool({
    name: 'remember',
    arguments: { text: 'Alice drinks green tea every morning', type: 'preference',
                 metadata: { topic: 'drinks' }, importance: 0.8 },
  });
  assert.ok(!r.isError, text(r));
  assert.equal(r.structuredContent.outcome, 'created');
  tea = r.structuredContent.memory;
  assert.equal(tea.text, 'Alice drinks green tea every morning');
  assert.equal(tea.type, 'preference');
  assert.deepEqual(tea.metadata, { topic: 'drinks' });
  assert.equal(tea.importance, 0.8);
  assert.deepEqual(JSON.parse(text(r)), r.structuredContent);
});

await test('remember the same text again: unchanged, not stored twice', async () => {
  const r = await alice.callTool({ name: 'remember', arguments: { text: 'Alice drinks green tea every morning', type: 'preference' } });
  assert.equal(r.structuredContent.outcome, 'unchanged');
  assert.equal(r.structuredContent.memory.id, tea.id);
});

await test('recall finds it, first', async () => {
  await alice.callTool({ name: 'remember', arguments: { text: 'The office is on the third floor' } });
  const r = await alice.callTool({ name: 'recall', arguments: { query: 'green tea', k: 5 } });
  assert.ok(!r.isError, text(r));
  assert.equal(r.structuredContent.hits[0].id, tea.id);
  assert.equal(r.structuredContent.next_cursor, null);
});

await test('recall with filters: type and metadata', async () => {
  let r = await alice.callTool({ name: 'recall', arguments: { query: 'tea', mode: 'keyword', filters: { type: 'fact' } } });
  assert.deepEqual(r.structuredContent.hits, []);
  r = await alice.callTool({ name: 'recall', arguments: { query: 'tea', filters: { metadata: { topic: 'drinks' }, identity: 'alice' } } });
  assert.deepEqual(r.structuredContent.hits.map((h) => h.id), [tea.id]);
});

await test('list: pages with the cursor', async () => {
  const first = await alice.callTool({ name: 'list', arguments: { limit: 1 } });
  assert.equal(first.structuredContent.memories.length, 1);
  assert.equal(typeof first.structuredContent.next_cursor, 'string');
  const second = await alice.callTool({ name: 'list', arguments: { limit: 1, cursor: first.structuredContent.next_cursor } });
  assert.equal(second.structuredContent.memories.length, 1);
  assert.notEqual(second.structuredContent.memories[0].id, first.structuredContent.memories[0].id);
});

await test('update: changes what is given, a new version', async () => {
  const r = await alice.callTool({ name: 'update', arguments: { id: tea.id, text: 'Alice drinks oolong tea', importance: 0.9 } });
  assert.ok(!r.isError, text(r));
  assert.equal(r.structuredContent.memory.text, 'Alice drinks oolong tea');
  assert.equal(r.structuredContent.memory.version, 2);
  assert.equal(r.structuredContent.memory.type, 'preference');
});

await test('update with nothing to change: a tool error saying what to give', async () => {
  const r = await alice.callTool({ name: 'update', arguments: { id: tea.id } });
  assert.equal(r.isError, true);
  assert.match(text(r), /nothing to change: give text, type, metadata or importance/);
});

await test('forget: soft, then recall no longer finds it; again: not found', async () => {
  let r = await alice.callTool({ name: 'forget', arguments: { id: tea.id } });
  assert.deepEqual(r.structuredContent, { id: tea.id, hard: false });
  r = await alice.callTool({ name: 'recall', arguments: { query: 'oolong tea' } });
  assert.ok(!r.structuredContent.hits.some((h) => h.id === tea.id));
  r = await alice.callTool({ name: 'forget', arguments: { id: tea.id, hard: true } });
  assert.ok(!r.isError, text(r)); // a soft-deleted memory can still be removed for good
  r = await alice.callTool({ name: 'forget', arguments: { id: tea.id } });
  assert.equal(r.isError, true);
  assert.match(text(r), /^forget: /);
});

await test('a bad argument: a tool error naming the field (wrong type)', async () => {
  const r = await alice.callTool({ name: 'recall', arguments: { query: 'tea', k: 'ten' } });
  assert.equal(r.isError, true);
  assert.equal(text(r), "recall: 'k': expected an integer, got a string");
});

await test('a bad argument: unknown field, nested unknown field, missing, out of range, enum', async () => {
  const cases = [
    ['remember', { text: 'x', colour: 'red' }, /unknown argument 'colour': the tool takes text, type, metadata, importance, external_key/],
    ['list', { filters: { typo: 1 } }, /unknown argument 'filters.typo': filters takes type, metadata, identity/],
    ['remember', {}, /'text' is required/],
    ['remember', { text: 'x', importance: 2 }, /'importance': expected 0 to 1, got 2/],
    ['recall', { query: 'x', k: 1.5 }, /'k': expected an integer, got a number/],
    ['recall', { query: 'x', mode: 'fast' }, /'mode': expected one of hybrid, vector, keyword, got fast/],
    ['remember', { text: '' }, /'text': must not be empty/],
    ['remember', { text: 'x', metadata: [1] }, /'metadata': expected an object, got an array/],
  ];
  for (const [name, args, want] of cases) {
    const r = await alice.callTool({ name, arguments: args });
    assert.equal(r.isError, true, JSON.stringify(args));
    assert.match(text(r), want);
  }
});

await test('a library error: the library message (bad metadata filter cursor)', async () => {
  const r = await alice.callTool({ name: 'list', arguments: { cursor: 'not-a-cursor' } });
  assert.equal(r.isError, true);
  assert.match(text(r), /^list: .*cursor/);
});

await test('an unknown tool: JSON-RPC -32602', async () => {
  await assert.rejects(alice.callTool({ name: 'nope', arguments: {} }), (e) => e.code === -32602 && /nope/.test(e.message));
});

await test('ping', async () => {
  assert.deepEqual(await alice.ping(), {});
});

// Cancelled while it runs: a remember whose text a slow embedding server takes 1.5 s over
// (MN_MCP_SLOW: the global options of a database that embeds there, MN_MCP_CONTROL the URL
// that makes the server slow). The server drops the answer: the SDK reports any answer to a
// request it no longer waits for as an error, and none comes.
if (env.MN_MCP_SLOW) await test('cancellation: the call rejects, its answer never comes, the server goes on', async () => {
  const slow = await connect(...env.MN_MCP_SLOW.split(' '));
  try {
    await fetch(env.MN_MCP_CONTROL, { method: 'POST', body: JSON.stringify({ mode: 'slow', times: 1, delay: 1.5 }) });
    const ac = new AbortController();
    const call = slow.callTool({ name: 'remember', arguments: { text: 'cancelled while embedded' } }, undefined, { signal: ac.signal });
    setTimeout(() => ac.abort('the test gave up'), 300);
    await assert.rejects(call);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(await slow.ping(), {}); // answered after the cancelled call ended
    assert.deepEqual(slow.errors.map(String), []);
  } finally {
    await slow.close();
  }
});

await test('acting by an API key: the key\'s identity owns what it remembers', async () => {
  const keyed = await connect('--api-key', env.MN_MCP_KEY);
  try {
    const r = await keyed.callTool({ name: 'remember', arguments: { text: 'Remembered through a key' } });
    assert.ok(!r.isError, text(r));
    const list = await alice.callTool({ name: 'list', arguments: { filters: { identity: 'alice' } } });
    assert.ok(list.structuredContent.memories.some((m) => m.id === r.structuredContent.memory.id));
  } finally {
    await keyed.close();
  }
});

await test('a denied call: a tool error naming the policy', async () => {
  const bot = await connect('--tenant', 'acme', '--as', 'bot');
  try {
    const r = await bot.callTool({ name: 'remember', arguments: { text: 'a guest writes' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /^remember: .*denied by policy/);
    assert.ok(text(r).includes(env.MN_MCP_POLICY), text(r));
    const found = await alice.callTool({ name: 'recall', arguments: { query: 'a guest writes', mode: 'keyword' } });
    assert.ok(!found.structuredContent.hits.some((h) => h.text === 'a guest writes'));
  } finally {
    await bot.close();
  }
});

await test('no protocol errors seen by the client', async () => {
  assert.deepEqual(alice.errors.map(String), []);
});
await alice.close();

console.log(`# ${n} cases, ${failed} failed`);
process.exit(failed ? 1 : 0);
