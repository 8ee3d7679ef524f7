//! The 256-bit code (a PDQ hash, a keypoint descriptor), its text form and byte form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A 256-bit binary code: a PDQ hash or a keypoint descriptor.
///
/// Bit `k` (0..=255) is stored in `words[k / 64]` at bit `k % 64`. For a PDQ hash, bit `k` is
/// the DCT coefficient at row `k / 16`, column `k % 16` of the 16x16 low-frequency block, set
/// when it is above the median. The text form is 64 lowercase hex digits, most significant bit
/// first, which is what Meta's reference and python-threatexchange print for PDQ.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash256(pub [u64; 4]);

/// Error parsing a hash from hex text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// The text was not exactly 64 characters long.
    #[error("a 256-bit hash is 64 hex digits, got {0} characters")]
    Length(usize),
    /// The text had a character that is not a hex digit.
    #[error("a 256-bit hash has only hex digits, found {0:?}")]
    Digit(char),
}

impl Hash256 {
    /// The all-zero hash (what the reference returns for images smaller than 5x5).
    pub const ZERO: Hash256 = Hash256([0; 4]);

    /// Whether bit `k` (0..=255) is set.
    #[inline]
    pub fn bit(&self, k: usize) -> bool {
        (self.0[(k >> 6) & 3] >> (k & 63)) & 1 == 1
    }

    /// Sets bit `k` (0..=255).
    #[inline]
    pub fn set_bit(&mut self, k: usize) {
        self.0[(k >> 6) & 3] |= 1u64 << (k & 63);
    }

    /// Hamming distance (number of differing bits), 0..=256.
    #[inline]
    pub fn distance(&self, other: &Hash256) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones()
            + (self.0[1] ^ other.0[1]).count_ones()
            + (self.0[2] ^ other.0[2]).count_ones()
            + (self.0[3] ^ other.0[3]).count_ones()
    }

    /// Number of set bits.
    #[inline]
    pub fn count_ones(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// 64 lowercase hex digits, most significant bit first.
    pub fn to_hex(&self) -> String {
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            self.0[3], self.0[2], self.0[1], self.0[0]
        )
    }

    /// Parses 64 hex digits (either case), most significant bit first.
    pub fn from_hex(text: &str) -> Result<Hash256, ParseHashError> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 || !text.is_ascii() {
            return Err(ParseHashError::Length(text.chars().count()));
        }
        let mut words = [0u64; 4];
        for (i, chunk) in bytes.chunks_exact(16).enumerate() {
            let mut w = 0u64;
            for &c in chunk {
                let d = (c as char)
                    .to_digit(16)
                    .ok_or(ParseHashError::Digit(c as char))?;
                w = (w << 4) | u64::from(d);
            }
            words[3 - i] = w;
        }
        Ok(Hash256(words))
    }

    /// The 32 bytes, most significant first (same order as the hex text).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..4 {
            out[i * 8..i * 8 + 8].copy_from_slice(&self.0[3 - i].to_be_bytes());
        }
        out
    }

    /// Inverse of [`Hash256::to_bytes`].
    pub fn from_bytes(bytes: &[u8; 32]) -> Hash256 {
        let mut words = [0u64; 4];
        for (i, chunk) in bytes.chunks_exact(8).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            words[3 - i] = u64::from_be_bytes(b);
        }
        Hash256(words)
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({})", self.to_hex())
    }
}

impl FromStr for Hash256 {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash256::from_hex(s)
    }
}

impl Serialize for Hash256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash256::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_bit_order() {
        let mut h = Hash256::ZERO;
        h.set_bit(0);
        assert!(h.to_hex().ends_with('1'));
        h.set_bit(255);
        assert!(h.to_hex().starts_with('8'));
        let parsed: Hash256 = h.to_hex().parse().unwrap();
        assert_eq!(parsed, h);
        assert_eq!(Hash256::from_bytes(&h.to_bytes()), h);
        assert_eq!(h.count_ones(), 2);
        assert_eq!(h.distance(&Hash256::ZERO), 2);
        assert!(Hash256::from_hex("zz").is_err());
        assert!(Hash256::from_hex(&"g".repeat(64)).is_err());
        assert!(Hash256::from_hex(&"é".repeat(32)).is_err());
    }
}
