/**
 * Inbound packets: one backend call unmasks the header (and checks size, protocol-id and
 * authdata-size); the fields are then read from the unmasked bytes, with the size rules of
 * each flag (spec §3.2-3.3). Anything else is a drop with a reason, never an exception.
 */

import { HEADER_START, MASKING_IV_SIZE } from '../crypto/constants.js';
import type { Crypto } from '../crypto/crypto.js';
import {
  FLAG_HANDSHAKE,
  FLAG_MESSAGE,
  FLAG_WHOAREYOU,
  HANDSHAKE_AUTHDATA_HEAD,
  ID_NONCE_SIZE,
  MESSAGE_AUTHDATA_SIZE,
  MIN_MESSAGE_SIZE,
  PROTOCOL_VERSION,
  V4_EPH_KEY_SIZE,
  V4_SIG_SIZE,
  WHOAREYOU_AUTHDATA_SIZE,
} from './constants.js';
import type { Packet, PacketDropReason } from './types.js';

const VERSION_AT = MASKING_IV_SIZE + 6;
const FLAG_AT = MASKING_IV_SIZE + 8;
const NONCE_AT = MASKING_IV_SIZE + 9;

/** Decodes a datagram sent to us (`maskingKey` = our node-id[0:16]). */
export function decodePacket(crypto: Crypto, maskingKey: Uint8Array, datagram: Uint8Array): Packet | PacketDropReason {
  const header = crypto.unmaskHeader(maskingKey, datagram);
  if (header === null) return 'malformed-header';
  const version = ((header[VERSION_AT] as number) << 8) | (header[VERSION_AT + 1] as number);
  // geth's rule: older versions are refused, newer ones read as this one.
  if (version < PROTOCOL_VERSION) return 'bad-version';
  const flag = header[FLAG_AT] as number;
  const nonce = header.subarray(NONCE_AT, NONCE_AT + 12);
  const authdata = header.subarray(HEADER_START);
  const messageSize = datagram.length - header.length;
  switch (flag) {
    case FLAG_MESSAGE:
      if (authdata.length !== MESSAGE_AUTHDATA_SIZE) return 'bad-authdata-size';
      if (messageSize < MIN_MESSAGE_SIZE) return 'bad-message-size';
      return { flag, nonce, srcId: authdata, header, datagram };
    case FLAG_WHOAREYOU: {
      if (authdata.length !== WHOAREYOU_AUTHDATA_SIZE) return 'bad-authdata-size';
      if (messageSize !== 0) return 'bad-message-size';
      const seq = new DataView(authdata.buffer, authdata.byteOffset + ID_NONCE_SIZE, 8).getBigUint64(0);
      return { flag, nonce, idNonce: authdata.subarray(0, ID_NONCE_SIZE), enrSeq: seq, challengeData: header };
    }
    case FLAG_HANDSHAKE: {
      if (authdata.length < HANDSHAKE_AUTHDATA_HEAD) return 'bad-authdata-size';
      const sigSize = authdata[32] as number;
      const keySize = authdata[33] as number;
      if (HANDSHAKE_AUTHDATA_HEAD + sigSize + keySize > authdata.length) return 'bad-authdata-size';
      if (sigSize !== V4_SIG_SIZE || keySize !== V4_EPH_KEY_SIZE) return 'unsupported-identity-scheme';
      if (messageSize < MIN_MESSAGE_SIZE) return 'bad-message-size';
      const keyAt = HANDSHAKE_AUTHDATA_HEAD + sigSize;
      const recordAt = keyAt + keySize;
      return {
        flag,
        nonce,
        srcId: authdata.subarray(0, 32),
        idSignature: authdata.subarray(HANDSHAKE_AUTHDATA_HEAD, keyAt),
        ephemeralPublicKey: authdata.subarray(keyAt, recordAt),
        record: recordAt < authdata.length ? authdata.subarray(recordAt) : null,
        header,
        datagram,
      };
    }
    default:
      return 'bad-flag';
  }
}
