/** Every vector of ../shared/spec/vectors.json, byte for byte, on both backends (spec §13). */
import { fromHex, toHex } from '../ts/util/bytes.js';
import { bothBackends } from './helpers/backends.js';
import { vectors } from './helpers/vectors.js';

const { keys, packets, crypto: cv, enr } = vectors;
const nodeAKey = fromHex(keys.node_a_key);
const nodeBKey = fromHex(keys.node_b_key);
const nodeAId = fromHex(keys.derived.node_a_id);
const nodeBId = fromHex(keys.derived.node_b_id);
const maskingKeyB = nodeBId.subarray(0, 16);

bothBackends('node keys: public keys and node ids of A and B', (t, c) => {
  const pubA = c.publicKeyFromPrivate(nodeAKey);
  const pubB = c.publicKeyFromPrivate(nodeBKey);
  t.is(toHex(pubA), keys.derived.node_a_pubkey);
  t.is(toHex(pubB), keys.derived.node_b_pubkey);
  t.is(toHex(c.nodeIdFromPublicKey(pubA) as Uint8Array), keys.derived.node_a_id);
  t.is(toHex(c.nodeIdFromPublicKey(pubB) as Uint8Array), keys.derived.node_b_id);
});

bothBackends('ECDH: 33-byte compressed shared point', (t, c) => {
  const v = cv.ecdh;
  const secret = c.ecdh(fromHex(v.inputs.public_key), fromHex(v.inputs.secret_key));
  t.is(toHex(secret as Uint8Array), v.expected.shared_secret);
  t.not(toHex(secret as Uint8Array), v.derived.shared_secret_x_only);
});

bothBackends('key derivation: HKDF with salt = challenge-data', (t, c) => {
  const v = cv.key_derivation;
  const ephemeral = fromHex(v.inputs.ephemeral_key);
  t.is(toHex(c.ecdh(fromHex(v.inputs.dest_pubkey), ephemeral) as Uint8Array), v.derived.ecdh_secret);
  t.is(toHex(c.publicKeyFromPrivate(ephemeral)), v.derived.ephemeral_pubkey);
  const k = c.deriveKeys(
    ephemeral,
    fromHex(v.inputs.dest_pubkey),
    fromHex(v.inputs.node_id_a),
    fromHex(v.inputs.node_id_b),
    fromHex(v.inputs.challenge_data),
  );
  if (k === null) return t.fail('keys expected');
  t.is(toHex(k.initiatorKey), v.expected.initiator_key);
  t.is(toHex(k.recipientKey), v.expected.recipient_key);
  t.not(toHex(k.initiatorKey), v.derived.wrong_order_initiator_key);
  // The recipient's side (B: static key with the ephemeral public key) derives the same keys.
  const b = c.deriveKeys(
    nodeBKey,
    fromHex(v.derived.ephemeral_pubkey),
    fromHex(v.inputs.node_id_a),
    fromHex(v.inputs.node_id_b),
    fromHex(v.inputs.challenge_data),
  );
  t.is(toHex(b?.initiatorKey as Uint8Array), v.expected.initiator_key);
});

bothBackends('id-nonce signing: deterministic re-sign and verify', (t, c) => {
  const v = cv.id_nonce_signing;
  const args = [
    fromHex(v.inputs.challenge_data),
    fromHex(v.inputs.ephemeral_pubkey),
    fromHex(v.inputs.node_id_b),
  ] as const;
  const sig = c.idSign(fromHex(v.inputs.static_key), ...args);
  t.is(toHex(sig), v.expected.id_signature);
  t.true(c.idVerify(fromHex(v.derived.static_pubkey), fromHex(v.expected.id_signature), ...args));
  const otherB = fromHex(v.inputs.node_id_b);
  otherB[0] = (otherB[0] as number) ^ 1;
  t.false(c.idVerify(fromHex(v.derived.static_pubkey), sig, args[0], args[1], otherB));
});

bothBackends('AES-GCM: ciphertext with the tag appended', (t, c) => {
  const v = cv.aes_gcm_encryption;
  const inputs = [fromHex(v.inputs.encryption_key), fromHex(v.inputs.nonce)] as const;
  const ct = c.aesGcmEncrypt(...inputs, fromHex(v.inputs.pt), fromHex(v.inputs.ad));
  t.is(toHex(ct), v.expected.message_ciphertext);
  t.is(toHex(c.aesGcmDecrypt(...inputs, ct, fromHex(v.inputs.ad)) as Uint8Array), v.inputs.pt);
});

bothBackends('ping message packet (flag 0): decode as B and re-encode', (t, c) => {
  const v = packets.ping_message_packet;
  const packet = fromHex(v.expected.packet);
  const header = c.unmaskHeader(maskingKeyB, packet);
  if (header === null) return t.fail('header expected');
  t.is(toHex(header.subarray(16)), v.derived.unmasked_header);
  t.is(toHex(header), v.derived.message_ad);
  t.is(header[16 + 8], 0);
  t.is(toHex(header.subarray(39)), v.inputs.src_node_id);
  const pt = c.openPacket(fromHex(v.inputs.read_key), header, packet);
  t.is(toHex(pt as Uint8Array), v.derived.message_plaintext);
  const again = c.sealPacket(
    fromHex(v.inputs.dest_node_id).subarray(0, 16),
    header.subarray(0, 16),
    header.subarray(16),
    fromHex(v.inputs.read_key),
    pt as Uint8Array,
  );
  t.is(toHex(again), v.expected.packet);
});

bothBackends('WHOAREYOU packet (flag 1): decode as B and re-encode', (t, c) => {
  const v = packets.whoareyou_packet;
  const packet = fromHex(v.expected.packet);
  t.is(packet.length, 63);
  const header = c.unmaskHeader(maskingKeyB, packet);
  if (header === null) return t.fail('header expected');
  t.is(toHex(header.subarray(16)), v.derived.unmasked_header);
  t.is(toHex(header), v.inputs.whoareyou_challenge_data);
  t.is(header[16 + 8], 1);
  t.is(toHex(header.subarray(16 + 9, 16 + 21)), v.inputs.whoareyou_request_nonce);
  t.is(toHex(header.subarray(39, 55)), v.inputs.whoareyou_id_nonce);
  t.is(Buffer.from(header.subarray(55, 63)).readBigUInt64BE(), BigInt(v.inputs.whoareyou_enr_seq));
  const again = c.maskPacket(maskingKeyB, header.subarray(0, 16), header.subarray(16), new Uint8Array(0));
  t.is(toHex(again), v.expected.packet);
});

for (const name of ['ping_handshake_packet', 'ping_handshake_packet_with_enr'] as const) {
  bothBackends(`${name} (flag 2): decode as B, complete the handshake, re-encode`, (t, c) => {
    const v = packets[name];
    const packet = fromHex(v.expected.packet);
    t.is(packet.length, v.derived.packet_length);
    const header = c.unmaskHeader(maskingKeyB, packet);
    if (header === null) return t.fail('header expected');
    t.is(toHex(header.subarray(16)), v.derived.unmasked_header);
    t.is(header[16 + 8], 2);
    const authdata = header.subarray(39);
    t.is(authdata.length, v.derived.authdata_size);
    t.is(toHex(authdata.subarray(0, 32)), v.inputs.src_node_id);
    const sigSize = authdata[32] as number;
    const keySize = authdata[33] as number;
    t.is(sigSize, 64);
    t.is(keySize, 33);
    const idSignature = authdata.subarray(34, 34 + sigSize);
    const ephPub = authdata.subarray(34 + sigSize, 34 + sigSize + keySize);
    const record = authdata.subarray(34 + sigSize + keySize);
    t.is(toHex(idSignature), v.derived.id_signature);
    t.is(toHex(ephPub), v.inputs.ephemeral_pubkey);
    t.is(toHex(record), v.derived.record);

    // B's side: check the id signature against the challenge, derive keys, open the message.
    const challenge = fromHex(v.inputs.whoareyou_challenge_data);
    const pubA = fromHex(keys.derived.node_a_pubkey);
    const keysB = c.handshakeRespond(nodeBKey, pubA, ephPub, idSignature, challenge, nodeAId, nodeBId);
    if (keysB === null) return t.fail('handshake expected to verify');
    t.is(toHex(keysB.initiatorKey), v.derived.initiator_key);
    t.is(toHex(keysB.recipientKey), v.derived.recipient_key);
    t.is(toHex(keysB.initiatorKey), v.inputs.read_key);
    t.is(toHex(c.openPacket(keysB.initiatorKey, header, packet) as Uint8Array), v.derived.message_plaintext);
    t.is(toHex(c.ecdh(ephPub, nodeBKey) as Uint8Array), v.derived.ecdh_secret);

    // A's side: from the WHOAREYOU and the fixed ephemeral key, the same signature and packet.
    const init = c.handshakeInitiate(
      nodeAKey,
      fromHex(keys.derived.node_b_pubkey),
      challenge,
      nodeAId,
      nodeBId,
      fromHex(v.inputs.ephemeral_key),
    );
    if (init === null) return t.fail('initiation expected');
    t.is(toHex(init.idSignature), v.derived.id_signature);
    t.is(toHex(init.ephemeralPublicKey), v.inputs.ephemeral_pubkey);
    t.is(toHex(init.initiatorKey), v.derived.initiator_key);
    const again = c.sealPacket(
      maskingKeyB,
      header.subarray(0, 16),
      header.subarray(16),
      init.initiatorKey,
      fromHex(v.derived.message_plaintext),
    );
    t.is(toHex(again), v.expected.packet);
  });
}

bothBackends('EIP-778 example record: signature, re-signing and node id', (t, c) => {
  const v = enr.eip778_example;
  const rlp = Buffer.from(v.text.slice(4), 'base64url');
  t.is(toHex(rlp), v.derived.rlp);
  const privateKey = fromHex(v.private_key);
  const publicKey = c.publicKeyFromPrivate(privateKey);
  const content = fromHex(v.derived.content_rlp);
  t.is(toHex(c.keccak256(content)), v.derived.signing_hash_keccak256);
  t.true(c.enrVerify(publicKey, content, fromHex(v.expected_rlp_items.signature)));
  t.is(toHex(c.enrSign(privateKey, content)), v.expected_rlp_items.signature);
  t.is(toHex((c.decompressPublicKey(publicKey) as Uint8Array).subarray(1)), v.derived.public_key_uncompressed_xy);
  t.is(toHex(c.nodeIdFromPublicKey(publicKey) as Uint8Array), v.expected_node_id);
  const [id] = c.enrVerifyBatch([{ publicKey, content, signature: fromHex(v.expected_rlp_items.signature) }]);
  t.is(toHex(id as Uint8Array), v.expected_node_id);
});
