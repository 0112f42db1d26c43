//! PgBouncer in transaction pooling mode (started by the test, see `common/pgbouncer.rs`):
//! with `statement_cache_size=0` every kind of statement works through it — DDL, bulk
//! inserts, RETURNING, pipelined updates, transactions, savepoints, streaming — and without
//! it the failure is `Error::PreparedStatementMissing` naming the fix. The shared session and
//! loading cases run through PgBouncer too with `OXALCHEMY_TEST_PGBOUNCER=1` (`.ci/run`).
//!
//! Needs `pgbouncer` on the PATH (Debian: `apt-get install -y pgbouncer`); without it these
//! tests fail saying so.

mod common;

use oxalchemy::{text, Database, Error};

#[tokio::test]
async fn statement_cache_size_0_runs_everything_through_transaction_pooling() {
    let Some((pg, bouncer)) = common::schema_behind_bouncer("pgb_everything", 2).await else {
        return;
    };
    let db = Database::connect(bouncer.url("oxa", "statement_cache_size=0"))
        .pool_size(4)
        .await
        .expect("connect through PgBouncer");
    db.execute(text(
        "CREATE TABLE pgb_items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, \
         price NUMERIC(10,2), seen TIMESTAMPTZ, tag UUID, flag BOOLEAN, data JSONB, raw BYTEA)",
    ))
    .await
    .expect("create");
    // Many connections, many transactions: each may land on either server connection.
    let mut tasks = Vec::new();
    for worker in 0..4i64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25i64 {
                db.transaction(async |tx| {
                    let n = worker * 100 + i;
                    tx.execute(
                        text(
                            "INSERT INTO pgb_items (name, price, seen, tag, flag, data, raw) \
                             VALUES (:name, :price, :seen, :tag, :flag, :data, :raw)",
                        )
                        .bind("name", format!("item {n}"))
                        .bind("price", rust_decimal::Decimal::new(n * 100 + 99, 2))
                        .bind("seen", chrono::Utc::now())
                        .bind("tag", uuid::Uuid::new_v4())
                        .bind("flag", n % 2 == 0)
                        .bind("data", serde_json::json!({ "n": n }))
                        .bind("raw", vec![0u8, 255, n as u8]),
                    )
                    .await?;
                    let back: i64 = tx
                        .query_scalar(
                            text("SELECT count(*) FROM pgb_items WHERE name = :name")
                                .bind("name", format!("item {n}")),
                        )
                        .await?;
                    assert_eq!(back, 1);
                    Ok::<_, Error>(())
                })
                .await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("worker");
    }
    let (count, flags, price): (i64, i64, rust_decimal::Decimal) = db
        .query_one(text(
            "SELECT count(*), count(*) FILTER (WHERE flag), sum(price) FROM pgb_items",
        ))
        .await
        .expect("totals");
    assert_eq!(count, 100);
    assert_eq!(flags, 52, "13 even i per worker");
    assert!(price > rust_decimal::Decimal::ZERO);
    // Values read back as written through the text encoding.
    let (data, raw): (serde_json::Value, Vec<u8>) = db
        .query_one(text(
            "SELECT data, raw FROM pgb_items WHERE name = 'item 105'",
        ))
        .await
        .expect("row");
    assert_eq!(data, serde_json::json!({ "n": 105 }));
    assert_eq!(raw, vec![0u8, 255, 105]);

    // A savepoint rolled back inside a transaction keeps the rest.
    let mut conn = db.connection().await.expect("conn");
    let mut tx = conn.begin().await.expect("begin");
    tx.execute(text("DELETE FROM pgb_items WHERE id % 2 = 0"))
        .await
        .expect("delete");
    {
        let mut sp = tx.begin().await.expect("savepoint");
        sp.execute(text("DELETE FROM pgb_items"))
            .await
            .expect("delete all");
        sp.rollback().await.expect("rollback savepoint");
    }
    tx.commit().await.expect("commit");
    drop(conn);
    let left: i64 = db
        .query_scalar(text("SELECT count(*) FROM pgb_items"))
        .await
        .expect("count");
    assert_eq!(left, 50);
    db.close();
    drop(db);
    pg.drop().await;
}

#[tokio::test]
async fn named_statements_through_transaction_pooling_fail_naming_the_fix() {
    let Some((pg, bouncer)) = common::schema_behind_bouncer("pgb_failure", 2).await else {
        return;
    };
    let scenario = async |params: &str| -> Result<i64, Error> {
        let db = Database::connect(bouncer.url("oxa", params))
            .pool_size(2)
            .max_overflow(0)
            .await?;
        let mut a = db.connection().await?;
        let mut b = db.connection().await?;
        // `a` prepares and runs the statement on the server connection PgBouncer gives it.
        let _: i64 = a
            .query_scalar(text("SELECT 41::bigint + :n").bind("n", 1i64))
            .await?;
        // `b` holds that server connection (PgBouncer reuses the last released one first) in
        // a transaction ...
        let mut tx = b.begin().await?;
        let _: i32 = tx.query_scalar(text("SELECT 1")).await?;
        // ... so `a`'s next run of its cached statement goes to the other one.
        let got = a
            .query_scalar(text("SELECT 41::bigint + :n").bind("n", 1i64))
            .await;
        tx.rollback().await?;
        got
    };
    let err = scenario("application_name=pgb-named")
        .await
        .expect_err("a named statement on another server connection");
    assert!(
        matches!(err, Error::PreparedStatementMissing { .. }),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(shown.contains("statement_cache_size=0"), "{shown}");
    assert!(shown.contains("does not exist"), "{shown}");
    assert!(std::error::Error::source(&err).is_some());

    let ok = scenario("statement_cache_size=0")
        .await
        .expect("unnamed statements work on any server connection");
    assert_eq!(ok, 42);
    drop(bouncer);
    pg.drop().await;
}
