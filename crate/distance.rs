//! XOR distance and log-distance over 32-byte node ids, in batches (spec §7).
//!
//! log-distance is the bit length of a XOR b: 0 for equal ids, otherwise 1..=256.

use crate::error::CryptoError;

pub const ID_SIZE: usize = 32;

pub fn log_distance(a: &[u8], b: &[u8]) -> u16 {
    for i in 0..ID_SIZE {
        let x = a[i] ^ b[i];
        if x != 0 {
            return ((ID_SIZE - i) * 8) as u16 - x.leading_zeros() as u16;
        }
    }
    0
}

fn check(target: &[u8], ids: &[u8]) -> Result<(), CryptoError> {
    if target.len() != ID_SIZE {
        return Err(CryptoError::InvalidLength("target"));
    }
    if !ids.len().is_multiple_of(ID_SIZE) {
        return Err(CryptoError::InvalidLength("packed ids"));
    }
    Ok(())
}

/// Log-distance from `target` to each id of a packed list (n × 32 bytes).
pub fn log_distances(target: &[u8], ids: &[u8]) -> Result<Vec<u16>, CryptoError> {
    check(target, ids)?;
    Ok(ids
        .chunks_exact(ID_SIZE)
        .map(|id| log_distance(target, id))
        .collect())
}

/// Indices of the `k` ids of a packed list closest to `target` by XOR distance, closest first.
/// Equal distances (duplicate ids) keep list order, so every backend returns the same indices.
pub fn closest(target: &[u8], ids: &[u8], k: usize) -> Result<Vec<u32>, CryptoError> {
    check(target, ids)?;
    let mut keyed: Vec<([u8; ID_SIZE], u32)> = ids
        .chunks_exact(ID_SIZE)
        .enumerate()
        .map(|(i, id)| {
            let mut x = [0u8; ID_SIZE];
            for j in 0..ID_SIZE {
                x[j] = id[j] ^ target[j];
            }
            (x, i as u32)
        })
        .collect();
    let k = k.min(keyed.len());
    if k == 0 {
        return Ok(Vec::new());
    }
    if k < keyed.len() {
        keyed.select_nth_unstable(k - 1);
        keyed.truncate(k);
    }
    keyed.sort_unstable();
    Ok(keyed.into_iter().map(|(_, i)| i).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::unhex;

    #[test]
    fn spec_example_distance() {
        let a = unhex("aaaa8419e9f49d0083561b48287df592939a8d19947d8c0ef88f2a4856a69fbb");
        let b = unhex("bbbb9d047f0488c0b5a93c1c3f2d8bafc7c8ff337024a55434a0d0555de64db9");
        assert_eq!(log_distance(&a, &b), 253);
        assert_eq!(log_distance(&a, &a), 0);
        let mut c = a.clone();
        c[31] ^= 1;
        assert_eq!(log_distance(&a, &c), 1);
        let mut d = a.clone();
        d[0] ^= 0x80;
        assert_eq!(log_distance(&a, &d), 256);
    }

    #[test]
    fn closest_matches_brute_force_with_stable_ties() {
        let target = [0u8; 32];
        let mut ids = Vec::new();
        for v in [9u8, 3, 7, 3, 1, 200, 0] {
            let mut id = [0u8; 32];
            id[31] = v;
            ids.extend_from_slice(&id);
        }
        assert_eq!(closest(&target, &ids, 4).unwrap(), vec![6, 4, 1, 3]);
        assert_eq!(
            closest(&target, &ids, 100).unwrap(),
            vec![6, 4, 1, 3, 2, 0, 5]
        );
        assert!(closest(&target, &ids, 0).unwrap().is_empty());
        assert!(closest(&target, &ids[..33], 1).is_err());
        assert_eq!(
            log_distances(&target, &ids).unwrap(),
            vec![4, 2, 3, 2, 1, 8, 0]
        );
    }
}
