//! Migration safety on PostgreSQL (issue 15): each migration's transaction sets
//! `lock_timeout` and `statement_timeout`, so a migration waiting on a lock the application
//! holds fails after the timeout (naming the table and the session holding it) instead of
//! blocking the queries queued behind it; `create_index(..).concurrently()` builds the index
//! outside the transaction on PostgreSQL and is a plain `CREATE INDEX` on SQLite.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use oxalchemy_core::schema::{Column, Index, MetaData, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::Ops;
use oxalchemy_migrate::reflect::reflect_table;
use oxalchemy_testing::{pg_schema, postgres_base_url, TempSqliteFile};

fn add_note(ops: &mut Ops) {
    ops.add_column("safety_orders", Column::new("note", SqlType::Text));
}
fn drop_note(ops: &mut Ops) {
    ops.drop_column("safety_orders", "note");
}

const LOCKED: &[Migration] = &[Migration {
    revision: "sl1",
    down_revisions: &[],
    message: "add note",
    created: "2026-11-29",
    upgrade: add_note,
    downgrade: drop_note,
}];

async fn orders(db: &Database) {
    let mut md = MetaData::new();
    md.add(
        Table::new("safety_orders")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("total", SqlType::Integer)),
    );
    db.create_all(&md).await.unwrap();
    db.execute(text(
        "INSERT INTO safety_orders (id, total) VALUES (1, 10), (2, 20)",
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn a_migration_waiting_on_a_table_lock_fails_after_lock_timeout() {
    let Some(pg) = pg_schema("safety_lock_timeout").await else {
        return;
    };
    let db = Database::connect(&pg.url).await.unwrap();
    orders(&db).await;
    // The application: a transaction that has read the table and not finished.
    let mut app = db.connection().await.unwrap();
    let mut app_tx = app.begin().await.unwrap();
    let app_pid: i32 = app_tx
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    let _: i64 = app_tx
        .query_scalar(text("SELECT COUNT(*) FROM safety_orders"))
        .await
        .unwrap();

    let graph = Graph::new(LOCKED).unwrap();
    let runner = Runner::new(&graph).table_lock_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = runner.run(&db, "head").await.unwrap_err();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "the migration blocked for {took:?}"
    );
    assert!(
        matches!(err, MigrateError::TableLocked { ref table, ref holders, .. }
            if table.as_deref() == Some("safety_orders")
                && holders.contains(&format!("pid {app_pid}"))),
        "{err:?}"
    );
    let message = err.to_string();
    for needle in [
        "lock on table `safety_orders`",
        "nothing of it was kept",
        "AccessShareLock",
        "pg_terminate_backend",
        "Runner::table_lock_timeout",
    ] {
        assert!(message.contains(needle), "{needle} missing from: {message}");
    }
    // Rolled back: not recorded, no column.
    let recorded: i64 = db
        .query_scalar(text("SELECT COUNT(*) FROM oxalchemy_version"))
        .await
        .unwrap();
    assert_eq!(recorded, 0);

    // Once the application's transaction ends, the same migration goes through.
    app_tx.rollback().await.unwrap();
    let report = runner.run(&db, "head").await.unwrap();
    assert_eq!(report.applied, ["sl1"]);
    let mut conn = db.connection().await.unwrap();
    let t = reflect_table(&mut conn, "safety_orders")
        .await
        .unwrap()
        .unwrap();
    assert!(t.column_named("note").is_some());
    drop(conn);
    drop(app);
    pg.drop().await;
}

fn record_settings(ops: &mut Ops) {
    ops.execute(text(
        "INSERT INTO safety_settings (lock_timeout, statement_timeout) \
         SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
    ));
}
fn noop(_: &mut Ops) {}
fn slow(ops: &mut Ops) {
    ops.execute(text("SELECT pg_sleep(3)"));
}

const SETTINGS: &[Migration] = &[
    Migration {
        revision: "st1",
        down_revisions: &[],
        message: "record settings",
        created: "2026-11-29",
        upgrade: record_settings,
        downgrade: noop,
    },
    Migration {
        revision: "st2",
        down_revisions: &["st1"],
        message: "slow",
        created: "2026-11-29",
        upgrade: slow,
        downgrade: noop,
    },
];

#[tokio::test]
async fn each_migration_sets_its_timeouts_locally() {
    let Some(pg) = pg_schema("safety_timeouts").await else {
        return;
    };
    let db = Database::connect(&pg.url).await.unwrap();
    db.execute(text(
        "CREATE TABLE safety_settings (lock_timeout TEXT, statement_timeout TEXT)",
    ))
    .await
    .unwrap();
    let graph = Graph::new(SETTINGS).unwrap();
    // The defaults: five seconds for locks, no statement limit.
    Runner::new(&graph).run(&db, "st1").await.unwrap();
    let seen: (String, String) = db
        .query_one(text(
            "SELECT lock_timeout, statement_timeout FROM safety_settings",
        ))
        .await
        .unwrap();
    assert_eq!(seen, ("5s".to_owned(), "0".to_owned()));
    // SET LOCAL: nothing leaks to the connection after the migration.
    let after: String = db
        .query_scalar(text("SELECT current_setting('lock_timeout')"))
        .await
        .unwrap();
    assert_eq!(after, "0");

    // A statement running past statement_timeout is cancelled, the migration rolled back.
    let started = Instant::now();
    let err = Runner::new(&graph)
        .statement_timeout(Duration::from_millis(500))
        .run(&db, "head")
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert!(
        matches!(err, MigrateError::StatementTimeout { ref revision, limit, .. }
            if revision == "st2" && limit == Duration::from_millis(500)),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("Runner::statement_timeout"),
        "{err}"
    );
    pg.drop().await;
}

fn create_items(ops: &mut Ops) {
    ops.create_table(
        Table::new("safety_items")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("sku", SqlType::Text)),
    );
}
fn drop_items(ops: &mut Ops) {
    ops.drop_table("safety_items");
}
/// Work before and after the concurrent build: three transactions around it.
fn index_sku(ops: &mut Ops) {
    ops.add_column("safety_items", Column::new("before_ix", SqlType::Text))
        .create_index(
            "safety_items",
            Index::new(["sku"]).named("ix_safety_items_sku"),
        )
        .concurrently()
        .add_column("safety_items", Column::new("after_ix", SqlType::Text));
}
fn unindex_sku(ops: &mut Ops) {
    ops.drop_column("safety_items", "after_ix")
        .drop_index("safety_items", "ix_safety_items_sku")
        .drop_column("safety_items", "before_ix");
}
/// A concurrent build alone: the transactions around it touch no table.
fn index_id_sku(ops: &mut Ops) {
    ops.create_index(
        "safety_items",
        Index::new(["id", "sku"]).named("ix_safety_items_id_sku"),
    )
    .concurrently();
}
fn unindex_id_sku(ops: &mut Ops) {
    ops.drop_index("safety_items", "ix_safety_items_id_sku");
}
fn misplaced(ops: &mut Ops) {
    ops.drop_table("safety_items").concurrently();
}

const CONCURRENT: &[Migration] = &[
    Migration {
        revision: "sc1",
        down_revisions: &[],
        message: "create items",
        created: "2026-11-29",
        upgrade: create_items,
        downgrade: drop_items,
    },
    Migration {
        revision: "sc2",
        down_revisions: &["sc1"],
        message: "index sku concurrently",
        created: "2026-11-29",
        upgrade: index_sku,
        downgrade: unindex_sku,
    },
    Migration {
        revision: "sc3",
        down_revisions: &["sc2"],
        message: "index id and sku concurrently",
        created: "2026-11-29",
        upgrade: index_id_sku,
        downgrade: unindex_id_sku,
    },
];

/// The items table at `sc1`, with rows.
async fn items_at_sc1(url: &str) -> Database {
    let db = Database::connect(url).await.unwrap();
    let graph = Graph::new(CONCURRENT).unwrap();
    Runner::new(&graph).run(&db, "sc1").await.unwrap();
    db.execute(text(
        "INSERT INTO safety_items (id, sku) VALUES (1, 'a'), (2, 'b')",
    ))
    .await
    .unwrap();
    db
}

/// `sc2` and `sc3` applied: both columns, the indexes, recorded; then reverted.
async fn check_sc2_and_revert(label: &str, db: &Database) {
    let graph = Graph::new(CONCURRENT).unwrap();
    let runner = Runner::new(&graph);
    let mut conn = db.connection().await.unwrap();
    let t = reflect_table(&mut conn, "safety_items")
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert!(t.column_named("before_ix").is_some(), "{label}");
    assert!(t.column_named("after_ix").is_some(), "{label}");
    let mut names: Vec<String> = t
        .indexes
        .iter()
        .filter_map(|ix| ix.name.as_ref().map(|n| n.to_string()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["ix_safety_items_id_sku", "ix_safety_items_sku"],
        "{label}"
    );
    assert_eq!(runner.current(db).await.unwrap(), ["sc3"], "{label}");
    let report = runner.run(db, "sc1").await.unwrap();
    assert_eq!(report.reverted, ["sc3", "sc2"], "{label}");
    let rows: i64 = db
        .query_scalar(text("SELECT COUNT(*) FROM safety_items"))
        .await
        .unwrap();
    assert_eq!(rows, 2, "{label}");
}

#[tokio::test]
async fn a_concurrent_index_is_built_outside_the_transaction_on_postgresql() {
    let Some(pg) = pg_schema("safety_concurrently").await else {
        return;
    };
    pg.drop().await;
    let own = OwnDatabase::create().await;
    let db = items_at_sc1(&own.url).await;
    let graph = Graph::new(CONCURRENT).unwrap();
    // Work before and after a concurrent build, in transactions around it.
    let report = Runner::new(&graph).run(&db, "sc2").await.unwrap();
    assert_eq!(report.applied, ["sc2"]);
    // The application is writing to the table (RowExclusiveLock, uncommitted). A plain
    // CREATE INDEX would need a lock that conflicts and fail after the 300 ms lock
    // timeout; CREATE INDEX CONCURRENTLY takes one that does not, and waits (outside any
    // transaction of the migration) for the writer to finish.
    let mut app = db.connection().await.unwrap();
    let mut app_tx = app.begin().await.unwrap();
    app_tx
        .execute(text("UPDATE safety_items SET sku = 'c' WHERE id = 1"))
        .await
        .unwrap();
    let run = {
        let db = db.clone();
        tokio::spawn(async move {
            let graph = Graph::new(CONCURRENT).unwrap();
            Runner::new(&graph)
                .table_lock_timeout(Duration::from_millis(300))
                .run(&db, "head")
                .await
                .map(|r| r.applied)
        })
    };
    let started = Instant::now();
    let building = loop {
        let waiting: i64 = db
            .query_scalar(text(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE query LIKE 'CREATE INDEX CONCURRENTLY \"ix_safety_items_id_sku\"%' \
                 AND state = 'active' AND backend_xid IS NULL",
            ))
            .await
            .unwrap();
        if waiting > 0 || started.elapsed() > Duration::from_secs(10) {
            break waiting > 0;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(building, "no CREATE INDEX CONCURRENTLY seen waiting");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!run.is_finished(), "the build did not wait for the writer");
    app_tx.commit().await.unwrap();
    // Generous: the build also waits for other sessions' older transactions.
    let applied = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(applied, ["sc3"]);
    let valid: Vec<(bool,)> = db
        .query(text(
            "SELECT i.indisvalid FROM pg_index i \
             WHERE i.indexrelid IN (to_regclass('ix_safety_items_sku'), \
             to_regclass('ix_safety_items_id_sku'))",
        ))
        .await
        .unwrap();
    assert_eq!(valid, [(true,), (true,)]);
    check_sc2_and_revert("postgresql", &db).await;
    drop(app);
    db.close();
    own.drop().await;
}

/// A database of its own: a concurrent index build waits for every older transaction of
/// its database, so other tests' transactions on the shared test database would stall it.
struct OwnDatabase {
    url: String,
    name: String,
    admin: Database,
}

impl OwnDatabase {
    async fn create() -> Self {
        let base = postgres_base_url().unwrap();
        let name = format!("oxalchemy_cic_{}", std::process::id());
        let (head, query) = match base.split_once('?') {
            Some((h, q)) => (h.to_owned(), format!("?{q}")),
            None => (base.clone(), String::new()),
        };
        let server = &head[..head.rfind('/').unwrap()];
        let url = format!("{server}/{name}{query}");
        let admin = Database::connect(&base).await.unwrap();
        admin
            .execute(text(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .await
            .unwrap();
        admin
            .execute(text(format!("CREATE DATABASE \"{name}\"")))
            .await
            .unwrap();
        OwnDatabase { url, name, admin }
    }

    async fn drop(self) {
        let dropped = self
            .admin
            .execute(text(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            )))
            .await;
        if let Err(e) = dropped {
            eprintln!("warning: could not drop database `{}`: {e}", self.name);
        }
    }
}

#[tokio::test]
async fn a_concurrent_index_is_a_plain_index_on_sqlite() {
    let file = TempSqliteFile::new("safety_concurrently");
    let db = items_at_sc1(&file.url()).await;
    let graph = Graph::new(CONCURRENT).unwrap();
    let report = Runner::new(&graph).run(&db, "head").await.unwrap();
    assert_eq!(report.applied, ["sc2", "sc3"]);
    check_sc2_and_revert("sqlite", &db).await;
}

#[test]
fn offline_scripts_build_concurrent_indexes_between_transactions() {
    let graph = Graph::new(CONCURRENT).unwrap();
    let runner = Runner::new(&graph);
    let pg = runner
        .offline_sql(&oxalchemy_core::Postgres, &HashSet::new(), "head")
        .unwrap();
    assert!(
        pg.contains(
            "COMMIT;\nCREATE INDEX CONCURRENTLY \"ix_safety_items_sku\" ON \"safety_items\""
        ),
        "{pg}"
    );
    let sqlite = runner
        .offline_sql(&oxalchemy_core::Sqlite, &HashSet::new(), "head")
        .unwrap();
    assert!(!sqlite.contains("CONCURRENTLY"), "{sqlite}");
}

#[test]
fn concurrently_after_anything_but_create_index_is_refused() {
    let bad = [Migration {
        revision: "sx1",
        down_revisions: &[],
        message: "misplaced",
        created: "2026-11-29",
        upgrade: misplaced,
        downgrade: noop,
    }];
    let graph = Graph::new(&bad).unwrap();
    let err = Runner::new(&graph)
        .offline_sql(&oxalchemy_core::Postgres, &HashSet::new(), "head")
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::NotConcurrent { ref revision, op: 0 } if revision == "sx1"),
        "{err:?}"
    );
}

#[test]
fn the_index_lint_suggests_concurrently_and_is_quiet_once_used() {
    let mut state = MetaData::new();
    let mut create = Ops::new();
    create_items(&mut create);
    for op in create.ops() {
        op.apply_to(&mut state).unwrap();
    }
    let mut plain = Ops::new();
    plain.create_index("safety_items", Index::new(["sku"]).named("ix_plain"));
    let lints = oxalchemy_migrate::lint::lint(&oxalchemy_core::Postgres, &plain, &state);
    let lint = lints
        .iter()
        .find(|l| l.code == "index-not-concurrent")
        .expect("no index-not-concurrent lint");
    assert!(lint.message.contains(".concurrently()"), "{}", lint.message);
    let mut concurrent = Ops::new();
    index_id_sku(&mut concurrent);
    let lints = oxalchemy_migrate::lint::lint(&oxalchemy_core::Postgres, &concurrent, &state);
    assert!(
        lints.iter().all(|l| l.code != "index-not-concurrent"),
        "{lints:?}"
    );
}
