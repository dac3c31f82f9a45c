// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// Server addresses: "host", "host:port", "[v6]:port", "[v6]" or a bare
// IPv6 address; the port is 3778 when none is given.

const DEFAULT_PORT = 3778;

/** { host, port } of an address; throws a RangeError saying what is wrong. */
function parseAddress(text) {
  if (typeof text !== 'string' || text === '') throw new RangeError('empty address');
  let host = text;
  let port = null;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new RangeError(`address ${JSON.stringify(text)}: no closing ]`);
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new RangeError(`address ${JSON.stringify(text)}: junk after ]`);
      port = rest.slice(1);
    }
  } else if (text.split(':').length === 2) {
    [host, port] = text.split(':');
  }
  if (host === '') throw new RangeError(`address ${JSON.stringify(text)}: no host`);
  if (port === null) return { host, port: DEFAULT_PORT };
  if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new RangeError(`address ${JSON.stringify(text)}: port ${JSON.stringify(port)} is not 1..65535`);
  }
  return { host, port: Number(port) };
}

/** host:port, with brackets round an IPv6 host. */
function formatAddress(host, port) {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

module.exports = { DEFAULT_PORT, parseAddress, formatAddress };
