//! The README's code compiles and runs. Every ```rust block of README.md is a region of an
//! example program (named by the `<!-- example: FILE#REGION -->` comment above the block)
//! and must equal it line for line, so no snippet can drift from code the compiler checks;
//! then the examples run, the ORM one on every backend.

mod common;

#[path = "../examples/readme_orm.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the example is a program of its own: its `pub` items and `main` are not used here"
)]
mod readme_orm;

#[path = "../examples/readme_bulk.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the example is a program of its own: its `pub` items and `main` are not used here"
)]
mod readme_bulk;

#[path = "../examples/readme_core.rs"]
#[allow(
    dead_code,
    reason = "`main` is called by the test, not as the program's entry point"
)]
mod readme_core;

const README: &str = include_str!("../../../README.md");
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

/// One ```rust block of the README and the example region it names.
struct Block {
    line: usize,
    source: String,
    code: Vec<String>,
}

fn readme_blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut named: Option<String> = None;
    let mut lines = README.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- example:") {
            named = Some(rest.trim_end_matches("-->").trim().to_owned());
        } else if trimmed.starts_with("```rust") {
            let code = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| l.trim() != "```")
                .map(|l| l.trim_end().to_owned())
                .collect();
            let source = named.take().unwrap_or_else(|| {
                panic!("README.md:{}: a ```rust block without `<!-- example: FILE#REGION -->` above it", i + 1)
            });
            blocks.push(Block {
                line: i + 1,
                source,
                code,
            });
        } else if !trimmed.is_empty() {
            named = None;
        }
    }
    blocks
}

/// The lines between `// README: REGION` and `// README: end` in an example, without their
/// common indentation.
fn region(file: &str, name: &str) -> Vec<String> {
    let path = format!("{EXAMPLES}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = format!("// README: {name}");
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim() != start)
        .skip(1)
        .take_while(|l| l.trim() != "// README: end")
        .collect();
    assert!(
        !body.is_empty(),
        "{path}: no region `{start}` … `// README: end`"
    );
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end().to_owned())
        .collect()
}

#[test]
fn every_readme_snippet_is_compiled_example_code() {
    let blocks = readme_blocks();
    assert!(
        blocks.len() >= 5,
        "found only {} ```rust blocks",
        blocks.len()
    );
    for block in blocks {
        let (file, name) = block
            .source
            .split_once('#')
            .unwrap_or_else(|| panic!("README.md:{}: write FILE#REGION", block.line));
        let expected = region(file, name);
        if block.code != expected {
            let first = block
                .code
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(block.code.len().min(expected.len()));
            panic!(
                "README.md:{} differs from examples/{file} region `{name}` at its line {}:\n  README:  {:?}\n  example: {:?}\n(copy the region into the README)",
                block.line,
                first + 1,
                block.code.get(first),
                expected.get(first),
            );
        }
    }
}

#[test]
fn readme_core_runs() {
    readme_core::run().expect("the README's Core block runs");
}

#[tokio::test]
async fn readme_orm_runs_on_every_backend() {
    for t in common::all_targets("readme_orm").await {
        readme_orm::run(&t.url)
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        t.finish().await;
    }
}

#[tokio::test]
async fn readme_bulk_runs_on_every_backend() {
    for t in common::all_targets("readme_bulk").await {
        Box::pin(readme_bulk::run(&t.url))
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        t.finish().await;
    }
}
