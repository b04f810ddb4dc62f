//! Keccak-256 as Ethereum uses it (the original Keccak padding, not NIST SHA3-256).

use sha3::{Digest, Keccak256};

pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn empty_input_is_keccak_not_sha3() {
        // keccak256("") differs from sha3-256("") = a7ffc6f8...
        assert_eq!(
            hex(&keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn eip778_signing_hash() {
        let content = crate::testutil::unhex("f84201826964827634826970847f00000189736563703235366b31a103ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31388375647082765f");
        assert_eq!(
            hex(&keccak256(&content)),
            "bc218268b018aecb5d4c5afd5feeb3b920f56eddf09bdf83df9d3de868e1cb95"
        );
    }
}
