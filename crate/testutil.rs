//! Helpers shared by the unit tests.

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("valid hex"))
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The secp256k1 group order n.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// Returns r ‖ (n − s): the same signature with the other s, which verifiers must refuse.
pub fn negate_s(sig: &[u8]) -> Vec<u8> {
    let mut out = sig.to_vec();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut v = N[i] as i16 - sig[32 + i] as i16 - borrow;
        borrow = if v < 0 { 1 } else { 0 };
        if v < 0 {
            v += 256;
        }
        out[32 + i] = v as u8;
    }
    out
}
