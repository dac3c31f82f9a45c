// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// The conformance cases of tests/clients/cases.json against the Node.js
// client: the fake-server cases always, the genid ones when $GENID names
// the built binary.  Servers are tests/clients/fake_server.py and
// tests/clients/run_genid.py (see tests/clients/README.md).

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const genid = require('..');

const SUITE = path.resolve(__dirname, '..', '..', '..', '..', 'tests', 'clients');
const DOC = JSON.parse(fs.readFileSync(path.join(SUITE, 'cases.json'), 'utf8'));
const GENID = process.env.GENID || '';
const PYTHON = process.env.PYTHON || 'python3';
const START_MS = 20000;

const CASE_KEYS = new Set(['name', 'about', 'servers', 'client', 'steps', 'expect']);
const STEP_KEYS = new Set(['do', 'times', 'n', 'info', 'server', 'ms', 'fails', 'ids',
  'error_names', 'within_ms', 'at_least_ms']);
const EXPECT_KEYS = new Set(['count', 'unique', 'increasing', 'equals', 'machines', 'fields',
  'near_now_s']);

// Lines of a child's stdout, one Promise each, with a deadline.
class Lines {
  constructor(proc, what) {
    this.what = what;
    this.lines = [];
    this.waiters = [];
    this.ended = false;
    let rest = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      rest += d;
      let i;
      while ((i = rest.indexOf('\n')) >= 0) {
        this.push(rest.slice(0, i).trim());
        rest = rest.slice(i + 1);
      }
    });
    proc.on('exit', (code) => {
      this.ended = true;
      this.code = code;
      for (const w of this.waiters.splice(0)) w.reject(this.endError());
    });
  }

  endError() {
    const e = new Error(`${this.what} exited with ${this.code} before answering`);
    e.skip = this.code === 77;
    return e;
  }

  push(line) {
    const w = this.waiters.shift();
    if (w) w.resolve(line);
    else this.lines.push(line);
  }

  next() {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.ended) return Promise.reject(this.endError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.what}: no answer within ${START_MS} ms`)), START_MS);
      this.waiters.push({
        resolve: (l) => { clearTimeout(timer); resolve(l); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }
}

class Server {
  static async start(spec) {
    const s = new Server();
    s.isGenid = 'genid' in spec;
    const args = s.isGenid
      ? [path.join(SUITE, 'run_genid.py'), '--genid', GENID, ...spec.genid]
      : [path.join(SUITE, 'fake_server.py'), ...spec.fake];
    s.what = args.map((a) => path.basename(a)).join(' ');
    s.proc = spawn(PYTHON, args, { stdio: [s.isGenid ? 'pipe' : 'ignore', 'pipe', 'inherit'] });
    s.exited = new Promise((resolve) => s.proc.on('exit', resolve));
    s.lines = new Lines(s.proc, s.what);
    const line = await s.lines.next();
    if (!/^\d+$/.test(line)) throw new Error(`${s.what}: ${line}`);
    s.port = Number(line);
    s.address = `127.0.0.1:${s.port}`;
    s.first = spec.first !== undefined ? BigInt(spec.first) : null;
    return s;
  }

  async command(cmd) {
    if (!this.isGenid) {
      if (cmd !== 'kill') throw new Error('a fake server can only be killed');
      this.proc.kill('SIGKILL');
      await this.exited;
      return;
    }
    this.proc.stdin.write(`${cmd}\n`);
    const answer = await this.lines.next();
    if (answer.startsWith('error')) throw new Error(`${this.what} ${cmd}: ${answer}`);
  }

  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      if (this.isGenid) this.proc.stdin.end();
      else this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

function fieldsOf(id) {
  return genid.decode(id);
}

function clientOptions(o = {}) {
  const out = {};
  if (o.connect_timeout_ms !== undefined) out.connectTimeoutMs = o.connect_timeout_ms;
  if (o.io_timeout_ms !== undefined) out.ioTimeoutMs = o.io_timeout_ms;
  if (o.prefetch !== undefined) out.prefetch = o.prefetch;
  if (o.epoch !== undefined) out.epoch = o.epoch;
  return out;
}

async function runStep(client, servers, step, ids, where, problems) {
  for (const k of Object.keys(step)) if (!STEP_KEYS.has(k)) problems.push(`${where}: unknown key ${k}: update the runner`);
  const { do: what } = step;
  if (['kill', 'start', 'restart', 'stop'].includes(what)) {
    await servers[step.server].command(what);
    return;
  }
  if (what === 'sleep') {
    // Time itself is under test here (the prefetch age).
    await new Promise((r) => setTimeout(r, step.ms));
    return;
  }
  let got = [];
  let error = null;
  const t0 = performance.now();
  try {
    if (what === 'next') {
      for (let i = 0; i < (step.times ?? 1); i++) got.push(await client.next());
    } else if (what === 'bulk') {
      got = await client.bulk(step.n);
    } else if (what === 'info') {
      const info = await client.info();
      for (const [k, v] of Object.entries(step.info || {})) {
        if (info[k] !== v) problems.push(`${where}: INFO ${k} is ${info[k]}, want ${v}`);
      }
    } else {
      problems.push(`${where}: unknown step: update the runner`);
      return;
    }
  } catch (e) {
    if (!(e instanceof genid.GenidError)) throw e;
    error = e;
    got = got.concat(e.ids);
  }
  const took = performance.now() - t0;
  for (const id of got) if (typeof id !== 'bigint') problems.push(`${where}: ${id} is a ${typeof id}, not a BigInt`);
  ids.push(...got);
  if (step.fails !== undefined) {
    if (error === null) problems.push(`${where}: succeeded, want a failure (${step.fails})`);
    else {
      if (step.fails !== 'any' && error.kind !== step.fails) problems.push(`${where}: failed as ${error.kind}, want ${step.fails}: ${error.message}`);
      if (step.ids !== undefined && error.ids.length !== step.ids) problems.push(`${where}: the failure handed out ${error.ids.length} IDs, want ${step.ids}`);
      for (const i of step.error_names || []) {
        if (!error.message.includes(servers[i].address)) problems.push(`${where}: the error does not name ${servers[i].address}: ${error.message}`);
      }
    }
  } else if (error !== null) {
    problems.push(`${where}: failed (${error.kind}): ${error.message}`);
  }
  if (what === 'bulk' && error === null && got.length !== step.n) problems.push(`${where}: bulk(${step.n}) gave ${got.length} IDs`);
  if (step.within_ms !== undefined && took > step.within_ms) problems.push(`${where}: took ${took.toFixed(0)} ms, want at most ${step.within_ms}`);
  if (step.at_least_ms !== undefined && took < step.at_least_ms) problems.push(`${where}: took ${took.toFixed(0)} ms, want at least ${step.at_least_ms}`);
}

function checkExpect(expect, ids, servers, epoch, problems) {
  for (const k of Object.keys(expect)) if (!EXPECT_KEYS.has(k)) problems.push(`expect: unknown key ${k}: update the runner`);
  if (expect.count !== undefined && ids.length !== expect.count) problems.push(`${ids.length} IDs, want ${expect.count}`);
  if (expect.unique && new Set(ids).size !== ids.length) problems.push(`${ids.length - new Set(ids).size} IDs repeat`);
  if (expect.increasing) {
    for (let j = 1; j < ids.length; j++) {
      if (ids[j] <= ids[j - 1]) {
        problems.push(`ID ${j} (${ids[j]}) is not above the one before (${ids[j - 1]})`);
        break;
      }
    }
  }
  if (expect.equals) {
    const want = [];
    for (const part of expect.equals) {
      const { first } = servers[part.server];
      for (let k = part.k[0]; k < part.k[1]; k++) want.push(first + BigInt(k));
    }
    if (want.length !== ids.length || want.some((w, i) => w !== ids[i])) {
      problems.push(`IDs [${ids.slice(0, 8).join(', ')}...] (${ids.length}), want [${want.slice(0, 8).join(', ')}...] (${want.length})`);
    }
  }
  if (expect.machines) {
    const runs = [];
    for (const id of ids) {
      const m = fieldsOf(id).machine;
      if (runs.length > 0 && runs[runs.length - 1][0] === m) runs[runs.length - 1][1] += 1;
      else runs.push([m, 1]);
    }
    if (JSON.stringify(runs) !== JSON.stringify(expect.machines)) problems.push(`runs of [machine, count] ${JSON.stringify(runs)}, want ${JSON.stringify(expect.machines)}`);
  }
  for (const [k, v] of Object.entries(expect.fields || {})) {
    const off = ids.filter((id) => fieldsOf(id)[k] !== v);
    if (off.length > 0) problems.push(`${off.length} IDs have ${k} != ${v}, first ${off[0]}`);
  }
  if (expect.near_now_s !== undefined) {
    const now = Date.now() / 1000;
    const far = ids.filter((id) => Math.abs(genid.unixTime(id, epoch) - now) > expect.near_now_s);
    if (far.length > 0) problems.push(`${far.length} IDs are more than ${expect.near_now_s} s from now, first ${far[0]}`);
  }
}

for (const c of DOC.cases) {
  const needsGenid = c.servers.some((s) => 'genid' in s);
  test(c.name, { skip: needsGenid && !GENID ? 'needs genid (set GENID)' : false }, async () => {
    const problems = [];
    for (const k of Object.keys(c)) if (!CASE_KEYS.has(k)) problems.push(`unknown case key ${k}: update the runner`);
    const servers = [];
    let client = null;
    try {
      for (const spec of c.servers) servers.push(await Server.start(spec));
      client = new genid.Client(servers.map((s) => s.address), clientOptions(c.client));
      const ids = [];
      for (const [i, step] of c.steps.entries()) {
        await runStep(client, servers, step, ids, `step ${i} (${step.do})`, problems);
      }
      checkExpect(c.expect, ids, servers, (c.client || {}).epoch ?? 0, problems);
    } finally {
      if (client !== null) await client.close();
      await Promise.all(servers.map((s) => s.stop()));
    }
    assert.deepStrictEqual(problems, [], c.about);
  });
}

test('defaults', () => {
  const d = DOC.defaults;
  assert.strictEqual(genid.DEFAULT_PORT, d.port);
  assert.strictEqual(genid.DEFAULT_CONNECT_TIMEOUT_MS, d.connect_timeout_ms);
  assert.strictEqual(genid.DEFAULT_IO_TIMEOUT_MS, d.io_timeout_ms);
  assert.strictEqual(genid.PREFETCH_MAX_AGE_MS, d.prefetch_max_age_ms);
  assert.strictEqual(genid.PREFETCH_MAX, d.prefetch_max);
});
