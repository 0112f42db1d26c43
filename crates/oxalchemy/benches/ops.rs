//! Production costs, same run: reading 10,000 rows over TLS vs plaintext from one
//! PostgreSQL on loopback (a server of the benchmark's own with `ssl = on`, see
//! `tests/tls_server`), and what a statement's span costs when no subscriber is installed,
//! next to the statement it wraps.
//!
//! `cargo bench -p oxalchemy --bench ops` (needs PostgreSQL's initdb/pg_ctl for the TLS part).

#[path = "../tests/tls_server/mod.rs"]
mod tls_server;

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::prelude::*;

const ROWS: usize = 10_000;
const ROUNDS: usize = 60;

fn schema() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("bench_ops")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::Text).not_null())
            .column(Column::new("note", SqlType::Text)),
    );
    md
}

fn query() -> oxalchemy::core::Select {
    let t = table("bench_ops");
    select([t.col("id"), t.col("name"), t.col("note")]).from(t.clone())
}

async fn fill(db: &Database) {
    db.create_all(&schema()).await.expect("create");
    let mut ins = insert(table("bench_ops")).columns(["id", "name", "note"]);
    for i in 0..ROWS as i64 {
        let note = (i % 2 == 0).then(|| format!("note number {i}"));
        ins = ins.values([lit(i), lit(format!("item name {i}")), lit(note)]);
    }
    for chunk in ins.chunked(db.dialect().max_binds()) {
        db.execute(chunk).await.expect("insert");
    }
}

async fn bench_tls() {
    // One server that takes both, so the two differ only in TLS.
    let server = match tls_server::TlsServer::start_accepting_plaintext() {
        Ok(s) => s,
        Err(e) => {
            println!("tls SKIPPED: {e}");
            return;
        }
    };
    let ca = server.ca.display().to_string();
    let tls = Database::connect(server.url(
        "postgres",
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .pool_size(1)
    .await
    .expect("tls");
    fill(&tls).await;
    let plain = Database::connect(server.url("postgres", "127.0.0.1", "sslmode=disable"))
        .pool_size(1)
        .await
        .expect("plain");
    type Item = (i64, String, Option<String>);
    let (mut t_tls, mut t_plain) = (Vec::new(), Vec::new());
    let mut c_tls = tls.connection().await.expect("conn");
    let mut c_plain = plain.connection().await.expect("conn");
    for round in 0..ROUNDS {
        let start = Instant::now();
        let rows: Vec<Item> = if round % 2 == 0 {
            c_tls.query(query()).await.expect("tls read")
        } else {
            c_plain.query(query()).await.expect("plain read")
        };
        assert_eq!(rows.len(), ROWS);
        if round % 2 == 0 {
            t_tls.push(start.elapsed());
        } else {
            t_plain.push(start.elapsed());
        }
    }
    let (t, p) = (median(t_tls), median(t_plain));
    println!(
        "postgresql  read {ROWS} rows: plaintext {:>8.3} ms | TLS (verify-full) {:>8.3} ms | ratio {:.3}x",
        p.as_secs_f64() * 1e3,
        t.as_secs_f64() * 1e3,
        t.as_secs_f64() / p.as_secs_f64()
    );
}

/// The span a statement opens, built exactly as the engine builds it, with no subscriber:
/// timed per call next to a primary-key lookup on in-memory SQLite (the cheapest statement).
async fn bench_span_overhead() {
    let db = Database::connect("sqlite::memory:")
        .pool_size(1)
        .await
        .expect("sqlite");
    fill(&db).await;
    let mut conn = db.connection().await.expect("conn");
    let t = table("bench_ops");
    const N: u32 = 20_000;
    let mut statement = Vec::new();
    let mut span = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        for i in 0..N {
            let _: (i64,) = conn
                .query_one(
                    select([t.col("id")])
                        .from(t.clone())
                        .filter(t.col("id").eq(i64::from(i % 1000))),
                )
                .await
                .expect("lookup");
        }
        statement.push(start.elapsed() / N);
        let start = Instant::now();
        for _ in 0..N {
            let s = tracing::info_span!(
                target: "oxalchemy::sql",
                "oxalchemy.statement",
                "db.system" = "sqlite",
                "db.statement" = tracing::field::Empty,
                "db.operation" = tracing::field::Empty,
                "db.sql.table" = tracing::field::Empty,
                "db.params" = tracing::field::Empty,
                "db.rows" = tracing::field::Empty,
                "db.duration_us" = tracing::field::Empty,
                "db.pool.wait_us" = tracing::field::Empty,
                "otel.name" = tracing::field::Empty,
                "otel.kind" = "client",
                "otel.status_code" = tracing::field::Empty,
                "error.message" = tracing::field::Empty,
            );
            std::hint::black_box(s.is_disabled());
            std::hint::black_box(tracing::Span::current().is_none());
            drop(std::hint::black_box(s));
        }
        span.push(start.elapsed() / N);
    }
    let (st, sp): (Duration, Duration) = (median(statement), median(span));
    println!(
        "sqlite      per statement (pk lookup, incl. its span): {:>8.3} µs | span alone, no subscriber: {:>6.1} ns | share {:.2} %",
        st.as_secs_f64() * 1e6,
        sp.as_secs_f64() * 1e9,
        100.0 * sp.as_secs_f64() / st.as_secs_f64()
    );
}

fn main() {
    common::run(async {
        bench_span_overhead().await;
        bench_tls().await;
    });
}
