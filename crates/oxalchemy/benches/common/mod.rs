//! What every benchmark shares: medians, the PostgreSQL to measure against, SQLite temp
//! files, and a `main` that measures only under `cargo bench`.
#![allow(
    dead_code,
    reason = "each test (bench) binary uses a different part of this shared module"
)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oxalchemy::Database;

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The PostgreSQL URL benchmarks use: `TEST_DATABASE_URL`, else the machine's local server.
pub(crate) fn postgres_url() -> String {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".to_owned());
    // The raw driver connects with `NoTls`; oxalchemy's default `sslmode=prefer` would take
    // TLS where the server offers it. Compare like with like: plaintext on both sides.
    if url.contains("sslmode=") {
        url
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// A connection to the benchmark PostgreSQL, or `None` after printing why it is skipped.
pub(crate) async fn postgres() -> Option<(Database, String)> {
    let url = postgres_url();
    match Database::connect(&url).await {
        Ok(db) => Some((db, url)),
        Err(e) => {
            println!("postgresql SKIPPED: {e}");
            None
        }
    }
}

/// A SQLite file for benchmark `name` in the temp directory.
pub(crate) fn sqlite_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("oxalchemy-bench-{name}-{}.db", std::process::id()))
}

/// A SQLite file for benchmark `name` ([`sqlite_path`]) and oxalchemy's database on it.
pub(crate) async fn sqlite(name: &str) -> (PathBuf, Database) {
    let path = sqlite_path(name);
    let db = Database::connect(format!("sqlite:///{}", path.display()))
        .await
        .expect("sqlite");
    (path, db)
}

/// A raw rusqlite connection to `path` with the settings oxalchemy's SQLite connections
/// use (WAL, `synchronous = NORMAL`, foreign keys on, a busy timeout), so both sides pay
/// the same for a commit: rusqlite's defaults (`synchronous = FULL`) sync the WAL on every
/// commit, which would make the raw side of a write benchmark look slower than it is.
pub(crate) fn raw_sqlite(path: &Path) -> rusqlite::Connection {
    let raw = rusqlite::Connection::open(path).expect("raw sqlite");
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .expect("raw sqlite pragmas");
    raw.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    raw
}

/// Deletes a SQLite file and its WAL companions.
pub(crate) fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Runs `bench` on a current-thread runtime; `cargo test --benches` (which passes `--test`)
/// only checks that it builds.
pub(crate) fn run(bench: impl Future<Output = ()>) {
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench);
}

/// Resets the kernel's peak-RSS mark to the current RSS (Linux: "5" > clear_refs).
pub(crate) fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size of this process since the last reset, in MB (VmHWM).
pub(crate) fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs this benchmark binary again with `vars` set and waits for it to succeed: a
/// measurement of peak RSS growth needs a process of its own. Memory an earlier measurement
/// (or the table's fill) freed stays in the allocator, and a later one reusing it would show
/// no growth whatever it held; resetting the kernel's peak mark does not undo that.
pub(crate) fn run_child(vars: &[(&str, &str)]) {
    let status = std::process::Command::new(std::env::current_exe().expect("this binary"))
        .envs(vars.iter().copied())
        .status()
        .expect("run a measurement");
    assert!(status.success(), "measurement {vars:?}: {status}");
}
