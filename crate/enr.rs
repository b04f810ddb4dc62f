//! "v4" identity scheme for node records (EIP-778, spec §10.3): ECDSA over keccak256 of the
//! RLP-encoded content `[seq, k1, v1, ...]`.

use crate::error::CryptoError;
use crate::keccak::keccak256;
use crate::secp256k1::{node_id_of_key, parse_public_key, sign_digest, verify_digest_with_key};

pub fn sign_v4(private_key: &[u8], content: &[u8]) -> Result<[u8; 64], CryptoError> {
    sign_digest(private_key, &keccak256(content))
}

pub fn verify_v4(public_key: &[u8], content: &[u8], signature: &[u8]) -> bool {
    if signature.len() != 64 {
        return false;
    }
    match parse_public_key(public_key) {
        Some(pk) => verify_digest_with_key(&pk, &keccak256(content), signature),
        None => false,
    }
}

/// Bytes per record in `verify_v4_batch`'s output: a flag, then the node id.
pub const BATCH_ENTRY_SIZE: usize = 33;

/// Verifies n records at once (a NODES response carries up to 16), parsing each key once for
/// both the signature check and the node id.
/// `public_keys` is n × 33, `signatures` n × 64, and record i's content is
/// `contents[offsets[i]..offsets[i + 1]]`. Returns n × 33 bytes: for each record, 1 and its
/// node id if the signature verifies, else 33 zero bytes.
pub fn verify_v4_batch(
    public_keys: &[u8],
    signatures: &[u8],
    contents: &[u8],
    offsets: &[u32],
) -> Result<Vec<u8>, CryptoError> {
    let n = offsets.len().saturating_sub(1);
    if offsets.is_empty() || public_keys.len() != n * 33 {
        return Err(CryptoError::InvalidLength("public keys"));
    }
    if signatures.len() != n * 64 {
        return Err(CryptoError::InvalidLength("signatures"));
    }
    let mut out = vec![0u8; n * BATCH_ENTRY_SIZE];
    for i in 0..n {
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        if start > end || end > contents.len() {
            return Err(CryptoError::InvalidLength("content offsets"));
        }
        let Some(pk) = parse_public_key(&public_keys[i * 33..(i + 1) * 33]) else {
            continue;
        };
        let digest = keccak256(&contents[start..end]);
        if verify_digest_with_key(&pk, &digest, &signatures[i * 64..(i + 1) * 64]) {
            let entry = &mut out[i * BATCH_ENTRY_SIZE..(i + 1) * BATCH_ENTRY_SIZE];
            entry[0] = 1;
            entry[1..].copy_from_slice(&node_id_of_key(&pk));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{hex, unhex};

    const KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
    const CONTENT: &str = "f84201826964827634826970847f00000189736563703235366b31a103ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31388375647082765f";
    const SIG: &str = "7098ad865b00a582051940cb9cf36836572411a47278783077011599ed5cd16b76f2635f4e234738f30813a89eb9137e3e3df5266e3a1f11df72ecf1145ccb9c";
    const PUB: &str = "03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138";

    #[test]
    fn eip778_signature_reproduces() {
        assert_eq!(hex(&sign_v4(&unhex(KEY), &unhex(CONTENT)).unwrap()), SIG);
        assert!(verify_v4(&unhex(PUB), &unhex(CONTENT), &unhex(SIG)));
    }

    #[test]
    fn batch_flags_each_record() {
        let content = unhex(CONTENT);
        let mut tampered = content.clone();
        tampered[10] ^= 1;
        let contents = [content.clone(), tampered, content].concat();
        let n = unhex(CONTENT).len() as u32;
        let offsets = [0, n, 2 * n, 3 * n];
        let pubs = [unhex(PUB), unhex(PUB), unhex(PUB)].concat();
        let sigs = [
            unhex(SIG),
            unhex(SIG),
            crate::testutil::negate_s(&unhex(SIG)),
        ]
        .concat();
        let out = verify_v4_batch(&pubs, &sigs, &contents, &offsets).unwrap();
        let id = crate::secp256k1::node_id(&unhex(PUB)).unwrap();
        assert_eq!(out.len(), 3 * BATCH_ENTRY_SIZE);
        assert_eq!(out[0], 1);
        assert_eq!(&out[1..33], &id);
        assert!(
            out[33..].iter().all(|&b| b == 0),
            "failed records are all zeros"
        );
        assert!(verify_v4_batch(&pubs[..32], &sigs, &contents, &offsets).is_err());
        assert!(verify_v4_batch(&pubs, &sigs, &contents, &[0, n, 2 * n, 9999]).is_err());
    }
}
