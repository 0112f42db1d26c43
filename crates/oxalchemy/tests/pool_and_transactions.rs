//! Pool and transaction behaviour on SQLite and PostgreSQL: timeouts, dead connections,
//! rollback on drop, savepoints, overflow, and many tasks on a small pool.

mod common;

use std::sync::Arc;
use std::time::Duration;

use oxalchemy::prelude::*;

fn counter_table() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("counter")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("n", SqlType::BigInteger).not_null()),
    );
    md
}

async fn count(db: &Database, t: &'static str) -> i64 {
    db.query_scalar(select([func::count_star()]).from(table(t)))
        .await
        .unwrap()
}

#[tokio::test]
async fn pool_timeout_is_a_typed_error_when_all_connections_are_busy() {
    let mut targets = common::all_targets("pool_timeout").await;
    // An in-memory SQLite database is a single connection by design; skip it here.
    targets.retain(|t| t.label != "sqlite-memory");
    for t in targets {
        let db = Database::connect(&t.url)
            .pool_size(2)
            .max_overflow(1)
            .pool_timeout(Duration::from_millis(300))
            .await
            .unwrap();
        let held = [
            db.connection().await.unwrap(),
            db.connection().await.unwrap(),
            db.connection().await.unwrap(),
        ];
        let started = std::time::Instant::now();
        let err = db.connection().await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::PoolTimeout {
                    pool_size: 2,
                    max_overflow: 1,
                    ..
                }
            ),
            "[{}] {err:?}",
            t.label
        );
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(err.to_string().contains("pool_timeout"), "{err}");
        // Returning one makes room again; the overflow connection is closed on return.
        assert_eq!(db.status().open, 3);
        drop(held);
        assert_eq!(
            db.status().open,
            2,
            "[{}] overflow connection closed on return",
            t.label
        );
        db.connection().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn dropped_transaction_is_rolled_back() {
    for t in common::all_targets("dropped_tx").await {
        let db = t.connect().await;
        db.create_all(&counter_table()).await.unwrap();
        {
            let mut conn = db.connection().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            tx.execute(insert(table("counter")).columns(["n"]).values([1]))
                .await
                .unwrap();
            assert_eq!(
                tx.query_scalar::<i64>(select([func::count_star()]).from(table("counter")))
                    .await
                    .unwrap(),
                1
            );
            // dropped here without commit
        }
        assert_eq!(count(&db, "counter").await, 0, "[{}]", t.label);
        // The same connection is usable right after a dropped transaction.
        let mut conn = db.connection().await.unwrap();
        {
            let tx = conn.begin().await.unwrap();
            drop(tx);
        }
        conn.execute(insert(table("counter")).columns(["n"]).values([2]))
            .await
            .unwrap();
        assert!(!conn.in_transaction());
        drop(conn);
        assert_eq!(count(&db, "counter").await, 1, "[{}]", t.label);

        // Explicit commit / rollback
        let mut conn = db.connection().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        tx.execute(insert(table("counter")).columns(["n"]).values([3]))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        tx.execute(insert(table("counter")).columns(["n"]).values([4]))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        drop(conn);
        let ns: Vec<(i64,)> = db
            .query(
                select([col("n")])
                    .from(table("counter"))
                    .order_by(col("n").asc()),
            )
            .await
            .unwrap();
        assert_eq!(ns, [(2,), (4,)], "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn nested_savepoints_roll_back_independently() {
    for t in common::all_targets("savepoints").await {
        let db = t.connect().await;
        db.create_all(&counter_table()).await.unwrap();
        let ins = |n: i64| insert(table("counter")).columns(["n"]).values([n]);
        let mut conn = db.connection().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        tx.execute(ins(1)).await.unwrap();
        {
            let mut sp = tx.savepoint().await.unwrap();
            sp.execute(ins(2)).await.unwrap();
            {
                let mut inner = sp.savepoint().await.unwrap();
                inner.execute(ins(3)).await.unwrap();
                inner.rollback().await.unwrap();
            }
            sp.execute(ins(4)).await.unwrap();
            sp.commit().await.unwrap();
        }
        {
            let mut sp = tx.savepoint().await.unwrap();
            sp.execute(ins(5)).await.unwrap();
            // dropped: rolled back to the savepoint
        }
        tx.execute(ins(6)).await.unwrap();
        // A failed statement inside a savepoint does not doom the outer transaction.
        {
            let mut sp = tx.savepoint().await.unwrap();
            sp.execute(ins(1).columns(["id", "n"]).values([1, 1]))
                .await
                .ok();
            let err = sp
                .execute(insert(table("counter")).columns(["id", "n"]).values([1, 7]))
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Integrity(IntegrityError::UniqueViolation { .. })
                ),
                "[{}] {err:?}",
                t.label
            );
            sp.rollback().await.unwrap();
        }
        tx.execute(ins(8)).await.unwrap();
        tx.commit().await.unwrap();
        drop(conn);
        let ns: Vec<(i64,)> = db
            .query(
                select([col("n")])
                    .from(table("counter"))
                    .order_by(col("n").asc()),
            )
            .await
            .unwrap();
        assert_eq!(ns, [(1,), (2,), (4,), (6,), (8,)], "[{}]", t.label);
        t.finish().await;
    }
}

#[derive(Debug)]
struct AppError(String);
impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError(e.to_string())
    }
}

#[tokio::test]
async fn transaction_scope_commits_on_ok_and_rolls_back_on_err_or_panic() {
    for t in common::all_targets("tx_scope").await {
        let db = t.connect().await;
        db.create_all(&counter_table()).await.unwrap();
        let id: i64 = db
            .transaction(async |tx| {
                let (id,): (i64,) = tx
                    .query_one(
                        insert(table("counter"))
                            .columns(["n"])
                            .values([10])
                            .returning([col("id")]),
                    )
                    .await?;
                Ok::<_, Error>(id)
            })
            .await
            .unwrap();
        assert!(id > 0);
        let err = db
            .transaction(async |tx| {
                tx.execute(insert(table("counter")).columns(["n"]).values([11]))
                    .await?;
                Err::<(), _>(AppError("business rule failed".into()))
            })
            .await
            .unwrap_err();
        assert_eq!(err.0, "business rule failed");
        // A panic inside the scope: the transaction is dropped and rolled back.
        let db2 = db.clone();
        let panicked = tokio::spawn(async move {
            let _ = db2
                .transaction(async |tx| {
                    tx.execute(insert(table("counter")).columns(["n"]).values([12]))
                        .await?;
                    if tx.in_transaction() {
                        panic!("boom");
                    }
                    Ok::<_, Error>(())
                })
                .await;
        })
        .await;
        assert!(panicked.is_err());
        let ns: Vec<(i64,)> = db
            .query(select([col("n")]).from(table("counter")))
            .await
            .unwrap();
        assert_eq!(ns, [(10,)], "[{}]", t.label);
        // No connection leaked by the panic.
        let status = db.status();
        assert_eq!(status.open, status.idle, "[{}] {status:?}", t.label);
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_tasks_on_a_pool_of_five() {
    let mut targets = common::all_targets("two_hundred_tasks").await;
    targets.retain(|t| t.label != "sqlite-memory");
    for t in targets {
        let db = Database::connect(&t.url)
            .pool_size(5)
            .max_overflow(0)
            .pool_timeout(Duration::from_secs(30))
            .await
            .unwrap();
        db.create_all(&counter_table()).await.unwrap();
        db.execute(insert(table("counter")).columns(["id", "n"]).values([1, 0]))
            .await
            .unwrap();
        let db = Arc::new(db);
        let mut tasks = Vec::new();
        // Row locks serialise the read-modify-write on PostgreSQL and MariaDB.
        let pg = t.is_postgres() || t.is_mysql();
        for i in 0..200i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = db.connection().await?;
                if i % 2 == 0 {
                    // Read-modify-write in a transaction: the row lock (PostgreSQL, MariaDB) or the
                    // single writer slot (SQLite) must serialise it, or increments are lost.
                    let lock = if pg { " FOR UPDATE" } else { "" };
                    let mut tx = conn.begin().await?;
                    let (n,): (i64,) = tx
                        .query_one(text(format!("SELECT n FROM counter WHERE id = 1{lock}")))
                        .await?;
                    tx.execute(
                        update(table("counter"))
                            .set("n", n + 1)
                            .filter(col("id").eq(1)),
                    )
                    .await?;
                    tx.commit().await?;
                } else {
                    conn.execute(
                        update(table("counter"))
                            .set("n", col("n") + 1i64)
                            .filter(col("id").eq(1)),
                    )
                    .await?;
                }
                Ok::<_, Error>(())
            }));
        }
        for task in tasks {
            task.await
                .unwrap()
                .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        }
        let n: i64 = db
            .query_scalar(select([col("n")]).from(table("counter")))
            .await
            .unwrap();
        assert_eq!(n, 200, "[{}]", t.label);
        let status = db.status();
        assert!(status.open <= 5, "[{}] {status:?}", t.label);
        assert_eq!(
            status.open, status.idle,
            "[{}] leaked connection: {status:?}",
            t.label
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn pre_ping_replaces_a_connection_whose_backend_was_killed() {
    let Some(t) = common::postgres_target("pre_ping").await else {
        return;
    };
    let db = Database::connect(&t.url)
        .pool_size(1)
        .max_overflow(0)
        .pool_pre_ping(true)
        .await
        .unwrap();
    let pid: i32 = db
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    // Kill the pooled connection's backend from another connection.
    let admin = Database::connect(&t.url).await.unwrap();
    let killed: bool = admin
        .query_scalar(text("SELECT pg_terminate_backend(:pid)").bind("pid", pid))
        .await
        .unwrap();
    assert!(killed);
    // The next checkout detects the dead connection and opens a new one.
    let new_pid: i32 = db
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    assert_ne!(pid, new_pid);
    t.finish().await;
}

#[tokio::test]
async fn pool_recycle_replaces_old_connections() {
    for t in common::all_targets("pool_recycle").await {
        // pg_backend_pid() is PostgreSQL's; the other targets only have their database to
        // drop (a MariaDB one would otherwise outlive the run).
        if !t.is_postgres() {
            t.finish().await;
            continue;
        }
        let db = Database::connect(&t.url)
            .pool_size(1)
            .pool_recycle(Duration::from_millis(50))
            .await
            .unwrap();
        let pid: i32 = db
            .query_scalar(text("SELECT pg_backend_pid()"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let new_pid: i32 = db
            .query_scalar(text("SELECT pg_backend_pid()"))
            .await
            .unwrap();
        assert_ne!(pid, new_pid, "recycled after pool_recycle");
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn create_all_skips_existing_and_drop_all_removes_in_order() {
    for t in common::all_targets("create_drop_all").await {
        let db = t.connect().await;
        let mut md = MetaData::new();
        md.add(
            Table::new("child")
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(
                    Column::new("parent_id", SqlType::Integer)
                        .references("parent", "id")
                        .index(),
                ),
        );
        md.add(Table::new("parent").column(Column::new("id", SqlType::Integer).primary_key()));
        db.create_all(&md).await.unwrap();
        db.execute(insert(table("parent")).columns(["id"]).values([1]))
            .await
            .unwrap();
        // A second create_all leaves existing tables (and their rows) alone.
        db.create_all(&md).await.unwrap();
        assert_eq!(count(&db, "parent").await, 1);
        db.drop_all(&md).await.unwrap();
        let err = db
            .query_scalar::<i64>(select([func::count_star()]).from(table("parent")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Database { .. } | Error::Sqlite { .. }),
            "[{}] {err:?}",
            t.label
        );
        db.drop_all(&md).await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn serialization_failures_are_typed() {
    use oxalchemy::engine::IsolationLevel;
    let Some(t) = common::postgres_target("serialization").await else {
        return;
    };
    let db = t.connect().await;
    db.create_all(&counter_table()).await.unwrap();
    let (mut a, mut b) = (
        db.connection().await.unwrap(),
        db.connection().await.unwrap(),
    );
    let mut ta = a
        .begin_isolated(IsolationLevel::Serializable)
        .await
        .unwrap();
    let mut tb = b
        .begin_isolated(IsolationLevel::Serializable)
        .await
        .unwrap();
    // Write skew: each reads what the other writes.
    let count = || select([func::count_star()]).from(table("counter"));
    let _: i64 = ta
        .query_scalar(count().filter(col("n").eq(1i64)))
        .await
        .unwrap();
    let _: i64 = tb
        .query_scalar(count().filter(col("n").eq(2i64)))
        .await
        .unwrap();
    ta.execute(insert(table("counter")).columns(["n"]).values([2i64]))
        .await
        .unwrap();
    tb.execute(insert(table("counter")).columns(["n"]).values([1i64]))
        .await
        .unwrap();
    ta.commit().await.unwrap();
    let err = tb.commit().await.unwrap_err();
    match &err {
        Error::Serialization { code, .. } => assert_eq!(code, "40001"),
        other => panic!("expected Serialization, got {other:?}"),
    }
    assert!(err.to_string().contains("retry"), "{err}");
    assert_eq!(err.sqlstate(), Some("40001"));
    assert!(
        std::error::Error::source(&err).is_some(),
        "the driver's error is kept"
    );
    // The failed transaction left nothing behind and the connection is usable.
    assert!(!b.in_transaction());
    let n: i64 = b.query_scalar(count()).await.unwrap();
    assert_eq!(n, 1);
    drop((a, b));
    t.finish().await;
}
