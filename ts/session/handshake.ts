/**
 * The cryptographic halves of the handshake (spec §4.1 steps 3 and 4), without state: the layer
 * finds the call or the challenge, these compute, the layer installs what comes out.
 */
import type { Crypto } from '../crypto/crypto.js';
import { Enr } from '../enr/enr.js';
import { encodeHandshakePacket } from '../packet/encode.js';
import type { HandshakePacket } from '../packet/types.js';
import { bytesEqual } from '../util/bytes.js';
import type { Challenge } from './challenges.js';
import { Session } from './session.js';
import type { NodeAddress, NodeContact } from './types.js';

export interface Identity {
  crypto: Crypto;
  privateKey: Uint8Array;
  nodeId: Uint8Array;
}

/**
 * Step 3, the initiator: a session (not yet proven) and the handshake packet carrying `plaintext`;
 * null if the peer's public key is invalid. `record` is our record when the WHOAREYOU's enr-seq is
 * older than ours.
 */
export function answerChallenge(
  me: Identity,
  contact: NodeContact,
  challengeData: Uint8Array,
  record: Uint8Array | null,
  plaintext: Uint8Array,
  expiresAt: number,
): { session: Session; packet: Uint8Array } | null {
  const { crypto } = me;
  const init = crypto.handshakeInitiate(me.privateKey, contact.publicKey, challengeData, me.nodeId, contact.nodeId);
  if (init === null) return null;
  const peer: NodeAddress = { nodeId: contact.nodeId, socket: contact.socket };
  const session = new Session(peer, init.initiatorKey, init.recipientKey, contact.enr, expiresAt, false);
  const packet = encodeHandshakePacket(
    crypto,
    contact.nodeId,
    me.nodeId,
    session.nextNonce(),
    init.idSignature,
    init.ephemeralPublicKey,
    record,
    init.initiatorKey,
    plaintext,
  );
  return { session, packet };
}

/** Why an inbound handshake failed, and whether the failure proves its source (then it counts toward a ban). */
export interface HandshakeFailure {
  reason: string;
  proven: boolean;
}

export interface Accepted {
  session: Session;
  enr: Enr;
  plaintext: Uint8Array;
}

/**
 * Step 4, the recipient: checks the handshake against the challenge we issued. The attached record
 * is parsed first but its signature is checked only if it is adopted (seq higher than the one we
 * hold), and only after the id-signature (review §2.1): a bad handshake costs one check, not two.
 *
 * A bad id-signature proves nothing about the source: a forged packet can make us challenge an
 * endpoint, and a forged handshake then fails here without the forger ever seeing our WHOAREYOU.
 * Once the id-signature over our challenge (which went only to that socket) verifies, what fails
 * next does prove it.
 */
export function acceptHandshake(
  me: Identity,
  challenge: Challenge,
  known: Enr | undefined,
  p: HandshakePacket,
  peer: NodeAddress,
  expiresAt: number,
): Accepted | HandshakeFailure {
  const { crypto } = me;
  const srcId = peer.nodeId;
  let sent: Enr | undefined;
  if (p.record !== null) {
    try {
      sent = Enr.decode(p.record, crypto, { verify: false });
      if (!bytesEqual(sent.nodeId, srcId)) return { reason: 'handshake-record-mismatch', proven: false };
    } catch {
      return { reason: 'handshake-bad-record', proven: false };
    }
  }
  const adopt = sent !== undefined && (known === undefined || sent.seq > known.seq);
  const publicKey = adopt ? sent?.publicKey : known?.publicKey;
  if (publicKey === undefined) return { reason: 'handshake-no-record', proven: false };
  const keys = crypto.handshakeRespond(
    me.privateKey,
    publicKey,
    p.ephemeralPublicKey,
    p.idSignature,
    challenge.challengeData,
    srcId,
    me.nodeId,
  );
  if (keys === null) return { reason: 'handshake-bad-signature', proven: false };
  let enr = known;
  if (adopt) {
    // The record parsed above, now verified (one crossing): it is parsed once, not twice.
    if (sent === undefined || !sent.verify()) return { reason: 'handshake-bad-record', proven: true };
    enr = sent;
  }
  if (enr === undefined) return { reason: 'handshake-no-record', proven: false };
  const plaintext = crypto.openPacket(keys.initiatorKey, p.header, p.datagram);
  if (plaintext === null) return { reason: 'handshake-bad-message', proven: true };
  return { session: new Session(peer, keys.recipientKey, keys.initiatorKey, enr, expiresAt, true), enr, plaintext };
}
