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

/// Autogenerate writes the safe sequence itself: the column added nullable, a backfill
/// UPDATE whose value the author binds, then NOT NULL. Unbound, it stops with the fix
/// named and changes nothing; bound, the rows get the value and NULL is refused.
async fn autogenerated_sequence(label: &str, url: &str) {
    use oxalchemy_migrate::diff::diff;
    use oxalchemy_migrate::migration::execute_ops;
    use oxalchemy_migrate::ops::Op;
    use oxalchemy_migrate::reflect::reflect;

    let db = Database::connect(url).await.unwrap();
    accounts(&db).await;
    let mut models = MetaData::new();
    models.add(
        Table::new("nn_accounts")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::Text))
            .column(Column::new("plan", SqlType::Text).not_null()),
    );
    let mut conn = db.connection().await.unwrap();
    let current = reflect(&mut conn).await.unwrap();
    let d = diff(db.dialect(), &models, &current, &|_| true);
    let kinds: Vec<String> = d
        .upgrade
        .iter()
        .map(|op| format!("{op:?}").split('(').next().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["AddColumn", "Execute", "AlterColumn"], "{label}");
    assert!(
        matches!(&d.upgrade[0], Op::AddColumn { column, .. } if column.nullable),
        "{label}: {:?}",
        d.upgrade[0]
    );
    assert!(
        d.warnings.iter().any(|w| w.contains("nn_accounts.plan")),
        "{label}: {:?}",
        d.warnings
    );
    // The migration file says what to fill in.
    let file = oxalchemy_migrate::script::migration_file(
        "nn6",
        &[],
        "add plan",
        "2026-11-29",
        &d.upgrade,
        &d.downgrade,
        &d.warnings,
    );
    assert!(file.contains("REVIEW: rows already in the table"), "{file}");

    // As generated: stops at the UPDATE, naming the bind, and leaves the table as it was.
    let mut state = reflect(&mut conn).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let err = execute_ops(&mut tx, &d.upgrade, &mut state)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(".bind(\"backfill\""), "{label}: {err}");
    tx.rollback().await.unwrap();
    assert!(
        conn.query_scalar::<String>(text("SELECT plan FROM nn_accounts"))
            .await
            .is_err(),
        "{label}: the column stayed"
    );

    // Filled in by the author.
    let filled: Vec<Op> = d
        .upgrade
        .iter()
        .map(|op| match op {
            Op::Execute(t) => Op::Execute(t.clone().bind("backfill", "free")),
            other => other.clone(),
        })
        .collect();
    let mut state = reflect(&mut conn).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    execute_ops(&mut tx, &filled, &mut state)
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    tx.commit().await.unwrap();
    let plans: Vec<(i64, String)> = conn
        .query(text("SELECT id, plan FROM nn_accounts ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(plans, [(1, "free".into()), (2, "free".into())], "{label}");
    assert!(
        conn.execute(text("INSERT INTO nn_accounts (id, name) VALUES (3, 'c')"))
            .await
            .is_err(),
        "{label}: NULL plan accepted"
    );
    let current = reflect(&mut conn).await.unwrap();
    assert!(
        diff(db.dialect(), &models, &current, &|_| true).is_empty(),
        "{label}"
    );
}

#[tokio::test]
async fn autogenerate_writes_the_safe_not_null_sequence_on_sqlite() {
    let file = TempSqliteFile::new("nn_autogen");
    autogenerated_sequence("sqlite", &file.url()).await;
}

#[tokio::test]
async fn autogenerate_writes_the_safe_not_null_sequence_on_postgresql() {
    let Some(pg) = pg_schema("nn_autogen").await else {
        return;
    };
    autogenerated_sequence("postgresql", &pg.url).await;
    pg.drop().await;
}
