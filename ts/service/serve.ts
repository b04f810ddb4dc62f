/**
 * Answering other nodes (spec §6): PING with the address we saw, FINDNODE with up to 16 live
 * records (distance 0 is our own record) packed ~1,000 bytes per NODES message, TALKREQ with the
 * registered handler or an empty TALKRESP.
 */
import type { Enr } from '../enr/enr.js';
import { encodeMessage } from '../message/codec.js';
import {
  type FindNodeMessage,
  type Message,
  MessageType,
  type PingMessage,
  type TalkReqMessage,
} from '../message/types.js';
import type { SessionLayer } from '../session/layer.js';
import type { NodeAddress } from '../session/types.js';
import { bytesKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import { callbackFailed } from '../util/safe.js';
import { packNodes } from './nodes.js';
import type { TalkHandler } from './types.js';

/** Plaintext room in one ordinary packet (1280 − 87), less TALKRESP's own framing. */
export const MAX_TALK_PAYLOAD = 1_150;
/** TALK handlers running at once: a stream of TALKREQs to a slow handler must not pile up promises. */
export const MAX_TALK_IN_FLIGHT = 256;

const utf8 = new TextEncoder();

function withoutZone(ip: string): string {
  const zone = ip.indexOf('%');
  return zone < 0 ? ip : ip.slice(0, zone);
}

/** A TALKREQ's protocol as bytes, checked with its payload to fit one packet. */
export function talkProtocolBytes(protocol: Uint8Array | string, payload: Uint8Array): Uint8Array {
  const bytes = typeof protocol === 'string' ? utf8.encode(protocol) : protocol;
  if (bytes.length + payload.length > MAX_TALK_PAYLOAD) {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      `protocol and payload must fit one packet (${MAX_TALK_PAYLOAD} bytes)`,
    );
  }
  return bytes;
}

/** Handlers are found by the protocol's bytes; a string names its UTF-8 bytes, as on the wire. */
function protocolKey(protocol: Uint8Array | string): string {
  return bytesKey(typeof protocol === 'string' ? utf8.encode(protocol) : protocol);
}

export interface ServerDeps {
  session: SessionLayer;
  counters: Counters;
  localEnr: () => Enr;
  /** Records served for a log-distance 1..256 (live ones only). */
  nodesAt: (distance: number, requester: NodeAddress) => Enr[];
  maxNodes: number;
  recordBytes: number;
  isRunning: () => boolean;
  onTalkRequest: (protocol: Uint8Array, request: Uint8Array, from: NodeAddress) => void;
  /** A PING told us the requester's record seq (spec §6.2: fetch a newer record). */
  onPing: (from: NodeAddress, enrSeq: bigint) => void;
}

export class RequestServer {
  readonly #d: ServerDeps;
  readonly #talk = new Map<string, TalkHandler>();
  #talkInFlight = 0;

  constructor(deps: ServerDeps) {
    this.#d = deps;
  }

  register(protocol: Uint8Array | string, handler: TalkHandler): void {
    this.#talk.set(protocolKey(protocol), handler);
  }

  unregister(protocol: Uint8Array | string): void {
    this.#talk.delete(protocolKey(protocol));
  }

  #respond(to: NodeAddress, message: Message): void {
    this.#d.counters.inc(`out.response.${message.type}`);
    this.#d.session.sendResponse(to, encodeMessage(message));
  }

  ping(from: NodeAddress, ping: PingMessage): void {
    this.#respond(from, {
      type: MessageType.PONG,
      requestId: ping.requestId,
      enrSeq: this.#d.localEnr().seq,
      // A link-local source carries its zone (fe80::1%eth0); the PONG names the address alone (review L10).
      ip: withoutZone(from.socket.ip),
      port: from.socket.port,
    });
    this.#d.onPing(from, ping.enrSeq);
  }

  findNode(from: NodeAddress, req: FindNodeMessage): void {
    const records: Uint8Array[] = [];
    const seen = new Set<number>();
    for (const d of req.distances) {
      if (seen.has(d) || records.length >= this.#d.maxNodes) continue;
      seen.add(d);
      const found = d === 0 ? [this.#d.localEnr()] : this.#d.nodesAt(d, from);
      for (const r of found) {
        if (records.length >= this.#d.maxNodes) break;
        records.push(r.encoded);
      }
    }
    for (const m of packNodes(req.requestId, records, this.#d.recordBytes)) this.#respond(from, m);
  }

  /** Answers a TALKREQ; never rejects (a failing handler is counted and answered with an empty TALKRESP). */
  async talk(from: NodeAddress, req: TalkReqMessage, enr: Enr | undefined): Promise<void> {
    this.#d.onTalkRequest(req.protocol, req.request, from);
    const handler = this.#talk.get(bytesKey(req.protocol));
    let response: Uint8Array = new Uint8Array(0);
    if (handler !== undefined) {
      if (this.#talkInFlight >= MAX_TALK_IN_FLIGHT) {
        this.#d.counters.inc('drop.talk-busy');
        return; // the requester times out, as it would with a node that is too busy
      }
      this.#talkInFlight++;
      try {
        response = await handler(req.request, from, enr);
      } catch (err) {
        callbackFailed(this.#d.counters, 'talkHandler', err);
        response = new Uint8Array(0);
      } finally {
        this.#talkInFlight--;
      }
      if (!(response instanceof Uint8Array) || response.length > MAX_TALK_PAYLOAD) {
        this.#d.counters.inc('talk.response-too-large');
        response = new Uint8Array(0);
      }
    }
    if (this.#d.isRunning()) this.#respond(from, { type: MessageType.TALKRESP, requestId: req.requestId, response });
  }
}
