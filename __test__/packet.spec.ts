/** The packet layer on both backends: the four spec packets decode and re-encode byte for byte; bad headers drop with a reason. */
import { decodePacket } from '../ts/packet/decode.js';
import { encodeHandshakePacket, encodeMessagePacket, encodeWhoareyou } from '../ts/packet/encode.js';
import { fromHex, toHex } from '../ts/util/bytes.js';
import { bothBackends } from './helpers/backends.js';
import { vectors } from './helpers/vectors.js';

const { packets, keys } = vectors;
const idA = fromHex(keys.derived.node_a_id);
const idB = fromHex(keys.derived.node_b_id);
const maskB = idB.subarray(0, 16);
const zeroIv = new Uint8Array(16);

bothBackends('ping message packet: decode as B, encode from its inputs', (t, c) => {
  const v = packets.ping_message_packet;
  const p = decodePacket(c, maskB, fromHex(v.expected.packet));
  if (typeof p === 'string' || p.flag !== 0) return t.fail(`decoded as ${typeof p === 'string' ? p : p.flag}`);
  t.is(toHex(p.srcId), v.inputs.src_node_id);
  t.is(toHex(p.nonce), v.inputs.nonce);
  t.is(
    toHex(c.openPacket(fromHex(v.inputs.read_key), p.header, p.datagram) as Uint8Array),
    v.derived.message_plaintext,
  );
  const again = encodeMessagePacket(
    c,
    idB,
    idA,
    fromHex(v.inputs.nonce),
    fromHex(v.inputs.read_key),
    fromHex(v.derived.message_plaintext),
    zeroIv,
  );
  t.is(toHex(again), v.expected.packet);
});

bothBackends('WHOAREYOU packet: decode as B, encode from its inputs', (t, c) => {
  const v = packets.whoareyou_packet;
  const p = decodePacket(c, maskB, fromHex(v.expected.packet));
  if (typeof p === 'string' || p.flag !== 1) return t.fail('WHOAREYOU expected');
  t.is(toHex(p.nonce), v.inputs.whoareyou_request_nonce);
  t.is(toHex(p.idNonce), v.inputs.whoareyou_id_nonce);
  t.is(p.enrSeq, BigInt(v.inputs.whoareyou_enr_seq));
  t.is(toHex(p.challengeData), v.inputs.whoareyou_challenge_data);
  // The vectors mask WHOAREYOU with B's id too (spec §12.17).
  const again = encodeWhoareyou(
    c,
    idB,
    fromHex(v.inputs.whoareyou_request_nonce),
    fromHex(v.inputs.whoareyou_id_nonce),
    0n,
    zeroIv,
  );
  t.is(toHex(again.packet), v.expected.packet);
  t.is(toHex(again.challengeData), v.inputs.whoareyou_challenge_data);
});

for (const name of ['ping_handshake_packet', 'ping_handshake_packet_with_enr'] as const) {
  bothBackends(`${name}: decode as B, encode from its inputs`, (t, c) => {
    const v = packets[name];
    const p = decodePacket(c, maskB, fromHex(v.expected.packet));
    if (typeof p === 'string' || p.flag !== 2) return t.fail('handshake expected');
    t.is(toHex(p.srcId), v.inputs.src_node_id);
    t.is(toHex(p.idSignature), v.derived.id_signature);
    t.is(toHex(p.ephemeralPublicKey), v.inputs.ephemeral_pubkey);
    t.is(p.record === null ? '' : toHex(p.record), v.derived.record);
    const again = encodeHandshakePacket(
      c,
      idB,
      idA,
      fromHex(v.inputs.nonce),
      p.idSignature,
      p.ephemeralPublicKey,
      p.record,
      fromHex(v.inputs.read_key),
      fromHex(v.derived.message_plaintext),
      zeroIv,
    );
    t.is(toHex(again), v.expected.packet);
  });
}

bothBackends('malformed headers are dropped with their reason', (t, c) => {
  const v = packets.ping_message_packet;
  const pt = fromHex(v.derived.message_plaintext);
  const good = fromHex(v.expected.packet);
  const header = c.unmaskHeader(maskB, good) as Uint8Array;
  // Re-mask a changed header (and message) to make each defect.
  // Unmask a packet, change its header, mask it again: each defect made on a valid packet.
  const edited = (
    packet: Uint8Array,
    unmasked: Uint8Array,
    edit: (h: Uint8Array) => void,
    message = packet.subarray(unmasked.length),
  ) => {
    const h = Uint8Array.from(unmasked.subarray(16));
    edit(h);
    return c.maskPacket(maskB, zeroIv, h, message);
  };
  const remask = (edit: (h: Uint8Array) => void, message?: Uint8Array) => edited(good, header, edit, message);
  t.is(decodePacket(c, maskB, good.subarray(0, 62)), 'malformed-header');
  t.is(decodePacket(c, idA.subarray(0, 16), good), 'malformed-header', 'masked for another node');
  t.is(
    decodePacket(
      c,
      maskB,
      remask((h) => {
        h[7] = 0;
      }),
    ),
    'bad-version',
  );
  t.is(
    decodePacket(
      c,
      maskB,
      remask((h) => {
        h[8] = 3;
      }),
    ),
    'bad-flag',
  );
  t.is(
    decodePacket(
      c,
      maskB,
      remask((h) => {
        h[8] = 1;
      }),
    ),
    'bad-authdata-size',
    'WHOAREYOU with 32 bytes of authdata',
  );
  t.is(
    decodePacket(
      c,
      maskB,
      remask(() => {}, pt.subarray(0, 15)),
    ),
    'bad-message-size',
    'message shorter than a tag',
  );
  const hs = fromHex(packets.ping_handshake_packet.expected.packet);
  const hsHeader = c.unmaskHeader(maskB, hs) as Uint8Array;
  const hsEdit = (edit: (h: Uint8Array) => void) => edited(hs, hsHeader, edit);
  t.is(
    decodePacket(
      c,
      maskB,
      hsEdit((h) => {
        h[23 + 32] = 65;
      }),
    ),
    'bad-authdata-size',
    'sig-size overruns',
  );
  t.is(
    decodePacket(
      c,
      maskB,
      hsEdit((h) => {
        h[23 + 32] = 63;
      }),
    ),
    'unsupported-identity-scheme',
  );
});
