/**
 * ethereumjs DPT nodes (@ethereumjs/devp2p 10, an independent Discovery v4 implementation) on
 * 127.0.0.1 with ephemeral UDP ports, for discv4 interop specs. All N nodes live in one child
 * process (ethereumjs-dpt-child.mjs, plain ESM) driven over JSON lines, so the same code runs under
 * this process's Node or another (`nodeBin`); devp2p 10 needs Node >= 18 and runs on Node 20.
 *
 * The child streams what each node received ('recv', decoded), sent ('send'), could not decode
 * ('drop'), added to or removed from its table ('peer:added', 'peer:removed', 'peer:new') and
 * DPT's own errors ('error'); `events`, `known` and `until` read that stream, `peers` asks the
 * table itself. Every command and wait has a deadline. The child ends on `stop()`, when this
 * process exits, and by itself when its stdin closes; it is unref'd, so a harness left running
 * does not keep a test process alive.
 *
 * How DPT behaves on the wire (devp2p 10.0.0's source, checked over loopback): it answers PING and
 * FINDNODE from anyone, with no bond; answers FINDNODE with one NEIGHBORS of up to 16 nodes (more
 * than 1280 bytes from 15 or 16 on), empty when it knows none, "closest" by XOR of the raw 64-byte
 * keys; drops ENRREQUEST and every type above 4 ('drop'/'error' events); never checks expirations
 * but drops a packet whose expiration is not exactly 4 bytes; sends PING/PONG without enr-seq and
 * expirations 60 s ahead; adds the sender of a PING by the PING's `from` endpoint, not the packet's
 * source; matches a PONG to its PING by hash only (any signer, any source); bans a peer whose PING
 * went unanswered for 5 minutes; and, once a NEIGHBORS names it, keeps itself in its own table.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { keccak_256 } from '@noble/hashes/sha3.js';

const CHILD = fileURLToPath(new URL('./ethereumjs-dpt-child.mjs', import.meta.url));
const HOST = '127.0.0.1';

export interface DptOptions {
  /** DPT's refreshInterval: each tenth of it, FINDNODE (random target) to a tenth of the table. Default 5000. */
  refreshIntervalMs?: number;
  /** DPT's request timeout (a PING without PONG fails, and bans the peer for 5 minutes). Default 2000. */
  timeoutMs?: number;
  /** DPT's shouldFindNeighbours: look up and add nodes (from NEIGHBORS and from PINGs of unknown nodes). Default true. */
  findNeighbours?: boolean;
  /** DPT's onlyConfirmed: answer and query only bootstrapped (confirmed) peers. Default false. */
  onlyConfirmed?: boolean;
  /** Each node advertises TCP port = its UDP port (true, the default) or none (empty in PING's `from`, 0 in its enode). */
  advertiseTcp?: boolean;
  /** Private keys (64 hex) for nodes 0, 1, …; random for the rest. */
  privateKeys?: readonly string[];
  /** The Node.js binary for the child; default this process's. */
  nodeBin?: string;
  /** The deadline of each command (start, bootstrap, peers, …). Default 15000. */
  commandTimeoutMs?: number;
}

export interface DptNode {
  index: number;
  /** enode://<128 hex>@127.0.0.1:<tcp>, with ?discport=<udp> when the ports differ. */
  enode: string;
  /** keccak256(public key), as discv4 and discv5 name nodes. */
  nodeIdHex: string;
  /** The 64-byte public key X ‖ Y, as discv4 writes it and DPT names peers. */
  publicKeyHex: string;
  privateKeyHex: string;
  ip: string;
  udp: number;
  /** 0 when not advertised. */
  tcp: number;
}

export interface DptPeer {
  nodeIdHex: string;
  publicKeyHex: string;
  ip: string;
  udp: number;
  /** 0 when DPT has none. */
  tcp: number;
}

/** An endpoint as a packet carried it (null: the field was empty). */
export interface DptWireEndpoint {
  ip: string | null;
  udp: number | null;
  tcp: number | null;
}

/** A node to talk to: an enode URL, or an endpoint (tcp 0 or missing: none; the key is optional for DPT). */
export type DptTarget = string | { ip: string; udp: number; tcp?: number; publicKeyHex?: string };

interface RecvBase {
  event: 'recv';
  node: number;
  /** The datagram's source. */
  ip: string;
  port: number;
  size: number;
  /** The signer. */
  publicKeyHex: string;
  nodeIdHex: string;
}

export type DptRecv = RecvBase &
  (
    | { type: 'ping'; version: number; from: DptWireEndpoint; to: DptWireEndpoint; expiration: number }
    | { type: 'pong'; to: DptWireEndpoint; pingHash: string; expiration: number }
    | { type: 'findneighbours'; target: string; expiration: number }
    | {
        type: 'neighbours';
        nodes: (DptWireEndpoint & { publicKeyHex: string; nodeIdHex: string })[];
        expiration: number;
      }
  );

export type DptEvent =
  | DptRecv
  | { event: 'send'; node: number; ip: string; port: number; type: DptRecv['type']; hash: string }
  | { event: 'drop'; node: number; ip: string; port: number; size: number; packetType: number | null; reason: string }
  | { event: 'peer:added' | 'peer:removed' | 'peer:new'; node: number; peer: DptPeer }
  | { event: 'error'; node: number | null; message: string };

export interface DptHarness {
  readonly nodes: readonly DptNode[];
  /** The child's Node version. */
  readonly nodeVersion: string;
  /** Node i PINGs the target and, on its PONG, adds it and sends it FINDNODE (own id) as DPT.bootstrap does. Rejects without PONG. */
  bootstrap(i: number, target: DptTarget): Promise<DptPeer>;
  /** Node i PINGs the target; resolves with the PONG's signer (no table change). Rejects without PONG. */
  ping(i: number, target: DptTarget): Promise<DptPeer>;
  /** Node i sends FINDNODE (target: 128 hex, default its own key) without PINGing first; answers show as 'recv' events. */
  findNeighbours(i: number, target: DptTarget, targetKeyHex?: string): Promise<void>;
  /** Node i's table, as DPT reports it (it may hold node i itself). */
  peers(i: number): Promise<DptPeer[]>;
  /** Takes a peer (by public key) out of node i's table. */
  removePeer(i: number, publicKeyHex: string): Promise<void>;
  /** Runs one of node i's refresh ticks now (FINDNODE to the tenth of its table the tick selects). */
  refresh(i: number): Promise<void>;
  /** The events so far: node i's, or all. */
  events(i?: number): readonly DptEvent[];
  /** Node ids in node i's table by its peer:added/peer:removed events (node i's own id excluded). */
  known(i: number): ReadonlySet<string>;
  /** Resolves with check()'s first defined result, re-checked on every event; rejects at the deadline or when the child exits. */
  until<T>(what: string, check: () => T | undefined, timeoutMs?: number): Promise<T>;
  /** The child's last stderr lines (DEBUG=devp2p:* output goes there). */
  stderr(): readonly string[];
  /** Ends the child (bounded); idempotent. */
  stop(): Promise<void>;
}

const DEFAULTS = { refreshIntervalMs: 5000, timeoutMs: 2000, findNeighbours: true, onlyConfirmed: false };
const STDERR_LINES = 200;
const STOP_WAIT_MS = 5000;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** keccak256 of a hex public key, hex. */
export function nodeIdOf(publicKeyHex: string): string {
  return Buffer.from(keccak_256(Buffer.from(publicKeyHex, 'hex'))).toString('hex');
}

/** An enode URL's parts; throws on anything else. */
export function parseEnode(enode: string): { publicKeyHex: string; ip: string; tcp: number; udp: number } {
  const m = /^enode:\/\/([0-9a-fA-F]{128})@(\[[^\]]+\]|[^:/?]+):(\d+)(?:\?discport=(\d+))?$/.exec(enode);
  if (m === null) throw new Error(`not an enode URL: ${enode}`);
  const tcp = Number(m[3]);
  return {
    publicKeyHex: m[1]!.toLowerCase(),
    ip: m[2]!.replace(/^\[|\]$/g, ''),
    tcp,
    udp: m[4] === undefined ? tcp : Number(m[4]),
  };
}

export function enodeOf(publicKeyHex: string, ip: string, udp: number, tcp: number): string {
  return `enode://${publicKeyHex}@${ip}:${tcp}${tcp === udp ? '' : `?discport=${udp}`}`;
}

function wireTarget(t: DptTarget): { ip: string; udp: number; tcp: number; publicKeyHex?: string } {
  if (typeof t === 'string') return parseEnode(t);
  return { ip: t.ip, udp: t.udp, tcp: t.tcp ?? 0, ...(t.publicKeyHex ? { publicKeyHex: t.publicKeyHex } : {}) };
}

type Raw = Record<string, unknown>;
const withId = <T extends { publicKeyHex: string }>(p: T): T & { nodeIdHex: string } => ({
  ...p,
  nodeIdHex: nodeIdOf(p.publicKeyHex),
});

/** Adds node ids where the child gave public keys. */
function enrich(line: Raw): DptEvent {
  const e = line as unknown as DptEvent;
  if (e.event === 'recv') {
    const r = withId(e);
    if (r.type === 'neighbours') r.nodes = r.nodes.map(withId);
    return r;
  }
  if (e.event === 'peer:added' || e.event === 'peer:removed' || e.event === 'peer:new') {
    return { ...e, peer: withId(e.peer) };
  }
  return e;
}

/** Starts `n` DPT nodes on 127.0.0.1; the caller stops them (t.teardown(() => dpt.stop())). */
export async function startDpt(n: number, options: DptOptions = {}): Promise<DptHarness> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`);
  const o = { ...DEFAULTS, advertiseTcp: true, ...options };
  const commandTimeoutMs = o.commandTimeoutMs ?? 15_000;
  const child = spawn(o.nodeBin ?? process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);

  const events: DptEvent[] = [];
  const stderr: string[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const pokes = new Set<() => void>();
  const known = new Map<number, Set<string>>();
  let exit: string | undefined;
  let nodeVersion = '';
  let nextId = 1;
  const poke = () => {
    for (const f of [...pokes]) f();
  };
  const why = () => `${exit ?? 'running'}; stderr: ${stderr.slice(-5).join(' | ')}`;

  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Raw;
    try {
      line = JSON.parse(text) as Raw;
    } catch {
      stderr.push(`(stdout) ${text}`);
      return;
    }
    if (typeof line.id === 'number') {
      const p = pending.get(line.id);
      pending.delete(line.id);
      if (line.ok === true) p?.resolve(line.result);
      else p?.reject(new Error(`DPT child: ${String(line.error)}`));
    } else if (line.event === 'ready') {
      nodeVersion = String(line.nodeVersion);
    } else {
      const e = enrich(line);
      events.push(e);
      if (e.event === 'peer:added' || e.event === 'peer:removed') {
        const set = known.get(e.node) ?? new Set<string>();
        known.set(e.node, set);
        if (e.event === 'peer:added') set.add(e.peer.nodeIdHex);
        else set.delete(e.peer.nodeIdHex);
      }
    }
    poke();
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > STDERR_LINES) stderr.shift();
  });
  child.stdin!.on('error', () => {}); // EPIPE once the child is gone: its exit says so
  child.once('error', (err) => {
    exit ??= `spawn failed: ${err.message}`;
  });
  child.once('exit', (code, signal) => {
    exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
    running.delete(child);
    for (const p of pending.values()) p.reject(new Error(`DPT child ${why()}`));
    pending.clear();
    poke();
  });
  // Unref'd: the deadlines of pending commands and waits keep the process alive, the child does not.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();

  function request<T>(cmd: string, fields: Raw = {}, timeoutMs = commandTimeoutMs): Promise<T> {
    if (exit !== undefined) return Promise.reject(new Error(`DPT child ${why()}`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`DPT child: ${cmd} timed out after ${timeoutMs} ms (${why()})`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.stdin!.write(`${JSON.stringify({ id, cmd, ...fields })}\n`);
    });
  }

  function until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (err: Error | undefined, value?: T) => {
        clearTimeout(timer);
        pokes.delete(test);
        if (err === undefined) resolve(value as T);
        else reject(err);
      };
      const test = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          done(err as Error);
          return;
        }
        if (value !== undefined) done(undefined, value);
        else if (exit !== undefined) done(new Error(`DPT child ${why()} before ${what}`));
      };
      const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      pokes.add(test);
      test();
    });
  }

  let stopped: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopped ??= (async () => {
      if (exit === undefined) {
        await request('stop', {}, 2000).catch(() => {});
        child.stdin!.end();
        await until('the DPT child to exit', () => exit, STOP_WAIT_MS).catch(() => {
          child.kill('SIGKILL');
          return until('the DPT child to die', () => exit, STOP_WAIT_MS);
        });
      }
    })();
    return stopped;
  }

  type Started = { publicKeyHex: string; privateKeyHex: string; udpPort: number; tcpPort: number }[];
  let started: Started;
  try {
    started = await request<Started>('start', {
      n,
      options: {
        refreshIntervalMs: o.refreshIntervalMs,
        timeoutMs: o.timeoutMs,
        findNeighbours: o.findNeighbours,
        onlyConfirmed: o.onlyConfirmed,
        advertiseTcp: o.advertiseTcp,
        privateKeys: o.privateKeys ?? [],
      },
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes: DptNode[] = started.map((s, index) => ({
    index,
    enode: enodeOf(s.publicKeyHex, HOST, s.udpPort, s.tcpPort),
    nodeIdHex: nodeIdOf(s.publicKeyHex),
    publicKeyHex: s.publicKeyHex,
    privateKeyHex: s.privateKeyHex,
    ip: HOST,
    udp: s.udpPort,
    tcp: s.tcpPort,
  }));
  const node = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= nodes.length)
      throw new Error(`no DPT node ${i} (0..${nodes.length - 1})`);
    return i;
  };
  // A PING waits up to DPT's timeout for its PONG.
  const pingDeadline = Math.max(commandTimeoutMs, o.timeoutMs + 5000);
  const toPeer = (p: Omit<DptPeer, 'nodeIdHex'>): DptPeer => withId(p);

  return {
    nodes,
    get nodeVersion() {
      return nodeVersion;
    },
    async bootstrap(i, target) {
      return toPeer(await request('bootstrap', { node: node(i), target: wireTarget(target) }, pingDeadline));
    },
    async ping(i, target) {
      return toPeer(await request('ping', { node: node(i), target: wireTarget(target) }, pingDeadline));
    },
    async findNeighbours(i, target, targetKeyHex) {
      await request('findNeighbours', { node: node(i), target: wireTarget(target), targetHex: targetKeyHex });
    },
    async peers(i) {
      return (await request<Omit<DptPeer, 'nodeIdHex'>[]>('peers', { node: node(i) })).map(toPeer);
    },
    async removePeer(i, publicKeyHex) {
      await request('removePeer', { node: node(i), publicKeyHex });
    },
    async refresh(i) {
      await request('refresh', { node: node(i) });
    },
    events(i) {
      return i === undefined ? events : events.filter((e) => e.node === i);
    },
    known(i) {
      const set = new Set(known.get(node(i)) ?? []);
      set.delete(nodes[i]!.nodeIdHex);
      return set;
    },
    until,
    stderr: () => stderr,
    stop,
  };
}
