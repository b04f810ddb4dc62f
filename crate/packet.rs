//! Packet masking (AES-128-CTR) and message sealing (AES-128-GCM), spec §3.
//!
//! The header is masked with key = destination node-id[0:16] and IV = masking-iv; the keystream
//! runs on from the 23-byte static header into the authdata. The GCM associated data is the
//! *unmasked* `masking-iv ‖ static-header ‖ authdata`.

use aes::cipher::{KeyIvInit, StreamCipher};
use aes_gcm::aead::{Aead, AeadInPlace, Payload};
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};

use crate::error::{fixed, CryptoError};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

pub const MASKING_IV_SIZE: usize = 16;
pub const STATIC_HEADER_SIZE: usize = 23;
pub const HEADER_START: usize = MASKING_IV_SIZE + STATIC_HEADER_SIZE;
pub const MIN_PACKET_SIZE: usize = 63;
pub const MAX_PACKET_SIZE: usize = 1280;
pub const PROTOCOL_ID: &[u8; 6] = b"discv5";
pub const NONCE_SIZE: usize = 12;
pub const TAG_SIZE: usize = 16;

fn ctr(masking_key: &[u8], iv: &[u8]) -> Result<Aes128Ctr, CryptoError> {
    let key = fixed::<16>(masking_key, "masking key")?;
    let iv = fixed::<16>(iv, "masking iv")?;
    Ok(Aes128Ctr::new(&key.into(), &iv.into()))
}

/// Unmasks the header of an inbound packet with our own masking key.
///
/// Returns `masking-iv ‖ static-header ‖ authdata` unmasked (exactly the GCM associated data;
/// the message starts at that length in the packet), or `None` when the packet is outside
/// 63..=1280 bytes, its protocol-id is not "discv5", or its authdata-size overruns it.
/// Version and flag are left to the caller, which counts each kind of drop.
pub fn unmask_header(masking_key: &[u8], packet: &[u8]) -> Result<Option<Vec<u8>>, CryptoError> {
    if packet.len() < MIN_PACKET_SIZE || packet.len() > MAX_PACKET_SIZE {
        return Ok(None);
    }
    let mut cipher = ctr(masking_key, &packet[..MASKING_IV_SIZE])?;
    let mut out = Vec::with_capacity(packet.len());
    out.extend_from_slice(&packet[..HEADER_START]);
    cipher.apply_keystream(&mut out[MASKING_IV_SIZE..]);
    if &out[MASKING_IV_SIZE..MASKING_IV_SIZE + 6] != PROTOCOL_ID {
        return Ok(None);
    }
    let authdata_size = u16::from_be_bytes([out[HEADER_START - 2], out[HEADER_START - 1]]) as usize;
    let end = HEADER_START + authdata_size;
    if end > packet.len() {
        return Ok(None);
    }
    out.extend_from_slice(&packet[HEADER_START..end]);
    cipher.apply_keystream(&mut out[HEADER_START..]);
    Ok(Some(out))
}

/// `masking-iv ‖ aesctr(header) ‖ message`: a WHOAREYOU (empty message) or any packet whose
/// message is already sealed.
pub fn mask_packet(
    masking_key: &[u8],
    iv: &[u8],
    header: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut cipher = ctr(masking_key, iv)?;
    let mut out = Vec::with_capacity(MASKING_IV_SIZE + header.len() + message.len());
    out.extend_from_slice(iv);
    out.extend_from_slice(header);
    cipher.apply_keystream(&mut out[MASKING_IV_SIZE..]);
    out.extend_from_slice(message);
    Ok(out)
}

fn gcm(key: &[u8]) -> Result<Aes128Gcm, CryptoError> {
    let key = fixed::<16>(key, "session key")?;
    Ok(Aes128Gcm::new(&key.into()))
}

/// AES-128-GCM: ciphertext ‖ 16-byte tag.
pub fn encrypt(
    key: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce = fixed::<NONCE_SIZE>(nonce, "nonce")?;
    // Encryption of an in-memory buffer under 2^36 bytes cannot fail.
    Ok(gcm(key)?
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        .expect("AES-GCM encryption"))
}

/// AES-128-GCM open; `None` when the tag does not verify (or the input is shorter than a tag).
pub fn decrypt(
    key: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
    ad: &[u8],
) -> Result<Option<Vec<u8>>, CryptoError> {
    let nonce = fixed::<NONCE_SIZE>(nonce, "nonce")?;
    let cipher = gcm(key)?;
    if ciphertext.len() < TAG_SIZE {
        return Ok(None);
    }
    let (body, tag) = ciphertext.split_at(ciphertext.len() - TAG_SIZE);
    let mut out = body.to_vec();
    Ok(cipher
        .decrypt_in_place_detached(Nonce::from_slice(&nonce), ad, &mut out, tag.into())
        .ok()
        .map(|_| out))
}

/// One outbound packet in one step: seal `plaintext` with the header's nonce and
/// AD = iv ‖ header, then mask the header. `header` is static-header ‖ authdata, unmasked.
/// Works in one buffer: the unmasked iv ‖ header in front is the AD while the message part is
/// sealed in place, and is masked only afterwards.
pub fn seal_packet(
    masking_key: &[u8],
    iv: &[u8],
    header: &[u8],
    write_key: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if header.len() < STATIC_HEADER_SIZE {
        return Err(CryptoError::InvalidLength("header"));
    }
    let mut ctr_cipher = ctr(masking_key, iv)?;
    let cipher = gcm(write_key)?;
    let ad_len = MASKING_IV_SIZE + header.len();
    let mut out = Vec::with_capacity(ad_len + plaintext.len() + TAG_SIZE);
    out.extend_from_slice(iv);
    out.extend_from_slice(header);
    out.extend_from_slice(plaintext);
    let (ad, message) = out.split_at_mut(ad_len);
    let nonce = Nonce::from_slice(&header[9..21]);
    // Sealing an in-memory buffer under 2^36 bytes cannot fail.
    let tag = cipher
        .encrypt_in_place_detached(nonce, ad, message)
        .expect("AES-GCM encryption");
    out.extend_from_slice(&tag);
    ctr_cipher.apply_keystream(&mut out[MASKING_IV_SIZE..ad_len]);
    Ok(out)
}

/// The inbound twin of `seal_packet`: opens the message of a packet whose header
/// `unmask_header` returned (`ad`), using the header's nonce. `None` on a bad tag.
pub fn open_packet(
    read_key: &[u8],
    ad: &[u8],
    packet: &[u8],
) -> Result<Option<Vec<u8>>, CryptoError> {
    if ad.len() < HEADER_START || ad.len() > packet.len() {
        return Err(CryptoError::InvalidLength("header"));
    }
    let nonce = &ad[MASKING_IV_SIZE + 9..MASKING_IV_SIZE + 21];
    decrypt(read_key, nonce, &packet[ad.len()..], ad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{hex, unhex};

    const ID_B: &str = "bbbb9d047f0488c0b5a93c1c3f2d8bafc7c8ff337024a55434a0d0555de64db9";
    const PING_PACKET: &str = "00000000000000000000000000000000088b3d4342774649325f313964a39e55ea96c005ad52be8c7560413a7008f16c9e6d2f43bbea8814a546b7409ce783d34c4f53245d08dab84102ed931f66d1492acb308fa1c6715b9d139b81acbdcc";

    #[test]
    fn aes_gcm_vector() {
        let ct = encrypt(
            &unhex("9f2d77db7004bf8a1a85107ac686990b"),
            &unhex("27b5af763c446acd2749fe8e"),
            &unhex("01c20101"),
            &unhex("93a7400fa0d6a694ebc24d5cf570f65d04215b6ac00757875e3f3a5f42107903"),
        )
        .unwrap();
        assert_eq!(hex(&ct), "a5d12a2d94b8ccb3ba55558229867dc13bfa3648");
    }

    #[test]
    fn ping_packet_decodes_and_reencodes() {
        let packet = unhex(PING_PACKET);
        let key_b = unhex(ID_B);
        let ad = unmask_header(&key_b[..16], &packet).unwrap().unwrap();
        assert_eq!(ad.len(), HEADER_START + 32);
        assert_eq!(&ad[16..22], b"discv5");
        let pt = open_packet(&[0u8; 16], &ad, &packet).unwrap().unwrap();
        assert_eq!(hex(&pt), "01c6840000000102");
        let again = seal_packet(&key_b[..16], &ad[..16], &ad[16..], &[0u8; 16], &pt).unwrap();
        assert_eq!(again, packet);
        let mut wrong = packet.clone();
        *wrong.last_mut().unwrap() ^= 1;
        assert!(open_packet(&[0u8; 16], &ad, &wrong).unwrap().is_none());
    }

    #[test]
    fn refuses_bad_sizes_and_protocol() {
        let key_b = unhex(ID_B);
        assert!(unmask_header(&key_b[..16], &[0u8; 62]).unwrap().is_none());
        assert!(unmask_header(&key_b[..16], &[0u8; 1281]).unwrap().is_none());
        let packet = unhex(PING_PACKET);
        // Another node's key unmasks garbage: the protocol-id check fails.
        assert!(unmask_header(&[0u8; 16], &packet).unwrap().is_none());
        // Truncate into the authdata: authdata-size overruns.
        assert!(unmask_header(&key_b[..16], &packet[..66])
            .unwrap()
            .is_none());
        assert!(decrypt(&[0u8; 16], &[0u8; 12], &[0u8; 15], &[])
            .unwrap()
            .is_none());
        assert!(encrypt(&[0u8; 15], &[0u8; 12], &[], &[]).is_err());
    }
}
