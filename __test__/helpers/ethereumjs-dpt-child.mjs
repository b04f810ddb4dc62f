// N ethereumjs DPT nodes (@ethereumjs/devp2p, Discovery v4) on 127.0.0.1 in one process, driven by
// ethereumjs-dpt.ts over JSON lines: each stdin line is a command {id, cmd, ...}, answered on
// stdout by {id, ok: true, result} or {id, ok: false, error}; stdout also carries unsolicited
// {event, node, ...} lines (packets each node received and sent, table changes, DPT's errors).
// Plain ESM with no import besides the package and Node's own modules, so that it runs under
// whichever Node the parent picks. It exits when its stdin closes (the parent died or let go).
//
// Each node's UDP socket is bound before its DPT is made (DPT's createSocket option), so that the
// endpoint DPT writes in PING's `from` names the real port; DPT's own bind() is never called.
// DNS discovery is off (shouldGetDnsPeers: false, no dnsNetworks): nothing leaves loopback.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const { DPT, decode } = await import('@ethereumjs/devp2p');

const HOST = '127.0.0.1';

const hex = (b) => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : null);
const unhex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));

function out(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const endpointOf = (p) => ({ ip: p?.address ?? null, udp: p?.udpPort ?? null, tcp: p?.tcpPort ?? null });
const peerOf = (p) => ({ publicKeyHex: hex(p.id), ip: p.address ?? '', udp: p.udpPort ?? 0, tcp: p.tcpPort ?? 0 });

/** What a decoded packet said, in JSON (ids, hashes and targets as hex). */
function describe(typename, data) {
  switch (typename) {
    case 'ping':
      return {
        version: data.version,
        from: endpointOf(data.from),
        to: endpointOf(data.to),
        expiration: data.timestamp,
      };
    case 'pong':
      return { to: endpointOf(data.to), pingHash: hex(data.hash), expiration: data.timestamp };
    case 'findneighbours':
      return { target: hex(data.id), expiration: data.timestamp };
    case 'neighbours':
      return {
        nodes: data.peers.map((p) => ({ ...endpointOf(p.endpoint), publicKeyHex: hex(p.id) })),
        expiration: data.timestamp,
      };
    default:
      return {};
  }
}

/** @type {{dpt: any, socket: import('node:dgram').Socket, udpPort: number}[]} */
const nodes = [];

async function bindSocket() {
  const socket = createSocket({ type: 'udp4' });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

async function startNode(index, o) {
  const socket = await bindSocket();
  const udpPort = socket.address().port;
  const tcpPort = o.advertiseTcp ? udpPort : null;
  const privateKey = o.privateKeys?.[index] ? unhex(o.privateKeys[index]) : randomBytes(32);
  const dpt = new DPT(privateKey, {
    createSocket: () => socket,
    endpoint: { address: HOST, udpPort, tcpPort },
    timeout: o.timeoutMs,
    refreshInterval: o.refreshIntervalMs,
    shouldFindNeighbours: o.findNeighbours,
    onlyConfirmed: o.onlyConfirmed,
    shouldGetDnsPeers: false,
    dnsNetworks: [],
  });
  dpt.events.on('error', (err) => out({ event: 'error', node: index, message: String(err?.message ?? err) }));
  for (const kind of ['peer:added', 'peer:removed', 'peer:new']) {
    dpt.events.on(kind, (p) => out({ event: kind, node: index, peer: peerOf(p) }));
  }
  // Every datagram the node gets, decoded for the log before DPT's own handler sees it (which
  // throws, and so emits 'error', on the same packets that fail here).
  const server = dpt._server;
  const handler = server._handler.bind(server);
  server._handler = (msg, rinfo) => {
    const base = { node: index, ip: rinfo.address, port: rinfo.port, size: msg.length };
    try {
      const info = decode(msg);
      out({
        event: 'recv',
        ...base,
        type: info.typename,
        publicKeyHex: hex(info.publicKey.subarray(1)),
        ...describe(info.typename, info.data),
      });
    } catch (err) {
      out({
        event: 'drop',
        ...base,
        packetType: msg.length > 97 ? msg[97] : null,
        reason: String(err?.message ?? err),
      });
    }
    return handler(msg, rinfo);
  };
  const send = server._send.bind(server);
  server._send = (peer, typename, data) => {
    const hash = send(peer, typename, data);
    out({ event: 'send', node: index, ip: peer.address, port: peer.udpPort, type: typename, hash: hex(hash) });
    return hash;
  };
  nodes.push({ dpt, socket, udpPort });
  return { publicKeyHex: hex(dpt.id), privateKeyHex: hex(privateKey), udpPort, tcpPort: tcpPort ?? 0 };
}

function nodeAt(i) {
  const n = nodes[i];
  if (n === undefined) throw new Error(`no node ${i} (there are ${nodes.length})`);
  return n;
}

/** A DPT PeerInfo from the parent's {ip, udp, tcp?, publicKeyHex?} (tcp 0 means none). */
function peerInfo(t) {
  const info = { address: t.ip, udpPort: t.udp, tcpPort: t.tcp ? t.tcp : null };
  if (t.publicKeyHex) info.id = unhex(t.publicKeyHex);
  return info;
}

const commands = {
  async start(c) {
    if (nodes.length > 0) throw new Error('already started');
    const result = [];
    for (let i = 0; i < c.n; i++) result.push(await startNode(i, c.options));
    return result;
  },
  /** DPT.addPeer (PING, wait for the PONG, add to the table; rejects when no PONG came), then DPT.bootstrap. */
  async bootstrap(c) {
    const { dpt } = nodeAt(c.node);
    const info = peerInfo(c.target);
    const peer = await dpt.addPeer(info);
    // The peer is in the table now, so this sends no second PING: it marks the peer confirmed and,
    // when the node looks for neighbours, sends FINDNODE for its own id, as DPT's bootstrap does.
    await dpt.bootstrap({ ...info, id: peer.id });
    return peerOf(peer);
  },
  /** A bare PING (DPT's server.ping): resolves when the matching PONG comes; no table change, no ban. */
  async ping(c) {
    const peer = await nodeAt(c.node).dpt._server.ping(peerInfo(c.target));
    return peerOf(peer);
  },
  /** FINDNODE to any endpoint, no PING first; the answer shows as 'recv' events of type neighbours. */
  async findNeighbours(c) {
    const { dpt } = nodeAt(c.node);
    dpt._server.findneighbours(peerInfo(c.target), c.targetHex ? unhex(c.targetHex) : dpt.id);
    return null;
  },
  async peers(c) {
    return nodeAt(c.node).dpt.getPeers().map(peerOf);
  },
  async removePeer(c) {
    nodeAt(c.node).dpt.removePeer(unhex(c.publicKeyHex));
    return null;
  },
  async refresh(c) {
    await nodeAt(c.node).dpt.refresh();
    return null;
  },
  async stop() {
    shutdown(0, true);
    return null;
  },
};

let stopping = false;
function shutdown(code, answered) {
  if (stopping) return;
  stopping = true;
  for (const { dpt } of nodes) {
    try {
      dpt.destroy();
    } catch {
      // already destroyed
    }
  }
  // Let the answer to 'stop' go out first; DPT leaves timers (ping timeouts, peer batches) behind.
  setTimeout(() => process.exit(code), answered ? 20 : 0);
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let c;
  try {
    c = JSON.parse(line);
  } catch {
    out({ event: 'error', node: null, message: `not JSON: ${line.slice(0, 200)}` });
    return;
  }
  const run = commands[c.cmd];
  if (run === undefined) {
    out({ id: c.id, ok: false, error: `unknown command ${c.cmd}` });
    return;
  }
  run(c).then(
    (result) => out({ id: c.id, ok: true, result }),
    (err) => out({ id: c.id, ok: false, error: String(err?.message ?? err) }),
  );
});
rl.on('close', () => shutdown(0, false));
out({ event: 'ready', node: null, pid: process.pid, nodeVersion: process.version });
