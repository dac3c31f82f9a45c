// SPDX-License-Identifier: BSD-2-Clause
'use strict';
// genid64: a client of the genid 64-bit unique ID service for Node.js.
// Promise-based, BigInt IDs, no dependencies.  See README.md.

const client = require('./lib/client');
const id = require('./lib/id');
const address = require('./lib/address');

module.exports = { ...client, ...id, ...address };
