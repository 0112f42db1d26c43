//! `ilike` on SQLite: the Unicode-aware `oxalchemy_lower(x) LIKE oxalchemy_lower(p)` it
//! compiles to, against SQLite's ASCII-only `lower(x) LIKE lower(p)` (what it compiled to
//! before, and what SQLAlchemy emits), on the same connection in the same run: a scan of
//! 20,000 rows, once mostly ASCII text and once mostly non-ASCII text. Prints medians, the
//! ratio, and how many rows each matched (the ASCII-only form misses `Ärger`).
//!
//! `cargo bench -p oxalchemy --bench ilike`

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::prelude::*;
use oxalchemy::Statement;

const ROWS: usize = 20_000;
const ROUNDS: usize = 60;

fn schema() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("bench_words")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("w", SqlType::Text).not_null()),
    );
    md
}

async fn fill(db: &Database, words: &[&str]) {
    db.drop_all(&schema()).await.expect("drop");
    db.create_all(&schema()).await.expect("create");
    let mut ins = insert(table("bench_words")).columns(["w"]);
    for i in 0..ROWS {
        let w = words[i % words.len()];
        ins = ins.values([lit(format!("{w} number {i}"))]);
    }
    for chunk in ins.chunked(db.dialect().max_binds()) {
        db.execute(chunk).await.expect("insert");
    }
}

async fn count(conn: &mut Connection, stmt: Statement) -> (i64, Duration) {
    let start = Instant::now();
    let n: i64 = conn.query_scalar(stmt).await.expect("count");
    (n, start.elapsed())
}

async fn measure(db: &Database, label: &str, words: &[&str]) {
    fill(db, words).await;
    let mut conn = db.connection().await.expect("conn");
    let unicode = || -> Statement {
        select([func::count(star())])
            .from(table("bench_words"))
            .filter(col("w").ilike("%är%"))
            .into()
    };
    let ascii = || -> Statement {
        text(r#"SELECT count(*) FROM "bench_words" WHERE lower("w") LIKE lower(:p)"#)
            .bind("p", "%är%")
            .into()
    };
    let (mut t_uni, mut t_ascii) = (Vec::new(), Vec::new());
    let (mut n_uni, mut n_ascii) = (0, 0);
    for round in 0..ROUNDS {
        // Alternate which goes first, so neither always meets a warmer cache.
        if round % 2 == 0 {
            let (n, t) = count(&mut conn, unicode()).await;
            n_uni = n;
            t_uni.push(t);
        }
        let (n, t) = count(&mut conn, ascii()).await;
        n_ascii = n;
        t_ascii.push(t);
        if round % 2 == 1 {
            let (n, t) = count(&mut conn, unicode()).await;
            n_uni = n;
            t_uni.push(t);
        }
    }
    let (u, a) = (median(t_uni), median(t_ascii));
    println!(
        "sqlite {label:<14} {ROWS} rows: lower() LIKE {:>7.3} ms ({n_ascii} matches) | \
         oxalchemy_lower() LIKE {:>7.3} ms ({n_uni} matches) | ratio {:.2}x",
        a.as_secs_f64() * 1e3,
        u.as_secs_f64() * 1e3,
        u.as_secs_f64() / a.as_secs_f64()
    );
}

fn main() {
    common::run(async {
        let path = common::sqlite_path("ilike");
        let db = Database::connect(format!("sqlite://{}", path.display()))
            .await
            .expect("sqlite");
        measure(
            &db,
            "mostly ASCII",
            &["Parking", "garden", "Harbour", "Ärger", "start"],
        )
        .await;
        measure(
            &db,
            "mostly Unicode",
            &["Ärger", "ärgerlich", "Übermut", "Straße", "Bär"],
        )
        .await;
        db.drop_all(&schema()).await.expect("cleanup");
        drop(db);
        common::remove_sqlite(&path);
    });
}
