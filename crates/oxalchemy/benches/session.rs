//! Session write path, same run, vs the raw driver:
//! * flushing 10,000 new objects vs a raw batched multi-row INSERT;
//! * flushing 1,000 objects with one changed column vs 1,000 raw UPDATEs (on PostgreSQL
//!   both pipelined and awaited one by one);
//! * 1,000 `get`s answered from the identity map vs 1,000 raw SELECTs by key.
//!
//! `cargo bench -p oxalchemy --bench session`

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::prelude::*;

const NEW: usize = 10_000;
const CHANGED: usize = 1_000;
const ROUNDS: usize = 7;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_accounts")]
struct Account {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    #[column(length = 255)]
    pub email: String,
    pub karma: Option<i32>,
    pub active: bool,
    pub score: f64,
}

fn account(i: usize) -> Account {
    Account {
        id: 0,
        username: format!("user{i}"),
        email: format!("user{i}@example.com"),
        karma: i.is_multiple_of(3).then_some(i as i32),
        active: i.is_multiple_of(2),
        score: i as f64 * 0.5,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(db: &str, what: &str, raw: Vec<Duration>, ours: Vec<Duration>, raw_label: &str) {
    let (r, o) = (median(raw), median(ours));
    println!(
        "{db:<10} {what:<32} {raw_label} {:>8.2} ms | oxalchemy {:>8.2} ms | ratio {:.2}x",
        ms(r),
        ms(o),
        o.as_secs_f64() / r.as_secs_f64()
    );
}

fn metadata() -> MetaData {
    Registry::new().model::<Account>().metadata()
}

async fn reset(db: &Database) {
    db.drop_all(&metadata()).await.expect("drop");
    db.create_all(&metadata()).await.expect("create");
}

/// Session: add 10,000 and commit.
async fn flush_new(db: &Database) -> Duration {
    reset(db).await;
    let mut s = db.session();
    let start = Instant::now();
    s.add_all((0..NEW).map(account));
    s.commit().await.expect("flush");
    start.elapsed()
}

/// Session: load 1,000, change one column each, time the flush + commit.
async fn flush_changed(db: &Database, round: usize) -> Duration {
    let mut s = db.session();
    let hs = s
        .query::<Account>()
        .filter(Account::id.le(CHANGED as i64))
        .all()
        .await
        .expect("load");
    assert_eq!(hs.len(), CHANGED);
    for h in &hs {
        s[*h].score += 1.0 + round as f64;
    }
    let start = Instant::now();
    s.commit().await.expect("flush");
    start.elapsed()
}

/// Session: 1,000 gets of objects it already holds.
async fn identity_gets(db: &Database) -> Duration {
    let mut s = db.session();
    s.query::<Account>()
        .filter(Account::id.le(CHANGED as i64))
        .all()
        .await
        .expect("load");
    let start = Instant::now();
    for id in 1..=CHANGED as i64 {
        let h = s.get::<Account>(id).await.expect("get");
        assert!(h.is_some());
    }
    let t = start.elapsed();
    s.close().await.expect("close");
    t
}

const INSERT_COLS: &str = "INSERT INTO \"bench_accounts\" (\"username\", \"email\", \"karma\", \"active\", \"score\") VALUES ";

fn values_sql(rows: usize, pg: bool) -> String {
    let mut sql = String::from(INSERT_COLS);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..5 {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            if pg {
                sql.push_str(&format!("${n}"));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

async fn bench_sqlite() {
    let (path, db) = common::sqlite("session").await;
    let raw = common::raw_sqlite(&path);
    let per_stmt = 32766 / 5;

    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        t_ours.push(flush_new(&db).await);
        reset(&db).await;
        let start = Instant::now();
        let tx = raw.unchecked_transaction().expect("tx");
        let items: Vec<Account> = (0..NEW).map(account).collect();
        for chunk in items.chunks(per_stmt) {
            let mut stmt = tx
                .prepare_cached(&values_sql(chunk.len(), false))
                .expect("prepare");
            let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 5);
            for a in chunk {
                params.extend([
                    &a.username as &dyn rusqlite::ToSql,
                    &a.email,
                    &a.karma,
                    &a.active,
                    &a.score,
                ]);
            }
            stmt.execute(params.as_slice()).expect("insert");
        }
        tx.commit().expect("commit");
        t_raw.push(start.elapsed());
    }
    report(
        "sqlite",
        "flush 10,000 new objects",
        t_raw,
        t_ours,
        "raw multi-row INSERT",
    );

    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        t_ours.push(flush_changed(&db, round).await);
        let start = Instant::now();
        let tx = raw.unchecked_transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare_cached("UPDATE \"bench_accounts\" SET \"score\" = ? WHERE \"id\" = ?")
                .expect("prepare");
            for id in 1..=CHANGED as i64 {
                stmt.execute(rusqlite::params![id as f64 + round as f64, id])
                    .expect("update");
            }
        }
        tx.commit().expect("commit");
        t_raw.push(start.elapsed());
    }
    report(
        "sqlite",
        "flush 1,000 changed objects",
        t_raw,
        t_ours,
        "raw UPDATEs",
    );

    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        t_ours.push(identity_gets(&db).await);
        let start = Instant::now();
        let mut stmt = raw
            .prepare_cached("SELECT \"id\", \"username\", \"email\", \"karma\", \"active\", \"score\" FROM \"bench_accounts\" WHERE \"id\" = ?")
            .expect("prepare");
        for id in 1..=CHANGED as i64 {
            let a = stmt
                .query_row([id], |r| {
                    Ok(Account {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        email: r.get(2)?,
                        karma: r.get(3)?,
                        active: r.get(4)?,
                        score: r.get(5)?,
                    })
                })
                .expect("select");
            assert_eq!(a.id, id);
        }
        t_raw.push(start.elapsed());
    }
    report(
        "sqlite",
        "1,000 gets (identity map)",
        t_raw,
        t_ours,
        "raw SELECTs",
    );
    drop(db);
    common::remove_sqlite(&path);
}

async fn bench_postgres() {
    let Some((db, url)) = common::postgres().await else {
        return;
    };
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("raw pg");
    tokio::spawn(connection);
    let per_stmt = 65535 / 5;

    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        t_ours.push(flush_new(&db).await);
        reset(&db).await;
        let start = Instant::now();
        let tx = client.transaction().await.expect("tx");
        let items: Vec<Account> = (0..NEW).map(account).collect();
        for chunk in items.chunks(per_stmt) {
            let stmt = tx
                .prepare(&values_sql(chunk.len(), true))
                .await
                .expect("prepare");
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                Vec::with_capacity(chunk.len() * 5);
            for a in chunk {
                params.extend([
                    &a.username as &(dyn tokio_postgres::types::ToSql + Sync),
                    &a.email,
                    &a.karma,
                    &a.active,
                    &a.score,
                ]);
            }
            tx.execute(&stmt, &params).await.expect("insert");
        }
        tx.commit().await.expect("commit");
        t_raw.push(start.elapsed());
    }
    report(
        "postgresql",
        "flush 10,000 new objects",
        t_raw,
        t_ours,
        "raw multi-row INSERT",
    );

    let (mut t_raw, mut t_seq, mut t_ours) = (Vec::new(), Vec::new(), Vec::new());
    let update = client
        .prepare("UPDATE \"bench_accounts\" SET \"score\" = $1 WHERE \"id\" = $2")
        .await
        .expect("prepare");
    for round in 0..ROUNDS {
        t_ours.push(flush_changed(&db, round).await);
        // Raw, pipelined: every UPDATE sent before the first answer is awaited.
        let start = Instant::now();
        let tx = client.transaction().await.expect("tx");
        let scores: Vec<(f64, i64)> = (1..=CHANGED as i64)
            .map(|id| (id as f64 + round as f64, id))
            .collect();
        let params: Vec<[&(dyn tokio_postgres::types::ToSql + Sync); 2]> = scores
            .iter()
            .map(|(s, id)| [s as &(dyn tokio_postgres::types::ToSql + Sync), id])
            .collect();
        let futs = params.iter().map(|p| tx.execute(&update, p));
        for r in futures_util::future::join_all(futs).await {
            r.expect("update");
        }
        tx.commit().await.expect("commit");
        t_raw.push(start.elapsed());
        // Raw, awaited one by one.
        let start = Instant::now();
        let tx = client.transaction().await.expect("tx");
        for (s, id) in &scores {
            tx.execute(&update, &[s, id]).await.expect("update");
        }
        tx.commit().await.expect("commit");
        t_seq.push(start.elapsed());
    }
    report(
        "postgresql",
        "flush 1,000 changed objects",
        t_raw,
        t_ours.clone(),
        "raw pipelined",
    );
    report(
        "postgresql",
        "flush 1,000 changed objects",
        t_seq,
        t_ours,
        "raw awaited 1 by 1",
    );

    let select = client
        .prepare("SELECT \"id\", \"username\", \"email\", \"karma\", \"active\", \"score\" FROM \"bench_accounts\" WHERE \"id\" = $1")
        .await
        .expect("prepare");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        t_ours.push(identity_gets(&db).await);
        let start = Instant::now();
        for id in 1..=CHANGED as i64 {
            let r = client.query_one(&select, &[&id]).await.expect("select");
            let a = Account {
                id: r.get(0),
                username: r.get(1),
                email: r.get(2),
                karma: r.get(3),
                active: r.get(4),
                score: r.get(5),
            };
            assert_eq!(a.id, id);
        }
        t_raw.push(start.elapsed());
    }
    report(
        "postgresql",
        "1,000 gets (identity map)",
        t_raw,
        t_ours,
        "raw SELECTs",
    );
    db.drop_all(&metadata()).await.expect("cleanup");
}

fn main() {
    common::run(async {
        bench_sqlite().await;
        bench_postgres().await;
    });
}
