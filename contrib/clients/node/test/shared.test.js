// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// One client shared by concurrent calls: they take turns in call order,
// every ID is handed out once, and IDs increase from call to call.

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawn } = require('node:child_process');
const genid = require('..');

const FAKE = path.resolve(__dirname, '..', '..', '..', '..', 'tests', 'clients', 'fake_server.py');

test('concurrent calls on one client', async () => {
  const proc = spawn(process.env.PYTHON || 'python3', [FAKE, '--mode', 'normal'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  try {
    const port = await new Promise((resolve, reject) => {
      proc.stdout.once('data', (d) => resolve(String(d).trim()));
      proc.once('exit', (c) => reject(new Error(`fake_server.py exited with ${c}`)));
    });
    const c = new genid.Client([`127.0.0.1:${port}`], { prefetch: 50 });
    const calls = [];
    for (let i = 0; i < 10; i++) calls.push(c.bulk(300), c.next());
    const results = await Promise.all(calls);
    await c.close();
    const flat = results.flat();
    assert.strictEqual(flat.length, 10 * 301);
    assert.strictEqual(new Set(flat).size, flat.length);
    for (let i = 1; i < flat.length; i++) assert.ok(flat[i] > flat[i - 1], `ID ${i} is not above the one before`);
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
});
