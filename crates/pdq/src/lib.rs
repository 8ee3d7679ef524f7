//! PDQ perceptual hashing (bit-exact with Meta's reference), an exact Hamming-radius index,
//! and logo/photo banks. Pure library code: no HTTP, no SQL, no file I/O.
//!
//! See `docs/pdq.md` for the API overview, algorithm notes and measured numbers.

pub mod bank;
pub mod decode;
pub mod eval;
pub mod hash;
pub mod index;
pub mod pdq;
pub mod views;

pub use bank::{Bank, BankConfig, BankError, BankKind, BankMatch, QueryView, ReferenceHash};
pub use decode::{DecodeError, DecodeOptions, ImageHashError, RgbImage, decode, hash_image_bytes};
pub use hash::{Dihedral, Hash256, ParseHashError};
pub use index::{HammingIndex, IndexError, Neighbor};
pub use pdq::{
    DihedralHashes, HashError, Hasher, LumaFormula, PdqHash, Pixels, hash_dihedral_rgb8, hash_rgb8,
};
