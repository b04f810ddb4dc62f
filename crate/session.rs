//! The cryptography of the WHOAREYOU handshake (spec §4): ECDH, session-key derivation and the
//! id-nonce signature, plus the two fused operations each side of a handshake needs.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use crate::error::{fixed, CryptoError};
use crate::secp256k1::{
    generate_private_key, parse_public_key, public_key_from_private, secret_key, sign_digest,
    verify_digest_with_key,
};

const KEY_AGREEMENT_TEXT: &[u8] = b"discovery v5 key agreement";
const ID_PROOF_TEXT: &[u8] = b"discovery v5 identity proof";

/// Bytes `handshake_initiate` returns: session keys, id signature, ephemeral public key.
pub const INITIATE_OUTPUT_SIZE: usize = 32 + 64 + 33;

/// ECDH as discv5 defines it: the 33-byte compressed shared point (parity ‖ x).
/// `None` when the public key is not a valid point.
pub fn ecdh(public_key: &[u8], private_key: &[u8]) -> Result<Option<[u8; 33]>, CryptoError> {
    let sk = secret_key(private_key)?;
    let Some(pk) = parse_public_key(public_key) else {
        return Ok(None);
    };
    let xy = ::secp256k1::ecdh::shared_secret_point(&pk, &sk);
    let mut out = [0u8; 33];
    out[0] = 0x02 | (xy[63] & 1);
    out[1..].copy_from_slice(&xy[..32]);
    Ok(Some(out))
}

/// HKDF-SHA256 with salt = challenge-data, IKM = secret, info = text ‖ id-A ‖ id-B:
/// initiator-key ‖ recipient-key.
pub fn kdf(secret: &[u8], initiator_id: &[u8], recipient_id: &[u8], challenge: &[u8]) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(Some(challenge), secret);
    let mut info = [0u8; 26 + 64];
    info[..26].copy_from_slice(KEY_AGREEMENT_TEXT);
    info[26..58].copy_from_slice(initiator_id);
    info[58..].copy_from_slice(recipient_id);
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    hk.expand(&info, &mut okm).expect("32-byte HKDF output");
    okm
}

/// ECDH followed by key derivation, in one step. `None` when the public key is invalid.
pub fn derive_keys(
    private_key: &[u8],
    public_key: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
    challenge: &[u8],
) -> Result<Option<[u8; 32]>, CryptoError> {
    check_ids(initiator_id, recipient_id)?;
    Ok(ecdh(public_key, private_key)?.map(|s| kdf(&s, initiator_id, recipient_id, challenge)))
}

fn check_ids(a: &[u8], b: &[u8]) -> Result<(), CryptoError> {
    fixed::<32>(a, "node id")?;
    fixed::<32>(b, "node id")?;
    Ok(())
}

/// sha256("discovery v5 identity proof" ‖ challenge-data ‖ ephemeral-pubkey ‖ node-id-B)
pub fn id_proof_digest(challenge: &[u8], ephemeral_pub: &[u8], recipient_id: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ID_PROOF_TEXT);
    h.update(challenge);
    h.update(ephemeral_pub);
    h.update(recipient_id);
    h.finalize().into()
}

pub fn id_sign(
    private_key: &[u8],
    challenge: &[u8],
    ephemeral_pub: &[u8],
    recipient_id: &[u8],
) -> Result<[u8; 64], CryptoError> {
    sign_digest(
        private_key,
        &id_proof_digest(challenge, ephemeral_pub, recipient_id),
    )
}

pub fn id_verify(
    public_key: &[u8],
    signature: &[u8],
    challenge: &[u8],
    ephemeral_pub: &[u8],
    recipient_id: &[u8],
) -> bool {
    let Some(pk) = parse_public_key(public_key) else {
        return false;
    };
    signature.len() == 64
        && verify_digest_with_key(
            &pk,
            &id_proof_digest(challenge, ephemeral_pub, recipient_id),
            signature,
        )
}

/// The initiator's whole computation on receiving WHOAREYOU: a fresh ephemeral key (unless one is
/// given, for test vectors), the session keys and the id signature.
/// Returns keys (32) ‖ id-signature (64) ‖ ephemeral public key (33), or `None` when the
/// recipient's public key is invalid.
pub fn handshake_initiate(
    static_private: &[u8],
    ephemeral_private: Option<&[u8]>,
    recipient_public: &[u8],
    challenge: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
) -> Result<Option<[u8; INITIATE_OUTPUT_SIZE]>, CryptoError> {
    check_ids(initiator_id, recipient_id)?;
    let eph = match ephemeral_private {
        Some(k) => fixed::<32>(k, "ephemeral key")?,
        None => generate_private_key()?,
    };
    let Some(keys) = derive_keys(
        &eph,
        recipient_public,
        initiator_id,
        recipient_id,
        challenge,
    )?
    else {
        return Ok(None);
    };
    let eph_pub = public_key_from_private(&eph)?;
    let sig = id_sign(static_private, challenge, &eph_pub, recipient_id)?;
    let mut out = [0u8; INITIATE_OUTPUT_SIZE];
    out[..32].copy_from_slice(&keys);
    out[32..96].copy_from_slice(&sig);
    out[96..].copy_from_slice(&eph_pub);
    Ok(Some(out))
}

/// The recipient's whole computation on a handshake packet: check the id signature against the
/// challenge it stored, then ECDH with the ephemeral key and derive the session keys.
/// `None` when the signature or either public key is invalid.
pub fn handshake_respond(
    static_private: &[u8],
    initiator_public: &[u8],
    ephemeral_public: &[u8],
    signature: &[u8],
    challenge: &[u8],
    initiator_id: &[u8],
    recipient_id: &[u8],
) -> Result<Option<[u8; 32]>, CryptoError> {
    check_ids(initiator_id, recipient_id)?;
    secret_key(static_private)?;
    if !id_verify(
        initiator_public,
        signature,
        challenge,
        ephemeral_public,
        recipient_id,
    ) {
        return Ok(None);
    }
    derive_keys(
        static_private,
        ephemeral_public,
        initiator_id,
        recipient_id,
        challenge,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{hex, unhex};

    const CHALLENGE: &str = "000000000000000000000000000000006469736376350001010102030405060708090a0b0c00180102030405060708090a0b0c0d0e0f100000000000000000";
    const ID_A: &str = "aaaa8419e9f49d0083561b48287df592939a8d19947d8c0ef88f2a4856a69fbb";
    const ID_B: &str = "bbbb9d047f0488c0b5a93c1c3f2d8bafc7c8ff337024a55434a0d0555de64db9";
    const KEY_B: &str = "66fb62bfbd66b9177a138c1e5cddbe4f7c30c343e94e68df8769459cb1cde628";
    const KEY_A: &str = "eef77acb6c6a6eebc5b363a475ac583ec7eccdb42b6481424c60f59aa326547f";

    #[test]
    fn ecdh_vector() {
        let s = ecdh(
            &unhex("039961e4c2356d61bedb83052c115d311acb3a96f5777296dcf297351130266231"),
            &unhex("fb757dc581730490a1d7a00deea65e9b1936924caaea8f44d476014856b68736"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            hex(&s),
            "033b11a2a1f214567e1537ce5e509ffd9b21373247f2a3ff6841f4976f53165e7e"
        );
    }

    #[test]
    fn key_derivation_vector() {
        let keys = derive_keys(
            &unhex("fb757dc581730490a1d7a00deea65e9b1936924caaea8f44d476014856b68736"),
            &unhex("0317931e6e0840220642f230037d285d122bc59063221ef3226b1f403ddc69ca91"),
            &unhex(ID_A),
            &unhex(ID_B),
            &unhex(CHALLENGE),
        )
        .unwrap()
        .unwrap();
        assert_eq!(hex(&keys[..16]), "dccc82d81bd610f4f76d3ebe97a40571");
        assert_eq!(hex(&keys[16..]), "ac74bb8773749920b0d3a8881c173ec5");
    }

    #[test]
    fn id_signature_vector() {
        let sig = id_sign(
            &unhex("fb757dc581730490a1d7a00deea65e9b1936924caaea8f44d476014856b68736"),
            &unhex(CHALLENGE),
            &unhex("039961e4c2356d61bedb83052c115d311acb3a96f5777296dcf297351130266231"),
            &unhex(ID_B),
        )
        .unwrap();
        assert_eq!(hex(&sig), "94852a1e2318c4e5e9d422c98eaf19d1d90d876b29cd06ca7cb7546d0fff7b484fe86c09a064fe72bdbef73ba8e9c34df0cd2b53e9d65528c2c7f336d5dfc6e6");
    }

    #[test]
    fn both_sides_of_a_handshake_agree() {
        let b_pub = public_key_from_private(&unhex(KEY_B)).unwrap();
        let a_pub = public_key_from_private(&unhex(KEY_A)).unwrap();
        let challenge = unhex(CHALLENGE);
        let out = handshake_initiate(
            &unhex(KEY_A),
            None,
            &b_pub,
            &challenge,
            &unhex(ID_A),
            &unhex(ID_B),
        )
        .unwrap()
        .unwrap();
        let keys = handshake_respond(
            &unhex(KEY_B),
            &a_pub,
            &out[96..],
            &out[32..96],
            &challenge,
            &unhex(ID_A),
            &unhex(ID_B),
        )
        .unwrap()
        .unwrap();
        assert_eq!(keys, out[..32]);
        // A different challenge (a replayed handshake) must fail the signature check.
        let mut other = challenge.clone();
        other[40] ^= 1;
        let refused = handshake_respond(
            &unhex(KEY_B),
            &a_pub,
            &out[96..],
            &out[32..96],
            &other,
            &unhex(ID_A),
            &unhex(ID_B),
        )
        .unwrap();
        assert!(refused.is_none());
    }

    #[test]
    fn invalid_peer_key_is_a_value_not_an_error() {
        let mut off_curve = [0u8; 33];
        off_curve[0] = 2;
        off_curve[32] = 5; // x = 5 is not the x of any point
        assert!(ecdh(&off_curve, &unhex(KEY_A)).unwrap().is_none());
        assert!(ecdh(&[9u8; 33], &unhex(KEY_A)).unwrap().is_none());
        assert!(ecdh(&off_curve, &[0u8; 32]).is_err());
    }
}
