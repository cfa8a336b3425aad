//! Shared pieces for the side-by-side benchmarks.
