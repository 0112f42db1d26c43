//! Per-test overhead of the testing kit: a whole test case (database, the guide's schema,
//! one insert and one count, teardown) run by `TestCase::run` — what one
//! `#[oxalchemy::test]` costs — in the rollback fixture (the default: schema and test in one
//! transaction rolled back) against `fresh` (a database or PostgreSQL schema of its own with
//! real commits, dropped after), on SQLite in memory, a SQLite file and PostgreSQL. Median of
//! 100 cases each, same run.
//!
//! `cargo bench -p oxalchemy --bench testing_kit` (PostgreSQL: `TEST_DATABASE_URL`, else an
//! ephemeral server).

#[path = "../tests/blog/mod.rs"]
mod blog;
mod common;

use std::time::{Duration, Instant};

use common::median;
use oxalchemy::prelude::*;
use oxalchemy::testing::{Backend, TestCase};

const CASES: usize = 100;

/// The body every case runs: one user in, one count out.
async fn body(s: &mut oxalchemy::orm::Session) -> Result<(), Error> {
    s.add(blog::User {
        username: "ann".into(),
        email: "ann@example.com".into(),
        settings: serde_json::json!({}),
        ..Default::default()
    });
    s.commit().await?;
    assert_eq!(s.query::<blog::User>().count().await?, 1);
    Ok(())
}

fn case(fresh: bool, backend: Backend, i: usize) -> Duration {
    let case = TestCase::new(format!("bench_kit_{i}")).schema(blog::registry());
    let case = if fresh { case.fresh() } else { case };
    let start = Instant::now();
    case.run(backend, async |ctx| {
        let mut s = ctx.session();
        body(&mut s).await
    });
    start.elapsed()
}

fn main() {
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    for (label, backend) in [
        ("sqlite-mem", Backend::Sqlite),
        ("sqlite-file", Backend::SqliteFile),
        ("postgresql", Backend::Postgres),
    ] {
        // Interleaved, so drift on a shared machine hits both alike.
        let (mut rollback, mut fresh) = (Vec::new(), Vec::new());
        for i in 0..CASES {
            rollback.push(case(false, backend, i));
            fresh.push(case(true, backend, i));
        }
        let (r, f) = (median(rollback), median(fresh));
        println!(
            "{label:<12} per test (median of {CASES}): rollback {:>7.2} ms | fresh {:>7.2} ms | fresh/rollback {:.2}x",
            r.as_secs_f64() * 1e3,
            f.as_secs_f64() * 1e3,
            f.as_secs_f64() / r.as_secs_f64()
        );
    }
}
