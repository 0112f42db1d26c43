//! Read path: 10,000 rows of (i64, String, Option<String>) through oxalchemy vs the raw
//! driver, in the same run, on SQLite and PostgreSQL. Prints medians and the ratio.
//!
//! `cargo bench -p oxalchemy --bench read` (PostgreSQL from TEST_DATABASE_URL, else
//! postgresql://postgres@127.0.0.1:5432/test; skipped with a message if unreachable).

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::prelude::*;

const ROWS: usize = 10_000;
const ROUNDS: usize = 100;

type Item = (i64, String, Option<String>);

fn report(db: &str, raw: Vec<Duration>, ours: Vec<Duration>) {
    let (r, o) = (median(raw), median(ours));
    println!(
        "{db:<11} load {ROWS} rows: raw driver {:>8.3} ms | oxalchemy {:>8.3} ms | ratio {:.3}x",
        r.as_secs_f64() * 1e3,
        o.as_secs_f64() * 1e3,
        o.as_secs_f64() / r.as_secs_f64()
    );
}

fn schema() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("bench_items")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::Text).not_null())
            .column(Column::new("note", SqlType::Text)),
    );
    md
}

async fn fill(db: &Database) {
    db.drop_all(&schema()).await.expect("drop");
    db.create_all(&schema()).await.expect("create");
    let mut ins = insert(table("bench_items")).columns(["id", "name", "note"]);
    for i in 0..ROWS as i64 {
        let note = (i % 2 == 0).then(|| format!("note number {i}"));
        ins = ins.values([lit(i), lit(format!("item name {i}")), lit(note)]);
    }
    for chunk in ins.chunked(db.dialect().max_binds()) {
        db.execute(chunk).await.expect("insert");
    }
}

fn query() -> oxalchemy::core::Select {
    let t = table("bench_items");
    select([t.col("id"), t.col("name"), t.col("note")]).from(t.clone())
}

async fn bench_sqlite() {
    let dir = common::sqlite_path("read");
    let url = format!("sqlite:///{}", dir.display());
    let db = Database::connect(&url).await.expect("sqlite");
    fill(&db).await;
    let raw = common::raw_sqlite(&dir);
    let sql = "SELECT \"bench_items\".\"id\", \"bench_items\".\"name\", \"bench_items\".\"note\" FROM \"bench_items\"";
    let mut conn = db.connection().await.expect("conn");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 1 {
            let start = Instant::now();
            let rows: Vec<Item> = conn.query(query()).await.expect("ours");
            t_ours.push(start.elapsed());
            assert_eq!(rows.len(), ROWS);
        }
        let start = Instant::now();
        let mut stmt = raw.prepare_cached(sql).expect("prepare");
        let rows: Vec<Item> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        t_raw.push(start.elapsed());
        assert_eq!(rows.len(), ROWS);
        drop(stmt);
        if round % 2 == 0 {
            let start = Instant::now();
            let rows: Vec<Item> = conn.query(query()).await.expect("ours");
            t_ours.push(start.elapsed());
            assert_eq!(rows.len(), ROWS);
        }
    }
    report("sqlite", t_raw, t_ours);
    drop(conn);
    drop(db);
    common::remove_sqlite(&dir);
}

async fn bench_postgres() {
    let Some((db, url)) = common::postgres().await else {
        return;
    };
    fill(&db).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("raw pg");
    tokio::spawn(connection);
    let sql = "SELECT \"bench_items\".\"id\", \"bench_items\".\"name\", \"bench_items\".\"note\" FROM \"bench_items\"";
    let stmt = client.prepare(sql).await.expect("prepare");
    let mut conn = db.connection().await.expect("conn");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 1 {
            let start = Instant::now();
            let rows: Vec<Item> = conn.query(query()).await.expect("ours");
            t_ours.push(start.elapsed());
            assert_eq!(rows.len(), ROWS);
        }
        let start = Instant::now();
        let rows: Vec<Item> = client
            .query(&stmt, &[])
            .await
            .expect("query")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        t_raw.push(start.elapsed());
        assert_eq!(rows.len(), ROWS);
        if round % 2 == 0 {
            let start = Instant::now();
            let rows: Vec<Item> = conn.query(query()).await.expect("ours");
            t_ours.push(start.elapsed());
            assert_eq!(rows.len(), ROWS);
        }
    }
    report("postgresql", t_raw, t_ours);
    drop(conn);
    db.drop_all(&schema()).await.expect("cleanup");
}

fn main() {
    common::run(async {
        bench_sqlite().await;
        bench_postgres().await;
    });
}
