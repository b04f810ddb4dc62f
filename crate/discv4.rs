//! Discovery v4 packets (devp2p discv4.md, "Wire Protocol"):
//!
//! ```text
//! packet    = hash ‖ signature ‖ packet-type ‖ packet-data
//! hash      = keccak256(signature ‖ packet-type ‖ packet-data)
//! signature = 65-byte recoverable ECDSA [r ‖ s ‖ recovery-id] over keccak256(packet-type ‖ packet-data)
//! ```
//!
//! Only the framing lives here: the RLP of packet-data is TypeScript's business. A packet is at
//! most 1280 bytes. The sender is not named in the packet; its key is recovered from the signature.
//!
//! Recovery follows go-ethereum (`crypto.Ecrecover` on libsecp256k1): recovery ids 0-3 are
//! accepted and so is a high `s` (recovery does not require normalised signatures), while `r` or
//! `s` equal to zero or not below the group order are refused. Signing is RFC 6979 and low-s, so
//! the same key and packet-data always give the same bytes.

use ::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use ::secp256k1::Message;

use crate::error::CryptoError;
use crate::keccak::keccak256;
use crate::secp256k1::{node_id_of_key, secret_key, CONTEXT};

pub const HASH_SIZE: usize = 32;
pub const SIGNATURE_SIZE: usize = 65;
/// hash ‖ signature: where packet-type sits.
pub const HEAD_SIZE: usize = HASH_SIZE + SIGNATURE_SIZE;
/// Where packet-data starts.
pub const DATA_OFFSET: usize = HEAD_SIZE + 1;
/// The smallest packet: a head and a type byte, with empty packet-data.
pub const MIN_PACKET_SIZE: usize = DATA_OFFSET;
pub const MAX_PACKET_SIZE: usize = 1280;
/// The 64-byte public key X ‖ Y, as discv4 names nodes.
pub const PUBLIC_KEY_SIZE: usize = 64;
/// `Unpacked::to_bytes`: hash ‖ public key ‖ node id ‖ packet-type.
pub const UNPACKED_SIZE: usize = HASH_SIZE + PUBLIC_KEY_SIZE + 32 + 1;

/// What a packet proves once its hash and signature check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    pub hash: [u8; HASH_SIZE],
    /// The signer's key, X ‖ Y (no 0x04 prefix).
    pub public_key: [u8; PUBLIC_KEY_SIZE],
    /// keccak256(public_key): the signer's node id, as discv5 and ENR "v4" define it.
    pub node_id: [u8; 32],
    pub packet_type: u8,
    /// packet-data is `packet[data_offset..]` (always `DATA_OFFSET`).
    pub data_offset: usize,
}

impl Unpacked {
    /// hash (32) ‖ public key (64) ‖ node id (32) ‖ packet-type (1).
    pub fn to_bytes(&self) -> [u8; UNPACKED_SIZE] {
        let mut out = [0u8; UNPACKED_SIZE];
        out[..32].copy_from_slice(&self.hash);
        out[32..96].copy_from_slice(&self.public_key);
        out[96..128].copy_from_slice(&self.node_id);
        out[128] = self.packet_type;
        out
    }
}

/// Signs `packet[HEAD_SIZE..]` (type ‖ data) and fills in the signature and the hash.
fn seal(sk: &::secp256k1::SecretKey, packet: &mut [u8]) {
    let digest = keccak256(&packet[HEAD_SIZE..]);
    let sig = CONTEXT.sign_ecdsa_recoverable(Message::from_digest(digest), sk);
    let (recid, rs) = sig.serialize_compact();
    packet[HASH_SIZE..HASH_SIZE + 64].copy_from_slice(&rs);
    // 0 or 1 in practice (2 and 3 need r >= n, odds about 2^-127); always below 4.
    packet[HEAD_SIZE - 1] = i32::from(recid) as u8;
    let hash = keccak256(&packet[HASH_SIZE..]);
    packet[..HASH_SIZE].copy_from_slice(&hash);
}

/// A whole packet: hash ‖ signature ‖ packet-type ‖ data, signed with `private_key`.
/// Errors if the key is not a valid scalar or the packet would exceed 1280 bytes.
pub fn pack(private_key: &[u8], packet_type: u8, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let sk = secret_key(private_key)?;
    if data.len() > MAX_PACKET_SIZE - DATA_OFFSET {
        return Err(CryptoError::InvalidLength("discv4 packet-data"));
    }
    let mut packet = vec![0u8; DATA_OFFSET + data.len()];
    packet[HEAD_SIZE] = packet_type;
    packet[DATA_OFFSET..].copy_from_slice(data);
    seal(&sk, &mut packet);
    Ok(packet)
}

/// Checks an inbound packet's size and hash and recovers its signer. `None` for anything that
/// is not a well-formed, correctly signed packet; never panics on any input.
pub fn unpack(packet: &[u8]) -> Option<Unpacked> {
    if packet.len() < MIN_PACKET_SIZE || packet.len() > MAX_PACKET_SIZE {
        return None;
    }
    let hash = keccak256(&packet[HASH_SIZE..]);
    if hash[..] != packet[..HASH_SIZE] {
        return None;
    }
    let recid = RecoveryId::try_from(i32::from(packet[HEAD_SIZE - 1])).ok()?;
    let sig = RecoverableSignature::from_compact(&packet[HASH_SIZE..HEAD_SIZE - 1], recid).ok()?;
    let digest = keccak256(&packet[HEAD_SIZE..]);
    let pk = CONTEXT
        .recover_ecdsa(Message::from_digest(digest), &sig)
        .ok()?;
    let uncompressed = pk.serialize_uncompressed();
    let mut public_key = [0u8; PUBLIC_KEY_SIZE];
    public_key.copy_from_slice(&uncompressed[1..]);
    Some(Unpacked {
        hash,
        public_key,
        node_id: node_id_of_key(&pk),
        packet_type: packet[HEAD_SIZE],
        data_offset: DATA_OFFSET,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secp256k1::{decompress, public_key_from_private};
    use crate::testutil::{hex, negate_s, unhex};

    /// The key that signed EIP-8's discovery test packets (and EIP-778's example record).
    const KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
    const KEY_XY: &str = "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f";
    const NODE_ID: &str = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";

    /// EIP-8 "RLPx Discovery Protocol" test vectors: (packet-type, packet).
    const EIP8: [(u8, &str); 5] = [
        (1, "e9614ccfd9fc3e74360018522d30e1419a143407ffcce748de3e22116b7e8dc92ff74788c0b6663aaa3d67d641936511c8f8d6ad8698b820a7cf9e1be7155e9a241f556658c55428ec0563514365799a4be2be5a685a80971ddcfa80cb422cdd0101ec04cb847f000001820cfa8215a8d790000000000000000000000000000000018208ae820d058443b9a3550102"),
        (1, "577be4349c4dd26768081f58de4c6f375a7a22f3f7adda654d1428637412c3d7fe917cadc56d4e5e7ffae1dbe3efffb9849feb71b262de37977e7c7a44e677295680e9e38ab26bee2fcbae207fba3ff3d74069a50b902a82c9903ed37cc993c50001f83e82022bd79020010db83c4d001500000000abcdef12820cfa8215a8d79020010db885a308d313198a2e037073488208ae82823a8443b9a355c5010203040531b9019afde696e582a78fa8d95ea13ce3297d4afb8ba6433e4154caa5ac6431af1b80ba76023fa4090c408f6b4bc3701562c031041d4702971d102c9ab7fa5eed4cd6bab8f7af956f7d565ee1917084a95398b6a21eac920fe3dd1345ec0a7ef39367ee69ddf092cbfe5b93e5e568ebc491983c09c76d922dc3"),
        (2, "09b2428d83348d27cdf7064ad9024f526cebc19e4958f0fdad87c15eb598dd61d08423e0bf66b2069869e1724125f820d851c136684082774f870e614d95a2855d000f05d1648b2d5945470bc187c2d2216fbe870f43ed0909009882e176a46b0102f846d79020010db885a308d313198a2e037073488208ae82823aa0fbc914b16819237dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c9548443b9a355c6010203c2040506a0c969a58f6f9095004c0177a6b47f451530cab38966a25cca5cb58f055542124e"),
        (3, "c7c44041b9f7c7e41934417ebac9a8e1a4c6298f74553f2fcfdcae6ed6fe53163eb3d2b52e39fe91831b8a927bf4fc222c3902202027e5e9eb812195f95d20061ef5cd31d502e47ecb61183f74a504fe04c51e73df81f25c4d506b26db4517490103f84eb840ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f8443b9a35582999983999999280dc62cc8255c73471e0a61da0c89acdc0e035e260add7fc0c04ad9ebf3919644c91cb247affc82b69bd2ca235c71eab8e49737c937a2c396"),
        (4, "c679fc8fe0b8b12f06577f2e802d34f6fa257e6137a995f6f4cbfc9ee50ed3710faf6e66f932c4c8d81d64343f429651328758b47d3dbc02c4042f0fff6946a50f4a49037a72bb550f3a7872363a83e1b9ee6469856c24eb4ef80b7535bcf99c0004f9015bf90150f84d846321163782115c82115db8403155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610fce76382c0bf32f84984010203040101b840312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069dbf8599020010db83c4d001500000000abcdef12820d05820d05b84038643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aacf8599020010db885a308d313198a2e037073488203e78203e8b8408dcab8618c3253b558d459da53bd8fa68935a719aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df738443b9a355010203b525a138aa34383fec3d2719a0"),
    ];

    fn rehash(packet: &mut [u8]) {
        let hash = keccak256(&packet[HASH_SIZE..]);
        packet[..HASH_SIZE].copy_from_slice(&hash);
    }

    #[test]
    fn eip8_packets_unpack_to_the_known_key() {
        for (packet_type, packet) in EIP8 {
            let packet = unhex(packet);
            let u = unpack(&packet).expect("EIP-8 packet accepted");
            assert_eq!(hex(&u.public_key), KEY_XY);
            assert_eq!(hex(&u.node_id), NODE_ID);
            assert_eq!(u.packet_type, packet_type);
            assert_eq!(u.hash[..], packet[..32]);
            assert_eq!(u.data_offset, 98);
        }
    }

    #[test]
    fn signing_is_deterministic() {
        // RFC 6979: the same key, type and data give the very same packet. (EIP-8's packets were
        // signed with random nonces, so re-signing them gives other signatures over the same data.)
        for (packet_type, packet) in EIP8 {
            let packet = unhex(packet);
            let data = &packet[DATA_OFFSET..];
            let a = pack(&unhex(KEY), packet_type, data).unwrap();
            assert_eq!(a, pack(&unhex(KEY), packet_type, data).unwrap());
            assert_eq!(a[HEAD_SIZE..], packet[HEAD_SIZE..]);
            assert_eq!(hex(&unpack(&a).unwrap().node_id), NODE_ID);
        }
    }

    #[test]
    fn round_trip() {
        let key = unhex(KEY);
        let data = [0xc1, 0x80];
        let packet = pack(&key, 5, &data).unwrap();
        assert_eq!(packet.len(), DATA_OFFSET + 2);
        let u = unpack(&packet).unwrap();
        let full = decompress(&public_key_from_private(&key).unwrap()).unwrap();
        assert_eq!(u.public_key[..], full[1..]);
        assert_eq!(hex(&u.node_id), NODE_ID);
        assert_eq!(u.node_id, keccak256(&u.public_key));
        assert_eq!(u.packet_type, 5);
        assert_eq!(&packet[u.data_offset..], &data);
        assert_eq!(u.hash[..], packet[..32]);
        let bytes = u.to_bytes();
        assert_eq!(bytes.len(), UNPACKED_SIZE);
        assert_eq!(bytes[..32], u.hash);
        assert_eq!(bytes[32..96], u.public_key);
        assert_eq!(bytes[96..128], u.node_id);
        assert_eq!(bytes[128], 5);
        // Empty packet-data is a well-formed frame (the RLP layer refuses it).
        assert!(unpack(&pack(&key, 1, &[]).unwrap()).is_some());
    }

    #[test]
    fn tampering_is_refused() {
        let packet = pack(&unhex(KEY), 3, &[0xc2, 0x01, 0x02]).unwrap();
        for at in 0..packet.len() {
            let mut bad = packet.clone();
            bad[at] ^= 0x01;
            assert!(unpack(&bad).is_none(), "flip at {at} without rehash");
        }
        // With the hash made right again, a changed signature or recovery id recovers nothing
        // or another key, and a changed type or data another key: never the signer's.
        let signer = unpack(&packet).unwrap().public_key;
        for at in HASH_SIZE..packet.len() {
            let mut bad = packet.clone();
            bad[at] ^= 0x01;
            rehash(&mut bad);
            if let Some(u) = unpack(&bad) {
                assert_ne!(
                    u.public_key, signer,
                    "flip at {at} still recovers the signer"
                );
            }
        }
    }

    #[test]
    fn recovery_id_and_scalars_out_of_range() {
        let packet = pack(&unhex(KEY), 1, &[0xc0]).unwrap();
        for recid in [4u8, 27, 28, 0xff] {
            let mut bad = packet.clone();
            bad[HEAD_SIZE - 1] = recid;
            rehash(&mut bad);
            assert!(unpack(&bad).is_none(), "recovery id {recid}");
        }
        for (r, s) in [(0x00u8, 0x01u8), (0x01, 0x00), (0xff, 0x01), (0x01, 0xff)] {
            let mut bad = packet.clone();
            bad[HASH_SIZE..HASH_SIZE + 32].fill(r);
            bad[HASH_SIZE + 32..HEAD_SIZE - 1].fill(s);
            rehash(&mut bad);
            assert!(unpack(&bad).is_none(), "r = {r:02x}.., s = {s:02x}..");
        }
    }

    #[test]
    fn high_s_recovers_the_same_key_as_geth_does() {
        let packet = pack(&unhex(KEY), 1, &[0xc0]).unwrap();
        let mut malleated = packet.clone();
        let high = negate_s(&packet[HASH_SIZE..HEAD_SIZE - 1]);
        malleated[HASH_SIZE..HEAD_SIZE - 1].copy_from_slice(&high);
        malleated[HEAD_SIZE - 1] ^= 1;
        rehash(&mut malleated);
        let u = unpack(&malleated).expect("high s is recoverable");
        assert_eq!(hex(&u.node_id), NODE_ID);
        assert_ne!(u.hash, unpack(&packet).unwrap().hash);
    }

    #[test]
    fn size_bounds() {
        let key = unhex(KEY);
        let sk = secret_key(&key).unwrap();
        for len in [0, 1, 32, 97] {
            assert!(unpack(&vec![0u8; len]).is_none());
        }
        // A 97-byte prefix of a real packet: hash and signature but no type.
        let packet = pack(&key, 1, &[0xc0]).unwrap();
        assert!(unpack(&packet[..HEAD_SIZE]).is_none());
        // The largest packet is accepted, one byte more is not, even when correctly signed.
        let max = pack(&key, 4, &vec![0xab; MAX_PACKET_SIZE - DATA_OFFSET]).unwrap();
        assert_eq!(max.len(), MAX_PACKET_SIZE);
        assert!(unpack(&max).is_some());
        let mut over = vec![0xabu8; MAX_PACKET_SIZE + 1];
        over[HEAD_SIZE] = 4;
        seal(&sk, &mut over);
        assert!(unpack(&over).is_none());
        over.truncate(MAX_PACKET_SIZE);
        seal(&sk, &mut over);
        assert!(unpack(&over).is_some());
    }

    #[test]
    fn pack_refuses_misuse() {
        let key = unhex(KEY);
        assert_eq!(
            pack(&key, 1, &vec![0u8; MAX_PACKET_SIZE - DATA_OFFSET + 1]).unwrap_err(),
            CryptoError::InvalidLength("discv4 packet-data")
        );
        assert_eq!(
            pack(&[0u8; 32], 1, &[]).unwrap_err(),
            CryptoError::InvalidPrivateKey
        );
        assert!(matches!(
            pack(&key[..31], 1, &[]),
            Err(CryptoError::InvalidLength(_))
        ));
    }

    #[test]
    fn random_input_never_panics() {
        // A cheap deterministic generator: any bytes, any length up to past the limit.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 1400) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            assert!(unpack(&bytes).is_none());
            if len > HASH_SIZE {
                // Right hash, random signature: reaches recovery.
                rehash(&mut bytes);
                let _ = unpack(&bytes);
            }
        }
    }
}
