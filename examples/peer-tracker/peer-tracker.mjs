#!/usr/bin/env node
// @ts-check
/**
 * A peer tracker: a js-libp2p 3 node (tcp, noise, yamux, identify) that finds libp2p peers through
 * discv5 (discv5-native/libp2p), keeps a connection to each one it found, redials a peer that went
 * away (exponential back-off, a bounded number of tries), prints the connected set every few
 * seconds, and connections and disconnections as they happen.
 *
 *   node peer-tracker.mjs --bootnodes enr:-... [--every 5] [--json]
 *
 * Needs Node.js >= 22 (js-libp2p 3 uses Promise.withResolvers).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair, privateKeyFromRaw } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { discv5PeerDiscovery } from 'discv5-native/libp2p';
import { createLibp2p } from 'libp2p';

const USAGE = `Usage: node peer-tracker.mjs --bootnodes ENR[,ENR...] [options]

  --bootnodes ENR[,ENR]   discv5 records to join the network through (required)
  --every S               print the connected set every S seconds (default 5)
  --host IP               the IPv4 address to listen on, tcp and udp (default 127.0.0.1)
  --port N                the libp2p tcp port (default 0: any free port)
  --udp-port N            the discv5 udp port (default 0: any free port)
  --search-interval S     pause between discv5 searches (default 5)
  --max-peers N           track at most N peers (default 50)
  --max-redials N         redial a lost peer at most N times, then forget it (default 6)
  --backoff S             the first redial's delay, doubled for each next one (default 1)
  --backoff-max S         the longest delay between redials (default 30)
  --key FILE              a secp256k1 key (64 hex characters, as 'discv5 keygen' writes), made if missing
  --duration S            exit after S seconds (default: run until Ctrl-C)
  --json                  one JSON object per line on stdout, for programs`;

const ARGS = /** @type {const} */ ({
  bootnodes: { type: 'string' },
  every: { type: 'string', default: '5' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '0' },
  'udp-port': { type: 'string', default: '0' },
  'search-interval': { type: 'string', default: '5' },
  'max-peers': { type: 'string', default: '50' },
  'max-redials': { type: 'string', default: '6' },
  backoff: { type: 'string', default: '1' },
  'backoff-max': { type: 'string', default: '30' },
  key: { type: 'string' },
  duration: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
});

/** @param {string} message @returns {never} */
function usage(message) {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** @param {string | undefined} text @param {string} name @param {number} max */
function number(text, name, max = Number.MAX_SAFE_INTEGER) {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(n) || n < 0 || n > max)
    usage(`${name} must be a number from 0 to ${max}`);
  return n;
}

function options() {
  try {
    return parseArgs({ options: ARGS, strict: true }).values;
  } catch (err) {
    return usage(/** @type {Error} */ (err).message);
  }
}
const opt = options();
if (opt.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (typeof Promise.withResolvers !== 'function') {
  process.stderr.write(
    `js-libp2p 3 needs Node.js >= 22 (Promise.withResolvers); this is Node ${process.version}. ` +
      `Run it with a newer Node, e.g. npx -y node@22 ${process.argv.slice(1).join(' ')}\n`,
  );
  process.exit(1);
}
const bootnodes = (opt.bootnodes ?? '').split(',').filter((s) => s.length > 0);
if (bootnodes.length === 0) usage('--bootnodes is required');
const every = number(opt.every, '--every') * 1000;
const host = opt.host ?? '127.0.0.1';
const port = number(opt.port, '--port', 65535);
const udpPort = number(opt['udp-port'], '--udp-port', 65535);
const searchInterval = number(opt['search-interval'], '--search-interval') * 1000;
const maxPeers = number(opt['max-peers'], '--max-peers');
const maxRedials = number(opt['max-redials'], '--max-redials');
const backoff = number(opt.backoff, '--backoff') * 1000;
const backoffMax = number(opt['backoff-max'], '--backoff-max') * 1000;
const duration = opt.duration === undefined ? undefined : number(opt.duration, '--duration') * 1000;

// ---- output: one line per event, text for people or JSON for programs ---------------------------

/** @param {unknown} id */
const short = (id) => {
  const s = String(id);
  return s.length > 16 ? `${s.slice(0, 6)}…${s.slice(-6)}` : s;
};

/**
 * @param {string} event
 * @param {Record<string, unknown>} fields
 * @param {string} [text] what people see (nothing: the event is for --json only)
 */
function emit(event, fields, text) {
  if (opt.json) process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), event, ...fields })}\n`);
  else if (text !== undefined) process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${text}\n`);
}

// ---- identity: the same secp256k1 key names the libp2p peer and the discv5 record ---------------

async function loadKey() {
  const file = opt.key;
  if (file === undefined) return generateKeyPair('secp256k1');
  if (!existsSync(file)) {
    const key = await generateKeyPair('secp256k1');
    writeFileSync(file, `${Buffer.from(key.raw).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) usage(`${file} does not hold a secp256k1 key (64 hex characters)`);
  return privateKeyFromRaw(Buffer.from(hex, 'hex'));
}

// ---- the node ----------------------------------------------------------------------------------

const loopback = host.startsWith('127.');
const node = await createLibp2p({
  privateKey: await loadKey(),
  addresses: { listen: [`/ip4/${host}/tcp/${port}`] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  // Several apps on one machine all connect from 127.0.0.1: exempt it from the per-host limits.
  connectionManager: loopback ? { allow: [`/ip4/${host}`] } : {},
  services: {
    identify: identify(),
    discovery: discv5PeerDiscovery({
      bootnodes,
      bind: { ip4: { ip: host, port: udpPort } },
      // libp2p peers only: a record with a tcp endpoint (discv5-only nodes have none).
      filter: (enr) => (enr.endpoint4('tcp') ?? enr.endpoint6('tcp')) !== undefined,
      searchIntervalMs: searchInterval,
      announce: { tcp: true, quic: false },
    }),
  },
});
const { discovery } = node.services;

/**
 * The peers we keep connections to.
 * @typedef {{ id: import('@libp2p/interface').PeerId, multiaddrs: import('@multiformats/multiaddr').Multiaddr[] | undefined,
 *   connected: boolean, dialing: boolean, redials: number, timer: NodeJS.Timeout | undefined }} Tracked
 * @type {Map<string, Tracked>}
 */
const tracked = new Map();
/** Peers we have been connected to (a later connection is a reconnection). */
const seenBefore = new Set();
let stopping = false;

const connected = () => [...tracked].filter(([, p]) => p.connected).map(([id]) => id);

discovery.addEventListener('peer', (evt) => {
  const peer = evt.detail.id.toString();
  const addrs = evt.detail.multiaddrs;
  let p = tracked.get(peer);
  if (p === undefined) {
    if (tracked.size >= maxPeers) return;
    p = { id: evt.detail.id, multiaddrs: addrs, connected: false, dialing: false, redials: 0, timer: undefined };
    tracked.set(peer, p);
    emit('found', { peer, addrs: addrs.map(String) }, `found      ${short(peer)} ${addrs.join(' ')}`);
  } else if (p.multiaddrs === undefined) {
    // It dialed us before discv5 reported it: now we know where to redial it.
    p.multiaddrs = addrs;
    emit('found', { peer, addrs: addrs.map(String) }, `found      ${short(peer)} ${addrs.join(' ')}`);
  } else {
    // A new record (it restarted, or moved): dial it at its new address now, with a fresh budget.
    p.multiaddrs = addrs;
    p.redials = 0;
    clearTimeout(p.timer);
    p.timer = undefined;
    emit('updated', { peer, addrs: addrs.map(String) }, `new record ${short(peer)} ${addrs.join(' ')}`);
  }
  if (!p.connected) void dial(peer, p);
});

/** @param {string} peer @param {Tracked} p */
async function dial(peer, p) {
  if (p.dialing || p.connected || stopping) return;
  p.dialing = true;
  try {
    // The record's addresses if discv5 gave them; else (a peer that dialed us) the peer store's.
    await node.dial(p.multiaddrs ?? p.id, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    if (stopping || tracked.get(peer) !== p) return;
    emit('dial-error', { peer, error: /** @type {Error} */ (err).message });
    redialLater(peer, p);
  } finally {
    p.dialing = false;
  }
}

/** Schedules the next redial: backoff, 2 x backoff, 4 x ... up to backoff-max, +-20 %; forgets the peer after max-redials. @param {string} peer @param {Tracked} p */
function redialLater(peer, p) {
  if (stopping || p.connected || p.timer !== undefined) return;
  if (p.redials >= maxRedials) {
    tracked.delete(peer);
    emit('give-up', { peer, redials: p.redials }, `give up    ${short(peer)} after ${p.redials} redials`);
    return;
  }
  const delay = Math.round(Math.min(backoff * 2 ** p.redials, backoffMax) * (0.8 + 0.4 * Math.random()));
  p.redials++;
  emit(
    'redial',
    { peer, attempt: p.redials, delayMs: delay },
    `redial     ${short(peer)} #${p.redials} in ${delay} ms`,
  );
  p.timer = setTimeout(() => {
    p.timer = undefined;
    void dial(peer, p);
  }, delay);
}

node.addEventListener('peer:connect', (evt) => {
  const peer = evt.detail.toString();
  let p = tracked.get(peer);
  if (p === undefined) {
    // It dialed us: keep it too (while there is room), redialing through the peer store's addresses.
    if (tracked.size >= maxPeers) return;
    p = { id: evt.detail, multiaddrs: undefined, connected: false, dialing: false, redials: 0, timer: undefined };
    tracked.set(peer, p);
  }
  clearTimeout(p.timer);
  Object.assign(p, { connected: true, redials: 0, timer: undefined });
  const reconnect = seenBefore.has(peer);
  seenBefore.add(peer);
  const n = connected().length;
  emit(
    'connect',
    { peer, reconnect, connected: n },
    `${reconnect ? 'reconnect ' : 'connect   '} ${short(peer)} (${n} connected)`,
  );
});

node.addEventListener('peer:disconnect', (evt) => {
  const peer = evt.detail.toString();
  const p = tracked.get(peer);
  if (p === undefined) return;
  p.connected = false;
  const n = connected().length;
  emit('disconnect', { peer, connected: n }, `disconnect ${short(peer)} (${n} connected)`);
  redialLater(peer, p);
});

function report() {
  const peers = connected().sort();
  const waiting = tracked.size - peers.length;
  emit(
    'peers',
    { count: peers.length, peers, waiting },
    `connected (${peers.length}${waiting > 0 ? `, ${waiting} being redialed` : ''}): ${peers.map(short).join(' ') || '-'}`,
  );
}

// ---- run, and stop on Ctrl-C, SIGTERM, the end of --duration, or the launcher's exit ------------

/** @type {NodeJS.Timeout[]} */
const timers = [];
/** @param {string} reason */
async function stop(reason) {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearInterval(t);
  for (const p of tracked.values()) clearTimeout(p.timer);
  emit('stopping', { reason }, `stopping (${reason})`);
  report();
  // A node that hangs while stopping must not keep the process: give it 5 s.
  setTimeout(() => process.exit(1), 5_000).unref();
  await node.stop();
  emit('stopped', {}, 'stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// Output piped into a program that has gone (`| head`): stop rather than die on EPIPE.
process.stdout.on('error', () => void stop('stdout closed'));
// Started by a launcher with an IPC channel: stop when the launcher goes, however it went.
if (process.channel !== undefined) {
  process.channel.unref();
  process.on('disconnect', () => void stop('launcher exited'));
}

await node.start();
const record = discovery.discv5.localEnr;
emit(
  'ready',
  {
    peerId: node.peerId.toString(),
    nodeId: record.nodeIdHex,
    enr: record.text,
    listen: node.getMultiaddrs().map(String),
    backend: discovery.discv5.crypto.backend,
  },
  `ready      peer ${node.peerId} on ${node.getMultiaddrs().join(' ')}\n           record ${record.text}`,
);
if (every > 0) timers.push(setInterval(report, every));
if (duration !== undefined) timers.push(setTimeout(() => void stop(`--duration ${duration / 1000}`), duration));
