'use strict';
// bench/search.js: the overhead of one memories.search() call of this package against the same
// mn_memory_search() call made from C, in the same run: a fresh SQLite database in a temp dir
// with N generated memories, the same query, k and actor (the tenant's system actor, whom no
// rate limit applies to), the same library (MANUSHYA_LIBRARY, else libmanushya.so.1; the C
// side, bindings/bench/search_call.c, is compiled against it with $CC, default cc). Prints
// the parameters and the p50/p99 latency of both; asserts nothing.
//   node bench/search.js [--memories N] [--calls N] [--k K] [--query TEXT]
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const manushya = require('..');

function args() {
  const a = { memories: 10000, calls: 2000, k: 10, query: `${word(7)} ${word(300)} ${word(41)}` };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a) || argv[i + 1] === undefined) {
      throw new Error(`search.js: unknown option ${argv[i]}: use --memories N, --calls N, ` +
        '--k K, --query TEXT');
    }
    a[key] = key === 'query' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return a;
}

// A vocabulary of 512 made-up words of three syllables; memory i holds six of them, drawn by
// a fixed generator, and its number. The default query's words are each in about 1% of them.
const SYLLABLES = 'ka to mi re nu sa lo vi de ru pa go fe ti bo za'.split(' ');
const word = (w) => SYLLABLES[w % 16] + SYLLABLES[(w >> 4) % 16] + SYLLABLES[(w >> 8) % 2 + 2];
function textOf(i) {
  let x = (i + 1) * 2654435761 % 4294967296;
  const words = [];
  for (let j = 0; j < 6; j++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    words.push(word(x % 512));
  }
  return `${words.join(' ')} note ${i}`;
}

function populate(url, n) {
  // The agent owns the memories; its memory:create limit (1000/h) is no part of the figures.
  const db = manushya.open(url, { ratelimit: manushya.constants.RATELIMIT_OFF });
  try {
    db.tenants.create('bench');
    db.actor('bench').identities.create('bench-agent');
    const agent = db.actor('bench', { identity: 'bench-agent' });
    for (let i = 0; i < n; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => textOf(i + j));
      agent.memories.addMany(batch);
    }
  } finally {
    db.close();
  }
}

function buildC(dir) {
  const lib = process.env.MANUSHYA_LIBRARY;
  const exe = path.join(dir, 'search_call');
  const link = lib ? [lib, `-Wl,-rpath,${path.dirname(path.resolve(lib))}`] : ['-lmanushya'];
  execFileSync(process.env.CC || 'cc', ['-std=c11', '-O2', '-Wall', '-Werror',
    `-I${path.resolve(__dirname, '../../../include')}`, '-o', exe,
    path.resolve(__dirname, '../../bench/search_call.c'), ...link], { stdio: 'inherit' });
  return exe;
}

// p50 and p99 of ns (nanoseconds, sorted in place).
function percentiles(ns) {
  ns.sort((x, y) => x - y);
  return [ns[Math.floor((ns.length - 1) / 2)], ns[Math.floor((ns.length * 99 - 1) / 100)]];
}

function timeNode(url, a) {
  const db = manushya.open(url);
  try {
    const sys = db.actor('bench');
    for (let i = 0; i < a.calls / 10 + 1; i++) sys.memories.search(a.query, { k: a.k });
    const ns = [];
    for (let i = 0; i < a.calls; i++) {
      const t0 = process.hrtime.bigint();
      sys.memories.search(a.query, { k: a.k });
      ns.push(Number(process.hrtime.bigint() - t0));
    }
    return percentiles(ns);
  } finally {
    db.close();
  }
}

function main() {
  const a = args();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mn-node-bench-'));
  try {
    const url = path.join(dir, 'bench.db');
    populate(url, a.memories);
    const exe = buildC(dir);
    const c = percentiles(execFileSync(exe, [url, 'bench', '-', String(a.k), String(a.calls),
      a.query], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim().split('\n').map((us) => Number(us) * 1000));
    const node = timeNode(url, a);
    const us = (ns) => (ns / 1000).toFixed(1).padStart(8);
    console.log(`libmanushya ${manushya.version}, node ${process.version}, SQLite file, ` +
      `${a.memories} memories, ${a.calls} calls after ${Math.floor(a.calls / 10) + 1} warm-up, ` +
      `k ${a.k}, query "${a.query}", system actor`);
    console.log('                              p50 (us)  p99 (us)');
    console.log(`C     mn_memory_search        ${us(c[0])}  ${us(c[1])}`);
    console.log(`node  memories.search         ${us(node[0])}  ${us(node[1])}`);
    console.log(`node overhead                 ${us(node[0] - c[0])}  ${us(node[1] - c[1])}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
