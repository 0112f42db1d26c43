//! PostgreSQL reliability under cancellation and faults (issue 10): a dropped BEGIN or query
//! never leaves a pooled connection in a transaction or busy, the application's error wins
//! over a failed ROLLBACK, plans made stale by DDL are re-prepared, and a lost connection is
//! discarded (and the connections opened before it invalidated). Each test runs in its own
//! schema on the shared server; killing a backend with `pg_terminate_backend` affects only
//! that backend. Faults asserted server-wide are in `reliability_pg_cluster`.

mod pg_faults;

use std::time::{Duration, Instant};

use oxalchemy::prelude::*;
use oxalchemy_testing::pg_schema;
use pg_faults::poll_once;

/// A pool of one connection, so "the next user" gets the very connection the fault touched.
async fn single(url: &str) -> Database {
    Database::connect(url)
        .pool_size(1)
        .max_overflow(0)
        .await
        .unwrap()
}

/// Terminates the backend with process id `pid` and waits (up to 5 s) until it is gone.
async fn terminate(admin: &Database, pid: i32) {
    let killed: bool = admin
        .query_scalar(text("SELECT pg_terminate_backend(:pid, 5000)").bind("pid", pid))
        .await
        .unwrap();
    assert!(killed, "backend {pid} was not terminated");
}

async fn count(db: &Database, table: &str) -> i64 {
    db.query_scalar(text(format!("SELECT count(*) FROM {table}")))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cancelled_begin_does_not_hand_out_a_connection_inside_a_transaction() {
    let Some(pg) = pg_schema("rel_cancelled_begin").await else {
        return;
    };
    let db = single(&pg.url).await;
    let other = Database::connect(&pg.url).await.unwrap();
    db.execute(text("CREATE TABLE t (id integer)"))
        .await
        .unwrap();

    // `begin()` polled once and dropped: its BEGIN is on the wire, its answer never read.
    let pid: i32 = {
        let mut conn = db.connection().await.unwrap();
        // A session-level advisory lock (a migration runner's) must not outlive the reset.
        conn.execute(text("SELECT pg_advisory_lock(424242)"))
            .await
            .unwrap();
        let pid = conn
            .query_scalar(text("SELECT pg_backend_pid()"))
            .await
            .unwrap();
        let begun = poll_once(conn.begin()).await;
        assert!(begun.is_none(), "BEGIN cannot finish without a round trip");
        pid
    };
    // Reset on return: before any new checkout, the idle pooled connection is neither in a
    // transaction nor holding the lock.
    let idle = async {
        loop {
            let state: String = other
                .query_scalar(
                    text("SELECT state FROM pg_stat_activity WHERE pid = :pid").bind("pid", pid),
                )
                .await
                .unwrap();
            if state == "idle" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(2), idle)
        .await
        .expect("the returned connection stayed idle in a transaction");
    let locks: i64 = other
        .query_scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242",
        ))
        .await
        .unwrap();
    assert_eq!(locks, 0, "advisory lock kept by a returned connection");
    db.execute(text("INSERT INTO t VALUES (1)")).await.unwrap();
    assert_eq!(
        count(&other, "t").await,
        1,
        "autocommitted INSERT not visible"
    );

    // The same through `begin_owned` (a Session's first statement).
    let owned = poll_once(db.connection().await.unwrap().begin_owned()).await;
    assert!(owned.is_none());
    db.execute(text("INSERT INTO t VALUES (2)")).await.unwrap();
    assert_eq!(
        count(&other, "t").await,
        2,
        "autocommitted INSERT not visible"
    );

    // On the same connection, without returning it to the pool first.
    let mut conn = db.connection().await.unwrap();
    assert!(poll_once(conn.begin()).await.is_none());
    conn.execute(text("INSERT INTO t VALUES (3)"))
        .await
        .unwrap();
    assert!(!conn.in_transaction());
    assert_eq!(
        count(&other, "t").await,
        3,
        "autocommitted INSERT not visible"
    );
    drop(conn);

    // No pooled connection is left in a transaction or holding advisory locks.
    let mut conn = db.connection().await.unwrap();
    let status: String = conn
        .query_scalar(text(
            "SELECT state FROM pg_stat_activity WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap();
    assert_eq!(status, "active");
    drop(conn);
    pg.drop().await;
}

#[tokio::test]
async fn a_dropped_query_is_cancelled_on_the_server() {
    let Some(pg) = pg_schema("rel_dropped_query").await else {
        return;
    };
    let db = single(&pg.url).await;
    let sleep = || text("SELECT pg_sleep(2)");

    // The next user of the pool's only connection.
    {
        let mut conn = db.connection().await.unwrap();
        let r = tokio::time::timeout(Duration::from_millis(100), conn.execute(sleep())).await;
        assert!(r.is_err(), "pg_sleep(2) finished within 100 ms");
    }
    let started = Instant::now();
    let one: i32 = db.query_scalar(text("SELECT 1")).await.unwrap();
    assert_eq!(one, 1);
    // A bound on a fault (the server sleeping on for 1.9 s), not a speed claim.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "next user waited {:?}: the dropped query kept running",
        started.elapsed()
    );

    // The same connection's next statement, inside a transaction: the transaction is the
    // cancelled statement's to abort, and the pool resets it once dropped.
    let mut conn = db.connection().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let r = tokio::time::timeout(Duration::from_millis(100), tx.execute(sleep())).await;
    assert!(r.is_err());
    let started = Instant::now();
    let err = tx.execute(text("SELECT 1")).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("25P02"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(tx);
    drop(conn);
    let one: i32 = db.query_scalar(text("SELECT 1")).await.unwrap();
    assert_eq!(one, 1);
    pg.drop().await;
}

/// An application's error type, as `db.transaction` callers define them.
#[derive(Debug)]
enum AppError {
    /// The application's own failure.
    Refused,
    /// A database failure.
    Db(Error),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}

#[tokio::test]
async fn the_closures_error_wins_over_a_failed_rollback() {
    let Some(pg) = pg_schema("rel_rollback_masking").await else {
        return;
    };
    let db = single(&pg.url).await;
    let admin = Database::connect(&pg.url).await.unwrap();
    let result = db
        .transaction(async |tx| -> Result<(), AppError> {
            let pid: i32 = tx.query_scalar(text("SELECT pg_backend_pid()")).await?;
            // The connection dies under the transaction, so its ROLLBACK fails too.
            terminate(&admin, pid).await;
            Err(AppError::Refused)
        })
        .await;
    assert!(matches!(result, Err(AppError::Refused)), "{result:?}");
    // A database error raised by the closure itself is returned as is.
    let result = db
        .transaction(async |tx| -> Result<i64, AppError> {
            Ok(tx
                .query_scalar(text("SELECT count(*) FROM missing"))
                .await?)
        })
        .await;
    match result {
        Err(AppError::Db(e)) => assert_eq!(e.sqlstate(), Some("42P01"), "{e}"),
        other => panic!("expected the closure's database error, got {other:?}"),
    }
    // The dead connection was not handed out again.
    let one: i32 = db.query_scalar(text("SELECT 1")).await.unwrap();
    assert_eq!(one, 1);
    pg.drop().await;
}

/// The same for a Session's scope: the closure's error, not the failed ROLLBACK's.
#[tokio::test]
async fn session_scope_returns_the_closures_error_when_rollback_fails() {
    use oxalchemy::orm::SessionExt;
    let Some(pg) = pg_schema("rel_session_scope_masking").await else {
        return;
    };
    let db = single(&pg.url).await;
    let admin = Database::connect(&pg.url).await.unwrap();
    let result = db
        .session_scope(async |s| -> Result<(), AppError> {
            let pid: Vec<(i32,)> = s.select(text("SELECT pg_backend_pid()")).await?;
            terminate(&admin, pid[0].0).await;
            Err(AppError::Refused)
        })
        .await;
    assert!(matches!(result, Err(AppError::Refused)), "{result:?}");
    let one: i32 = db.query_scalar(text("SELECT 1")).await.unwrap();
    assert_eq!(one, 1, "the dead connection was not handed out again");
    pg.drop().await;
}

#[tokio::test]
async fn statements_prepared_before_ddl_are_prepared_again() {
    let Some(pg) = pg_schema("rel_stale_plan").await else {
        return;
    };
    let db = single(&pg.url).await;
    let admin = Database::connect(&pg.url).await.unwrap();
    db.execute(text("CREATE TABLE s (id integer, v integer)"))
        .await
        .unwrap();
    db.execute(text("INSERT INTO s VALUES (1, 7)"))
        .await
        .unwrap();
    let read = || text("SELECT v FROM s WHERE id = 1");
    // Cached on the pool's only connection.
    let v: i64 = db.query_scalar(read()).await.unwrap();
    assert_eq!(v, 7);

    // A migration on another connection changes the statement's result type.
    admin
        .execute(text("ALTER TABLE s ALTER COLUMN v TYPE bigint"))
        .await
        .unwrap();
    let mut conn = db.connection().await.unwrap();
    // The retry is no reset: a session advisory lock the connection holds stays held.
    conn.execute(text("SELECT pg_advisory_lock(626262)"))
        .await
        .unwrap();
    let v: i64 = conn.query_scalar(read()).await.unwrap();
    assert_eq!(v, 7, "outside a transaction the statement is re-prepared");
    let held: i64 = admin
        .query_scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 626262",
        ))
        .await
        .unwrap();
    assert_eq!(held, 1, "the retry released the connection's advisory lock");
    conn.execute(text("SELECT pg_advisory_unlock(626262)"))
        .await
        .unwrap();
    drop(conn);

    // Inside a transaction the server has aborted it: the error says so and what to do.
    admin
        .execute(text("ALTER TABLE s ALTER COLUMN v TYPE integer"))
        .await
        .unwrap();
    let mut conn = db.connection().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let err = tx.query_scalar::<i64>(read()).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("0A000"), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("altered") && message.contains("roll it back and run it again"),
        "{message}"
    );
    tx.rollback().await.unwrap();
    // Run again, the transaction succeeds: the cache was cleared.
    let mut tx = conn.begin().await.unwrap();
    let v: i64 = tx.query_scalar(read()).await.unwrap();
    assert_eq!(v, 7);
    tx.commit().await.unwrap();

    // After DDL the application runs itself, it drops every connection's cache up front, so
    // even a transaction's first statement finds no stale plan.
    admin
        .execute(text("ALTER TABLE s ALTER COLUMN v TYPE bigint"))
        .await
        .unwrap();
    db.forget_prepared_statements();
    let mut tx = conn.begin().await.unwrap();
    let v: i64 = tx.query_scalar(read()).await.unwrap();
    assert_eq!(v, 7);
    tx.commit().await.unwrap();
    drop(conn);
    pg.drop().await;
}

#[tokio::test]
async fn a_terminated_backend_is_connection_lost_and_discarded() {
    let Some(pg) = pg_schema("rel_terminated").await else {
        return;
    };
    let db = single(&pg.url).await;
    let admin = Database::connect(&pg.url).await.unwrap();
    let mut conn = db.connection().await.unwrap();
    let pid: i32 = conn
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    terminate(&admin, pid).await;
    let err = conn.execute(text("SELECT 1")).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    drop(conn);
    assert_eq!(
        db.status().open,
        0,
        "a lost connection went back to the pool"
    );
    // The pool opens a new one for the next user.
    let mut conn = db.connection().await.unwrap();
    let new_pid: i32 = conn
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    assert_ne!(new_pid, pid);

    // Terminated inside a transaction: the same, and the guard's drop does not hide it.
    let mut tx = conn.begin().await.unwrap();
    terminate(&admin, new_pid).await;
    let err = tx.execute(text("SELECT 1")).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    drop(tx);
    drop(conn);
    assert_eq!(
        db.status().open,
        0,
        "a lost connection went back to the pool"
    );
    let one: i32 = db.query_scalar(text("SELECT 1")).await.unwrap();
    assert_eq!(one, 1);
    pg.drop().await;
}

#[tokio::test]
async fn a_transaction_with_an_abandoned_statement_does_not_report_a_commit() {
    let Some(pg) = pg_schema("rel_abandoned_commit").await else {
        return;
    };
    let db = single(&pg.url).await;
    let other = Database::connect(&pg.url).await.unwrap();
    db.execute(text("CREATE TABLE t (id integer)"))
        .await
        .unwrap();
    let mut conn = db.connection().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    tx.execute(text("INSERT INTO t VALUES (1)")).await.unwrap();
    let slow = tokio::time::timeout(
        Duration::from_millis(100),
        tx.execute(text("SELECT pg_sleep(2)")),
    )
    .await;
    assert!(slow.is_err());
    // The server answers COMMIT on an aborted transaction with ROLLBACK: never report it
    // as committed.
    let err = tx.commit().await.unwrap_err();
    assert!(matches!(err, Error::TransactionAbandoned), "{err:?}");
    assert!(!conn.in_transaction());
    assert_eq!(count(&other, "t").await, 0);
    // The connection works on.
    conn.execute(text("INSERT INTO t VALUES (2)"))
        .await
        .unwrap();
    assert_eq!(count(&other, "t").await, 1);
    drop(conn);
    pg.drop().await;
}

#[tokio::test]
async fn a_timed_out_advisory_lock_wait_does_not_stay_queued() {
    let Some(pg) = pg_schema("rel_lock_wait").await else {
        return;
    };
    let db = single(&pg.url).await;
    let holder = Database::connect(&pg.url).await.unwrap();
    let key = 515151;
    let mut held = holder.connection().await.unwrap();
    held.execute(text("SELECT pg_advisory_lock(:k)").bind("k", key))
        .await
        .unwrap();
    {
        let mut conn = db.connection().await.unwrap();
        let wait = tokio::time::timeout(
            Duration::from_millis(100),
            conn.execute(text("SELECT pg_advisory_lock(:k)").bind("k", key)),
        )
        .await;
        assert!(wait.is_err(), "the lock is held elsewhere");
    }
    // The next user of the waiting connection is not stuck behind the wait …
    let next = tokio::time::timeout(
        Duration::from_secs(1),
        db.query_scalar::<i32>(text("SELECT 1")),
    )
    .await;
    assert_eq!(
        next.expect("stuck behind the abandoned lock wait").unwrap(),
        1
    );
    // … and the abandoned wait does not take the lock once it is released.
    held.execute(text("SELECT pg_advisory_unlock(:k)").bind("k", key))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let granted: i64 = holder
        .query_scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k")
                .bind("k", key),
        )
        .await
        .unwrap();
    assert_eq!(granted, 0, "the abandoned wait took the lock");
    pg.drop().await;
}

#[tokio::test]
async fn idle_connections_whose_backends_died_are_not_handed_out() {
    let Some(pg) = pg_schema("rel_idle_dead").await else {
        return;
    };
    let db = Database::connect(&pg.url)
        .pool_size(3)
        .max_overflow(0)
        .await
        .unwrap();
    let admin = Database::connect(&pg.url).await.unwrap();
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..3 {
        let mut conn = db.connection().await.unwrap();
        pids.push(
            conn.query_scalar::<i32>(text("SELECT pg_backend_pid()"))
                .await
                .unwrap(),
        );
        held.push(conn);
    }
    drop(held);
    // As a server restart does to every idle pooled connection.
    for pid in &pids {
        terminate(&admin, *pid).await;
    }
    for _ in 0..3 {
        let one: i32 = db.query_scalar(text("SELECT 1")).await.unwrap();
        assert_eq!(one, 1);
    }
    pg.drop().await;
}

#[tokio::test]
async fn a_lost_connection_invalidates_the_connections_opened_before_it() {
    let Some(pg) = pg_schema("rel_invalidate").await else {
        return;
    };
    let db = Database::connect(&pg.url)
        .pool_size(2)
        .max_overflow(0)
        .await
        .unwrap();
    let admin = Database::connect(&pg.url).await.unwrap();
    let pid_of = |mut conn: Connection| async move {
        let pid: i32 = conn
            .query_scalar(text("SELECT pg_backend_pid()"))
            .await
            .unwrap();
        (conn, pid)
    };
    let (mut a, pid_a) = pid_of(db.connection().await.unwrap()).await;
    let (b, pid_b) = pid_of(db.connection().await.unwrap()).await;
    drop(b);
    terminate(&admin, pid_a).await;
    let err = a.execute(text("SELECT 1")).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    drop(a);
    // `b` still works, but it predates the loss: whatever broke `a` (a restart, a
    // failover) has likely broken it too, so it is not handed out again.
    let (_c, pid_c) = pid_of(db.connection().await.unwrap()).await;
    assert!(
        pid_c != pid_a && pid_c != pid_b,
        "an older connection was reused"
    );
    assert_eq!(db.status().open, 1);
    pg.drop().await;
}
