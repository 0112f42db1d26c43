//! Engine details: SQLite connection defaults, statement caching, statement echo.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use oxalchemy::prelude::*;

#[tokio::test]
async fn sqlite_connections_get_foreign_keys_wal_and_busy_timeout() {
    for t in common::sqlite_targets("sqlite_defaults").await {
        let db = t.connect().await;
        let fk: i64 = db.query_scalar(text("PRAGMA foreign_keys")).await.unwrap();
        assert_eq!(fk, 1, "[{}]", t.label);
        let mode: String = db.query_scalar(text("PRAGMA journal_mode")).await.unwrap();
        let busy: i64 = db.query_scalar(text("PRAGMA busy_timeout")).await.unwrap();
        if t.label == "sqlite-file" {
            assert_eq!(mode, "wal");
            assert_eq!(
                busy, 0,
                "SQLite's sleeping busy handler is off; the engine waits asynchronously up to busy_timeout"
            );
        } else {
            assert_eq!(mode, "memory");
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn postgres_statements_are_prepared_once_per_connection() {
    let Some(t) = common::postgres_target("pg_statement_cache").await else {
        return;
    };
    let db = Database::connect(&t.url).pool_size(1).await.unwrap();
    let mut conn = db.connection().await.unwrap();
    for i in 0..5i64 {
        let v: i64 = conn
            .query_scalar(select([lit(i) + 1i64]).filter(lit(true).eq(true)))
            .await
            .unwrap();
        assert_eq!(v, i + 1);
    }
    // One server-side prepared statement for the five executions (plus this query's own).
    let prepared: Vec<(String,)> = conn
        .query(text("SELECT statement FROM pg_prepared_statements"))
        .await
        .unwrap();
    let selects = prepared
        .iter()
        .filter(|(s,)| s.contains("$1::BIGINT + $2::BIGINT"))
        .count();
    assert_eq!(selects, 1, "{prepared:?}");
    drop(conn);
    t.finish().await;
}

#[tokio::test]
async fn postgres_statement_cache_evicts_the_least_recently_used() {
    let Some(t) = common::postgres_target("pg_statement_lru").await else {
        return;
    };
    let db = Database::connect(&t.url).pool_size(1).await.unwrap();
    let mut conn = db.connection().await.unwrap();
    // 300 distinct statements through a cache of 256: the oldest are closed on the server.
    let distinct = |i: i64| text(format!("SELECT {i}::BIGINT AS lru_probe"));
    let first: i64 = conn.query_scalar(distinct(0)).await.unwrap();
    assert_eq!(first, 0);
    for i in 1..300i64 {
        let v: i64 = conn.query_scalar(distinct(i)).await.unwrap();
        assert_eq!(v, i);
    }
    let prepared: Vec<(String,)> = conn
        .query(text("SELECT statement FROM pg_prepared_statements"))
        .await
        .unwrap();
    let probes: Vec<&String> = prepared
        .iter()
        .map(|(s,)| s)
        .filter(|s| s.contains("lru_probe"))
        .collect();
    assert!(probes.len() <= 256, "{} statements kept", probes.len());
    assert!(
        probes.iter().any(|s| s.contains("SELECT 299::BIGINT")),
        "the newest statement is cached"
    );
    assert!(
        !probes.iter().any(|s| s.contains("SELECT 0::BIGINT")),
        "the oldest statement was evicted"
    );
    // An evicted statement is prepared again when it is used again.
    let again: i64 = conn.query_scalar(distinct(0)).await.unwrap();
    assert_eq!(again, 0);
    drop(conn);
    t.finish().await;
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

async fn logged(url: &str, hide: bool) -> String {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let db = Database::connect(url)
        .echo(true)
        .hide_parameters(hide)
        .await
        .unwrap();
    let _: Vec<(String,)> = db.query(select([lit("secret-value-42")])).await.unwrap();
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    text
}

#[tokio::test(flavor = "current_thread")]
async fn echo_logs_statements_and_hide_parameters_hides_values() {
    for t in common::all_targets("echo").await {
        let shown = logged(&t.url, false).await;
        assert!(shown.contains("SELECT"), "[{}] {shown}", t.label);
        assert!(shown.contains("secret-value-42"), "[{}] {shown}", t.label);
        let hidden = logged(&t.url, true).await;
        assert!(hidden.contains("SELECT"), "[{}] {hidden}", t.label);
        assert!(
            !hidden.contains("secret-value-42"),
            "[{}] {hidden}",
            t.label
        );
        t.finish().await;
    }
}

/// SQLite built with STAT4 (the bundled build) recompiles a statement whenever a parameter
/// its planner looked at is bound again; a bound LIMIT is such a parameter once the table has
/// statistics. Row counts are written inline on SQLite, so a lookup in a loop is prepared once.
#[tokio::test]
async fn sqlite_lookup_with_limit_is_prepared_once_on_an_analyzed_table() {
    for t in common::sqlite_targets("sqlite_reprepare").await {
        let db = t.connect().await;
        let mut conn = db.connection().await.unwrap();
        conn.execute(text(
            "CREATE TABLE rp (id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER NOT NULL)",
        ))
        .await
        .unwrap();
        conn.execute(text("CREATE INDEX rp_grp ON rp (grp)"))
            .await
            .unwrap();
        for i in 0..200i64 {
            conn.execute(insert(table("rp")).columns(["id", "name", "grp"]).values([
                lit(i),
                lit(format!("n{i}")),
                lit(i % 7),
            ]))
            .await
            .unwrap();
        }
        conn.execute(text("ANALYZE")).await.unwrap();

        // What `.one()` sends: the key bound, LIMIT 2.
        let lookup = |i: i64| {
            select([col("name")])
                .from(table("rp"))
                .filter(col("id").eq(i))
                .limit(2)
        };
        let _: Vec<(String,)> = conn.query(lookup(0)).await.unwrap();
        let before = conn.statement_stats().reprepares;
        for i in 0..100i64 {
            let rows: Vec<(String,)> = conn.query(lookup(i)).await.unwrap();
            assert_eq!(rows, vec![(format!("n{i}"),)], "[{}]", t.label);
        }
        let inline = conn.statement_stats().reprepares - before;
        assert_eq!(
            inline, 0,
            "[{}] the lookup was recompiled {inline} times",
            t.label
        );

        // Control: the same lookup with LIMIT bound is recompiled on every call, which shows
        // the counter sees recompilations.
        let bound = |i: i64| {
            text("SELECT name FROM rp WHERE id = :id LIMIT :n")
                .bind("id", i)
                .bind("n", 2i64)
        };
        let _: Vec<(String,)> = conn.query(bound(0)).await.unwrap();
        let before = conn.statement_stats().reprepares;
        for i in 0..100i64 {
            let _: Vec<(String,)> = conn.query(bound(i)).await.unwrap();
        }
        let bound_reprepares = conn.statement_stats().reprepares - before;
        assert!(
            bound_reprepares >= 99,
            "[{}] a bound LIMIT was expected to recompile each time; saw {bound_reprepares}",
            t.label
        );
        drop(conn);
        t.finish().await;
    }
}
