/**
 * A hostile-peer harness on the in-memory network (issue 11). Every node here has a public address
 * (documentation ranges 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, and other public
 * ranges where one /24 per node is needed), so that every limit applies: loopback is exempt from
 * the gate, the bans and the budgets, and LAN addresses from the subnet limits.
 *
 * - `honestNetwork`: real nodes, bootstrapped from the first, waited on until their tables hold live
 *   entries (no fixed sleeps);
 * - `HostilePeer`: a bare session layer at an address of our choosing that answers PING with any
 *   PONG, FINDNODE with any records (raw bytes), and can ping a node itself (inbound identities);
 * - `signRaw` / `mineKey`: correctly signed records with arbitrary raw values, at a chosen
 *   log-distance from an id (a NODES answer must match the distances asked);
 * - `spoof`: a datagram delivered "from" any address (the network routes it with a forged source);
 * - `DualTransport`: one node bound on IPv4 and IPv6 at once;
 * - `watchUnhandled`: what escaped during one test, for a failure message that names it.
 */
import { randomFillSync } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { type EnrEntries, encodeEntries, signRecord } from '../../ts/enr/create.js';
import {
  Discv5,
  type Discv5Config,
  type Discv5Options,
  Enr,
  MemoryNetwork,
  type MemoryTransport,
} from '../../ts/index.js';
import { logDistance } from '../../ts/kademlia/distance.js';
import { encodeMessage } from '../../ts/message/codec.js';
import { type Message, MessageType } from '../../ts/message/types.js';
import { decodePacket } from '../../ts/packet/decode.js';
import { packNodes } from '../../ts/service/nodes.js';
import { DEFAULT_SESSION_CONFIG } from '../../ts/session/config.js';
import { SessionLayer } from '../../ts/session/layer.js';
import type { NodeAddress, NodeContact } from '../../ts/session/types.js';
import type { PacketHandler, SocketAddress, Transport } from '../../ts/transport/types.js';
import { Counters } from '../../ts/util/metrics.js';
import { untilEveryoneLive } from './network.js';
import { envCrypto as c, waitFor } from './nodes.js';

/**
 * Settings for nodes in hostile specs: fast maintenance so that entries become live in seconds, and
 * generous request timeouts (these specs check behaviour, not latency; CI shares 2 cores). The gate,
 * bans, budgets and subnet limits keep their defaults: that is what is under test.
 */
export const HOSTILE_CONFIG: Partial<Discv5Config> = {
  requestTimeoutMs: 2_000,
  revalidateNewIntervalMs: 100,
  revalidateNewBatch: 8,
  inboundPingDelayMs: 50,
  refreshIntervalMs: 0,
};

/** A public IPv4 address in its own /24 for each i < 65,536 (45.0.0.0/8 is ordinary unicast space). */
export function publicV4(i: number): string {
  return `45.${(i >> 8) & 255}.${i & 255}.1`;
}

/**
 * A public IPv6 address in its own /64 (and /48) for each i < 65,535, in canonical text (the
 * in-memory network routes by text, and records carry the canonical form: never a `:0:` group).
 */
export function publicV6(i: number): string {
  return `2001:db8:${(i + 1).toString(16)}::1`;
}

/** Resolves after the network has delivered what was sent so far (latency 0: one event-loop turn). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** What escaped (unhandled rejections, uncaught exceptions) while a test ran. */
/**
 * One hostile-network test's frame: a fresh in-memory network closed after it, a time limit, and a
 * check that nothing escaped to the process while it ran (failing with what escaped).
 */
export function hostile(
  body: (t: ExecutionContext, network: MemoryNetwork) => Promise<void>,
  timeoutMs: number,
): (t: ExecutionContext) => Promise<void> {
  return async (t) => {
    t.timeout(timeoutMs);
    const escaped = watchUnhandled(t);
    const network = new MemoryNetwork();
    t.teardown(() => network.close());
    await body(t, network);
    escaped.assertNone();
  };
}

export function watchUnhandled(t: ExecutionContext): { list: string[]; assertNone(): void } {
  const list: string[] = [];
  const onRejection = (reason: unknown) =>
    list.push(`unhandled rejection: ${reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)}`);
  const onException = (err: Error) => list.push(`uncaught exception: ${err.name}: ${err.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtExceptionMonitor', onException);
  t.teardown(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtExceptionMonitor', onException);
  });
  return {
    list,
    assertNone() {
      t.deepEqual(list, [], `remote input made something escape to the process (Node would have exited): ${list[0]}`);
    },
  };
}

// --- records ----------------------------------------------------------------------------------

function idOf(privateKey: Uint8Array): Uint8Array {
  return c.nodeIdFromPublicKey(c.publicKeyFromPrivate(privateKey)) as Uint8Array;
}

/** A private key whose node id lies at log-distance `distance` from `center` (256..~245 are cheap). */
export function mineKey(center: Uint8Array, distance: number): Uint8Array {
  for (;;) {
    const key = c.generatePrivateKey();
    if (logDistance(center, idOf(key)) === distance) return key;
  }
}

/**
 * A correctly signed record: `entries` as the library encodes them, then `raw` values exactly as
 * given (each an RLP item's encoding, so anything at all: a 3-byte eth2, a list where bytes belong).
 */
export function signRaw(
  privateKey: Uint8Array,
  entries: EnrEntries,
  raw: Record<string, Uint8Array> = {},
  seq = 1n,
): Enr {
  const pairs = new Map<string, Uint8Array>();
  for (const [k, v] of encodeEntries(entries)) if (v !== null) pairs.set(k, v);
  for (const [k, v] of Object.entries(raw)) pairs.set(k, v);
  return Enr.fromParts(signRecord(c, privateKey, seq, pairs), c, true);
}

// --- transports -------------------------------------------------------------------------------

/** One node on both families of a MemoryNetwork: sends go out on the socket of the target's family. */
export class DualTransport implements Transport {
  readonly #v4: MemoryTransport;
  readonly #v6: MemoryTransport;

  constructor(network: MemoryNetwork, ip4: string, ip6: string) {
    this.#v4 = network.transport(ip4);
    this.#v6 = network.transport(ip6);
  }

  get addresses(): readonly SocketAddress[] {
    return [...this.#v4.addresses, ...this.#v6.addresses];
  }

  async start(): Promise<void> {
    await this.#v4.start();
    await this.#v6.start();
  }

  send(data: Uint8Array, to: SocketAddress): void {
    (to.family === 6 ? this.#v6 : this.#v4).send(data, to);
  }

  onPacket(handler: PacketHandler): void {
    this.#v4.onPacket(handler);
    this.#v6.onPacket(handler);
  }

  onError(handler: (err: Error) => void): void {
    this.#v4.onError(handler);
    this.#v6.onError(handler);
  }

  async stop(): Promise<void> {
    await this.#v4.stop();
    await this.#v6.stop();
  }
}

/** Delivers `data` to `to` as if `from` had sent it (UDP sources can be forged). */
export function spoof(network: MemoryNetwork, data: Uint8Array, from: SocketAddress, to: SocketAddress): void {
  network.route(data, from, to);
}

/** The flag of a packet sent to `dest` (0 message, 1 WHOAREYOU, 2 handshake), or undefined if it is not one. */
export function packetFlag(data: Uint8Array, dest: Uint8Array): number | undefined {
  const p = decodePacket(c, dest.subarray(0, 16), data);
  return typeof p === 'string' ? undefined : p.flag;
}

/** The 12-byte nonce in the header of a packet sent to `dest`. */
export function packetNonce(data: Uint8Array, dest: Uint8Array): Uint8Array | undefined {
  const p = decodePacket(c, dest.subarray(0, 16), data);
  return typeof p === 'string' ? undefined : Uint8Array.from(p.nonce);
}

// --- honest nodes -----------------------------------------------------------------------------

export function addressOf(node: Discv5 | HostilePeer, family?: 4 | 6): SocketAddress {
  const a = node.addresses.find((x) => family === undefined || x.family === family);
  if (a === undefined) throw new Error(`no IPv${family ?? ''} address`);
  return a;
}

/** A real node at `ip` (or on `transport`), started, stopped at the end of the test. */
export async function honestNode(
  t: ExecutionContext,
  network: MemoryNetwork,
  ip: string | Transport,
  options: Partial<Discv5Options> & { entries?: EnrEntries } = {},
): Promise<Discv5> {
  const privateKey = options.privateKey ?? c.generatePrivateKey();
  const transport = typeof ip === 'string' ? network.transport(ip) : ip;
  let enr = options.enr;
  if (enr === undefined && options.entries !== undefined) {
    // A record with extra entries must name the address itself (the node makes one only without).
    const a = (transport as MemoryTransport).address;
    enr = Enr.create(privateKey, { ip: a.ip, udp: a.port, ...options.entries }, c);
  }
  const node = await Discv5.create({
    ...options,
    privateKey,
    crypto: c,
    transport,
    ...(enr !== undefined ? { enr } : {}),
    config: { ...HOSTILE_CONFIG, ...options.config },
  });
  await node.start();
  t.teardown(() => node.stop());
  return node;
}

/**
 * Until `node` holds `count` live entries: lookups (a random one each round, since one lookup in a
 * small network may not reach everyone) and the maintenance pings that make what they found live.
 */
export async function untilLive(node: Discv5, count: number, timeoutMs = 60_000): Promise<void> {
  const live = () => node.table().filter((e) => e.live).length;
  const deadline = Date.now() + timeoutMs;
  while (live() < count) {
    if (Date.now() > deadline) throw new Error(`${live()} live entries after ${timeoutMs} ms, wanted ${count}`);
    await node.findRandomNode();
    await waitFor(() => live() >= count, 2_000).catch(() => {});
  }
}

/**
 * Nodes that know each other: each learns the first, looks up itself, then waits (bounded) until
 * every node holds a live entry and is live in some other node's table.
 */
export async function joinNetwork(nodes: Discv5[], timeoutMs = 60_000): Promise<void> {
  const [boot, ...rest] = nodes as [Discv5, ...Discv5[]];
  for (const n of rest) n.addEnr(boot.localEnr);
  await Promise.all(rest.map((n) => n.findNode(n.nodeId)));
  await Promise.all(nodes.map((n) => n.findNode(n.nodeId)));
  await untilEveryoneLive(nodes, timeoutMs);
}

export async function honestNetwork(
  t: ExecutionContext,
  network: MemoryNetwork,
  count: number,
  options: {
    ip?: (i: number) => string | Transport;
    config?: Partial<Discv5Config>;
    entries?: (i: number) => EnrEntries | undefined;
  } = {},
): Promise<Discv5[]> {
  const nodes: Discv5[] = [];
  for (let i = 0; i < count; i++) {
    const entries = options.entries?.(i);
    nodes.push(
      await honestNode(t, network, (options.ip ?? publicV4)(i), {
        ...(options.config ? { config: options.config } : {}),
        ...(entries ? { entries } : {}),
      }),
    );
  }
  await joinNetwork(nodes);
  return nodes;
}

// --- hostile peers ----------------------------------------------------------------------------

export interface HostileBehaviour {
  /** Records (encoded) to answer FINDNODE with, besides its own record for distance 0. */
  serve?: (distances: number[], from: NodeAddress) => Uint8Array[];
  /** The address a PONG reports (default: where the PING came from). */
  pong?: (from: NodeAddress) => { ip: string; port: number };
  /** The enr-seq a PONG reports (default: its record's). */
  pongSeq?: () => bigint;
}

/**
 * A peer built on a bare session layer: it completes handshakes like any node, and answers what it
 * is asked as `behaviour` says. Its record is signed at its real address unless `enr` says otherwise.
 */
export class HostilePeer {
  readonly privateKey: Uint8Array;
  readonly nodeId: Uint8Array;
  readonly transport: Transport;
  readonly session: SessionLayer;
  enr: Enr;
  behaviour: HostileBehaviour;
  /** Requests it received, by type. */
  readonly asked = { ping: 0, findnode: 0, talk: 0 };
  readonly #waiting = new Map<string, (m: Message) => void>();

  private constructor(transport: Transport, privateKey: Uint8Array, enr: Enr, behaviour: HostileBehaviour) {
    this.transport = transport;
    this.privateKey = privateKey;
    this.nodeId = idOf(privateKey);
    this.enr = enr;
    this.behaviour = behaviour;
    this.session = new SessionLayer({
      crypto: c,
      transport,
      privateKey,
      nodeId: this.nodeId,
      localEnr: () => this.enr,
      findEnr: () => undefined,
      counters: new Counters(),
      config: DEFAULT_SESSION_CONFIG,
    });
    this.session.on('message', (m) => this.#onMessage(m.from, m.message));
  }

  static async start(
    t: ExecutionContext,
    network: MemoryNetwork,
    ip: string,
    behaviour: HostileBehaviour = {},
    options: { privateKey?: Uint8Array; entries?: EnrEntries; raw?: Record<string, Uint8Array> } = {},
  ): Promise<HostilePeer> {
    const transport = network.transport(ip);
    const privateKey = options.privateKey ?? c.generatePrivateKey();
    const a = transport.address;
    const where = a.family === 4 ? { ip: a.ip, udp: a.port } : { ip6: a.ip, udp6: a.port };
    const enr = signRaw(privateKey, { ...where, ...options.entries }, options.raw);
    const peer = new HostilePeer(transport, privateKey, enr, behaviour);
    await transport.start();
    t.teardown(() => transport.stop());
    return peer;
  }

  get addresses(): readonly SocketAddress[] {
    return this.transport.addresses;
  }

  /** Re-signs its record (seq + 1) with `entries` changed, as a node moving would. */
  move(entries: EnrEntries): Enr {
    this.enr = this.enr.update(this.privateKey, entries);
    return this.enr;
  }

  #reply(to: NodeAddress, m: Message): void {
    this.session.sendResponse(to, encodeMessage(m));
  }

  #onMessage(from: NodeAddress, m: Message): void {
    switch (m.type) {
      case MessageType.PING: {
        this.asked.ping++;
        const seen = this.behaviour.pong?.(from) ?? { ip: from.socket.ip, port: from.socket.port };
        const enrSeq = this.behaviour.pongSeq?.() ?? this.enr.seq;
        this.#reply(from, { type: MessageType.PONG, requestId: m.requestId, enrSeq, ...seen });
        return;
      }
      case MessageType.FINDNODE: {
        this.asked.findnode++;
        const records: Uint8Array[] = m.distances.includes(0) ? [this.enr.encoded] : [];
        records.push(...(this.behaviour.serve?.(m.distances, from) ?? []).slice(0, 16));
        for (const message of packNodes(m.requestId, records, 1_000)) this.#reply(from, message);
        return;
      }
      case MessageType.TALKREQ:
        this.asked.talk++;
        this.#reply(from, { type: MessageType.TALKRESP, requestId: m.requestId, response: new Uint8Array(0) });
        return;
      default: {
        const waiter = this.#waiting.get(Buffer.from(m.requestId).toString('hex'));
        waiter?.(m);
      }
    }
  }

  /** PINGs `node` (a handshake first, as an inbound identity): true once the PONG arrives. */
  async ping(node: Discv5, timeoutMs = 10_000): Promise<boolean> {
    const requestId = randomFillSync(new Uint8Array(8));
    const key = Buffer.from(requestId).toString('hex');
    const answered = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        resolve(false);
      }, timeoutMs);
      this.#waiting.set(key, () => {
        clearTimeout(timer);
        this.#waiting.delete(key);
        resolve(true);
      });
    });
    const family = this.transport.addresses[0]?.family;
    const contact: NodeContact = {
      nodeId: node.nodeId,
      publicKey: node.localEnr.publicKey,
      socket: addressOf(node, family),
      enr: node.localEnr,
    };
    this.session.sendRequest(contact, encodeMessage({ type: MessageType.PING, requestId, enrSeq: this.enr.seq }));
    return answered;
  }
}

/** Records in `pool` whose ids lie at one of `distances` from `center`. */
export function atDistances(pool: readonly Enr[], center: Uint8Array, distances: number[]): Uint8Array[] {
  return pool.filter((r) => distances.includes(logDistance(center, r.nodeId))).map((r) => r.encoded);
}

/**
 * A pool of records built by `make(key)` for each of `perDistance` keys mined at log-distances 256
 * down to 253 from `center`: whatever distances a lookup asks near the top, some are served.
 */
export function poolAround(center: Uint8Array, perDistance: number, make: (key: Uint8Array, n: number) => Enr): Enr[] {
  const out: Enr[] = [];
  let n = 0;
  for (const d of [256, 255, 254, 253]) for (let i = 0; i < perDistance; i++) out.push(make(mineKey(center, d), n++));
  return out;
}

export { waitFor };
