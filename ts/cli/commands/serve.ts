/**
 * `discv5 serve`: a long-running node (a bootnode, or a node an operator watches). It prints its
 * record first, then logs what happens: plain lines on stderr, or with --json one JSON object per
 * line on stdout (`{"t": ISO time, "event": name, ...}`). Every 30 s (--status-every) a status line:
 * live peers, sessions, packets per second, seq. With --data-dir it keeps its key, seq and table
 * across restarts; with --metrics IP:PORT it serves Prometheus text at /metrics. With --discv4 it
 * serves Discovery v4 on the same port and key, and prints its enode:// URL after the record.
 */
import { createCrypto, type Discv4Options, Discv5, PrometheusRegistry, parseEnode, serveMetrics } from '../../index.js';
import { DEFAULT_METRICS_IP, type MetricsServer } from '../../metrics/http.js';
import { toHex } from '../../util/bytes.js';
import { parseHostPort, parsePort, readKey, required, splitList, UsageError } from '../args.js';
import { consensusBootnodes, executionBootnodes, type NetworkName, networkName } from '../bootnodes.js';
import { untilSignal } from '../signal.js';
import type { Out } from './net.js';

/** One log event: a plain line, or (with --json) a JSON object on a line of its own. */
type Emit = (event: string, text: string, fields?: Record<string, unknown>) => void;

function logger(json: boolean, out: Out): Emit {
  if (!json) return (_event, text) => out.log(text);
  return (event, _text, fields = {}) => out.line(JSON.stringify({ t: new Date().toISOString(), event, ...fields }));
}

/** `--metrics` alone (or `--metrics PORT`) listens on loopback; `IP:PORT` where the operator says. */
export function metricsAt(text: string): { ip: string; port: number } {
  if (/^\d+$/.test(text)) return { ip: DEFAULT_METRICS_IP, port: parsePort(text, '--metrics') };
  return parseHostPort(text, '--metrics');
}

function statusEvery(text: string | undefined): number {
  if (text === undefined) return 30_000;
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0 || s > 86_400)
    throw new UsageError('--status-every must be seconds, 0 < S <= 86400');
  return Math.round(s * 1000);
}

/**
 * `--discv4` and its bootnodes (`--discv4-bootnodes`, and with `--network` that network's execution
 * bootnodes), or undefined without `--discv4`. Every enode:// URL is checked here (a usage error).
 */
export function discv4Options(v: Record<string, unknown>, network: NetworkName | undefined): Discv4Options | undefined {
  const listed = splitList(v['discv4-bootnodes'] as string | undefined);
  if (v.discv4 !== true) {
    if (listed.length > 0) throw new UsageError('--discv4-bootnodes needs --discv4');
    return undefined;
  }
  for (const b of listed) {
    if (b.startsWith('enr:')) continue; // a v4 record: the library checks it
    try {
      parseEnode(b);
    } catch (err) {
      throw new UsageError(`--discv4-bootnodes: ${(err as Error).message}`);
    }
  }
  return { bootnodes: [...listed, ...(network === undefined ? [] : executionBootnodes(network))] };
}

export async function serve(v: Record<string, unknown>, out: Out): Promise<void> {
  const listen = parseHostPort(required(v.listen as string | undefined, '--listen IP:PORT'), '--listen');
  const network = v.network === undefined ? undefined : networkName(v.network as string);
  const discv4 = discv4Options(v, network);
  const log = logger(v.json === true, out);
  // The record is the first line, yet start() already reports (a store moved aside, the table it
  // brought back): those wait until the record is out.
  let held: Parameters<Emit>[] | undefined = [];
  const emit: Emit = (...args) => (held === undefined ? log(...args) : held.push(args));
  // Listened for from the start: a signal that comes while starting, or just as the record is out,
  // still stops the node cleanly (exit 0) rather than killing the process.
  const signalled = untilSignal();
  const everyMs = statusEvery(v['status-every'] as string | undefined);
  const crypto = createCrypto();
  const dataDir = v['data-dir'] as string | undefined;
  const key = v.key ? readKey(v.key as string) : undefined;
  const registry = v.metrics === undefined ? undefined : new PrometheusRegistry();
  const node = await Discv5.create({
    ...(key !== undefined
      ? { privateKey: key }
      : dataDir === undefined
        ? { privateKey: crypto.generatePrivateKey() }
        : {}),
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(registry !== undefined ? { metrics: registry } : {}),
    bootnodes: [
      ...splitList(v.bootnodes as string | undefined),
      ...(network === undefined ? [] : consensusBootnodes(network)),
    ],
    ...(discv4 !== undefined ? { discv4 } : {}),
    crypto,
    bind: listen.ip.includes(':') ? { ip6: listen } : { ip4: listen },
  });
  node.on('sessionEstablished', (peer, _enr, inbound) => {
    const id = toHex(peer.nodeId);
    const at = `${peer.socket.ip}:${peer.socket.port}`;
    emit('session', `session ${inbound ? 'from' : 'to'} ${id.slice(0, 16)} at ${at}`, { nodeId: id, at, inbound });
  });
  node.on('nodeInserted', (entry) =>
    emit('table-insert', `table + ${entry.nodeId.slice(0, 16)} (distance ${entry.distance})`, {
      nodeId: entry.nodeId,
      distance: entry.distance,
    }),
  );
  node.on('socketUpdated', (a) => {
    // With discv4, the enode:// URL that goes with the new address.
    const enode = node.discv4?.enode;
    const text = `our address is now ${a.ip}:${a.port}${enode === undefined ? '' : ` (${enode})`}`;
    emit('address', text, { ip: a.ip, port: a.port, ...(enode === undefined ? {} : { enode }) });
  });
  node.on('talkRequest', (protocol) => {
    const name = new TextDecoder().decode(protocol);
    emit('talk', `talk request for "${name}"`, { protocol: name });
  });
  node.on('storeReport', (r) => {
    const what = 'movedTo' in r ? `moved aside to ${r.movedTo}` : `${r.count} rows skipped`;
    emit('store', `store ${r.kind}: ${what} (${r.detail})`, { ...r });
  });
  node.discv4?.on('nodeAdded', (n) =>
    emit('v4-table-insert', `v4 table + ${n.nodeIdHex.slice(0, 16)} at ${n.address}:${n.udp}`, {
      nodeId: n.nodeIdHex,
      enode: n.enode,
    }),
  );
  let metrics: MetricsServer | undefined;
  await node.start();
  try {
    if (registry !== undefined) metrics = await serveMetrics(registry, metricsAt(String(v.metrics)));
  } catch (err) {
    await node.stop();
    throw err;
  }
  out.line(node.localEnr.text);
  const enode = node.discv4?.enode;
  // Beside the record: a plain line of its own, or with --json the first event.
  if (enode !== undefined) {
    if (v.json === true) log('enode', enode, { enode });
    else out.line(enode);
    // As go-ethereum, 127.0.0.1 until an address is known (bound to 0.0.0.0, nothing learned yet).
    if (node.localEnr.ip === undefined && node.localEnr.ip6 === undefined)
      emit('enode-address', 'the record has no IP yet: the enode shows 127.0.0.1 until our address is learned');
  }
  for (const args of held) log(...args);
  held = undefined;
  if (metrics !== undefined) emit('metrics', `metrics at ${metrics.url}`, { url: metrics.url });
  const status = startStatus(node, everyMs, emit);
  const signal = await signalled;
  clearInterval(status);
  emit('stop', `${signal}: stopping`, { signal });
  await metrics?.close();
  await node.stop();
}

/**
 * Every `everyMs`: live peers, sessions, packets per second (in and out) since the last line, seq;
 * with discv4, its table too.
 */
function startStatus(node: Discv5, everyMs: number, emit: Emit): ReturnType<typeof setInterval> {
  // One snapshot per line: packets in and out, and the sessions.
  const read = () => {
    const m = node.metrics();
    let sent = 0;
    // discv5 packets and discv4 ones (`in.datagrams` counts both).
    for (const [k, n] of Object.entries(m))
      if (k.startsWith('out.packet.') || (k.startsWith('discv4.out.') && k !== 'discv4.out.bytes')) sent += n;
    return { at: performance.now(), in: m['in.datagrams'] ?? 0, out: sent, sessions: m['state.sessions'] ?? 0 };
  };
  let last = read();
  return setInterval(() => {
    const now = read();
    const seconds = Math.max((now.at - last.at) / 1000, 1e-3);
    const pps = { in: (now.in - last.in) / seconds, out: (now.out - last.out) / seconds };
    last = now;
    const table = node.table();
    const live = table.filter((e) => e.live).length;
    const { sessions } = now;
    const seq = node.localEnr.seq.toString();
    const v4 = node.discv4?.table;
    const v4Text = v4 === undefined ? '' : `, v4 table ${v4.size} (${v4.liveSize} live)`;
    emit(
      'status',
      `status: ${live} live peers (${table.length} in table), ${sessions} sessions, ${pps.in.toFixed(1)} packets/s in, ${pps.out.toFixed(1)} out, seq ${seq}${v4Text}`,
      {
        livePeers: live,
        tableEntries: table.length,
        sessions,
        packetsPerSecondIn: Number(pps.in.toFixed(2)),
        packetsPerSecondOut: Number(pps.out.toFixed(2)),
        seq,
        ...(v4 === undefined ? {} : { v4TableEntries: v4.size, v4LivePeers: v4.liveSize }),
      },
    );
  }, everyMs);
}
