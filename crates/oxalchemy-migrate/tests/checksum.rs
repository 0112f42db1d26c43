//! Checksums recorded in users' version tables must never change: this pins the value for a
//! fixed migration in the current format (SHA-256 of the canonical text) and in the legacy
//! one (FNV-1a of `Debug` text) that version tables written before it hold; a legacy row is
//! accepted once and rewritten, an edited migration is still caught, on SQLite and
//! PostgreSQL.

use oxalchemy_core::schema::{Column, Index, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::{ColumnChange, Ops};
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn up(ops: &mut Ops) {
    ops.create_table(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::String(Some(50))).not_null()),
    )
    .create_index("users", Index::new(["name"]).named("ix_users_name"))
    .alter_column(
        "users",
        "name",
        ColumnChange {
            nullable: Some(true),
            ..ColumnChange::default()
        },
    )
    .execute(text("UPDATE users SET name = :n").bind("n", "x"));
}

fn down(ops: &mut Ops) {
    ops.drop_index("users", "ix_users_name").drop_table("users");
}

const FIXED: Migration = Migration {
    revision: "0123abcd",
    down_revisions: &[],
    message: "create users",
    created: "2026-01-01",
    upgrade: up,
    downgrade: down,
};

#[test]
fn checksum_of_a_fixed_migration_never_changes() {
    assert_eq!(FIXED.checksum(), "2:72fab73e64d134612e1093f626169e");
    // What version tables written before the current format hold: the types' Debug text
    // must keep producing it for everything that existed then.
    assert_eq!(FIXED.legacy_checksum(), "daa06ae893fdd63b");
    assert!(FIXED.checksum().len() <= 32, "fits the version table");
}

#[test]
fn checksum_changes_with_the_bound_values() {
    fn up2(ops: &mut Ops) {
        ops.execute(text("UPDATE users SET name = :n").bind("n", "y"));
    }
    fn up3(ops: &mut Ops) {
        ops.execute(text("UPDATE users SET name = :n").bind("n", "z"));
    }
    let a = Migration {
        upgrade: up2,
        ..FIXED
    };
    let b = Migration {
        upgrade: up3,
        ..FIXED
    };
    assert_ne!(a.checksum(), b.checksum());
}

fn edited_down(ops: &mut Ops) {
    ops.drop_table("users");
}

async fn legacy_rows_upgrade_once(label: &str, url: &str) {
    let db = Database::connect(url).await.unwrap();
    let migrations = [FIXED];
    let graph = Graph::new(&migrations).unwrap();
    Runner::new(&graph).run(&db, "head").await.unwrap();
    // A version table as the previous release wrote it.
    db.execute(
        text("UPDATE oxalchemy_version SET checksum = :c").bind("c", FIXED.legacy_checksum()),
    )
    .await
    .unwrap();
    Runner::new(&graph)
        .run(&db, "head")
        .await
        .unwrap_or_else(|e| panic!("[{label}] legacy row refused: {e}"));
    let stored: String = db
        .query_scalar(text("SELECT checksum FROM oxalchemy_version"))
        .await
        .unwrap();
    assert_eq!(stored, FIXED.checksum(), "[{label}] rewritten once");
    // An edited migration is still caught, in either format.
    let edited = [Migration {
        downgrade: edited_down,
        ..FIXED
    }];
    let graph = Graph::new(&edited).unwrap();
    let err = Runner::new(&graph).run(&db, "head").await.unwrap_err();
    assert!(matches!(err, MigrateError::Edited(_)), "[{label}] {err}");
    db.execute(
        text("UPDATE oxalchemy_version SET checksum = :c").bind("c", FIXED.legacy_checksum()),
    )
    .await
    .unwrap();
    let err = Runner::new(&graph).run(&db, "head").await.unwrap_err();
    assert!(matches!(err, MigrateError::Edited(_)), "[{label}] {err}");
}

#[tokio::test]
async fn legacy_checksums_are_upgraded_on_both_databases() {
    let file = TempSqliteFile::new("autogen_checksum");
    legacy_rows_upgrade_once("sqlite", &file.url()).await;
    if let Some(pg) = pg_schema("autogen_checksum").await {
        legacy_rows_upgrade_once("postgresql", &pg.url).await;
        pg.drop().await;
    }
}
