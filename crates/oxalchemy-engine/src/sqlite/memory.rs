//! `sqlite::memory:` as a pool of connections to one in-memory database.
//!
//! A plain in-memory SQLite database lives inside a single connection, so a pool of it can
//! hand out only that one (SQLAlchemy's `StaticPool`), and a task holding it — a Session, a
//! `Connection` — makes every other use of the `Database` wait. Instead each `Database` gets a
//! *named, shared-cache* in-memory database (`file:oxalchemy-mem-<pid>-<n>?mode=memory&
//! cache=shared`): every connection opened with that name sees the same data, so the pool
//! works as it does for a file. The name is private to the `Database` (two `Database`s on
//! `sqlite::memory:` are two databases, as before), and an extra connection, the anchor,
//! stays open as long as the `Database`, because SQLite frees such a database when its last
//! connection closes.
//!
//! Shared cache locks tables, not the file: a statement reading a table that another
//! connection's open transaction has written fails with `SQLITE_LOCKED_SHAREDCACHE`, which
//! the engine waits out like `SQLITE_BUSY` (see `busy`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::errors::connect_error;
use super::SqliteConn;
use crate::error::Result;

/// Numbers the in-memory databases of this process, for unique names.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// One `Database`'s private in-memory SQLite database.
pub(crate) struct MemoryDb {
    /// The URI every connection opens.
    uri: String,
    /// Keeps the database alive while the pool's connections come and go; opened with the
    /// first connection.
    anchor: Mutex<Option<rusqlite::Connection>>,
}

impl Default for MemoryDb {
    /// A new, empty in-memory database (nothing is opened yet).
    fn default() -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        MemoryDb {
            uri: format!(
                "file:oxalchemy-mem-{}-{n}?mode=memory&cache=shared",
                std::process::id()
            ),
            anchor: Mutex::new(None),
        }
    }
}

impl MemoryDb {
    /// Opens a connection to the database; a table locked by another connection's open
    /// transaction is waited for up to `busy_timeout`.
    pub(crate) fn open(&self, busy_timeout: Duration) -> Result<SqliteConn> {
        let open = || {
            rusqlite::Connection::open(&self.uri).map_err(|e| connect_error("sqlite::memory:", e))
        };
        {
            // A panic while holding the lock cannot leave the Option half-written.
            let mut anchor = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
            if anchor.is_none() {
                *anchor = Some(open()?);
            }
        }
        SqliteConn::configure(open()?, busy_timeout, "sqlite::memory:")
    }
}
