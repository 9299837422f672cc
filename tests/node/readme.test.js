'use strict';
// The Node.js examples of README.md and bindings/node/README.md run as written, in an empty
// directory, and print what they say: both hits, the one about tea first.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// The first ```js block after the line heading (a Markdown heading) in file.
function snippet(file, heading) {
  const text = fs.readFileSync(file, 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `${file} has a section "${heading}"`);
  const m = text.slice(at).match(/```js\n([\s\S]*?)```/);
  assert.ok(m, `${file}: a js block under "${heading}"`);
  return m[1];
}

const examples = [['README.md', '## Node.js'], ['bindings/node/README.md', '## Example']];
for (const [file, heading] of examples) {
  test(`${file}: the example runs as written`, () => {
    const code = snippet(path.join(process.env.MN_TOP, file), heading);
    assert.ok(code.trim().split('\n').length <= 12, 'about ten lines');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mn-node-readme-'));
    try {
      const r = spawnSync(process.execPath, ['-e', code], { cwd: dir, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0], /^0\.\d{3} The customer prefers green tea over coffee$/,
        'best hit first');
      assert.strictEqual(lines.length, 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
