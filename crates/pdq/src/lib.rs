//! PDQ perceptual hashing (bit-exact with Meta's reference) and logo/photo banks over the exact
//! Hamming-radius index of `shopshield-hamming`. Pure library code: no HTTP, no SQL, no file I/O.
//!
//! See `docs/pdq.md` for the API overview, algorithm notes and measured numbers.

pub mod bank;
pub mod decode;
pub mod eval;
pub mod hash;
/// The exact Hamming-radius index, now in its own crate (`shopshield-hamming`); re-exported
/// here so `shopshield_pdq::index::...` paths keep working.
pub mod index {
    pub use shopshield_hamming::index::*;
}
pub mod pdq;
pub mod views;

pub use bank::{Bank, BankConfig, BankError, BankKind, BankMatch, QueryView, ReferenceHash};
pub use decode::{
    DecodeError, DecodeOptions, ImageHashError, Probe, RgbImage, SourceFormat, decode,
    hash_image_bytes, probe,
};
pub use hash::{Dihedral, Hash256, ParseHashError};
pub use index::{HammingIndex, IndexError, Neighbor};
pub use pdq::{
    DihedralHashes, HashError, Hasher, LumaFormula, PdqHash, Pixels, hash_dihedral_rgb8, hash_rgb8,
};
