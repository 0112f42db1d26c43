//! Lint levels: a warning is reported and the migration runs; a code the runner denies is
//! an error that blocks `run` before anything runs, unless the migration allows it; a NOT
//! NULL column without a default is always an error. On SQLite and PostgreSQL.

use oxalchemy_core::schema::{Column, MetaData, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::lint::Level;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::Ops;
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn drop_nick(ops: &mut Ops) {
    ops.drop_column("ll_people", "nick");
}
fn drop_nick_allowed(ops: &mut Ops) {
    ops.drop_column("ll_people", "nick").allow("drop-column");
}
fn add_nick(ops: &mut Ops) {
    ops.add_column("ll_people", Column::new("nick", SqlType::Text));
}
fn add_required(ops: &mut Ops) {
    ops.add_column("ll_people", Column::new("code", SqlType::Text).not_null());
}

fn migration(upgrade: fn(&mut Ops)) -> [Migration; 1] {
    [Migration {
        revision: "ll1",
        down_revisions: &[],
        message: "drop nick",
        created: "2026-11-29",
        upgrade,
        downgrade: add_nick,
    }]
}

async fn has_nick(db: &Database) -> bool {
    db.execute(text("SELECT nick FROM ll_people")).await.is_ok()
}

async fn levels(label: &str, url: &str) {
    let db = Database::connect(url).await.unwrap();
    let mut md = MetaData::new();
    md.add(
        Table::new("ll_people")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("nick", SqlType::Text)),
    );
    db.create_all(&md).await.unwrap();
    db.execute(text("INSERT INTO ll_people (nick) VALUES ('x')"))
        .await
        .unwrap();

    // Denied: an error before anything runs.
    let denied = migration(drop_nick);
    let graph = Graph::new(&denied).unwrap();
    let runner = Runner::new(&graph).deny(&["drop-column", "drop-table"]);
    let lints = runner.lints(&db, "head").await.unwrap();
    assert_eq!(lints.len(), 1, "[{label}] {lints:?}");
    assert_eq!(lints[0].1.level, Level::Error, "[{label}]");
    let err = runner.run(&db, "head").await.unwrap_err();
    assert!(
        matches!(&err, MigrateError::LintDenied { lint, .. } if lint.code == "drop-column"),
        "[{label}] {err}"
    );
    assert!(
        err.to_string().contains("ops.allow(\"drop-column\")"),
        "{err}"
    );
    assert!(has_nick(&db).await, "[{label}] nothing ran");

    // Not denied: a warning, and the migration runs.
    let lints = Runner::new(&graph).lints(&db, "head").await.unwrap();
    assert_eq!(lints[0].1.level, Level::Warning, "[{label}]");
    assert!(lints[0].1.to_string().starts_with("warning [drop-column]"));

    // Denied but allowed in the migration: it runs.
    let allowed = migration(drop_nick_allowed);
    let graph = Graph::new(&allowed).unwrap();
    Runner::new(&graph)
        .deny(&["drop-column"])
        .run(&db, "head")
        .await
        .unwrap_or_else(|e| panic!("[{label}] {e}"));
    assert!(!has_nick(&db).await, "[{label}] the column went");

    // A NOT NULL column without a default is an error whatever is denied.
    let required = [Migration {
        revision: "ll2",
        down_revisions: &["ll1"],
        ..allowed[0]
    }];
    let both = [
        allowed[0],
        Migration {
            upgrade: add_required,
            ..required[0]
        },
    ];
    let graph = Graph::new(&both).unwrap();
    let lints = Runner::new(&graph).lints(&db, "head").await.unwrap();
    assert!(
        lints
            .iter()
            .any(|(_, l)| l.code == "not-null-without-default" && l.level == Level::Error),
        "[{label}] {lints:?}"
    );
}

#[tokio::test]
async fn lint_levels_on_both_databases() {
    let file = TempSqliteFile::new("autogen_lint_levels");
    levels("sqlite", &file.url()).await;
    if let Some(pg) = pg_schema("autogen_lint_levels").await {
        levels("postgresql", &pg.url).await;
        pg.drop().await;
    }
}
