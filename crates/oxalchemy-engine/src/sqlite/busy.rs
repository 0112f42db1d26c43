//! Waiting for SQLite's single writer without blocking the async runtime.
//!
//! SQLite lets one connection write at a time. Its own answer to contention, a busy handler,
//! sleeps on the calling thread — on a current-thread runtime that thread is the one the
//! lock holder needs to finish its transaction, so the wait can never succeed. Instead:
//!
//! - Inside this process, writers of every `Database` on one file queue on one async mutex,
//!   the file's [`write_gate`], keyed by the file's canonical path.
//! - Against other processes (or connections the engine does not own), SQLite's busy handler
//!   is off (`busy_timeout` 0): a statement that fails with `SQLITE_BUSY` is retried after an
//!   async sleep with backoff ([`retry`]), until the configured busy timeout has passed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::SqliteConn;
use crate::error::{Error, Result};

/// SQLite's primary result code for "another connection holds the lock".
const SQLITE_BUSY: i32 = 5;
/// `SQLITE_LOCKED_SHAREDCACHE`: a table of a shared-cache (in-memory) database is locked by
/// another connection's open transaction. The statement did nothing and may be run again.
const SQLITE_LOCKED_SHAREDCACHE: i32 = 6 | (1 << 8);

/// The first pause after a busy statement; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(1);
/// The longest pause between two tries: short enough that a writer gets the lock soon after
/// it is released.
const MAX_PAUSE: Duration = Duration::from_millis(25);

/// Every live write gate of the process, by database: weak, so a gate goes away with the last
/// `Database` using it.
static GATES: LazyLock<std::sync::Mutex<HashMap<PathBuf, Weak<Mutex<()>>>>> =
    LazyLock::new(Default::default);

/// The writer queue of the SQLite database at `key` (a file's path or an in-memory
/// database's name), shared by every `Database` of this process that opens it.
pub(crate) fn write_gate(key: &Path) -> Arc<Mutex<()>> {
    let key = canonical(key);
    // A panic elsewhere while holding this lock leaves the map intact: keep using it.
    let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
        return gate;
    }
    gates.retain(|_, gate| gate.strong_count() > 0);
    let gate = Arc::new(Mutex::new(()));
    gates.insert(key, Arc::downgrade(&gate));
    gate
}

/// The path that names a file however it was spelled (relative, through symlinks): the
/// file's canonical path, or, before the file exists, its directory's canonical path joined
/// with its name.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(full) = std::fs::canonicalize(path) {
        return full;
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
    }
}

/// Whether a failed statement may simply be run again: it failed with `SQLITE_BUSY` outside
/// an explicit transaction (a BEGIN IMMEDIATE waiting for the writer, an autocommit
/// statement) or as a COMMIT, or with `SQLITE_LOCKED_SHAREDCACHE`. SQLite guarantees such a
/// statement changed nothing. A busy statement inside a transaction is not retried: SQLite
/// says that transaction must be rolled back instead (its snapshot may be stale).
fn retryable(e: &Error, sql: &str, autocommit: bool) -> bool {
    let Error::Sqlite { extended_code, .. } = e else {
        return false;
    };
    match *extended_code {
        SQLITE_BUSY => autocommit || sql.trim().eq_ignore_ascii_case("COMMIT"),
        SQLITE_LOCKED_SHAREDCACHE => true,
        _ => false,
    }
}

/// Runs `attempt` (the statement `sql`) on `conn` until it succeeds, fails with an error that
/// is not worth waiting out, `can_restart` says a rerun would repeat work already handed out,
/// or the connection's busy timeout has passed (then [`Error::Sqlite`] `SQLITE_BUSY` saying
/// so). Pauses are async sleeps: other tasks (the lock holder among them) run meanwhile.
pub(super) async fn retry<T>(
    conn: &mut SqliteConn,
    sql: &str,
    can_restart: impl Fn() -> bool,
    mut attempt: impl FnMut(&mut SqliteConn) -> Result<T>,
) -> Result<T> {
    // Read the clock only once a statement meets a lock: this runs around every statement,
    // and a primary-key lookup takes well under a microsecond.
    let mut started: Option<Instant> = None;
    let mut pause = FIRST_PAUSE;
    loop {
        let e = match attempt(conn) {
            Err(e) if retryable(&e, sql, conn.conn.is_autocommit()) && can_restart() => e,
            done => return done,
        };
        let waited = started.get_or_insert_with(Instant::now).elapsed();
        if waited >= conn.busy_timeout {
            return Err(gave_up(e, waited));
        }
        tokio::time::sleep(pause.min(conn.busy_timeout - waited)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// The error after waiting out the whole busy timeout, keeping SQLite's last one as source.
fn gave_up(last: Error, waited: Duration) -> Error {
    let Error::Sqlite {
        code,
        extended_code,
        message,
        ..
    } = &last
    else {
        return last;
    };
    Error::Sqlite {
        code,
        extended_code: *extended_code,
        message: format!(
            "{message}: another connection (another process, or a connection the engine does \
             not own) kept the database locked for the whole busy_timeout ({waited:.1?})"
        ),
        source: Some(Box::new(last)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_gate_per_file_however_its_path_is_spelled() {
        let dir = std::env::temp_dir().join(format!("oxalchemy-gate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("app.db");
        // Before the file exists (the first Database creates it) and after.
        let before = write_gate(&file);
        let dotted = write_gate(&dir.join(".").join("app.db"));
        assert!(Arc::ptr_eq(&before, &dotted));
        std::fs::write(&file, b"").expect("create file");
        let after = write_gate(
            &dir.join("..")
                .join(dir.file_name().expect("name"))
                .join("app.db"),
        );
        assert!(Arc::ptr_eq(&before, &after));
        let other = write_gate(&dir.join("other.db"));
        assert!(!Arc::ptr_eq(&before, &other));
        // A gate no Database uses any more is dropped, and a new one made.
        let weak = Arc::downgrade(&before);
        drop((before, dotted, after));
        assert!(weak.upgrade().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
