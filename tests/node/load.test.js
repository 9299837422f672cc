'use strict';
// Loading: MANUSHYA_LIBRARY names the library; one that cannot be loaded, or of another major
// version, stops require('manushya') with a message saying what to do.
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// require('manushya') in a new node with MANUSHYA_LIBRARY set to library.
function requireWith(library) {
  return spawnSync(process.execPath, ['-e', 'require("manushya")'],
    { env: { ...process.env, MANUSHYA_LIBRARY: library }, encoding: 'utf8' });
}

test('the library MANUSHYA_LIBRARY names is the one loaded', () => {
  const r = spawnSync(process.execPath, ['-e', 'const m = require("manushya"); ' +
    'console.log(m.version, m.versionNumber)'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  const header = fs.readFileSync(path.join(process.env.MN_TOP, 'include/manushya.h'), 'utf8');
  const version = header.match(/#define MN_VERSION "(.*)"/)[1];
  assert.match(r.stdout, new RegExp(`^${version.replace(/\./g, '\\.')} \\d+\\n$`));
});

test('a library that cannot be loaded is a clear error', () => {
  const r = requireWith('/nonexistent/libmanushya.so.1');
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr,
    /manushya: cannot load \/nonexistent\/libmanushya\.so\.1 .*set MANUSHYA_LIBRARY/);
});

test('a library of another major version is refused before anything is bound', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mn-node-load-'));
  try {
    fs.writeFileSync(path.join(dir, 'v2.c'), 'int mn_version_number(void) { return 20000; }\n' +
      'const char *mn_version(void) { return "2.0.0"; }\n');
    execFileSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-o', path.join(dir, 'libv2.so'),
      path.join(dir, 'v2.c')]);
    const r = requireWith(path.join(dir, 'libv2.so'));
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr,
      /the library loaded is libmanushya 2\.0\.0, this package needs 1\.x from 1\.3 on/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
