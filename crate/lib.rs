#![deny(clippy::all)]
//! discv5-native's hot path. This file is the only one with `#[napi]`: each export is a thin,
//! coarse call shaped by the packet flow (one per packet unmask, seal or open, one per handshake
//! side, one per batch of records or ids). Everything else in crate/ is plain Rust.
//!
//! Arguments are validated in TypeScript before they get here; the length checks below are a
//! second line of defence and throw errors with the same `code` as `Discv5Error`.

use napi::bindgen_prelude::{Buffer, Uint16Array, Uint32Array};
use napi_derive::napi;

pub mod distance;
pub mod enr;
pub mod error;
pub mod keccak;
pub mod packet;
pub mod secp256k1;
pub mod session;
#[cfg(test)]
mod testutil;

use error::CryptoError;

type Result<T> = std::result::Result<T, napi::Error<&'static str>>;

fn js_err(e: CryptoError) -> napi::Error<&'static str> {
    napi::Error::new(e.code(), e.to_string())
}

fn buf(bytes: &[u8]) -> Buffer {
    bytes.to_vec().into()
}

/// Does nothing: its cost is the price of one crossing into the addon.
#[napi]
pub fn noop() {}

/// Keccak-256 (Ethereum's, not SHA3-256).
#[napi]
pub fn keccak256(data: &[u8]) -> Buffer {
    buf(&keccak::keccak256(data))
}

/// 32 random bytes that form a valid secp256k1 private key.
#[napi]
pub fn generate_private_key() -> Result<Buffer> {
    secp256k1::generate_private_key()
        .map(|k| buf(&k))
        .map_err(js_err)
}

/// Compressed (33-byte) public key of a private key.
#[napi]
pub fn public_key_from_private(private_key: &[u8]) -> Result<Buffer> {
    secp256k1::public_key_from_private(private_key)
        .map(|k| buf(&k))
        .map_err(js_err)
}

/// 33-byte form of a 33- or 65-byte public key; null if it is not a valid point.
#[napi]
pub fn compress_public_key(public_key: &[u8]) -> Option<Buffer> {
    secp256k1::compress(public_key).map(|k| buf(&k))
}

/// 65-byte form of a 33- or 65-byte public key; null if it is not a valid point.
#[napi]
pub fn decompress_public_key(public_key: &[u8]) -> Option<Buffer> {
    secp256k1::decompress(public_key).map(|k| buf(&k))
}

/// keccak256(X ‖ Y) of a public key; null if it is not a valid point.
#[napi]
pub fn node_id_from_public_key(public_key: &[u8]) -> Option<Buffer> {
    secp256k1::node_id(public_key).map(|k| buf(&k))
}

/// discv5 ECDH: the 33-byte compressed shared point; null if the public key is invalid.
#[napi]
pub fn ecdh(public_key: &[u8], private_key: &[u8]) -> Result<Option<Buffer>> {
    session::ecdh(public_key, private_key)
        .map(|s| s.map(|s| buf(&s)))
        .map_err(js_err)
}

/// ECDH + HKDF: initiator-key ‖ recipient-key (32 bytes); null if the public key is invalid.
#[napi]
pub fn derive_keys(
    private_key: &[u8],
    public_key: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
    challenge_data: &[u8],
) -> Result<Option<Buffer>> {
    session::derive_keys(
        private_key,
        public_key,
        initiator_id,
        recipient_id,
        challenge_data,
    )
    .map(|k| k.map(|k| buf(&k)))
    .map_err(js_err)
}

/// The 64-byte id-nonce signature over sha256("discovery v5 identity proof" ‖ ...).
#[napi]
pub fn id_sign(
    private_key: &[u8],
    challenge_data: &[u8],
    ephemeral_public_key: &[u8],
    recipient_id: &[u8],
) -> Result<Buffer> {
    session::id_sign(
        private_key,
        challenge_data,
        ephemeral_public_key,
        recipient_id,
    )
    .map(|s| buf(&s))
    .map_err(js_err)
}

/// Checks an id-nonce signature; false for any invalid key or signature (high-s included).
#[napi]
pub fn id_verify(
    public_key: &[u8],
    signature: &[u8],
    challenge_data: &[u8],
    ephemeral_public_key: &[u8],
    recipient_id: &[u8],
) -> bool {
    session::id_verify(
        public_key,
        signature,
        challenge_data,
        ephemeral_public_key,
        recipient_id,
    )
}

/// Initiator side of a handshake in one call: keys (32) ‖ id-signature (64) ‖ ephemeral
/// public key (33). A fresh ephemeral key is drawn unless one is given. Null if the
/// recipient's public key is invalid.
#[napi]
pub fn handshake_initiate(
    static_private_key: &[u8],
    ephemeral_private_key: Option<&[u8]>,
    recipient_public_key: &[u8],
    challenge_data: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
) -> Result<Option<Buffer>> {
    session::handshake_initiate(
        static_private_key,
        ephemeral_private_key,
        recipient_public_key,
        challenge_data,
        initiator_id,
        recipient_id,
    )
    .map(|o| o.map(|o| buf(&o)))
    .map_err(js_err)
}

/// Recipient side of a handshake in one call: verifies the id signature against the stored
/// challenge, then derives the keys (32 bytes). Null if anything fails to verify.
#[napi]
pub fn handshake_respond(
    static_private_key: &[u8],
    initiator_public_key: &[u8],
    ephemeral_public_key: &[u8],
    signature: &[u8],
    challenge_data: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
) -> Result<Option<Buffer>> {
    session::handshake_respond(
        static_private_key,
        initiator_public_key,
        ephemeral_public_key,
        signature,
        challenge_data,
        initiator_id,
        recipient_id,
    )
    .map(|k| k.map(|k| buf(&k)))
    .map_err(js_err)
}

/// Unmasks an inbound packet's header with our masking key (own node-id[0:16]):
/// masking-iv ‖ static-header ‖ authdata, unmasked. Null when the size, protocol-id or
/// authdata-size is wrong.
#[napi]
pub fn unmask_header(masking_key: &[u8], packet: &[u8]) -> Result<Option<Buffer>> {
    packet::unmask_header(masking_key, packet)
        .map(|h| h.map(Buffer::from))
        .map_err(js_err)
}

/// masking-iv ‖ masked header ‖ message (already sealed, or empty for WHOAREYOU).
#[napi]
pub fn mask_packet(
    masking_key: &[u8],
    masking_iv: &[u8],
    header: &[u8],
    message: &[u8],
) -> Result<Buffer> {
    packet::mask_packet(masking_key, masking_iv, header, message)
        .map(Buffer::from)
        .map_err(js_err)
}

/// A whole outbound packet: AES-GCM seal of the plaintext under the header's nonce, then masking.
#[napi]
pub fn seal_packet(
    masking_key: &[u8],
    masking_iv: &[u8],
    header: &[u8],
    write_key: &[u8],
    plaintext: &[u8],
) -> Result<Buffer> {
    packet::seal_packet(masking_key, masking_iv, header, write_key, plaintext)
        .map(Buffer::from)
        .map_err(js_err)
}

/// Opens the message of a packet whose unmasked header is `header` (from unmaskHeader).
/// Null on a bad tag.
#[napi]
pub fn open_packet(read_key: &[u8], header: &[u8], packet: &[u8]) -> Result<Option<Buffer>> {
    packet::open_packet(read_key, header, packet)
        .map(|m| m.map(Buffer::from))
        .map_err(js_err)
}

/// AES-128-GCM: ciphertext ‖ tag.
#[napi]
pub fn aes_gcm_encrypt(key: &[u8], nonce: &[u8], plaintext: &[u8], ad: &[u8]) -> Result<Buffer> {
    packet::encrypt(key, nonce, plaintext, ad)
        .map(Buffer::from)
        .map_err(js_err)
}

/// AES-128-GCM open; null on a bad tag.
#[napi]
pub fn aes_gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
    ad: &[u8],
) -> Result<Option<Buffer>> {
    packet::decrypt(key, nonce, ciphertext, ad)
        .map(|p| p.map(Buffer::from))
        .map_err(js_err)
}

/// "v4" record signature: ECDSA over keccak256(content).
#[napi]
pub fn enr_sign(private_key: &[u8], content: &[u8]) -> Result<Buffer> {
    enr::sign_v4(private_key, content)
        .map(|s| buf(&s))
        .map_err(js_err)
}

/// Checks a "v4" record signature; false for any invalid key or signature.
#[napi]
pub fn enr_verify(public_key: &[u8], content: &[u8], signature: &[u8]) -> bool {
    enr::verify_v4(public_key, content, signature)
}

/// Checks n record signatures in one call: keys n × 33, signatures n × 64, record i's content
/// at contents[offsets[i]..offsets[i+1]]. One byte per record: 1 valid, 0 invalid.
#[napi]
pub fn enr_verify_batch(
    public_keys: &[u8],
    signatures: &[u8],
    contents: &[u8],
    offsets: &[u32],
) -> Result<Buffer> {
    enr::verify_v4_batch(public_keys, signatures, contents, offsets)
        .map(Buffer::from)
        .map_err(js_err)
}

/// Log-distance from target to each id of a packed list (n × 32 bytes).
#[napi]
pub fn log_distances(target: &[u8], ids: &[u8]) -> Result<Uint16Array> {
    distance::log_distances(target, ids)
        .map(Uint16Array::from)
        .map_err(js_err)
}

/// Indices of the k ids closest to target (packed n × 32 bytes), closest first.
#[napi]
pub fn closest(target: &[u8], ids: &[u8], k: u32) -> Result<Uint32Array> {
    distance::closest(target, ids, k as usize)
        .map(Uint32Array::from)
        .map_err(js_err)
}
