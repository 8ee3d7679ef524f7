//! PDQ perceptual hashing, an exact Hamming-radius index and match banks.
