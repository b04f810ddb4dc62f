//! secp256k1 keys and ECDSA over 32-byte digests, on libsecp256k1.
//!
//! Signatures are 64 bytes `r ‖ s`, low-s, RFC 6979 deterministic; verification rejects high-s
//! (libsecp256k1 requires normalised signatures, as go-ethereum does).

use std::sync::LazyLock;

use ::secp256k1::{ecdsa::Signature, Message, PublicKey, Secp256k1, SecretKey};

use crate::error::{fixed, CryptoError};
use crate::keccak::keccak256;

pub static CONTEXT: LazyLock<Secp256k1<::secp256k1::All>> = LazyLock::new(Secp256k1::new);

pub fn secret_key(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
    let arr = fixed::<32>(bytes, "private key")?;
    SecretKey::from_byte_array(arr).map_err(|_| CryptoError::InvalidPrivateKey)
}

/// Parses a compressed (33-byte) or uncompressed (65-byte) SEC1 key; `None` if not on the curve.
/// Hybrid encodings (0x06/0x07) are refused so that every backend accepts the same set.
pub fn parse_public_key(bytes: &[u8]) -> Option<PublicKey> {
    match (bytes.len(), bytes.first()) {
        (33, Some(0x02 | 0x03)) | (65, Some(0x04)) => PublicKey::from_slice(bytes).ok(),
        _ => None,
    }
}

pub fn generate_private_key() -> Result<[u8; 32], CryptoError> {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| CryptoError::Randomness)?;
        // Rejection sampling: the chance of a value >= n (or zero) is about 2^-128.
        if SecretKey::from_byte_array(bytes).is_ok() {
            return Ok(bytes);
        }
    }
}

pub fn public_key_from_private(private_key: &[u8]) -> Result<[u8; 33], CryptoError> {
    let sk = secret_key(private_key)?;
    Ok(PublicKey::from_secret_key(&CONTEXT, &sk).serialize())
}

pub fn compress(public_key: &[u8]) -> Option<[u8; 33]> {
    parse_public_key(public_key).map(|pk| pk.serialize())
}

pub fn decompress(public_key: &[u8]) -> Option<[u8; 65]> {
    parse_public_key(public_key).map(|pk| pk.serialize_uncompressed())
}

/// Node id of a "v4" identity: keccak256 of the 64-byte X ‖ Y (no 0x04 prefix).
pub fn node_id_of_key(pk: &PublicKey) -> [u8; 32] {
    let uncompressed = pk.serialize_uncompressed();
    keccak256(&uncompressed[1..])
}

pub fn node_id(public_key: &[u8]) -> Option<[u8; 32]> {
    parse_public_key(public_key).map(|pk| node_id_of_key(&pk))
}

/// Signs a 32-byte digest as is (no further hashing).
pub fn sign_digest(private_key: &[u8], digest: &[u8; 32]) -> Result<[u8; 64], CryptoError> {
    let sk = secret_key(private_key)?;
    let sig = CONTEXT.sign_ecdsa(Message::from_digest(*digest), &sk);
    Ok(sig.serialize_compact())
}

pub fn verify_digest_with_key(pk: &PublicKey, digest: &[u8; 32], signature: &[u8]) -> bool {
    let Ok(sig) = Signature::from_compact(signature) else {
        return false;
    };
    CONTEXT
        .verify_ecdsa(Message::from_digest(*digest), &sig, pk)
        .is_ok()
}

pub fn verify_digest(public_key: &[u8], digest: &[u8; 32], signature: &[u8]) -> bool {
    if signature.len() != 64 {
        return false;
    }
    match parse_public_key(public_key) {
        Some(pk) => verify_digest_with_key(&pk, digest, signature),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{hex, unhex};

    const EIP778_KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

    #[test]
    fn public_key_and_node_id_of_eip778_key() {
        let pk = public_key_from_private(&unhex(EIP778_KEY)).unwrap();
        assert_eq!(
            hex(&pk),
            "03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138"
        );
        assert_eq!(
            hex(&node_id(&pk).unwrap()),
            "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"
        );
    }

    #[test]
    fn compress_decompress_round_trip() {
        let pk = public_key_from_private(&unhex(EIP778_KEY)).unwrap();
        let full = decompress(&pk).unwrap();
        assert_eq!(full[0], 4);
        assert_eq!(compress(&full).unwrap(), pk);
        assert_eq!(node_id(&full), node_id(&pk));
    }

    #[test]
    fn rejects_bad_points_and_keys() {
        let mut off_curve = [0u8; 33];
        off_curve[0] = 2;
        off_curve[32] = 5; // x = 5 has no y on secp256k1
        assert!(parse_public_key(&off_curve).is_none());
        let pk = public_key_from_private(&unhex(EIP778_KEY)).unwrap();
        let mut hybrid = decompress(&pk).unwrap();
        hybrid[0] = 6 | (hybrid[64] & 1);
        assert!(parse_public_key(&hybrid).is_none());
        assert_eq!(
            secret_key(&[0u8; 32]).unwrap_err(),
            CryptoError::InvalidPrivateKey
        );
        assert_eq!(
            secret_key(&[0xffu8; 32]).unwrap_err(),
            CryptoError::InvalidPrivateKey
        );
        assert!(matches!(
            secret_key(&[1u8; 31]),
            Err(CryptoError::InvalidLength(_))
        ));
    }

    #[test]
    fn sign_verify_and_high_s_rejected() {
        let key = unhex(EIP778_KEY);
        let pk = public_key_from_private(&key).unwrap();
        let digest = keccak256(b"digest");
        let sig = sign_digest(&key, &digest).unwrap();
        assert!(verify_digest(&pk, &digest, &sig));
        // s' = n - s is the same signature with high s: must be refused.
        let mut parsed = Signature::from_compact(&sig).unwrap();
        parsed.normalize_s();
        assert_eq!(parsed.serialize_compact(), sig, "signing produced low-s");
        let high = crate::testutil::negate_s(&sig);
        assert!(!verify_digest(&pk, &digest, &high));
        let mut other = digest;
        other[0] ^= 1;
        assert!(!verify_digest(&pk, &other, &sig));
    }

    #[test]
    fn generated_keys_are_valid_and_distinct() {
        let a = generate_private_key().unwrap();
        let b = generate_private_key().unwrap();
        assert_ne!(a, b);
        assert!(public_key_from_private(&a).is_ok());
    }
}
