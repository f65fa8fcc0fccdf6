//! Renderings (in progress).
