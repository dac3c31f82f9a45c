// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// The 64-bit genid ID (genid(7)), as a BigInt: bit 63 first, timestamp 32
// bits (seconds since the epoch), zone 5, dc 3, machine 3, bucket 5,
// counter 16.  An ID does not fit a Number: it is never handed out as one.

const ID_MAX = 0xffffffffffffffffn;
const SIGNED64_MAX = 0x7fffffffffffffffn;

// [name, shift, largest value], bit 63 first.
const LAYOUT = [
  ['ts', 32n, 0xffffffff],
  ['zone', 27n, 31],
  ['dc', 24n, 7],
  ['machine', 21n, 7],
  ['bucket', 16n, 31],
  ['counter', 0n, 0xffff],
];

function toId(id) {
  const v = typeof id === 'bigint' ? id : typeof id === 'string' ? parseId(id) : null;
  if (v === null) throw new TypeError(`an ID is a BigInt or a string, not a ${typeof id}`);
  if (v < 0n || v > ID_MAX) throw new RangeError(`ID ${v} is not a 64-bit unsigned integer`);
  return v;
}

/** The fields of an ID: { ts, zone, dc, machine, bucket, counter } (Numbers). */
function decode(id) {
  const v = toId(id);
  const f = {};
  for (const [name, shift, top] of LAYOUT) f[name] = Number((v >> shift) & BigInt(top));
  return f;
}

/** Packs fields into an ID; a field missing is 0, one out of range throws a RangeError naming it. */
function encode(fields) {
  let id = 0n;
  for (const [name, shift, top] of LAYOUT) {
    const v = fields[name] === undefined ? 0 : fields[name];
    if (!Number.isInteger(v) || v < 0 || v > top) {
      throw new RangeError(`${name} ${v} is out of range 0..${top}`);
    }
    id |= BigInt(v) << shift;
  }
  return id;
}

/** The Unix time of an ID in seconds: its timestamp plus the epoch. */
function unixTime(id, epoch = 0) {
  return Number(toId(id) >> 32n) + epoch;
}

/** The time of an ID as a Date. */
function idTime(id, epoch = 0) {
  return new Date(unixTime(id, epoch) * 1000);
}

/** [smallest, largest] ID of the Unix seconds start..end, for WHERE id BETWEEN. */
function span(start, end, epoch = 0) {
  if (start > end) throw new RangeError('the span ends before it starts');
  return [encode({ ts: start - epoch }),
    encode({ ts: end - epoch, zone: 31, dc: 7, machine: 7, bucket: 31, counter: 0xffff })];
}

/** Parses a decimal or 0x-hex ID (blanks around it allowed) into a BigInt; throws a RangeError with the reason. */
function parseId(text) {
  const s = String(text).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  const hex = /^0[xX]/.test(s);
  const digits = hex ? s.slice(2) : s;
  const kind = hex ? 'hexadecimal' : 'decimal';
  const ok = hex ? /[0-9a-fA-F]/ : /[0-9]/;
  if (digits === '' || !ok.test(digits[0])) throw new RangeError(`${JSON.stringify(text)}: not a ${kind} number`);
  for (const ch of digits) {
    if (!ok.test(ch)) throw new RangeError(`${JSON.stringify(text)}: unexpected character '${ch}' in a ${kind} number`);
  }
  const v = BigInt(hex ? `0x${digits}` : digits);
  if (v > ID_MAX) throw new RangeError(`${JSON.stringify(text)}: larger than ${ID_MAX}`);
  return v;
}

module.exports = { ID_MAX, SIGNED64_MAX, decode, encode, unixTime, idTime, span, parseId };
