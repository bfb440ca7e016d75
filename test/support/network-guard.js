'use strict';
// Fails any outbound connection that is not to this machine. Loaded by Jest (setupFiles) and by child
// processes through NODE_OPTIONS=--require, so nothing a test starts can reach the network.
const net = require('node:net');
const fs = require('node:fs');

const GUARD = Symbol.for('snapshot-cleanup.network-guard');

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true; // node defaults to localhost
  const h = String(host)
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

function targetOf(args) {
  let first = args[0];
  if (Array.isArray(first)) first = first[0]; // net.connect passes normalized [options, cb]
  if (first && typeof first === 'object') return { host: first.host, path: first.path, port: first.port };
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { host: typeof args[1] === 'string' ? args[1] : undefined, port: first };
}

function record(attempt) {
  const file = process.env.NETWORK_GUARD_LOG;
  if (file) fs.appendFileSync(file, JSON.stringify(attempt) + '\n');
}

if (!net.Socket.prototype[GUARD]) {
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const target = targetOf(args);
    if (!target.path && !isLoopback(target.host)) {
      const attempt = { host: String(target.host), port: target.port, pid: process.pid };
      record(attempt);
      const error = new Error(
        `network guard: blocked connection to ${attempt.host}:${attempt.port} (tests may only use loopback)`,
      );
      error.code = 'ENETWORKGUARD';
      globalThis.__networkGuardViolations = (globalThis.__networkGuardViolations || []).concat(attempt);
      throw error;
    }
    return original.apply(this, args);
  };
  Object.defineProperty(net.Socket.prototype, GUARD, { value: true });
}

module.exports = { isLoopback };
