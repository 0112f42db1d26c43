//! A NOT NULL column added without a server default fails on a table with rows, so the
//! runner refuses such a migration before running anything, naming the fix (issue 15);
//! the safe sequence it names (add nullable, backfill, set NOT NULL) goes through, keeping
//! the rows, on SQLite and PostgreSQL.

use std::collections::HashSet;

use oxalchemy_core::schema::{Column, MetaData, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::{ColumnChange, Ops};
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn add_required(ops: &mut Ops) {
    ops.add_column("nn_accounts", Column::new("plan", SqlType::Text).not_null());
}
fn drop_plan(ops: &mut Ops) {
    ops.drop_column("nn_accounts", "plan");
}
/// The fix the error names: add nullable, backfill, then NOT NULL.
fn add_safely(ops: &mut Ops) {
    ops.add_column("nn_accounts", Column::new("plan", SqlType::Text))
        .execute(text("UPDATE nn_accounts SET plan = :p WHERE plan IS NULL").bind("p", "free"))
        .alter_column(
            "nn_accounts",
            "plan",
            ColumnChange {
                nullable: Some(false),
                ..ColumnChange::default()
            },
        );
}
/// A new table is empty: adding a NOT NULL column to it in the same migration is fine.
fn create_then_add(ops: &mut Ops) {
    ops.create_table(
        Table::new("nn_fresh").column(Column::new("id", SqlType::BigInteger).primary_key()),
    )
    .add_column("nn_fresh", Column::new("code", SqlType::Text).not_null());
}
/// Accepted by its author.
fn add_allowed(ops: &mut Ops) {
    ops.add_column("nn_accounts", Column::new("plan", SqlType::Text).not_null())
        .allow("not-null-without-default");
}
fn noop(_: &mut Ops) {}

fn migration(revision: &'static str, upgrade: fn(&mut Ops)) -> Migration {
    Migration {
        revision,
        down_revisions: &[],
        message: "add plan",
        created: "2026-11-29",
        upgrade,
        downgrade: drop_plan,
    }
}

async fn accounts(db: &Database) {
    let mut md = MetaData::new();
    md.add(
        Table::new("nn_accounts")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::Text)),
    );
    db.create_all(&md).await.unwrap();
    db.execute(text(
        "INSERT INTO nn_accounts (id, name) VALUES (1, 'a'), (2, 'b')",
    ))
    .await
    .unwrap();
}

async fn refused_then_safe(label: &str, url: &str) {
    let db = Database::connect(url).await.unwrap();
    accounts(&db).await;
    let bad = [migration("nn1", add_required)];
    let graph = Graph::new(&bad).unwrap();
    let err = Runner::new(&graph).run(&db, "head").await.unwrap_err();
    assert!(
        matches!(err, MigrateError::NotNullWithoutDefault { ref revision, ref table, ref column }
            if revision == "nn1" && table == "nn_accounts" && column == "plan"),
        "{label}: {err:?}"
    );
    let message = err.to_string();
    for needle in ["server_default", "add it nullable", "nothing was run"] {
        assert!(
            message.contains(needle),
            "{label}: {needle} not in {message}"
        );
    }
    // Refused before anything ran: no version table row, no column.
    let names: Vec<(String,)> = db
        .query(text("SELECT name FROM nn_accounts ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(names.len(), 2, "{label}");
    assert!(
        db.query_scalar::<String>(text("SELECT plan FROM nn_accounts"))
            .await
            .is_err(),
        "{label}: the column was added"
    );

    let good = [migration("nn2", add_safely)];
    let graph = Graph::new(&good).unwrap();
    let runner = Runner::new(&graph);
    runner
        .run(&db, "head")
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let plans: Vec<(i64, String)> = db
        .query(text("SELECT id, plan FROM nn_accounts ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(
        plans,
        [(1, "free".to_owned()), (2, "free".to_owned())],
        "{label}"
    );
    let null_plan = db
        .execute(text("INSERT INTO nn_accounts (id, name) VALUES (3, 'c')"))
        .await;
    assert!(null_plan.is_err(), "{label}: NULL plan accepted");
    runner.run(&db, "base").await.unwrap();
}

#[tokio::test]
async fn a_not_null_column_without_default_is_refused_on_sqlite() {
    let file = TempSqliteFile::new("nn_refused");
    refused_then_safe("sqlite", &file.url()).await;
}

#[tokio::test]
async fn a_not_null_column_without_default_is_refused_on_postgresql() {
    let Some(pg) = pg_schema("nn_refused").await else {
        return;
    };
    refused_then_safe("postgresql", &pg.url).await;
    pg.drop().await;
}

#[test]
fn new_tables_and_accepted_columns_are_not_refused() {
    let fresh = [Migration {
        downgrade: noop,
        ..migration("nn3", create_then_add)
    }];
    let allowed = [migration("nn4", add_allowed)];
    let refused = [migration("nn5", add_required)];
    for dialect in [
        &oxalchemy_core::Sqlite as &dyn oxalchemy_core::Dialect,
        &oxalchemy_core::Postgres,
    ] {
        let graph = Graph::new(&fresh).unwrap();
        Runner::new(&graph)
            .offline_sql(dialect, &HashSet::new(), "head")
            .unwrap();
        // Offline stops at the table it has no baseline for, not at the NOT NULL check.
        let graph = Graph::new(&allowed).unwrap();
        let err = Runner::new(&graph)
            .offline_sql(dialect, &HashSet::new(), "head")
            .unwrap_err();
        assert!(err.to_string().contains("baseline"), "{err}");
        // The offline script refuses it too.
        let graph = Graph::new(&refused).unwrap();
        let err = Runner::new(&graph)
            .offline_sql(dialect, &HashSet::new(), "head")
            .unwrap_err();
        assert!(
            matches!(err, MigrateError::NotNullWithoutDefault { .. }),
            "{err:?}"
        );
    }
}
