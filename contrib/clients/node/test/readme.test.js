// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// The example of README.md runs against a real genid ($GENID).

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const { spawn, execFileSync } = require('node:child_process');

const GENID = process.env.GENID || '';
const PYTHON = process.env.PYTHON || 'python3';
const RUN_GENID = path.resolve(__dirname, '..', '..', '..', '..', 'tests', 'clients', 'run_genid.py');

test('README example', { skip: GENID ? false : 'needs genid (set GENID)', timeout: 60000 }, async () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const code = readme.match(/```js\n([\s\S]*?)```/)[1];
  assert.ok(code.trim().split('\n').length <= 10, 'the example has at most ten lines');
  const proc = spawn(PYTHON, [RUN_GENID, '--genid', GENID], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  try {
    const port = await new Promise((resolve, reject) => {
      proc.stdout.once('data', (d) => resolve(String(d).trim()));
      proc.once('exit', (c) => reject(new Error(`run_genid.py exited with ${c}`)));
    });
    assert.match(port, /^\d+$/);
    // The example talks to 127.0.0.1:3778; here genid has a port of its own.
    const src = code.replace(/require\('genid64'\)/, `require(${JSON.stringify(path.join(__dirname, '..'))})`)
      .replace('127.0.0.1:3778', `127.0.0.1:${port}`);
    const out = execFileSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 30000 });
    assert.match(out, new RegExp(`^\\d+n? from 127\\.0\\.0\\.1:${port} zone 3 machine 5 at 20\\d\\d-`));
  } finally {
    proc.stdin.end();
    await exited;
  }
});
