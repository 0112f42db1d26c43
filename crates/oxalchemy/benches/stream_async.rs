//! Streaming 1,000,000 rows through `Query::stream` (a `futures::Stream` of models) and
//! `Query::copy_out` (binary `COPY … TO STDOUT` on PostgreSQL; the same streamed SELECT on
//! SQLite): peak RSS growth stays under 20 MB for each, compared with what loading the
//! whole result into a Vec costs. SQLite (chunks by key) and PostgreSQL (one query, rows
//! as they arrive). Each is measured in a process of its own.
//!
//! Last measured 2026-11-30 (peak RSS growth): SQLite `stream()` +3.3 MB, `copy_out()`
//! +3.3 MB, `all()` +110 MB; PostgreSQL `stream()` +1.1 MB, `copy_out()` (binary COPY)
//! +1.0 MB, `all()` +311 MB.
//!
//! `cargo bench -p oxalchemy --bench stream_async`

mod common;

use common::{peak_rss_mb, reset_peak};
use oxalchemy::orm;
use oxalchemy::prelude::*;

const ROWS: i64 = 1_000_000;
/// Streaming must not grow the peak RSS by more than this.
const CEILING_MB: f64 = 20.0;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bulk_stream_events")]
struct Event {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    pub payload: Option<String>,
}

/// Reads every row of `rows` (a stream of models), then reports the time taken and the peak
/// RSS growth, which must stay under the ceiling.
async fn measure(
    label: &str,
    what: &str,
    rows: impl futures_util::Stream<Item = Result<Event, Error>>,
) {
    use futures_util::TryStreamExt;
    reset_peak();
    let before = peak_rss_mb();
    let mut n = 0usize;
    let start = std::time::Instant::now();
    {
        let mut s = std::pin::pin!(rows);
        while let Some(e) = s.try_next().await.expect(what) {
            n += 1;
            std::hint::black_box(e);
        }
    }
    let took = start.elapsed();
    let after = peak_rss_mb();
    assert_eq!(n as i64, ROWS);
    let growth = after - before;
    println!(
        "{label:<10} {what:<10} {n} rows in {:.0} ms; peak RSS {before:.0} MB → {after:.0} MB (+{growth:.1} MB, ceiling {CEILING_MB} MB)",
        took.as_secs_f64() * 1e3
    );
    assert!(
        growth < CEILING_MB,
        "{what} grew the peak RSS by {growth:.1} MB"
    );
}

/// Fills the table, then measures each way of reading it in a process of its own (this
/// binary again, `STREAM_ASYNC_CASE` set; see [`common::run_child`]).
async fn run(label: &str, db: &Database, url: &str, fill: &str) {
    let md = Registry::new().model::<Event>().metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    db.execute(text(fill.to_owned())).await.expect("fill");
    for case in ["stream", "copy_out", "all"] {
        common::run_child(&[
            ("STREAM_ASYNC_CASE", case),
            ("STREAM_ASYNC_URL", url),
            ("STREAM_ASYNC_LABEL", label),
        ]);
    }
    db.drop_all(&md).await.expect("cleanup");
}

/// One measurement, in a fresh process (see [`run`]).
async fn measure_case(case: &str) {
    let var = |name: &str| std::env::var(name).expect(name);
    let (url, label) = (var("STREAM_ASYNC_URL"), var("STREAM_ASYNC_LABEL"));
    let db = Database::connect(&url).await.expect("connect");
    match case {
        "stream" => measure(&label, "stream()", orm::query::<Event>().stream(&db)).await,
        "copy_out" => measure(&label, "copy_out()", orm::query::<Event>().copy_out(&db)).await,
        _ => {
            // For comparison: the whole result in memory at once.
            reset_peak();
            let before = peak_rss_mb();
            let all = orm::query::<Event>().all(&db).await.expect("all");
            println!(
                "{label:<10} all()      {} rows at once: peak RSS {before:.0} MB → {:.0} MB",
                all.len(),
                peak_rss_mb()
            );
        }
    }
}

fn main() {
    if let Ok(case) = std::env::var("STREAM_ASYNC_CASE") {
        common::run(async move { measure_case(&case).await });
        return;
    }
    common::run(async {
        let path = common::sqlite_path("stream_async");
        let url = format!("sqlite:///{}", path.display());
        let db = Database::connect(&url).await.expect("sqlite");
        run(
            "sqlite",
            &db,
            &url,
            &format!("INSERT INTO bulk_stream_events (id, name, payload) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS}) SELECT x, 'event number ' || x, CASE WHEN x % 2 = 0 THEN 'payload payload payload ' || x END FROM c"),
        )
        .await;
        drop(db);
        common::remove_sqlite(&path);
        if let Some((db, url)) = common::postgres().await {
            run(
                "postgresql",
                &db,
                &url,
                &format!("INSERT INTO bulk_stream_events (id, name, payload) SELECT g, 'event number ' || g, CASE WHEN g % 2 = 0 THEN 'payload payload payload ' || g END FROM generate_series(1, {ROWS}) g"),
            )
            .await;
        }
    });
}
