// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// Decode, encode, parse and addresses: the tables of tests/clients/cases.json.

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const genid = require('..');

const DOC = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..',
  'tests', 'clients', 'cases.json'), 'utf8'));

test('decode table', () => {
  for (const e of DOC.decode) {
    const id = BigInt(e.id);
    assert.strictEqual(id, BigInt(e.hex), e.id);
    const f = genid.decode(id);
    assert.deepStrictEqual(f, e.fields, e.id);
    assert.deepStrictEqual(genid.decode(e.id), e.fields, `${e.id} as a string`);
    assert.strictEqual(genid.encode(f), id, e.id);
    assert.strictEqual(genid.unixTime(id, e.epoch), e.unix, e.id);
    assert.strictEqual(genid.idTime(id, e.epoch).getTime(), e.unix * 1000, e.id);
    assert.strictEqual(id <= genid.SIGNED64_MAX, e.signed64, e.id);
  }
});

test('encode refuses fields out of range', () => {
  for (const e of DOC.encode_errors) {
    assert.throws(() => genid.encode(e.fields), (err) => err instanceof RangeError
      && err.message === e.message, JSON.stringify(e.fields));
  }
});

test('IDs are BigInts, never Numbers', () => {
  assert.throws(() => genid.decode(1), TypeError);
  assert.throws(() => genid.decode(-1n), RangeError);
  assert.throws(() => genid.decode(1n << 64n), RangeError);
});

test('parse', () => {
  for (const [text, want] of DOC.parse.ok) assert.strictEqual(genid.parseId(text), BigInt(want), text);
  for (const text of DOC.parse.bad) assert.throws(() => genid.parseId(text), RangeError, text);
});

test('addresses', () => {
  for (const [text, host, port] of DOC.addresses.ok) {
    assert.deepStrictEqual(genid.parseAddress(text), { host, port }, text);
  }
  for (const text of DOC.addresses.bad) {
    assert.throws(() => genid.parseAddress(text), RangeError, text);
    assert.throws(() => new genid.Client([text]), RangeError, text);
  }
});

test('span', () => {
  const [lo, hi] = genid.span(1795000000, 1795000000);
  assert.strictEqual(genid.decode(lo).ts, 1795000000);
  assert.strictEqual(hi - lo, 0xffffffffn);
  assert.strictEqual(genid.decode(genid.span(1795000000, 1795000001, 1700000000)[0]).ts, 95000000);
  assert.throws(() => genid.span(2, 1), RangeError);
});

test('options', async () => {
  for (const o of [{ prefetch: -1 }, { prefetch: genid.PREFETCH_MAX + 1 }, { ioTimeoutMs: 0 },
    { connectTimeoutMs: -1 }, { prefetch: 1.5 }]) {
    assert.throws(() => new genid.Client(['127.0.0.1'], o), RangeError, JSON.stringify(o));
  }
  assert.throws(() => new genid.Client([]), RangeError);
  await assert.rejects(new genid.Client(['127.0.0.1']).bulk(-1), RangeError);
});
