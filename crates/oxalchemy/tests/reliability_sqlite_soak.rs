//! A bounded soak on a SQLite file (issue 10): 8 tasks × random timeouts over transactions,
//! autocommitted writes, sessions and single-poll BEGINs, all contending for the file's one
//! writer. Afterwards every committed row is there, every rolled-back row is not, and every
//! connection the pool hands out is outside a transaction with foreign keys on.

mod soak;

use std::time::Duration;

use oxalchemy::orm::SessionExt;
use oxalchemy::prelude::*;
use oxalchemy_testing::TempSqliteFile;
use soak::{insert, outcome, timed, Expect, Rng};

/// One step: a random operation under a random timeout (0–4 ms: SQLite yields only while
/// waiting for the writer, so short limits are what cut work off mid-way).
async fn step(db: &Database, rng: &mut Rng, id: i64) -> Expect {
    let limit = Duration::from_millis(rng.next() % 5);
    match rng.next() % 6 {
        0 => outcome(
            timed(limit, async {
                let mut conn = db.connection().await?;
                let mut tx = conn.begin().await?;
                tx.execute(insert(id)).await?;
                tokio::task::yield_now().await;
                tx.commit().await
            })
            .await,
        ),
        1 => {
            let _ = timed(limit, async {
                let mut conn = db.connection().await?;
                let mut tx = conn.begin().await?;
                tx.execute(insert(id)).await?;
                tokio::task::yield_now().await;
                tx.rollback().await
            })
            .await;
            Expect::Absent
        }
        2 => outcome(timed(limit, async { db.execute(insert(id)).await.map(drop) }).await),
        3 => {
            // A transaction dropped without commit (if the limit does not cut it first).
            let _ = timed(limit, async {
                let mut conn = db.connection().await?;
                let mut tx = conn.begin().await?;
                tx.execute(insert(id)).await?;
                tokio::task::yield_now().await;
                drop(tx);
                Ok(())
            })
            .await;
            Expect::Absent
        }
        4 => outcome(
            timed(limit, async {
                let mut s = db.session();
                s.execute(insert(id)).await?;
                s.commit().await
            })
            .await,
        ),
        _ => {
            let _ = timed(limit, async {
                db.session_scope(async |s| {
                    s.execute(insert(id)).await?;
                    Err::<(), Error>(Error::NotFound)
                })
                .await
            })
            .await;
            Expect::Absent
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_on_a_sqlite_file_keeps_every_commit_and_nothing_else() {
    const TASKS: i64 = 8;
    const STEPS: i64 = 1500;
    let file = TempSqliteFile::new("sqlite_soak");
    let db = Database::connect(file.url())
        .pool_size(4)
        .max_overflow(0)
        .pool_timeout(Duration::from_secs(10))
        .await
        .unwrap();
    db.execute(text("CREATE TABLE soak (id INTEGER PRIMARY KEY)"))
        .await
        .unwrap();

    let run = async {
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (task as u64 + 1));
                let mut expected = Vec::new();
                for n in 0..STEPS {
                    let id = task * 10_000 + n;
                    expected.push((id, step(&db, &mut rng, id).await));
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

    // Every connection handed out is outside a transaction, with foreign keys on.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = db.connection().await.unwrap();
        assert!(!conn.in_transaction());
        conn.execute(text("BEGIN"))
            .await
            .expect("handed out inside a transaction");
        conn.execute(text("ROLLBACK")).await.unwrap();
        let fk: i64 = conn
            .query_scalar(text("PRAGMA foreign_keys"))
            .await
            .unwrap();
        assert_eq!(fk, 1, "foreign keys off on a pooled connection");
        held.push(conn);
    }
    drop(held);

    // Read through a separate engine: what is on disk, not what a connection might see.
    let check = Database::connect(file.url()).await.unwrap();
    let present: std::collections::HashSet<i64> = check
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
    assert!(tally(Expect::Present) > 0, "the soak committed nothing");
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "sqlite soak: {} steps: {} committed (all present), {} rolled back or dropped (all absent), \
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
