//! The README's "Using it" service is `examples/service.rs`, which the
//! workspace compiles: the README shows that file's code unchanged.

#[test]
fn the_readme_shows_the_compiled_example_service() {
    let readme = include_str!("../../../README.md");
    let example = include_str!("../examples/service.rs");
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(code.contains("tracekit::shutdown_signal()"));
    assert!(
        readme.contains(&format!("```rust,ignore\n{code}```")),
        "README.md's \"Using it\" block differs from integrations/axum/examples/service.rs"
    );
}
