//! Temporary SQLite database files for tests.

use std::path::PathBuf;

use crate::sanitize;

/// A unique SQLite database path for one test, in its own temporary directory. The
/// directory, the database file and its `-wal`/`-shm`/`-journal` siblings are deleted
/// when the guard drops. The database file itself is not created: SQLite creates it on
/// first connect.
#[derive(Debug)]
pub struct TempSqliteFile {
    /// Where the database file lives (inside a directory only this guard uses).
    pub path: PathBuf,
    /// Deleted, with everything in it, when the guard drops.
    dir: tempfile::TempDir,
}

impl TempSqliteFile {
    /// A new path whose file name contains `test_name` (sanitised), so a file left behind
    /// by a killed test run says which test made it.
    ///
    /// # Panics
    /// When the system's temporary directory is not writable: no SQLite test can run then.
    pub fn new(test_name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("oxalchemy-")
            .tempdir()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot create a temporary directory in {}: {e}",
                    std::env::temp_dir().display()
                )
            });
        let path = dir
            .path()
            .join(format!("{}.sqlite3", sanitize(test_name, 40)));
        TempSqliteFile { path, dir }
    }

    /// `sqlite:////<absolute path>` (SQLAlchemy's four slashes), for `Database::connect`.
    pub fn url(&self) -> String {
        format!("sqlite:///{}", self.path.display())
    }

    /// The temporary directory holding the database file (for tests that want to put
    /// other files beside it).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}
