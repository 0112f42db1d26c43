//! Adoption (issue 15): migrations altering tables no migration created. The tables are made
//! by `create_all` (with rows); migrations then alter a column's type and nullability, add,
//! index and drop columns on them, on SQLite (table rebuilds included) and PostgreSQL, with
//! the rows kept, and downgrade again. Offline (`--sql`) cannot read the database, so it
//! fails naming the table it needs a baseline migration for.

use std::collections::HashSet;

use oxalchemy_core::schema::{Column, Index, MetaData, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::{ColumnChange, OpError, Ops};
use oxalchemy_migrate::reflect::reflect_table;
use oxalchemy_testing::{pg_schema, PgSchema, TempSqliteFile};

const TABLE: &str = "adopt_people";

/// The table as `create_all` makes it, before any migration.
fn models() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new(TABLE)
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::String(Some(50))))
            .column(Column::new("score", SqlType::String(Some(20))))
            .column(Column::new("legacy", SqlType::Text)),
    );
    md
}

fn tighten(ops: &mut Ops) {
    ops.alter_column(
        TABLE,
        "name",
        ColumnChange {
            ty: Some(SqlType::String(Some(100))),
            nullable: Some(false),
            ..ColumnChange::default()
        },
    )
    .alter_column(
        TABLE,
        "score",
        ColumnChange {
            ty: Some(SqlType::Integer),
            ..ColumnChange::default()
        },
    )
    .add_column(TABLE, Column::new("nickname", SqlType::Text))
    .create_index(TABLE, Index::new(["name"]).named("ix_adopt_people_name"))
    .drop_column(TABLE, "legacy");
}
fn loosen(ops: &mut Ops) {
    ops.add_column(TABLE, Column::new("legacy", SqlType::Text))
        .drop_index(TABLE, "ix_adopt_people_name")
        .drop_column(TABLE, "nickname")
        .alter_column(
            TABLE,
            "score",
            ColumnChange {
                ty: Some(SqlType::String(Some(20))),
                ..ColumnChange::default()
            },
        )
        .alter_column(
            TABLE,
            "name",
            ColumnChange {
                ty: Some(SqlType::String(Some(50))),
                nullable: Some(true),
                ..ColumnChange::default()
            },
        );
}
/// A second migration on the adopted table: the history before it (which the runner
/// simulates) includes operations on a table it never created.
fn index_score(ops: &mut Ops) {
    ops.create_index(TABLE, Index::new(["score"]).named("ix_adopt_people_score"));
}
fn unindex_score(ops: &mut Ops) {
    ops.drop_index(TABLE, "ix_adopt_people_score");
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        revision: "ad1",
        down_revisions: &[],
        message: "tighten adopted people",
        created: "2026-11-29",
        upgrade: tighten,
        downgrade: loosen,
    },
    Migration {
        revision: "ad2",
        down_revisions: &["ad1"],
        message: "index score",
        created: "2026-11-29",
        upgrade: index_score,
        downgrade: unindex_score,
    },
];

async fn adopted_table(db: &Database) -> Table {
    let mut conn = db.connection().await.unwrap();
    reflect_table(&mut conn, TABLE).await.unwrap().unwrap()
}

fn column<'t>(t: &'t Table, name: &str) -> Option<&'t Column> {
    t.columns.iter().find(|c| c.name.as_str() == name)
}

fn index_names(t: &Table) -> Vec<String> {
    let mut names: Vec<String> = t
        .indexes
        .iter()
        .filter_map(|ix| ix.name.as_ref().map(|n| n.to_string()))
        .collect();
    names.sort();
    names
}

async fn rows(db: &Database) -> Vec<(i64, String, String)> {
    db.query(text(format!(
        "SELECT id, name, CAST(score AS TEXT) FROM {TABLE} ORDER BY id"
    )))
    .await
    .unwrap()
}

async fn adopt_on(label: &str, url: &str) {
    let db = Database::connect(url).await.unwrap();
    db.create_all(&models()).await.unwrap();
    for (id, name, score) in [(1_i64, "ann", "10"), (2, "bob", "20")] {
        db.execute(
            text(format!(
                "INSERT INTO {TABLE} (id, name, score, legacy) VALUES (:id, :name, :score, 'x')"
            ))
            .bind("id", id)
            .bind("name", name)
            .bind("score", score),
        )
        .await
        .unwrap();
    }
    let graph = Graph::new(MIGRATIONS).unwrap();
    let runner = Runner::new(&graph);
    // Lints see the adopted table too: an index on an existing table (PostgreSQL).
    let lints = runner.lints(&db, "head").await.unwrap();
    assert_eq!(
        lints.iter().any(|(_, l)| l.code == "index-not-concurrent"),
        label == "postgresql",
        "{label}: {lints:?}"
    );
    let report = runner
        .run(&db, "head")
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(report.applied, ["ad1", "ad2"], "{label}");

    let t = adopted_table(&db).await;
    let name = column(&t, "name").unwrap();
    assert!(!name.nullable, "{label}: {t:?}");
    assert_eq!(name.ty, SqlType::String(Some(100)), "{label}");
    assert_eq!(column(&t, "score").unwrap().ty, SqlType::Integer, "{label}");
    assert!(column(&t, "nickname").is_some(), "{label}");
    assert!(column(&t, "legacy").is_none(), "{label}");
    assert_eq!(
        index_names(&t),
        ["ix_adopt_people_name", "ix_adopt_people_score"],
        "{label}"
    );
    let expected = vec![
        (1, "ann".to_owned(), "10".to_owned()),
        (2, "bob".to_owned(), "20".to_owned()),
    ];
    assert_eq!(rows(&db).await, expected, "{label}");
    // The column is an integer now: arithmetic on it works on PostgreSQL too.
    let total: i64 = db
        .query_scalar(text(format!(
            "SELECT CAST(SUM(score + 1) AS BIGINT) FROM {TABLE}"
        )))
        .await
        .unwrap();
    assert_eq!(total, 32, "{label}");
    // NOT NULL is enforced.
    let null_name = db
        .execute(text(format!(
            "INSERT INTO {TABLE} (id, name, score) VALUES (3, NULL, 1)"
        )))
        .await;
    assert!(null_name.is_err(), "{label}: NULL name accepted");

    let report = runner
        .run(&db, "base")
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(report.reverted, ["ad2", "ad1"], "{label}");
    let t = adopted_table(&db).await;
    let name = column(&t, "name").unwrap();
    assert!(name.nullable, "{label}");
    assert_eq!(name.ty, SqlType::String(Some(50)), "{label}");
    assert_eq!(
        column(&t, "score").unwrap().ty,
        SqlType::String(Some(20)),
        "{label}"
    );
    assert!(column(&t, "nickname").is_none(), "{label}");
    assert!(column(&t, "legacy").is_some(), "{label}");
    assert!(index_names(&t).is_empty(), "{label}: {t:?}");
    assert_eq!(rows(&db).await, expected, "{label}");
}

#[tokio::test]
async fn migrations_alter_tables_made_by_create_all_on_sqlite() {
    let file = TempSqliteFile::new("adopt_create_all");
    adopt_on("sqlite", &file.url()).await;
}

#[tokio::test]
async fn migrations_alter_tables_made_by_create_all_on_postgresql() {
    let Some(pg): Option<PgSchema> = pg_schema("adopt_create_all").await else {
        return;
    };
    adopt_on("postgresql", &pg.url).await;
    pg.drop().await;
}

#[test]
fn offline_names_the_table_it_needs_a_baseline_for() {
    let graph = Graph::new(MIGRATIONS).unwrap();
    for dialect in [
        &oxalchemy_core::Sqlite as &dyn oxalchemy_core::Dialect,
        &oxalchemy_core::Postgres,
    ] {
        let err = Runner::new(&graph)
            .offline_sql(dialect, &HashSet::new(), "head")
            .unwrap_err();
        assert!(
            matches!(err, MigrateError::Op(OpError::NoSuchTable(ref t)) if t == TABLE),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message
                .contains("offline (--sql) needs a baseline migration that creates `adopt_people`"),
            "{message}"
        );
    }
}
