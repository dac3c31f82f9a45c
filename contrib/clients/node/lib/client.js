// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// The genid client: the wire protocol of genid(7) over one connection at a
// time, with failover along a list of addresses (contrib/clients/CONTRACT.md).

const net = require('node:net');
const { parseAddress, formatAddress } = require('./address');
const { unixTime } = require('./id');

const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
const DEFAULT_IO_TIMEOUT_MS = 1000;
const PREFETCH_MAX = 65536;
const PREFETCH_MAX_AGE_MS = 1000;
const CHUNK = 255; // the most IDs one CMD 1 frame asks for
const WINDOW = 32; // CMD 1 frames written before their replies are read
// A CMD 0 waits in the server up to a second when its bucket is used up:
// its reply may take this much longer than the I/O timeout.
const WAIT_MS = 1000;

/** Why one attempt at one address failed. */
class Failure {
  constructor(address, kind, message) {
    this.address = address;
    this.kind = kind;
    this.message = message;
  }

  toString() {
    return this.message;
  }
}

/**
 * No server answered.  failures lists every attempt of the call, kind is
 * the kind of the last one (refused, timeout, closed, protocol,
 * unavailable, resolve, io), and ids holds the IDs a bulk call got before
 * the last server failed: valid, unique, never handed out again.
 */
class GenidError extends Error {
  constructor(failures, ids = []) {
    let text = failures.map(String).join('; ');
    if (failures.length > 1) text = `no genid server answered: ${text}`;
    if (ids.length > 0) text += ` (after ${ids.length} IDs)`;
    super(text);
    this.name = 'GenidError';
    this.failures = failures;
    this.kind = failures.length > 0 ? failures[failures.length - 1].kind : 'io';
    this.ids = ids;
  }
}

// A failure of one connection, with its kind; turned into a Failure.
class ConnError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

const KINDS = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timeout',
  ECONNRESET: 'closed',
  EPIPE: 'closed',
  ECONNABORTED: 'closed',
  ENOTFOUND: 'resolve',
  EAI_AGAIN: 'resolve',
};

const TEXTS = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ENOTFOUND: 'host not found',
};

function connError(what, name, err) {
  if (err instanceof ConnError) return new ConnError(err.kind, `${what} ${name}: ${err.message}`);
  const text = TEXTS[err.code] || err.message;
  return new ConnError(KINDS[err.code] || 'io', `${what} ${name}: ${text}`);
}

/** One connection: its socket, the bytes not read yet, the last ID read on it. */
class Connection {
  constructor(socket, name) {
    this.socket = socket;
    this.name = name;
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    this.last = -1n;
    this.answered = false;
    // Its INFO said "serving" (or named no state): IDs may be asked.
    this.vetted = false;
    this.error = null;
    this.waiter = null;
    this.phase = 'read';
    socket.on('data', (data) => {
      this.answered = true;
      this.buf = this.pos === this.buf.length ? data : Buffer.concat([this.buf.subarray(this.pos), data]);
      this.pos = 0;
      this.wake();
    });
    socket.on('end', () => this.fail(new ConnError('closed', `connection closed by the server${this.answered ? '' : ' (allow list or connection limit?)'}`)));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new ConnError('closed', 'connection closed')));
  }

  avail() {
    return this.buf.length - this.pos;
  }

  fail(err) {
    if (this.error === null) this.error = err;
    this.wake();
  }

  wake() {
    const w = this.waiter;
    if (w === null) return;
    if (this.avail() >= w.n) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve();
    } else if (this.error !== null) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(this.error);
    }
  }

  // Resolves when n bytes are there; rejects when the connection fails or
  // nothing comes for timeoutMs.
  need(n, timeoutMs) {
    if (this.avail() >= n) return Promise.resolve();
    if (this.error !== null) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new ConnError('timeout', `timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { n, resolve, reject, timer };
    });
  }

  send(bytes) {
    if (this.error !== null) throw this.error;
    this.phase = 'write';
    this.socket.write(bytes);
    this.phase = 'read';
  }

  // Reads m IDs into dst, each as soon as it is whole, so that IDs read
  // before a connection breaks are kept.  An ID not above the one before
  // it on this connection is refused, never handed out.
  async takeIds(dst, m, timeoutMs) {
    while (m > 0) {
      const k = Math.min(m, Math.floor(this.avail() / 8));
      if (k === 0) {
        await this.need(8, timeoutMs);
        continue;
      }
      for (let i = 0; i < k; i++) {
        const id = this.buf.readBigUInt64BE(this.pos);
        if (id <= this.last) {
          throw new ConnError('protocol', `ID ${id} is not above the one before it, ${this.last}`);
        }
        this.last = id;
        this.pos += 8;
        dst.push(id);
      }
      m -= k;
    }
  }

  // One round: one CMD 0, or up to WINDOW CMD 1 frames for the n IDs still
  // missing, and their replies.  A short reply (the bucket is used up for
  // this second) is no error: the next round asks for the rest.
  async round(dst, n, single, ioMs) {
    if (!this.vetted) await this.vet(ioMs);
    if (single) {
      this.send(Buffer.from([0, 0]));
      await this.takeIds(dst, 1, ioMs + WAIT_MS);
      return;
    }
    const counts = [];
    for (let asked = 0; counts.length < WINDOW && asked < n; asked += counts[counts.length - 1]) {
      counts.push(Math.min(n - asked, CHUNK));
    }
    const req = Buffer.alloc(counts.length * 2);
    counts.forEach((c, i) => {
      req[2 * i] = 1;
      req[2 * i + 1] = c;
    });
    this.send(req);
    for (const c of counts) {
      await this.need(1, ioMs);
      const m = this.buf[this.pos];
      this.pos += 1;
      if (m > c) throw new ConnError('protocol', `${m} IDs in reply to a request for ${c}`);
      await this.takeIds(dst, m, ioMs);
    }
  }

  // A server whose INFO says it is not serving counts as down (CONTRACT.md
  // 1); one that names no state is taken as serving.
  async vet(ioMs) {
    const info = await this.info(ioMs);
    const state = info !== null && typeof info === 'object' ? info.state : undefined;
    if (state !== undefined && state !== 'serving') {
      throw new ConnError('unavailable', `not serving: its state is ${String(state).slice(0, 64)}`);
    }
    this.vetted = true;
  }

  async info(ioMs) {
    this.send(Buffer.from([2, 0]));
    await this.need(2, ioMs);
    const len = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    await this.need(len, ioMs);
    const text = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConnError('protocol', `bad INFO reply: ${e.message}`);
    }
  }

  close() {
    // Replies not read yet are dropped with the connection: the server
    // never issues those IDs again, so they are gaps, not duplicates.
    this.socket.destroy();
  }
}

function checkMs(name, v) {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be above 0 ms, not ${v}`);
  return v;
}

/**
 * A client of a list of genid servers, with failover.  Every call returns
 * a Promise; IDs are BigInts.  Calls on one client take turns on its one
 * connection; for throughput use several clients.
 *
 *   const c = new Client(['127.0.0.1:3778', '[::1]:3778']);
 *   const id = await c.next();
 *   await c.close();
 */
class Client {
  constructor(addresses, options = {}) {
    const list = typeof addresses === 'string' ? [addresses] : Array.from(addresses || []);
    if (list.length === 0) throw new RangeError('no server address');
    this._addrs = list.map(parseAddress);
    this._names = this._addrs.map((a) => formatAddress(a.host, a.port));
    const o = options;
    this._connectMs = checkMs('connectTimeoutMs', o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    this._ioMs = checkMs('ioTimeoutMs', o.ioTimeoutMs ?? DEFAULT_IO_TIMEOUT_MS);
    this._maxAgeMs = checkMs('prefetchMaxAgeMs', o.prefetchMaxAgeMs ?? PREFETCH_MAX_AGE_MS);
    this._prefetch = o.prefetch ?? 0;
    if (!Number.isInteger(this._prefetch) || this._prefetch < 0 || this._prefetch > PREFETCH_MAX) {
      throw new RangeError(`prefetch must be 0..${PREFETCH_MAX}, not ${o.prefetch}`);
    }
    this.epoch = o.epoch ?? 0;
    this._cur = 0;
    this._conn = null;
    this._pre = [];
    this._prePos = 0;
    this._preAt = 0;
    this._tail = Promise.resolve();
  }

  /** host:port of the server connected to, or null. */
  get server() {
    return this._conn !== null ? this._names[this._cur] : null;
  }

  /** One ID (a BigInt). */
  next() {
    return this._turn(async () => {
      if (this._prefetch === 0) return (await this._fetch([], 1, 1, true))[0];
      if (this._fresh()) return this._pre[this._prePos++];
      const ids = await this._fetch([], this._prefetch, 1, false);
      this._pre = ids;
      this._prePos = 1;
      this._preAt = Date.now();
      return ids[0];
    });
  }

  /** An array of n IDs, prefetched ones first; rejects with a GenidError holding the IDs got when every server failed first. */
  bulk(n) {
    if (!Number.isInteger(n) || n < 0) return Promise.reject(new RangeError(`bulk wants a count >= 0, not ${n}`));
    return this._turn(async () => {
      let ids = [];
      if (this._fresh()) {
        ids = this._pre.slice(this._prePos, this._prePos + n);
        this._prePos += ids.length;
      }
      if (ids.length < n) await this._fetch(ids, n - ids.length, n - ids.length, false);
      return ids;
    });
  }

  /** The server's INFO (CMD 2) as an object. */
  info() {
    return this._turn(() => this._call((c) => c.info(this._ioMs)));
  }

  /** The Unix time of an ID under this client's epoch. */
  time(id) {
    return unixTime(id, this.epoch);
  }

  /** Closes the connection and drops prefetched IDs; the client may be used again. */
  close() {
    return this._turn(async () => {
      this._disconnect();
      this._pre = [];
      this._prePos = 0;
    });
  }

  _turn(fn) {
    const run = this._tail.then(fn, fn);
    this._tail = run.catch(() => {});
    return run;
  }

  // Whether prefetched IDs are there and young enough; drops stale ones.
  _fresh() {
    if (this._prePos < this._pre.length && Date.now() - this._preAt > this._maxAgeMs) {
      this._pre = [];
      this._prePos = 0;
    }
    return this._prePos < this._pre.length;
  }

  // Appends IDs to dst until min of n came; a round that brought none is
  // followed by one CMD 0, which waits in the server for the clock.
  async _fetch(dst, n, min, single) {
    const base = dst.length;
    let one = single;
    while (dst.length - base < min) {
      const before = dst.length;
      try {
        await this._call((c) => c.round(dst, n - (dst.length - base), one, this._ioMs));
      } catch (e) {
        if (!(e instanceof GenidError)) throw e;
        // Enough came before every server failed (a prefetch fill): that
        // is a success.
        if (dst.length - base >= min) break;
        throw new GenidError(e.failures, dst);
      }
      one = !one && dst.length === before;
    }
    return dst;
  }

  // Runs a request on the connection, or on a new one, moving round the
  // addresses from the one that failed.  Each address is tried once; the
  // address of a connection open before the call may come round twice
  // (the server may have closed it meanwhile).
  async _call(request) {
    const failures = [];
    const n = this._addrs.length;
    const budget = n + (this._conn !== null ? 1 : 0);
    for (let i = 0; i < budget; i++) {
      const name = this._names[this._cur];
      let what = 'connect';
      try {
        if (this._conn === null) this._conn = await this._connect();
        what = 'read';
        return await request(this._conn);
      } catch (e) {
        if (!(e instanceof ConnError) && typeof e.code !== 'string') throw e;
        if (what === 'read' && this._conn !== null) what = this._conn.phase;
        const ce = connError(what, name, e);
        failures.push(new Failure(name, ce.kind, ce.message));
        this._disconnect();
        this._cur = (this._cur + 1) % n;
      }
    }
    throw new GenidError(failures);
  }

  _connect() {
    const { host, port } = this._addrs[this._cur];
    const name = this._names[this._cur];
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnError('timeout', `timed out after ${this._connectMs} ms`));
      }, this._connectMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        // An idle client does not keep the process alive; a call in
        // progress does, through its timer.
        socket.unref();
        resolve(new Connection(socket, name));
      });
    });
  }

  _disconnect() {
    if (this._conn !== null) this._conn.close();
    this._conn = null;
  }
}

module.exports = {
  Client,
  GenidError,
  Failure,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IO_TIMEOUT_MS,
  PREFETCH_MAX,
  PREFETCH_MAX_AGE_MS,
};
