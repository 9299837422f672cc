'use strict';
// The structs ffi.js declares have the C compiler's layout: a C program generated from the
// declarations prints each struct's size and its fields' offsets from include/manushya.h, and
// they must equal what koffi computes. A struct may be smaller than C's in two cases only,
// both safe ("Structs that grow" in manushya.h): the header moved a caller-filled struct to a
// newer version than the one bound (its MN_*_VERSION grew), or a result the library fills
// grew at the end (the package reads the prefix it knows).
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { koffi, structs, fields, VERSIONS } = require('manushya/ffi');

const top = process.env.MN_TOP || path.resolve(__dirname, '../..');

function probeSource() {
  const lines = ['#include <manushya.h>', '#include <stddef.h>', '#include <stdio.h>',
    'int main(void)', '{'];
  for (const [name, members] of Object.entries(fields)) {
    const version = name in VERSIONS ? `${name.toUpperCase()}_VERSION` : '0';
    lines.push(`    printf("%s %u %zu\\n", "${name}", (unsigned)${version}, sizeof(${name}));`);
    for (const f of members) {
      lines.push(`    printf(" %s %zu\\n", "${f}", offsetof(${name}, ${f}));`);
    }
  }
  lines.push('    return 0;', '}');
  return lines.join('\n');
}

// { name: { version, size, offsets: { field: offset } } } from the probe's output.
function parseProbe(text) {
  const out = {};
  let cur;
  for (const line of text.split('\n').filter(Boolean)) {
    const parts = line.trim().split(' ');
    if (line.startsWith(' ')) cur.offsets[parts[0]] = Number(parts[1]);
    else out[parts[0]] = cur = { version: Number(parts[1]), size: Number(parts[2]), offsets: {} };
  }
  return out;
}

test('koffi lays out every declared struct as the C compiler does', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mn-node-layout-'));
  try {
    fs.writeFileSync(path.join(dir, 'probe.c'), probeSource());
    execFileSync(process.env.CC || 'cc', ['-std=c99', '-Wall', '-Werror', `-I${top}/include`,
      '-o', path.join(dir, 'probe'), path.join(dir, 'probe.c')]);
    const c = parseProbe(execFileSync(path.join(dir, 'probe'), { encoding: 'utf8' }));
    for (const [name, members] of Object.entries(fields)) {
      const type = structs[name];
      const js = Object.fromEntries(members.map((f) => [f, koffi.offsetof(type, f)]));
      assert.deepStrictEqual(js, c[name].offsets, `${name}: field offsets (koffi vs C)`);
      const size = koffi.sizeof(type);
      if (name in VERSIONS && VERSIONS[name] === c[name].version) {
        assert.strictEqual(size, c[name].size, `${name} v${VERSIONS[name]}: size`);
      } else {
        // Bound at an older version, or a result that grew: a prefix of C's struct.
        assert.ok(size <= c[name].size, `${name}: ${size} bytes in koffi, ${c[name].size} in C`);
        if (name in VERSIONS) {
          assert.ok(VERSIONS[name] < c[name].version, `${name}: bound at v${VERSIONS[name]}, ` +
            `the header has v${c[name].version}`);
        }
      }
    }
    assert.ok(Object.keys(fields).length >= 20, 'every struct the package uses is declared');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
