//! Helpers of the PostgreSQL fault tests (`reliability_pg`, `reliability_pg_cluster`):
//! abandoning a future after one poll, waiting for the server to settle, and databases on
//! the test process's own throwaway cluster.
#![allow(dead_code)]

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use oxalchemy::prelude::*;

/// Polls `f` exactly once and drops it: its request is sent, its answer never read (a
/// `select!` branch that lost, a `timeout` that fired).
pub(crate) async fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| {
        Poll::Ready(match f.as_mut().poll(cx) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        })
    })
    .await
}

/// Advisory locks held in the current database.
pub(crate) const ADVISORY_LOCKS_HERE: &str =
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// A new database `name` on this test process's own PostgreSQL cluster (started on first
/// use with `initdb`/`pg_ctl`, stopped when the process exits), for tests whose assertions
/// cover the whole server (advisory locks, idle transactions) or that take server-wide
/// locks. `None`, after a visible skip notice, where no cluster can be started.
pub(crate) async fn own_cluster_db(name: &str) -> Option<String> {
    static CLUSTER: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let base = tokio::task::spawn_blocking(|| {
        CLUSTER
            .get_or_init(oxalchemy_testing::start_ephemeral)
            .clone()
    })
    .await
    .unwrap();
    let base = match base {
        Ok(url) => url,
        Err(reason) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {name} (own PostgreSQL): {reason}"
            );
            return None;
        }
    };
    let admin = Database::connect(&base).pool_size(1).await.unwrap();
    admin
        .execute(text(format!("CREATE DATABASE \"{name}\"")))
        .await
        .unwrap();
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    Some(format!("{server}/{name}"))
}

/// Waits (up to 5 s) until `sql`, a count, is zero on `db`; returns the last count.
pub(crate) async fn settles_to_zero(db: &Database, sql: &'static str) -> i64 {
    let mut n = -1;
    for _ in 0..100 {
        n = db.query_scalar(text(sql)).await.unwrap();
        if n == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    n
}
