//! PostgreSQL faults that need a server of their own (issue 10): a bounded soak of random
//! timeouts and cancellations over transactions, autocommit, sessions and advisory locks,
//! and a migration run cut off mid-migration or mid-lock-wait. Both assert on the whole
//! server (idle transactions, advisory locks, the migration lock's fixed key), so they run
//! on the test process's own throwaway cluster, never the shared one.

mod pg_faults;
mod soak;

use std::time::Duration;

use oxalchemy::prelude::*;
use pg_faults::{own_cluster_db, poll_once, settles_to_zero, ADVISORY_LOCKS_HERE};
use soak::{insert, outcome, timed, Expect, Rng};

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
