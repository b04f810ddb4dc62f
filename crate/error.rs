//! Errors for programmer mistakes that slipped past the TypeScript validation layer.
//!
//! Expected failures (a bad tag, a bad signature, an off-curve point from the network) are
//! values (`None` / `false`), never errors. The codes match `Discv5Error` codes in
//! ts/util/errors.ts so that both backends fail the same way.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// An argument has the wrong length.
    InvalidLength(&'static str),
    /// A private key is zero or not below the curve order.
    InvalidPrivateKey,
    /// The operating system's random source failed.
    Randomness,
}

impl CryptoError {
    /// Stable code shared with the TypeScript `Discv5Error`.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::InvalidLength(_) => "ERR_INVALID_LENGTH",
            CryptoError::InvalidPrivateKey => "ERR_INVALID_PRIVATE_KEY",
            CryptoError::Randomness => "ERR_RANDOMNESS",
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::InvalidLength(what) => write!(f, "{what} has the wrong length"),
            CryptoError::InvalidPrivateKey => {
                write!(f, "private key is not a valid secp256k1 scalar")
            }
            CryptoError::Randomness => write!(f, "the operating system's random source failed"),
        }
    }
}

impl std::error::Error for CryptoError {}

/// Copies a slice into a fixed array, or reports which argument had the wrong length.
pub fn fixed<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[u8; N], CryptoError> {
    bytes
        .try_into()
        .map_err(|_| CryptoError::InvalidLength(what))
}
