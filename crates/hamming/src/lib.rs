//! 256-bit binary codes and two indexes over them. Pure library code: no I/O.
//!
//! * [`Hash256`]: the code (a PDQ hash, a keypoint descriptor), with its text and byte forms.
//! * [`HammingIndex`]: exact radius search by multi-index hashing; its module docs prove it
//!   misses nothing within the radius. Used for PDQ banks.
//! * [`VocabTree`]: approximate radius search with a vocabulary tree whose cost grows with the
//!   logarithm of the bank, not its size. Used for the keypoint logo search.
//!
//! See `docs/pdq.md` for the measured numbers.

pub mod bits;
pub mod index;
pub mod vocab;

pub use bits::{Hash256, ParseHashError};
pub use index::{HammingIndex, IndexError, Neighbor, brute_force};
pub use vocab::{SearchStats, VocabParams, VocabTree};
