#![deny(clippy::all)]
//! discv5-native's hot path. This file is the only one with `#[napi]`: each export is a thin,
//! coarse call shaped by the packet flow (one per packet unmask, seal or open, one per handshake
//! side, one per batch of records or ids). Everything else in crate/ is plain Rust.
//!
//! Arguments are validated in TypeScript before they get here; the length checks below are a
//! second line of defence and throw errors with the same `code` as `Discv5Error`.
//!
//! Bytes go in as borrowed `&[u8]` (no copy). Results come out as plain `Uint8Array`s that the
//! engine allocates and we copy into: measured here, an external `Buffer` made from a `Vec`
//! costs 1.2-6.5 µs per call (GC finalizer bookkeeping) against 0.5-0.7 µs for the copy.

use napi::bindgen_prelude::{Uint16ArraySlice, Uint32ArraySlice, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;

pub mod discv4;
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
type Bytes<'e> = Uint8ArraySlice<'e>;

fn js_err(e: CryptoError) -> napi::Error<&'static str> {
    napi::Error::new(e.code(), e.to_string())
}

fn engine_err(e: napi::Error) -> napi::Error<&'static str> {
    napi::Error::new("ERR_NATIVE", e.reason.clone())
}

/// A new `Uint8Array` holding a copy of `data`.
fn bytes<'e>(env: &'e Env, data: &[u8]) -> Result<Bytes<'e>> {
    Uint8ArraySlice::copy_from(env, data).map_err(engine_err)
}

fn bytes_or_err<'e, T: AsRef<[u8]>>(
    env: &'e Env,
    r: std::result::Result<T, CryptoError>,
) -> Result<Bytes<'e>> {
    bytes(env, r.map_err(js_err)?.as_ref())
}

fn maybe_bytes<'e, T: AsRef<[u8]>>(
    env: &'e Env,
    r: std::result::Result<Option<T>, CryptoError>,
) -> Result<Option<Bytes<'e>>> {
    r.map_err(js_err)?
        .map(|v| bytes(env, v.as_ref()))
        .transpose()
}

/// Does nothing: its cost is the price of one crossing into the addon.
#[napi]
pub fn noop() {}

/// Keccak-256 (Ethereum's, not SHA3-256).
#[napi]
pub fn keccak256<'e>(env: &'e Env, data: &[u8]) -> Result<Bytes<'e>> {
    bytes(env, &keccak::keccak256(data))
}

/// 32 random bytes that form a valid secp256k1 private key.
#[napi]
pub fn generate_private_key(env: &Env) -> Result<Bytes<'_>> {
    bytes_or_err(env, secp256k1::generate_private_key())
}

/// Compressed (33-byte) public key of a private key.
#[napi]
pub fn public_key_from_private<'e>(env: &'e Env, private_key: &[u8]) -> Result<Bytes<'e>> {
    bytes_or_err(env, secp256k1::public_key_from_private(private_key))
}

/// 33-byte form of a 33- or 65-byte public key; null if it is not a valid point.
#[napi]
pub fn compress_public_key<'e>(env: &'e Env, public_key: &[u8]) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, Ok(secp256k1::compress(public_key)))
}

/// 65-byte form of a 33- or 65-byte public key; null if it is not a valid point.
#[napi]
pub fn decompress_public_key<'e>(env: &'e Env, public_key: &[u8]) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, Ok(secp256k1::decompress(public_key)))
}

/// keccak256(X ‖ Y) of a public key; null if it is not a valid point.
#[napi]
pub fn node_id_from_public_key<'e>(env: &'e Env, public_key: &[u8]) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, Ok(secp256k1::node_id(public_key)))
}

/// discv5 ECDH: the 33-byte compressed shared point; null if the public key is invalid.
#[napi]
pub fn ecdh<'e>(env: &'e Env, public_key: &[u8], private_key: &[u8]) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, session::ecdh(public_key, private_key))
}

/// ECDH + HKDF: initiator-key ‖ recipient-key (32 bytes); null if the public key is invalid.
#[napi]
pub fn derive_keys<'e>(
    env: &'e Env,
    private_key: &[u8],
    public_key: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
    challenge_data: &[u8],
) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(
        env,
        session::derive_keys(
            private_key,
            public_key,
            initiator_id,
            recipient_id,
            challenge_data,
        ),
    )
}

/// The 64-byte id-nonce signature over sha256("discovery v5 identity proof" ‖ ...).
#[napi]
pub fn id_sign<'e>(
    env: &'e Env,
    private_key: &[u8],
    challenge_data: &[u8],
    ephemeral_public_key: &[u8],
    recipient_id: &[u8],
) -> Result<Bytes<'e>> {
    bytes_or_err(
        env,
        session::id_sign(
            private_key,
            challenge_data,
            ephemeral_public_key,
            recipient_id,
        ),
    )
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
pub fn handshake_initiate<'e>(
    env: &'e Env,
    static_private_key: &[u8],
    ephemeral_private_key: Option<&[u8]>,
    recipient_public_key: &[u8],
    challenge_data: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(
        env,
        session::handshake_initiate(
            static_private_key,
            ephemeral_private_key,
            recipient_public_key,
            challenge_data,
            initiator_id,
            recipient_id,
        ),
    )
}

/// Recipient side of a handshake in one call: verifies the id signature against the stored
/// challenge, then derives the keys (32 bytes). Null if anything fails to verify.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn handshake_respond<'e>(
    env: &'e Env,
    static_private_key: &[u8],
    initiator_public_key: &[u8],
    ephemeral_public_key: &[u8],
    signature: &[u8],
    challenge_data: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(
        env,
        session::handshake_respond(
            static_private_key,
            initiator_public_key,
            ephemeral_public_key,
            signature,
            challenge_data,
            initiator_id,
            recipient_id,
        ),
    )
}

/// Unmasks an inbound packet's header with our masking key (own node-id[0:16]):
/// masking-iv ‖ static-header ‖ authdata, unmasked. Null when the size, protocol-id or
/// authdata-size is wrong.
#[napi]
pub fn unmask_header<'e>(
    env: &'e Env,
    masking_key: &[u8],
    packet: &[u8],
) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, packet::unmask_header(masking_key, packet))
}

/// masking-iv ‖ masked header ‖ message (already sealed, or empty for WHOAREYOU).
#[napi]
pub fn mask_packet<'e>(
    env: &'e Env,
    masking_key: &[u8],
    masking_iv: &[u8],
    header: &[u8],
    message: &[u8],
) -> Result<Bytes<'e>> {
    bytes_or_err(
        env,
        packet::mask_packet(masking_key, masking_iv, header, message),
    )
}

/// A whole outbound packet: AES-GCM seal of the plaintext under the header's nonce, then masking.
#[napi]
pub fn seal_packet<'e>(
    env: &'e Env,
    masking_key: &[u8],
    masking_iv: &[u8],
    header: &[u8],
    write_key: &[u8],
    plaintext: &[u8],
) -> Result<Bytes<'e>> {
    bytes_or_err(
        env,
        packet::seal_packet(masking_key, masking_iv, header, write_key, plaintext),
    )
}

/// Opens the message of a packet whose unmasked header is `header` (from unmaskHeader).
/// Null on a bad tag.
#[napi]
pub fn open_packet<'e>(
    env: &'e Env,
    read_key: &[u8],
    header: &[u8],
    packet: &[u8],
) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, packet::open_packet(read_key, header, packet))
}

/// AES-128-GCM: ciphertext ‖ tag.
#[napi]
pub fn aes_gcm_encrypt<'e>(
    env: &'e Env,
    key: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
    ad: &[u8],
) -> Result<Bytes<'e>> {
    bytes_or_err(env, packet::encrypt(key, nonce, plaintext, ad))
}

/// AES-128-GCM open; null on a bad tag.
#[napi]
pub fn aes_gcm_decrypt<'e>(
    env: &'e Env,
    key: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
    ad: &[u8],
) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, packet::decrypt(key, nonce, ciphertext, ad))
}

/// "v4" record signature: ECDSA over keccak256(content).
#[napi]
pub fn enr_sign<'e>(env: &'e Env, private_key: &[u8], content: &[u8]) -> Result<Bytes<'e>> {
    bytes_or_err(env, enr::sign_v4(private_key, content))
}

/// Checks a "v4" record signature; false for any invalid key or signature.
#[napi]
pub fn enr_verify(public_key: &[u8], content: &[u8], signature: &[u8]) -> bool {
    enr::verify_v4(public_key, content, signature)
}

/// Checks n record signatures in one call: keys n × 33, signatures n × 64, record i's content
/// at contents[offsets[i]..offsets[i+1]]. 33 bytes per record: 1 ‖ node id if valid, else zeros.
#[napi]
pub fn enr_verify_batch<'e>(
    env: &'e Env,
    public_keys: &[u8],
    signatures: &[u8],
    contents: &[u8],
    offsets: &[u32],
) -> Result<Bytes<'e>> {
    bytes_or_err(
        env,
        enr::verify_v4_batch(public_keys, signatures, contents, offsets),
    )
}

/// Log-distance from target to each id of a packed list (n × 32 bytes).
#[napi]
pub fn log_distances<'e>(env: &'e Env, target: &[u8], ids: &[u8]) -> Result<Uint16ArraySlice<'e>> {
    let d = distance::log_distances(target, ids).map_err(js_err)?;
    Uint16ArraySlice::copy_from(env, &d).map_err(engine_err)
}

/// Indices of the k ids closest to target (packed n × 32 bytes), closest first.
#[napi]
pub fn closest<'e>(
    env: &'e Env,
    target: &[u8],
    ids: &[u8],
    k: u32,
) -> Result<Uint32ArraySlice<'e>> {
    let idx = distance::closest(target, ids, k as usize).map_err(js_err)?;
    Uint32ArraySlice::copy_from(env, &idx).map_err(engine_err)
}

/// Discovery v4: a whole packet, hash ‖ signature (65, recoverable) ‖ packet-type ‖ data,
/// signed with `private_key` (RFC 6979, low-s). At most 1280 bytes.
#[napi]
pub fn discv4_pack<'e>(
    env: &'e Env,
    private_key: &[u8],
    packet_type: u32,
    data: &[u8],
) -> Result<Bytes<'e>> {
    let packet_type = u8::try_from(packet_type).map_err(|_| {
        napi::Error::new(
            "ERR_INVALID_ARGUMENT",
            "packet type must be 0-255".to_owned(),
        )
    })?;
    bytes_or_err(env, discv4::pack(private_key, packet_type, data))
}

/// Discovery v4: checks an inbound packet's size (98-1280 bytes) and hash and recovers its
/// signer, in one call: hash (32) ‖ public key X ‖ Y (64) ‖ node id (32) ‖ packet-type (1).
/// The data starts at byte 98 of the packet. Null for any malformed or badly signed packet.
#[napi]
pub fn discv4_unpack<'e>(env: &'e Env, packet: &[u8]) -> Result<Option<Bytes<'e>>> {
    maybe_bytes(env, Ok(discv4::unpack(packet).map(|u| u.to_bytes())))
}
