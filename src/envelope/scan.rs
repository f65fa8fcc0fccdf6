//! Decoding (in progress).
