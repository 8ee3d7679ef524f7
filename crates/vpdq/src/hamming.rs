//! The Hamming-radius index the bank uses. Everything the crate needs from it goes through
//! this module, so moving to the dedicated index crate is a change to the line below.

pub(crate) use shopshield_pdq::{HammingIndex, Neighbor};
