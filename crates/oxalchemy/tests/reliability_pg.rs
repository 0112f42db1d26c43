//! PostgreSQL reliability under cancellation and faults (issue 10): a dropped BEGIN or query
//! never leaves a pooled connection in a transaction or busy, the application's error wins
//! over a failed ROLLBACK, plans made stale by DDL are re-prepared, and a lost connection is
//! discarded. Each test runs in its own schema on the shared server; killing a backend with
//! `pg_terminate_backend` affects only that backend.

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

use oxalchemy::prelude::*;
use oxalchemy_testing::pg_schema;

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

/// Polls `f` exactly once and drops it: its request is sent, its answer never read (a
/// `select!` branch that lost, a `timeout` that fired).
async fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| {
        Poll::Ready(match f.as_mut().poll(cx) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        })
    })
    .await
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
    let v: i64 = db.query_scalar(read()).await.unwrap();
    assert_eq!(v, 7, "outside a transaction the statement is re-prepared");

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

/// What a soak step's row must be at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Its commit (or autocommitted INSERT) returned `Ok`.
    Present,
    /// It was never committed (rolled back or dropped before COMMIT was sent).
    Absent,
    /// Its COMMIT or INSERT was cut off or failed: either outcome is allowed.
    Unknown,
}

/// A small deterministic generator (xorshift), so a failing soak run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn insert(id: i64) -> oxalchemy::core::Statement {
    text("INSERT INTO soak (id) VALUES (:id)")
        .bind("id", id)
        .into()
}

/// Runs `f` for at most `limit`; `None` when the limit cut it off.
async fn timed(
    limit: Duration,
    f: impl Future<Output = Result<(), Error>>,
) -> Option<Result<(), Error>> {
    tokio::time::timeout(limit, f).await.ok()
}

/// A row's expectation from how its commit (or autocommitted INSERT) ended: `None` when it
/// was cut off.
fn outcome(r: Option<Result<(), Error>>) -> Expect {
    match r {
        Some(Ok(())) => Expect::Present,
        _ => Expect::Unknown,
    }
}

/// One soak step: a random operation under a random timeout (0–14 ms; a zero timeout still
/// polls once, so requests are sent and abandoned). Returns the step's row expectation.
async fn soak_step(db: &Database, rng: &mut Rng, id: i64, lock_key: i64) -> Option<Expect> {
    let limit = Duration::from_millis(rng.next() % 15);
    let kind = rng.next() % 8;
    Some(match kind {
        0 => outcome(
            timed(limit, async {
                let mut conn = db.connection().await?;
                let mut tx = conn.begin().await?;
                tx.execute(insert(id)).await?;
                tx.commit().await
            })
            .await,
        ),
        1 => {
            let _ = timed(limit, async {
                let mut conn = db.connection().await?;
                let mut tx = conn.begin().await?;
                tx.execute(insert(id)).await?;
                tx.rollback().await
            })
            .await;
            Expect::Absent
        }
        2 => outcome(timed(limit, async { db.execute(insert(id)).await.map(drop) }).await),
        3 => {
            let _ = timed(limit, async {
                db.execute(text("SELECT pg_sleep(0.05)")).await.map(drop)
            })
            .await;
            return None;
        }
        4 => {
            let mut conn = db.connection().await.ok()?;
            let _ = poll_once(conn.begin()).await;
            outcome(Some(conn.execute(insert(id)).await.map(drop)))
        }
        5 => {
            // Locked, and unlocked only if the whole block finishes: a cut leaves the lock to
            // the pool's reset.
            let _ = timed(limit, async {
                let mut conn = db.connection().await?;
                conn.execute(text("SELECT pg_advisory_lock(:k)").bind("k", lock_key))
                    .await?;
                conn.execute(text("SELECT pg_sleep(0.005)")).await?;
                conn.execute(text("SELECT pg_advisory_unlock(:k)").bind("k", lock_key))
                    .await
                    .map(drop)
            })
            .await;
            return None;
        }
        6 => outcome(
            timed(limit, async {
                let mut s = db.session();
                s.execute(insert(id)).await?;
                s.commit().await
            })
            .await,
        ),
        _ => {
            let _ = timed(limit, async {
                let mut s = db.session();
                s.execute(insert(id)).await?;
                s.rollback().await
            })
            .await;
            Expect::Absent
        }
    })
}

/// Advisory locks held in the current database.
const ADVISORY_LOCKS_HERE: &str = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// A new database `name` on this test process's own PostgreSQL cluster (started on first
/// use with `initdb`/`pg_ctl`, stopped when the process exits), for tests whose assertions
/// cover the whole server (advisory locks, idle transactions) or that take server-wide
/// locks. `None`, after a visible skip notice, where no cluster can be started.
async fn own_cluster_db(name: &str) -> Option<String> {
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
async fn settles_to_zero(db: &Database, sql: &'static str) -> i64 {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_cancellations_leave_no_transaction_lock_or_wrong_row() {
    const TASKS: i64 = 8;
    const STEPS: i64 = 200;
    let Some(url) = own_cluster_db("soak").await else {
        return;
    };
    let db = Database::connect(&url)
        .pool_size(4)
        .max_overflow(0)
        .pool_timeout(Duration::from_secs(10))
        .await
        .unwrap();
    let admin = Database::connect(&url).pool_size(1).await.unwrap();
    db.execute(text("CREATE TABLE soak (id bigint PRIMARY KEY)"))
        .await
        .unwrap();

    let run = async {
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (task as u64 + 1));
                let mut expected = Vec::new();
                for step in 0..STEPS {
                    let id = task * 10_000 + step;
                    if let Some(e) = soak_step(&db, &mut rng, id, 7_000 + task).await {
                        expected.push((id, e));
                    }
                }
                expected
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    };
    let expected = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("soak did not finish within 60 s");

    // Every returned connection is reset without waiting for a checkout.
    let in_tx = settles_to_zero(
        &admin,
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    .await;
    assert_eq!(in_tx, 0, "pooled connections left in a transaction");
    let locks = settles_to_zero(&admin, ADVISORY_LOCKS_HERE).await;
    assert_eq!(locks, 0, "advisory locks left held");
    // Every connection handed out is outside any transaction.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = db.connection().await.unwrap();
        assert!(!conn.in_transaction());
        // PostgreSQL refuses a SAVEPOINT outside a transaction block (25P01).
        let probe = conn.execute(text("SAVEPOINT probe")).await;
        assert_eq!(
            probe
                .err()
                .and_then(|e| e.sqlstate().map(str::to_owned))
                .as_deref(),
            Some("25P01"),
            "handed out inside a transaction"
        );
        held.push(conn);
    }
    drop(held);

    let present: std::collections::HashSet<i64> = admin
        .query::<(i64,)>(text("SELECT id FROM soak"))
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect();
    let tally = |e: Expect| expected.iter().filter(|(_, x)| *x == e).count();
    for (id, e) in &expected {
        match e {
            Expect::Present => assert!(present.contains(id), "committed row {id} lost"),
            Expect::Absent => assert!(!present.contains(id), "rolled-back row {id} kept"),
            Expect::Unknown => {}
        }
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "soak: {} steps with rows: {} committed (all present), {} rolled back (all absent), \
         {} cut off or failed ({} of them kept)",
        expected.len(),
        tally(Expect::Present),
        tally(Expect::Absent),
        tally(Expect::Unknown),
        expected
            .iter()
            .filter(|(id, e)| *e == Expect::Unknown && present.contains(id))
            .count(),
    );
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

/// A migration that takes a while: cut off mid-run by a deploy's timeout.
fn slow_upgrade(ops: &mut oxalchemy::migrate::ops::Ops) {
    ops.execute(text("CREATE TABLE migrated (id integer)"))
        .execute(text("SELECT pg_sleep(1)"));
}

fn slow_downgrade(ops: &mut oxalchemy::migrate::ops::Ops) {
    ops.execute(text("DROP TABLE migrated"));
}

static SLOW: &[oxalchemy::migrate::migration::Migration] =
    &[oxalchemy::migrate::migration::Migration {
        revision: "5l0w00000001",
        down_revisions: &[],
        message: "slow",
        created: "2026-11-29",
        upgrade: slow_upgrade,
        downgrade: slow_downgrade,
    }];

#[tokio::test]
async fn a_cut_off_migration_run_leaves_no_advisory_lock() {
    use oxalchemy::migrate::migration::{Graph, Runner};
    let Some(url) = own_cluster_db("migrate_lock").await else {
        return;
    };
    let db = Database::connect(&url).pool_size(2).await.unwrap();
    let admin = Database::connect(&url).pool_size(1).await.unwrap();
    let graph = Graph::new(SLOW).unwrap();
    let runner = Runner::new(&graph);

    // Cut off mid-migration: the lock goes with the reset of the returned connection.
    let cut = tokio::time::timeout(Duration::from_millis(300), runner.run(&db, "head")).await;
    assert!(cut.is_err(), "the slow migration finished within 300 ms");
    assert_eq!(
        settles_to_zero(&admin, ADVISORY_LOCKS_HERE).await,
        0,
        "the migration lock outlived the cut-off run"
    );

    // Cut off while waiting for the lock another deploy holds: the wait is cancelled, so it
    // neither blocks its connection nor takes the lock later.
    let mut holder = admin.connection().await.unwrap();
    let lock = |sql: &'static str| text(sql).bind("k", 7_415_002_211_i64);
    tokio::time::timeout(
        Duration::from_secs(5),
        holder.execute(lock("SELECT pg_advisory_lock(:k)")),
    )
    .await
    .expect("the migration lock is still held")
    .unwrap();
    let cut = tokio::time::timeout(Duration::from_millis(300), runner.run(&db, "head")).await;
    assert!(cut.is_err(), "ran while the lock was held elsewhere");
    holder
        .execute(lock("SELECT pg_advisory_unlock(:k)"))
        .await
        .unwrap();
    drop(holder);

    // The next deploy applies the migration in bounded time and leaves no lock.
    let report = tokio::time::timeout(Duration::from_secs(10), runner.run(&db, "head"))
        .await
        .expect("upgrade head waited on a leaked lock")
        .unwrap();
    assert_eq!(report.applied, ["5l0w00000001"]);
    assert_eq!(settles_to_zero(&admin, ADVISORY_LOCKS_HERE).await, 0);
}
