//! The 256-bit PDQ hash value (the code type of `shopshield-hamming`, re-exported) and the
//! eight dihedral variants.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use shopshield_hamming::{Hash256, ParseHashError};

/// The eight symmetries of the square, in the reference's order.
///
/// A dihedral hash of image `I` for variant `V` is the hash the reference would compute for
/// `V` applied to `I` (up to resampling differences), derived from `I`'s DCT alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dihedral {
    /// The image as given.
    Original,
    /// Rotated 90 degrees (the reference's `rotate90`).
    Rotate90,
    /// Rotated 180 degrees.
    Rotate180,
    /// Rotated 270 degrees.
    Rotate270,
    /// Mirrored top to bottom (the reference's `flipx`).
    FlipX,
    /// Mirrored left to right (the reference's `flipy`).
    FlipY,
    /// Transposed about the main diagonal (`flipplus1`).
    FlipPlus1,
    /// Transposed about the anti-diagonal (`flipminus1`).
    FlipMinus1,
}

impl Dihedral {
    /// All eight, in the reference's order (the order of [`crate::DihedralHashes::hashes`]).
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];

    /// Stable lowercase name, e.g. `"rotate90"`, used in evidence.
    pub fn name(self) -> &'static str {
        match self {
            Dihedral::Original => "original",
            Dihedral::Rotate90 => "rotate90",
            Dihedral::Rotate180 => "rotate180",
            Dihedral::Rotate270 => "rotate270",
            Dihedral::FlipX => "flipx",
            Dihedral::FlipY => "flipy",
            Dihedral::FlipPlus1 => "flipplus1",
            Dihedral::FlipMinus1 => "flipminus1",
        }
    }

    /// Position in [`Dihedral::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Dihedral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dihedral_names_and_order() {
        for (i, d) in Dihedral::ALL.iter().enumerate() {
            assert_eq!(d.index(), i);
        }
        assert_eq!(Dihedral::Rotate90.to_string(), "rotate90");
        assert_eq!(Dihedral::FlipMinus1.name(), "flipminus1");
    }
}
