/**
 * The one record-intake check (spec §9; go-ethereum's relay-IP rule): wherever a record enters
 * (NODES answers, handshakes, `addEnr`, lookups, the crawler), this decides whether we can and may
 * send to it, and where. A record we cannot reach (no endpoint in a family we bind), one whose
 * address we may not dial on a peer's word (loopback or LAN named by a host on the internet,
 * unspecified, multicast or reserved), or one with port 0 (or a privileged port, when a peer relays
 * it) is refused with a reason the caller counts, never thrown: one such record must not abort a
 * lookup, and a peer must not be able to point our traffic at our own LAN.
 */
import type { Endpoint } from '../enr/types.js';
import type { IpFamily } from '../transport/types.js';
import { dialable, relayable } from './ip-class.js';

/** Why a record was refused (counted as `drop.record-<reason>`). */
export type IntakeRefusal = 'no-endpoint' | 'not-relayable' | 'port';

export interface IntakeContext {
  /** Address families this node binds. */
  families: ReadonlySet<IpFamily>;
  /** The IP of the peer that handed us the record; none when the application gave it. */
  sender?: string | undefined;
}

/** What the check needs of a record: an `Enr`, or a discv4 node. */
export interface Reachable {
  endpoint4(): Endpoint | undefined;
  endpoint6(): Endpoint | undefined;
}

/** Where to send to a record: its endpoint in a family we bind, IPv4 first. */
export type IntakeResult = { ok: true; endpoint: Endpoint; family: IpFamily } | { ok: false; reason: IntakeRefusal };

/** Ports at or below this are refused in records a peer relays (as go-ethereum does): nodes don't listen there. */
const PRIVILEGED_PORT_MAX = 1024;

/** Whether `ip` may be dialled on the word of a peer at `sender` (no sender: the application's own word). */
function mayDial(ip: string, sender: string | undefined): boolean {
  return sender === undefined ? dialable(ip) : relayable(ip, sender);
}

function check(ep: Endpoint | undefined, ctx: IntakeContext): Endpoint | IntakeRefusal {
  if (ep === undefined) return 'no-endpoint';
  if (!mayDial(ep.ip, ctx.sender)) return 'not-relayable';
  if (ep.port === 0 || (ctx.sender !== undefined && ep.port <= PRIVILEGED_PORT_MAX)) return 'port';
  return ep;
}

/**
 * The endpoint to use for `enr`, or why there is none. A dual-stack record whose IPv4 endpoint is
 * refused is still reachable through a usable IPv6 one, and the reverse.
 */
export function admitRecord(enr: Reachable, ctx: IntakeContext): IntakeResult {
  let reason: IntakeRefusal = 'no-endpoint';
  for (const family of [4, 6] as const) {
    if (!ctx.families.has(family)) continue;
    const r = check(family === 4 ? enr.endpoint4() : enr.endpoint6(), ctx);
    if (typeof r !== 'string') return { ok: true, endpoint: r, family };
    if (r !== 'no-endpoint') reason = r;
  }
  return { ok: false, reason };
}
