//! Streaming 1,000,000 rows in batches of 1,000 (`for_each_batch`, SQLAlchemy's
//! `yield_per`): peak RSS growth stays under 20 MB, compared with what loading the whole
//! result into a Vec costs. SQLite and PostgreSQL. Each is measured in a process of its own
//! (this binary again, `STREAM_CASE` set): measured after the fill, or after another
//! measurement, in the same process, streaming reused memory the allocator still held and
//! showed almost no growth whatever it kept.
//!
//! Last measured 2026-11-30 (peak RSS growth, each in a fresh process): SQLite
//! `for_each_batch` +2.8 MB, `all()` +110 MB; PostgreSQL `for_each_batch` +1.6 MB, `all()`
//! +311 MB.
//!
//! `cargo bench -p oxalchemy --bench stream`

mod common;

use common::{peak_rss_mb, reset_peak};
use oxalchemy::orm;
use oxalchemy::prelude::*;

const ROWS: i64 = 1_000_000;
/// Streaming must not grow the peak RSS by more than this.
const CEILING_MB: f64 = 20.0;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "stream_events")]
struct Event {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    pub payload: Option<String>,
}

/// Fills the table, then measures streaming and loading it all, each in a fresh process.
async fn run(label: &str, db: &Database, url: &str, fill: &str) {
    let md = Registry::new().model::<Event>().metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    db.execute(text(fill.to_owned())).await.expect("fill");
    for case in ["batches", "all"] {
        common::run_child(&[
            ("STREAM_CASE", case),
            ("STREAM_URL", url),
            ("STREAM_LABEL", label),
        ]);
    }
    db.drop_all(&md).await.expect("cleanup");
}

/// One measurement, in a fresh process (see [`run`]).
async fn measure_case(case: &str) {
    let var = |name: &str| std::env::var(name).expect(name);
    let (url, label) = (var("STREAM_URL"), var("STREAM_LABEL"));
    let db = Database::connect(&url).await.expect("connect");
    reset_peak();
    let before = peak_rss_mb();
    let start = std::time::Instant::now();
    if case == "batches" {
        let mut rows = 0usize;
        let n = orm::query::<Event>()
            .for_each_batch(&db, 1000, |batch| {
                rows += batch.len();
                Ok(())
            })
            .await
            .expect("stream");
        let streamed = start.elapsed();
        let after = peak_rss_mb();
        assert_eq!(n as usize, rows);
        assert_eq!(rows as i64, ROWS);
        let growth = after - before;
        println!(
            "{label:<10} for_each_batch {rows} rows in {:.0} ms; peak RSS {before:.0} MB → {after:.0} MB (+{growth:.1} MB, ceiling {CEILING_MB} MB)",
            streamed.as_secs_f64() * 1e3
        );
        assert!(
            growth < CEILING_MB,
            "streaming grew the peak RSS by {growth:.1} MB"
        );
    } else {
        // For comparison: the whole result in memory at once.
        let all = orm::query::<Event>().all(&db).await.expect("all");
        let after = peak_rss_mb();
        println!(
            "{label:<10} all()          {} rows in {:.0} ms; peak RSS {before:.0} MB → {after:.0} MB (+{:.1} MB)",
            all.len(),
            start.elapsed().as_secs_f64() * 1e3,
            after - before
        );
    }
}

fn main() {
    if let Ok(case) = std::env::var("STREAM_CASE") {
        common::run(async move { measure_case(&case).await });
        return;
    }
    common::run(async {
        let path = common::sqlite_path("stream");
        let url = format!("sqlite:///{}", path.display());
        let db = Database::connect(&url).await.expect("sqlite");
        run(
            "sqlite",
            &db,
            &url,
            &format!("INSERT INTO stream_events (id, name, payload) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS}) SELECT x, 'event number ' || x, CASE WHEN x % 2 = 0 THEN 'payload payload payload ' || x END FROM c"),
        )
        .await;
        drop(db);
        common::remove_sqlite(&path);
        if let Some((db, url)) = common::postgres().await {
            run(
                "postgresql",
                &db,
                &url,
                &format!("INSERT INTO stream_events (id, name, payload) SELECT g, 'event number ' || g, CASE WHEN g % 2 = 0 THEN 'payload payload payload ' || g END FROM generate_series(1, {ROWS}) g"),
            )
            .await;
        }
    });
}
