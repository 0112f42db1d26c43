//! Retryable transactions (`Database::run_transaction`, `run_session_transaction`): 16
//! concurrent SERIALIZABLE transfers all commit with the total unchanged; a real conflict is
//! retried until it passes or the attempts run out (the error counts them); other errors are
//! not retried; SQLite writers queue instead of conflicting, and its busy timeout is retried.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oxalchemy::prelude::*;
use oxalchemy::RetryOptions;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "retry_account")]
struct Account {
    #[column(primary_key, autoincrement = false)]
    pub id: i64,
    pub balance: i64,
}

const ACCOUNTS: i64 = 4;
const TRANSFERS: i64 = 16;

async fn setup(db: &Database) {
    let mut md = MetaData::new();
    md.add(Account::table());
    db.drop_all(&md).await.unwrap();
    db.create_all(&md).await.unwrap();
    for id in 0..ACCOUNTS {
        db.execute(
            text("INSERT INTO retry_account (id, balance) VALUES (:id, 100)").bind("id", id),
        )
        .await
        .unwrap();
    }
}

async fn balances(db: &Database) -> Vec<i64> {
    let rows: Vec<(i64,)> = db
        .query(text("SELECT balance FROM retry_account ORDER BY id"))
        .await
        .unwrap();
    rows.into_iter().map(|(b,)| b).collect()
}

/// What transfer `i` (from `i % 4` to `(i + 1) % 4`, amount `i + 1`) leaves when every one
/// of `TRANSFERS` committed exactly once.
fn expected_balances() -> Vec<i64> {
    let mut b = vec![100; ACCOUNTS as usize];
    for i in 0..TRANSFERS {
        b[(i % ACCOUNTS) as usize] -= i + 1;
        b[((i + 1) % ACCOUNTS) as usize] += i + 1;
    }
    b
}

fn opts() -> RetryOptions {
    RetryOptions::new()
        .max_attempts(100)
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(50))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_serializable_transfers_all_commit_once() {
    for t in common::all_targets("retry_transfers").await {
        let db = Database::connect(&t.url)
            .pool_size(TRANSFERS as usize)
            .await
            .unwrap();
        setup(&db).await;
        // All start together so that they overlap and conflict.
        let barrier = Arc::new(tokio::sync::Barrier::new(TRANSFERS as usize));
        let mut tasks = Vec::new();
        for i in 0..TRANSFERS {
            let (db, barrier) = (db.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let attempts = AtomicU32::new(0);
                let (from, to, amount) = (i % ACCOUNTS, (i + 1) % ACCOUNTS, i + 1);
                let moved = db
                    .run_transaction(&opts(), async |tx| {
                        attempts.fetch_add(1, Ordering::Relaxed);
                        let read = "SELECT balance FROM retry_account WHERE id = :id";
                        let a: i64 = tx.query_scalar(text(read).bind("id", from)).await?;
                        let b: i64 = tx.query_scalar(text(read).bind("id", to)).await?;
                        // Give the others time to read the same rows: a real race.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        let write = "UPDATE retry_account SET balance = :b WHERE id = :id";
                        tx.execute(text(write).bind("b", a - amount).bind("id", from))
                            .await?;
                        tx.execute(text(write).bind("b", b + amount).bind("id", to))
                            .await?;
                        Ok::<_, Error>(amount)
                    })
                    .await;
                (moved, attempts.load(Ordering::Relaxed))
            }));
        }
        let mut retries = Vec::new();
        for task in tasks {
            let (moved, attempts) = task.await.unwrap();
            moved.unwrap_or_else(|e| panic!("[{}] a transfer failed: {e}", t.label));
            retries.push(attempts - 1);
        }
        let total_retries: u32 = retries.iter().sum();
        eprintln!(
            "[{}] {TRANSFERS} transfers committed; retries per transfer {retries:?} (total {total_retries})",
            t.label
        );
        let now = balances(&db).await;
        assert_eq!(now.iter().sum::<i64>(), 100 * ACCOUNTS, "[{}]", t.label);
        // Each transfer's effect is there exactly once: none lost, none applied twice.
        assert_eq!(now, expected_balances(), "[{}]", t.label);
        if t.is_postgres() {
            // Read-modify-write of shared rows at SERIALIZABLE: conflicts are certain.
            assert!(total_retries > 0, "[{}] no conflict was retried", t.label);
        } else if t.is_mysql() {
            // InnoDB at SERIALIZABLE: reads take shared locks, so concurrent transfers
            // deadlock (1213) and are retried; how often depends on timing, so only the
            // outcome above is asserted.
        } else {
            // SQLite: one writer at a time; transactions queue for it (BEGIN IMMEDIATE),
            // so they never conflict.
            assert_eq!(total_retries, 0, "[{}]", t.label);
        }
        drop(db);
        t.finish().await;
    }
}

/// Makes the next UPDATE of account 0 inside `tx` conflict: another connection changes the
/// row after `tx` read it (SQLSTATE 40001 at SERIALIZABLE).
async fn conflicting_attempt(
    db: &Database,
    tx: &mut Transaction<'_>,
    interfere: bool,
) -> Result<(), Error> {
    let _: i64 = tx
        .query_scalar(text("SELECT balance FROM retry_account WHERE id = 0"))
        .await?;
    if interfere {
        db.execute(text(
            "UPDATE retry_account SET balance = balance + 1 WHERE id = 0",
        ))
        .await?;
    }
    tx.execute(text(
        "UPDATE retry_account SET balance = balance - 1 WHERE id = 0",
    ))
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_real_conflict_is_retried_until_it_passes_or_attempts_run_out() {
    let Some(t) = common::postgres_target("retry_conflict").await else {
        return;
    };
    let db = Database::connect(&t.url).await.unwrap();
    setup(&db).await;

    // Conflicts on the first two attempts, passes on the third.
    let runs = AtomicU32::new(0);
    db.run_transaction(&opts(), async |tx| {
        let run = runs.fetch_add(1, Ordering::Relaxed) + 1;
        conflicting_attempt(&db, tx, run <= 2).await
    })
    .await
    .unwrap();
    assert_eq!(runs.load(Ordering::Relaxed), 3);
    // Two interfering +1s and one -1 that committed.
    assert_eq!(balances(&db).await[0], 101);

    // Always conflicting: gives up after max_attempts, saying so.
    let runs = AtomicU32::new(0);
    let err = db
        .run_transaction(&opts().max_attempts(3), async |tx| {
            runs.fetch_add(1, Ordering::Relaxed);
            conflicting_attempt(&db, tx, true).await
        })
        .await
        .unwrap_err();
    assert_eq!(runs.load(Ordering::Relaxed), 3);
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, ref last } if matches!(**last, Error::Serialization { .. })),
        "{err:?}"
    );
    assert_eq!(err.sqlstate(), Some("40001"));
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    // None of the failed attempts' -1 was kept; the three interfering +1s were.
    assert_eq!(balances(&db).await[0], 104);

    // Default isolation (READ COMMITTED): the same interleaving is no conflict.
    let runs = AtomicU32::new(0);
    db.run_transaction(&opts().default_isolation(), async |tx| {
        runs.fetch_add(1, Ordering::Relaxed);
        conflicting_attempt(&db, tx, true).await
    })
    .await
    .unwrap();
    assert_eq!(runs.load(Ordering::Relaxed), 1);

    // A lock timeout (55P03) is retried unless turned off.
    let mut holder = db.connection().await.unwrap();
    let mut hold = holder.begin().await.unwrap();
    hold.execute(text("SELECT * FROM retry_account WHERE id = 1 FOR UPDATE"))
        .await
        .unwrap();
    let runs = AtomicU32::new(0);
    let err = db
        .run_transaction(
            &opts().max_attempts(2).retry_lock_timeouts(false),
            async |tx| {
                runs.fetch_add(1, Ordering::Relaxed);
                tx.execute(text("SET LOCAL lock_timeout = '50ms'")).await?;
                tx.execute(text("UPDATE retry_account SET balance = 0 WHERE id = 1"))
                    .await
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (runs.load(Ordering::Relaxed), err.sqlstate()),
        (1, Some("55P03")),
        "{err}"
    );
    let runs = AtomicU32::new(0);
    let err = db
        .run_transaction(&opts().max_attempts(2), async |tx| {
            runs.fetch_add(1, Ordering::Relaxed);
            tx.execute(text("SET LOCAL lock_timeout = '50ms'")).await?;
            tx.execute(text("UPDATE retry_account SET balance = 0 WHERE id = 1"))
                .await
        })
        .await
        .unwrap_err();
    assert_eq!(runs.load(Ordering::Relaxed), 2);
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 2, .. }),
        "{err:?}"
    );
    hold.rollback().await.unwrap();
    drop(holder);
    drop(db);
    t.finish().await;
}

#[tokio::test]
async fn other_errors_are_returned_at_once_and_application_errors_pass_through() {
    for t in common::all_targets("retry_other").await {
        let db = t.connect().await;
        setup(&db).await;
        let runs = AtomicU32::new(0);
        let err = db
            .run_transaction(&opts(), async |tx| {
                runs.fetch_add(1, Ordering::Relaxed);
                tx.execute(text(
                    "INSERT INTO retry_account (id, balance) VALUES (0, 1)",
                ))
                .await
            })
            .await
            .unwrap_err();
        assert_eq!(runs.load(Ordering::Relaxed), 1, "[{}]", t.label);
        assert!(matches!(err, Error::Integrity(_)), "[{}] {err:?}", t.label);

        // An application error type carrying the engine's.
        #[derive(Debug)]
        enum AppError {
            Db(Error),
            Overdrawn,
        }
        impl From<Error> for AppError {
            fn from(e: Error) -> Self {
                AppError::Db(e)
            }
        }
        impl oxalchemy::engine::RetryableError for AppError {
            fn engine_error(&self) -> Option<&Error> {
                match self {
                    AppError::Db(e) => Some(e),
                    AppError::Overdrawn => None,
                }
            }
        }
        let runs = AtomicU32::new(0);
        let err = db
            .run_transaction(&opts(), async |tx| {
                runs.fetch_add(1, Ordering::Relaxed);
                tx.execute(text("UPDATE retry_account SET balance = -5 WHERE id = 2"))
                    .await?;
                Err::<(), _>(AppError::Overdrawn)
            })
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Overdrawn), "[{}]", t.label);
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        // Rolled back.
        assert_eq!(balances(&db).await[2], 100, "[{}]", t.label);
        drop(db);
        t.finish().await;
    }
}

#[tokio::test]
async fn the_session_version_retries_with_a_fresh_session() {
    for t in common::all_targets("retry_session").await {
        let db = t.connect().await;
        setup(&db).await;
        let runs = AtomicU32::new(0);
        let balance = db
            .run_session_transaction(&opts(), async |s| {
                let run = runs.fetch_add(1, Ordering::Relaxed) + 1;
                let h = s.get::<Account>(0).await?.ok_or(Error::NotFound)?;
                if run == 1 && t.is_postgres() {
                    // Another transaction changes the row this session read.
                    db.execute(text(
                        "UPDATE retry_account SET balance = balance + 1 WHERE id = 0",
                    ))
                    .await?;
                }
                s[h].balance -= 10;
                Ok::<_, Error>(s[h].balance)
            })
            .await
            .unwrap();
        let expected_runs = if t.is_postgres() { 2 } else { 1 };
        assert_eq!(runs.load(Ordering::Relaxed), expected_runs, "[{}]", t.label);
        let expected = if t.is_postgres() { 91 } else { 90 };
        assert_eq!(balance, expected, "[{}]", t.label);
        assert_eq!(balances(&db).await[0], expected, "[{}]", t.label);
        drop(db);
        t.finish().await;
    }
}

#[tokio::test]
async fn sqlite_busy_is_waited_out_by_retrying_the_transaction() {
    let file = oxalchemy_testing::TempSqliteFile::new("retry_busy");
    let holder_db = Database::connect(file.url()).await.unwrap();
    setup(&holder_db).await;
    // A second Database on the same file with a short busy timeout: while the holder's
    // transaction has the write lock, its BEGIN gives up with SQLITE_BUSY after 30 ms.
    let db = Database::connect(file.url())
        .busy_timeout(Duration::from_millis(30))
        .await
        .unwrap();
    let tx = holder_db
        .connection()
        .await
        .unwrap()
        .begin_owned()
        .await
        .unwrap();

    let runs = AtomicU32::new(0);
    let err = db
        .run_transaction(&opts().retry_lock_timeouts(false), async |tx| {
            runs.fetch_add(1, Ordering::Relaxed);
            tx.execute(text("UPDATE retry_account SET balance = 1 WHERE id = 3"))
                .await
        })
        .await
        .unwrap_err();
    assert_eq!(
        runs.load(Ordering::Relaxed),
        0,
        "BEGIN itself waited and failed"
    );
    assert!(
        matches!(
            err,
            Error::Sqlite {
                code: "SQLITE_BUSY",
                ..
            }
        ),
        "{err:?}"
    );

    // Retried: the holder lets go after 200 ms and a later attempt gets the lock.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        tx.rollback().await.unwrap();
    });
    let started = std::time::Instant::now();
    let runs = AtomicU32::new(0);
    db.run_transaction(
        &opts().initial_backoff(Duration::from_millis(20)),
        async |tx| {
            runs.fetch_add(1, Ordering::Relaxed);
            tx.execute(text("UPDATE retry_account SET balance = 1 WHERE id = 3"))
                .await
        },
    )
    .await
    .unwrap();
    release.await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        runs.load(Ordering::Relaxed),
        1,
        "the closure runs once BEGIN succeeds"
    );
    assert_eq!(balances(&db).await[3], 1);
}
