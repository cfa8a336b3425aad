//! The README's NATS snippet is the crate documentation's example (which
//! the doctests compile), without the doctest's hidden lines: the two
//! cannot drift apart.

const README: &str = include_str!("../../../README.md");
const LIB: &str = include_str!("../src/lib.rs");

/// The first `no_run` example of the crate docs, as a reader sees it.
fn crate_example() -> String {
    let mut lines = LIB
        .lines()
        .map(|line| line.strip_prefix("//!").unwrap_or(line))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .skip_while(|line| *line != "```no_run")
        .skip(1);
    let mut example = String::new();
    for line in lines.by_ref() {
        if line == "```" {
            return example;
        }
        if line.starts_with("# ") || line == "#" {
            continue;
        }
        example.push_str(line);
        example.push('\n');
    }
    panic!("the crate docs' no_run example has no end");
}

#[test]
fn the_readme_snippet_is_the_crate_example() {
    let example = crate_example();
    assert!(example.contains("TracedClient::new"), "{example}");
    let block = format!("```rust\n{example}```");
    assert!(
        README.contains(&block),
        "the README's NATS snippet differs from the crate docs' example:\n{block}"
    );
}
