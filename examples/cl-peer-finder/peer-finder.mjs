#!/usr/bin/env node
// @ts-check
/**
 * A consensus-layer peer finder: a js-libp2p 3 node (tcp, noise, yamux, identify, gossipsub) that
 * finds its peers through discv5 (discv5-native/libp2p), keeping only records of one consensus
 * network (the `eth2` entry's fork digest) that name a tcp and a udp endpoint, dials them, joins a
 * gossipsub topic and publishes on it now and then.
 *
 *   node peer-finder.mjs --bootnodes enr:-... [--fork-digest 0d15c0de] [--json]
 *
 * Needs Node.js >= 22 (js-libp2p 3 uses Promise.withResolvers).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair, privateKeyFromRaw } from '@libp2p/crypto/keys';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { FAR_FUTURE_EPOCH } from 'discv5-native';
import { discv5PeerDiscovery } from 'discv5-native/libp2p';
import { createLibp2p } from 'libp2p';

const USAGE = `Usage: node peer-finder.mjs --bootnodes ENR[,ENR...] [options]

  --bootnodes ENR[,ENR]   discv5 records to join the network through (required)
  --fork-digest HEX       the consensus network's fork digest (default 0d15c0de, the discv5 testnet's)
  --host IP               the IPv4 address to listen on, tcp and udp (default 127.0.0.1)
  --port N                the libp2p tcp port (default 0: any free port)
  --udp-port N            the discv5 udp port (default 0: any free port)
  --topic NAME            the gossipsub topic (default /eth2/<digest>/beacon_block/ssz_snappy)
  --publish-every S       publish a message every S seconds (default 5; 0: never)
  --search-interval S     pause between discv5 searches (default 5)
  --status-every S        a status line every S seconds (default 10)
  --max-peers N           dial no more peers once connected to N (default 25)
  --key FILE              a secp256k1 key (64 hex characters, as 'discv5 keygen' writes), made if missing
  --duration S            exit after S seconds (default: run until Ctrl-C)
  --json                  one JSON object per line on stdout, for programs`;

const ARGS = /** @type {const} */ ({
  bootnodes: { type: 'string' },
  'fork-digest': { type: 'string', default: '0d15c0de' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '0' },
  'udp-port': { type: 'string', default: '0' },
  topic: { type: 'string' },
  'publish-every': { type: 'string', default: '5' },
  'search-interval': { type: 'string', default: '5' },
  'status-every': { type: 'string', default: '10' },
  'max-peers': { type: 'string', default: '25' },
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
const digest = (opt['fork-digest'] ?? '').toLowerCase().replace(/^0x/, '');
if (!/^[0-9a-f]{8}$/.test(digest)) usage('--fork-digest must be 4 bytes of hex, e.g. 0d15c0de');
const forkDigest = Buffer.from(digest, 'hex');
const topic = opt.topic ?? `/eth2/${digest}/beacon_block/ssz_snappy`;
const host = opt.host ?? '127.0.0.1';
const port = number(opt.port, '--port', 65535);
const udpPort = number(opt['udp-port'], '--udp-port', 65535);
const publishEvery = number(opt['publish-every'], '--publish-every') * 1000;
const searchInterval = number(opt['search-interval'], '--search-interval') * 1000;
const statusEvery = number(opt['status-every'], '--status-every') * 1000;
const maxPeers = number(opt['max-peers'], '--max-peers');
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

/** The records we want: our network's fork digest, and a tcp and a udp endpoint. @param {import('discv5-native').Enr} enr */
function sameNetwork(enr) {
  const fd = enr.forkDigest;
  if (fd === undefined || !forkDigest.equals(fd)) return false;
  const tcpAt = enr.endpoint4('tcp') ?? enr.endpoint6('tcp');
  const udpAt = enr.endpoint4('udp') ?? enr.endpoint6('udp');
  return tcpAt !== undefined && udpAt !== undefined;
}

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
    pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
    discovery: discv5PeerDiscovery({
      bootnodes,
      bind: { ip4: { ip: host, port: udpPort } },
      filter: sameNetwork,
      searchIntervalMs: searchInterval,
      announce: { tcp: true, quic: false },
      // Advertise the network in our own record, as a consensus client does.
      enr: { eth2: { forkDigest, nextForkVersion: Buffer.from('ffffffff', 'hex'), nextForkEpoch: FAR_FUTURE_EPOCH } },
    }),
  },
});

const { pubsub, discovery } = node.services;
/** Peers discv5 reported (peer id -> multiaddrs), peers dialed, and messages received per sender. */
const found = new Map();
const dialing = new Set();
let dialed = 0;
const received = new Map();
let published = 0;
/** @type {string[]} */
let mesh = [];

discovery.addEventListener('peer', (evt) => {
  const { id, multiaddrs } = evt.detail;
  const peer = id.toString();
  const addrs = multiaddrs.map((m) => m.toString());
  const again = found.has(peer);
  found.set(peer, addrs);
  emit('found', { peer, addrs, again }, `found  ${short(peer)} ${addrs.join(' ')}${again ? ' (new record)' : ''}`);
  void dial(peer, multiaddrs);
});

/** @param {string} peer @param {import('@multiformats/multiaddr').Multiaddr[]} multiaddrs */
async function dial(peer, multiaddrs) {
  if (dialing.has(peer) || node.getPeers().some((p) => p.toString() === peer)) return;
  if (node.getPeers().length >= maxPeers) return;
  dialing.add(peer);
  dialed++;
  emit('dial', { peer }, `dial   ${short(peer)}`);
  try {
    await node.dial(multiaddrs, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const error = /** @type {Error} */ (err).message;
    emit('dial-error', { peer, error }, `dial   ${short(peer)} failed: ${error}`);
  } finally {
    dialing.delete(peer);
  }
}

node.addEventListener('peer:connect', (evt) => {
  const peer = evt.detail.toString();
  emit(
    'connect',
    { peer, peers: node.getPeers().length },
    `+peer  ${short(peer)} (${node.getPeers().length} connected)`,
  );
});
node.addEventListener('peer:disconnect', (evt) => {
  const peer = evt.detail.toString();
  emit('disconnect', { peer, peers: node.getPeers().length }, `-peer  ${short(peer)} (${node.getPeers().length} left)`);
});

pubsub.addEventListener('message', (evt) => {
  const msg = evt.detail;
  if (msg.topic !== topic) return;
  // Signed messages (gossipsub's default) name their author.
  const from = msg.type === 'signed' ? msg.from.toString() : 'unsigned';
  let seq;
  try {
    seq = JSON.parse(Buffer.from(msg.data).toString('utf8')).seq;
  } catch {
    seq = null;
  }
  const n = (received.get(from) ?? 0) + 1;
  received.set(from, n);
  // People see the first message of each author; programs see all.
  emit('message', { from, seq, bytes: msg.data.length }, n === 1 ? `msg    first from ${short(from)}` : undefined);
});

/** The topic's mesh (gossipsub's implementation has getMeshPeers; its interface type does not). */
function meshPeers() {
  const gs = /** @type {{ getMeshPeers?: (topic: string) => string[] }} */ (/** @type {unknown} */ (pubsub));
  return (gs.getMeshPeers?.(topic) ?? []).map(String).sort();
}
function checkMesh() {
  const now = meshPeers();
  if (now.join() === mesh.join()) return;
  mesh = now;
  emit('mesh', { size: mesh.length, peers: mesh }, `mesh   ${mesh.length} peer(s) on ${topic}`);
}
pubsub.addEventListener('gossipsub:graft', checkMesh);
pubsub.addEventListener('gossipsub:prune', checkMesh);
pubsub.addEventListener('gossipsub:heartbeat', checkMesh);

async function publish() {
  const seq = ++published;
  const data = Buffer.from(JSON.stringify({ seq, at: Date.now() }));
  try {
    const { recipients } = await pubsub.publish(topic, data);
    emit('publish', { seq, recipients: recipients.length });
  } catch (err) {
    emit('publish-error', { seq, error: /** @type {Error} */ (err).message });
  }
}

function status() {
  checkMesh();
  const from = [...received.values()].reduce((a, b) => a + b, 0);
  const fields = {
    peers: node.getPeers().map(String),
    mesh: mesh.length,
    found: found.size,
    dialed,
    received: Object.fromEntries(received),
    published,
  };
  emit(
    'status',
    fields,
    `status ${fields.peers.length} connected, mesh ${mesh.length}, found ${found.size}, dialed ${dialed}, ` +
      `received ${from} from ${received.size} peer(s), published ${published}`,
  );
  return fields;
}

// ---- run, and stop on Ctrl-C, SIGTERM, the end of --duration, or the launcher's exit ------------

/** @type {NodeJS.Timeout[]} */
const timers = [];
let stopping = false;
/** @param {string} reason */
async function stop(reason) {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearInterval(t);
  emit('stopping', { reason }, `stopping (${reason})`);
  const summary = status();
  // A node that hangs while stopping must not keep the process: give it 5 s.
  setTimeout(() => process.exit(1), 5_000).unref();
  // What discovery did: records reported as peers, and those the filter turned away (peer.filtered).
  const counts = discovery.metrics();
  await node.stop();
  emit('summary', { ...summary, discovery: counts }, 'stopped');
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
pubsub.subscribe(topic);
const record = discovery.discv5.localEnr;
emit(
  'ready',
  {
    peerId: node.peerId.toString(),
    nodeId: record.nodeIdHex,
    enr: record.text,
    listen: node.getMultiaddrs().map(String),
    forkDigest: digest,
    topic,
    backend: discovery.discv5.crypto.backend,
  },
  `ready  peer ${node.peerId} on ${node.getMultiaddrs().join(' ')}\n` +
    `       record ${record.text}\n       network ${digest}, topic ${topic}`,
);
if (publishEvery > 0) timers.push(setInterval(() => void publish(), publishEvery));
if (statusEvery > 0) timers.push(setInterval(status, statusEvery));
if (duration !== undefined) timers.push(setTimeout(() => void stop(`--duration ${duration / 1000}`), duration));
