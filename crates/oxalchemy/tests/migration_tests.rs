//! Migration tests (`oxalchemy::testing::MigrationTests`, pytest-alembic's built-in tests)
//! against the example project's migrations (examples/migrate_demo) and models (the
//! guide's, tests/blog), on SQLite (memory and file) and PostgreSQL: each passes on them
//! and fails on a deliberately broken variant — two heads, a downgrade that does not undo
//! its upgrade, a model change without a migration, a data migration that changes nothing.

mod blog;

#[path = "../examples/migrate_demo/migrations/mod.rs"]
#[allow(
    unreachable_pub,
    reason = "written by `migrate revision`: its items are `pub` so a library crate can re-export its migrations"
)]
mod migrations;

use oxalchemy::core::schema::{Column, Table};
use oxalchemy::core::{text, SqlType};
use oxalchemy::migrate::migration::Migration;
use oxalchemy::migrate::ops::Ops;
use oxalchemy::testing::{MigrationTestError, MigrationTests};
use oxalchemy::{Connection, Database, Error};

/// The example's first (and only) migration: it creates the blog's tables.
const CREATE_BLOG: Migration = migrations::m20261125_4c5a00763f37_create_blog_tables::MIGRATION;

fn nothing(_: &mut Ops) {}

const fn child(
    revision: &'static str,
    upgrade: fn(&mut Ops),
    downgrade: fn(&mut Ops),
) -> Migration {
    Migration {
        revision,
        down_revisions: &["4c5a00763f37"],
        message: "test",
        created: "2026-11-29",
        upgrade,
        downgrade,
    }
}

/// Two revisions on the same parent, never merged.
const TWO_HEADS: &[Migration] = &[
    CREATE_BLOG,
    child("b0000000000a", nothing, nothing),
    child("b0000000000b", nothing, nothing),
];

fn add_bio(ops: &mut Ops) {
    ops.add_column("users", Column::new("bio", SqlType::Text));
}

/// A migration whose downgrade forgets to drop the column its upgrade adds.
const DOWNGRADE_FORGETS: &[Migration] = &[CREATE_BLOG, child("c0000000000a", add_bio, nothing)];

fn backfill_karma(ops: &mut Ops) {
    ops.execute(text("UPDATE users SET karma = 0 WHERE karma IS NULL"));
}

/// A data migration: users without karma get 0.
const BACKFILL: &[Migration] = &[CREATE_BLOG, child("d0000000000a", backfill_karma, nothing)];

/// The same data migration, forgotten.
const BACKFILL_FORGOTTEN: &[Migration] = &[CREATE_BLOG, child("d0000000000a", nothing, nothing)];

fn example() -> MigrationTests {
    MigrationTests::new(migrations::ALL).models(blog::registry().metadata())
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, fresh)]
async fn the_example_migrations_pass_every_test(db: Database) -> Result<(), MigrationTestError> {
    let tests = example();
    assert_eq!(tests.single_head()?, "4c5a00763f37");
    tests.upgrade(&db).await?;
    tests.models_match(&db).await?;
    tests.up_down_consistency(&db).await?;
    Ok(())
}

#[test]
fn two_heads_fail_single_head() {
    let err = MigrationTests::new(TWO_HEADS).single_head().unwrap_err();
    assert!(
        matches!(err, MigrationTestError::MultipleHeads { .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("2 heads"), "{message}");
    assert!(
        message.contains("b0000000000a") && message.contains("b0000000000b"),
        "{message}"
    );
    assert!(message.contains("merge"), "{message}");
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, fresh)]
async fn a_downgrade_that_does_not_undo_its_upgrade_fails(db: Database) {
    let tests = MigrationTests::new(DOWNGRADE_FORGETS);
    tests.upgrade(&db).await.unwrap();
    let err = tests.up_down_consistency(&db).await.unwrap_err();
    match &err {
        MigrationTestError::DowngradeMismatch {
            revision,
            differences,
        } => {
            assert_eq!(*revision, "c0000000000a");
            assert!(differences.contains("users"), "{err}");
            assert!(differences.contains("bio"), "{err}");
        }
        other => panic!("expected a downgrade mismatch, got: {other}"),
    }
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, fresh)]
async fn a_model_change_without_a_migration_fails(db: Database) {
    let changed = blog::registry()
        .table(Table::new("audit_log").column(Column::new("id", SqlType::BigInteger).primary_key()))
        .metadata();
    let tests = MigrationTests::new(migrations::ALL).models(changed);
    let err = tests.models_match(&db).await.unwrap_err();
    match &err {
        MigrationTestError::ModelsDiffer { operations } => {
            assert!(operations.contains("create table audit_log"), "{err}");
        }
        other => panic!("expected the models to differ, got: {other}"),
    }
    assert!(err.to_string().contains("write a migration"), "{err}");
}

async fn user_without_karma(conn: &mut Connection) -> Result<(), Error> {
    conn.execute(text(
        "INSERT INTO users (username, email, created_at, updated_at) \
         VALUES ('ann', 'ann@example.com', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00')",
    ))
    .await?;
    Ok(())
}

async fn karma_is_backfilled(conn: &mut Connection) -> Result<(), String> {
    let karma: Option<i32> = conn
        .query_scalar(text("SELECT karma FROM users WHERE username = 'ann'"))
        .await
        .map_err(|e| e.to_string())?;
    match karma {
        Some(0) => Ok(()),
        other => Err(format!("ann's karma is {other:?}, not Some(0)")),
    }
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, fresh)]
async fn a_data_migration_is_checked_with_rows_from_before_it(db: Database) {
    MigrationTests::new(BACKFILL)
        .data_migration(&db, "d0000000000a", user_without_karma, karma_is_backfilled)
        .await
        .unwrap();
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, fresh)]
async fn a_data_migration_that_changes_nothing_fails_its_check(db: Database) {
    let err = MigrationTests::new(BACKFILL_FORGOTTEN)
        .data_migration(&db, "d0000000000a", user_without_karma, karma_is_backfilled)
        .await
        .unwrap_err();
    match &err {
        MigrationTestError::DataCheck { stage, message, .. } => {
            assert_eq!(*stage, "after");
            assert!(message.contains("None"), "{err}");
        }
        other => panic!("expected the data check to fail, got: {other}"),
    }
}

fn drop_missing_table(ops: &mut Ops) {
    ops.drop_table("no_such_table");
}

/// A migration that cannot run.
const CANNOT_RUN: &[Migration] = &[
    CREATE_BLOG,
    child("f0000000000a", drop_missing_table, nothing),
];

#[oxalchemy::test(sqlite, postgres, fresh)]
async fn a_migration_that_cannot_run_fails_upgrade(db: Database) {
    let err = MigrationTests::new(CANNOT_RUN)
        .upgrade(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MigrationTestError::Migrate { step, .. } if step == "upgrading to f0000000000a"),
        "{err}"
    );
    assert!(err.to_string().contains("no_such_table"), "{err}");
}
