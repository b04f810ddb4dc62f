// Runs inside a throwaway project that installed discv5-native from tarballs: reports which
// backend loads and whether the spec vectors pass through the installed package.
// Usage: node check-installed.mjs <vectors.json>; prints one JSON line.
import { existsSync, readFileSync } from 'node:fs';

const vectors = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const hex = (b) => Buffer.from(b).toString('hex');
const un = (h) => Uint8Array.from(Buffer.from(h, 'hex'));

function runVectors(c) {
  const failures = [];
  const check = (name, got, want) => {
    if (got !== want) failures.push(`${name}: got ${got} want ${want}`);
  };
  const { crypto: cv, packets, keys, enr } = vectors;
  check(
    'ecdh',
    hex(c.ecdh(un(cv.ecdh.inputs.public_key), un(cv.ecdh.inputs.secret_key))),
    cv.ecdh.expected.shared_secret,
  );
  const kd = cv.key_derivation.inputs;
  const k = c.deriveKeys(
    un(kd.ephemeral_key),
    un(kd.dest_pubkey),
    un(kd.node_id_a),
    un(kd.node_id_b),
    un(kd.challenge_data),
  );
  check(
    'kdf',
    hex(k.initiatorKey) + hex(k.recipientKey),
    cv.key_derivation.expected.initiator_key + cv.key_derivation.expected.recipient_key,
  );
  const s = cv.id_nonce_signing.inputs;
  check(
    'id signature',
    hex(c.idSign(un(s.static_key), un(s.challenge_data), un(s.ephemeral_pubkey), un(s.node_id_b))),
    cv.id_nonce_signing.expected.id_signature,
  );
  const g = cv.aes_gcm_encryption.inputs;
  check(
    'aes-gcm',
    hex(c.aesGcmEncrypt(un(g.encryption_key), un(g.nonce), un(g.pt), un(g.ad))),
    cv.aes_gcm_encryption.expected.message_ciphertext,
  );
  const maskingKey = un(keys.derived.node_b_id).subarray(0, 16);
  for (const [name, v] of Object.entries(packets)) {
    const header = c.unmaskHeader(maskingKey, un(v.expected.packet));
    check(`${name} header`, header && hex(header.subarray(16)), v.derived.unmasked_header);
    if (v.inputs.read_key && header) {
      check(
        `${name} message`,
        hex(c.openPacket(un(v.inputs.read_key), header, un(v.expected.packet))),
        v.derived.message_plaintext,
      );
    }
  }
  const e = enr.eip778_example;
  check('enr signature', hex(c.enrSign(un(e.private_key), un(e.derived.content_rlp))), e.expected_rlp_items.signature);
  check('node id', hex(c.nodeIdFromPublicKey(c.publicKeyFromPrivate(un(e.private_key)))), e.expected_node_id);
  return failures;
}

const main = await import('discv5-native');
const pureJs = await import('discv5-native/js');
const auto = main.createCrypto();
let nativeError = null;
try {
  main.createCrypto({ backend: 'native' });
} catch (err) {
  nativeError = { code: err.code, message: err.message };
}
// discv5-native/libp2p needs the optional peer dependencies (@libp2p/*, @multiformats/multiaddr):
// without them it must fail to import, naming what is missing, while the entries above load.
let libp2pError = null;
try {
  await import('discv5-native/libp2p');
} catch (err) {
  libp2pError = { code: err.code, message: err.message };
}
console.log(
  JSON.stringify({
    libp2pPackagesPresent: existsSync('node_modules/@libp2p') || existsSync('node_modules/@multiformats'),
    libp2pError,
    autoBackend: auto.backend,
    autoFailures: runVectors(auto),
    jsEntryBackend: pureJs.createCrypto().backend,
    jsEntryFailures: runVectors(pureJs.createCrypto()),
    nativeError,
  }),
);
