//! `schema --format mermaid|dot` on the guide's models, snapshot-tested (rewrite the
//! snapshots with `UPDATE_SNAPSHOTS=1`). With `OXALCHEMY_MERMAID_CHECK=path/to/check.mjs`
//! (CI sets it after installing the `mermaid` npm package), the Mermaid output is also
//! parsed by Mermaid itself under Node.

#[path = "blog/mod.rs"]
mod blog;

use std::path::Path;

use oxalchemy::cli::{run, Config};

async fn schema(format: &str) -> String {
    let config = Config::new("", blog::registry().metadata(), &[]);
    run(config, &["schema".into(), "--format".into(), format.into()])
        .await
        .unwrap()
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} changed (UPDATE_SNAPSHOTS=1 rewrites it)",
        path.display()
    );
}

#[tokio::test]
async fn the_guides_models_as_mermaid_and_dot() {
    let mermaid = schema("mermaid").await;
    snapshot("guide_schema.mmd", &mermaid);
    snapshot("guide_schema.dot", &schema("dot").await);
    // Keys and relationships are there, whatever the snapshot says.
    assert!(mermaid.starts_with("erDiagram\n"), "{mermaid}");
    assert!(
        mermaid.contains("users ||--o{ posts : \"author_id\""),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("posts ||--o{ post_tags : \"post_id\""),
        "{mermaid}"
    );
    let Some(check) = std::env::var_os("OXALCHEMY_MERMAID_CHECK") else {
        println!("skipped Mermaid's parser: OXALCHEMY_MERMAID_CHECK is not set (.ci/run sets it)");
        return;
    };
    {
        let out = std::process::Command::new("node")
            .arg(check)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/guide_schema.mmd"))
            .output()
            .expect("node runs");
        assert!(
            out.status.success(),
            "Mermaid rejected the diagram:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
