//! `history --graph` drawn for a graph with a branch and a merge (snapshot), with the
//! database's current revision marked.

use oxalchemy_cli::{run, Config};
use oxalchemy_core::schema::MetaData;
use oxalchemy_migrate::migration::Migration;
use oxalchemy_migrate::ops::Ops;
use oxalchemy_testing::TempSqliteFile;

fn nothing(ops: &mut Ops) {
    ops.execute(oxalchemy_core::text("SELECT 1"));
}

const fn m(
    revision: &'static str,
    parents: &'static [&'static str],
    message: &'static str,
) -> Migration {
    Migration {
        revision,
        down_revisions: parents,
        message,
        created: "2026-11-29",
        upgrade: nothing,
        downgrade: nothing,
    }
}

/// base → a → (b, c: a branch) → d merges them → e; and a second root f (another head).
const GRAPH: &[Migration] = &[
    m("aaa", &[], "create users"),
    m("bbb", &["aaa"], "add posts"),
    m("ccc", &["aaa"], "add tags"),
    m("ddd", &["bbb", "ccc"], "merge posts and tags"),
    m("eee", &["ddd"], "add comments"),
];

async fn history_graph(url: &str) -> String {
    let config = Config::new(url, MetaData::new(), GRAPH);
    run(config, &["history".into(), "--graph".into()])
        .await
        .unwrap()
}

#[tokio::test]
async fn history_graph_draws_branches_and_merges() {
    assert_eq!(
        history_graph("").await,
        "\
* eee (head) — add comments
* ddd (merge) — merge posts and tags
|\\
| * ccc — add tags
* | bbb — add posts
|/
* aaa (branch point, base) — create users
"
    );
    // With a database, its current revision is `@`.
    let file = TempSqliteFile::new("cli_graph");
    let config = Config::new(file.url(), MetaData::new(), GRAPH);
    run(config, &["upgrade".into(), "bbb".into()])
        .await
        .unwrap();
    assert_eq!(
        history_graph(&file.url()).await,
        "\
* eee (head) — add comments
* ddd (merge) — merge posts and tags
|\\
| * ccc — add tags
@ | bbb (current) — add posts
|/
* aaa (branch point, base) — create users
"
    );
}
