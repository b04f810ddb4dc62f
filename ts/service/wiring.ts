/**
 * The wire side of a node, built once: the inbound gate, the session layer on the transport, the
 * request manager above it, the request server, and the dispatch of decrypted messages between
 * them. Kept out of the facade so that `Discv5` reads as its API.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { EnrDecoder } from '../enr/batch.js';
import type { Enr } from '../enr/enr.js';
import { isRequest, MessageType } from '../message/types.js';
import { PacketGate } from '../policy/gate.js';
import { RateLimiter } from '../policy/rate-limit.js';
import { RequestManager } from '../rpc/requests.js';
import { SessionLayer } from '../session/layer.js';
import type { InboundMessage, NodeAddress } from '../session/types.js';
import type { Transport } from '../transport/types.js';
import { fromHex, idKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import { detach } from '../util/safe.js';
import type { Discv5Config } from './config.js';
import { RequestServer } from './serve.js';
import type { Discv5Options } from './types.js';

export interface WiringDeps {
  crypto: Crypto;
  config: Readonly<Discv5Config>;
  privateKey: Uint8Array;
  nodeId: Uint8Array;
  transport: Transport;
  counters: Counters;
  decoder: EnrDecoder;
  /** Whether a routing-table entry has this IP. */
  knownIp: (ip: string) => boolean;
  localEnr: () => Enr;
  findEnr: (nodeId: Uint8Array) => Enr | undefined;
  /** The record-intake check for records in NODES answers. */
  admit: (enr: Enr, sender: string) => boolean;
  isRunning: () => boolean;
  nodesAt: (distance: number, requester: NodeAddress) => Enr[];
  onTalkRequest: (protocol: Uint8Array, request: Uint8Array, from: NodeAddress) => void;
  onPing: (from: NodeAddress, enrSeq: bigint) => void;
}

export interface Wiring {
  gate: PacketGate;
  session: SessionLayer;
  requests: RequestManager;
  server: RequestServer;
  /** Hands a decrypted message to the request manager (responses) or the server (requests). */
  dispatch: (m: InboundMessage) => void;
}

export function wire(d: WiringDeps): Wiring {
  const { config, counters, crypto, decoder } = d;
  // Sources we wait on, and the nodes of our table, are never auto-banned and skip the per-IP
  // limits: spoofed junk "from" them must not cut us off from them (review H4).
  const gate = new PacketGate(config, (ip) => requests.expecting(ip) || d.knownIp(ip));
  const session = new SessionLayer({
    crypto,
    transport: d.transport,
    privateKey: d.privateKey,
    nodeId: d.nodeId,
    localEnr: d.localEnr,
    findEnr: d.findEnr,
    counters,
    config,
    gate,
  });
  const requests: RequestManager = new RequestManager({ session, crypto, decoder, counters, config, admit: d.admit });
  const server = new RequestServer({
    session,
    counters,
    localEnr: d.localEnr,
    nodesAt: d.nodesAt,
    maxNodes: config.maxNodesPerFindNode,
    recordBytes: config.nodesMessageRecordBytes,
    isRunning: d.isRunning,
    onTalkRequest: d.onTalkRequest,
    onPing: d.onPing,
  });
  const perRequester = new RateLimiter(
    {
      rate: config.requestsPerNodePerSecond,
      burst: config.requestsPerNodeBurst || config.requestsPerNodePerSecond,
    },
    config.rateLimitMaxKeys,
  );
  const dispatch = (m: InboundMessage): void => {
    if (!isRequest(m.message)) {
      requests.handleResponse(m);
      return;
    }
    if (config.requestsPerNodePerSecond > 0 && !perRequester.take(idKey(m.from.nodeId))) {
      counters.inc('drop.request-rate');
      return;
    }
    switch (m.message.type) {
      case MessageType.PING:
        server.ping(m.from, m.message);
        break;
      case MessageType.FINDNODE:
        server.findNode(m.from, m.message);
        break;
      case MessageType.TALKREQ:
        detach(server.talk(m.from, m.message, m.enr), counters, 'talk');
        break;
    }
  };
  return { gate, session, requests, server, dispatch };
}

/** A node id from bytes or hex, checked: 32 bytes. */
export function nodeIdOf(input: Uint8Array | string): Uint8Array {
  let id: Uint8Array;
  try {
    id = typeof input === 'string' ? fromHex(input) : input;
  } catch {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'a node id is 32 bytes or 64 hex digits');
  }
  if (!(id instanceof Uint8Array) || id.length !== 32) {
    throw new Discv5Error(ErrorCode.INVALID_LENGTH, 'a node id is 32 bytes or 64 hex digits');
  }
  return id;
}

/** UDP addresses to bind: those given, else IPv4 on every interface with a free port. */
export function bindOf(options: Pick<Discv5Options, 'bind'>) {
  const { ip4, ip6 } = options.bind ?? {};
  if (ip4 === undefined && ip6 === undefined) return { ip4: { ip: '0.0.0.0', port: 0 } };
  return { ...(ip4 ? { ip4 } : {}), ...(ip6 ? { ip6 } : {}) };
}
