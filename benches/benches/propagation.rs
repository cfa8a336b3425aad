//! Placeholder: replaced by the issue that owns this benchmark.
fn main() {}
