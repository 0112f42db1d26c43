//! Opening a SQLite file as its URL asks (`mode`, `cache`, `immutable`) and the settings
//! applied after (`journal_mode`, `foreign_keys`).

use std::path::Path;

use rusqlite::OpenFlags;

use super::errors::connect_error;
use super::{busy, SqliteConn};
use crate::error::Result;
use crate::url::sqlite::{OpenMode, SqliteSettings};

/// Opens the file with the flags `settings` ask for. `immutable` exists only as a URI
/// parameter, so such a file is opened through a `file:` URI with its path percent-encoded.
pub(super) fn connection(
    path: &Path,
    settings: &SqliteSettings,
    url: &str,
) -> Result<rusqlite::Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    flags |= match settings.mode {
        OpenMode::Ro => OpenFlags::SQLITE_OPEN_READ_ONLY,
        OpenMode::Rw => OpenFlags::SQLITE_OPEN_READ_WRITE,
        OpenMode::Rwc => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    };
    if settings.shared_cache {
        flags |= OpenFlags::SQLITE_OPEN_SHARED_CACHE;
    }
    let opened = if settings.immutable {
        let encoded: String =
            percent_encoding::utf8_percent_encode(&path.to_string_lossy(), URI_PATH).collect();
        rusqlite::Connection::open_with_flags(format!("file:{encoded}?immutable=1"), flags)
    } else {
        // A plain path never starts with `file:` here (it is absolute), so it is not a URI.
        rusqlite::Connection::open_with_flags(path, flags)
    };
    opened.map_err(|e| connect_error(url, e))
}

/// What must be escaped in the path of a `file:` URI.
const URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b'?')
    .add(b'#')
    .add(b'%')
    .add(b' ');

/// The journal mode a file gets: the URL's, else WAL for a writable file (readers never wait
/// for the writer), else whatever the file already uses.
pub(super) fn journal_pragmas(settings: &SqliteSettings) -> Vec<String> {
    match (settings.journal_mode, settings.writable()) {
        (Some(mode), true) => vec![format!("PRAGMA journal_mode = {mode}")],
        // WAL with NORMAL sync is safe and avoids an fsync per commit.
        (None, true) => vec![
            "PRAGMA journal_mode = WAL".to_owned(),
            "PRAGMA synchronous = NORMAL".to_owned(),
        ],
        (_, false) => Vec::new(),
    }
}

/// Applies `foreign_keys=off` (the connection has them on from `configure`).
pub(super) async fn apply(conn: &mut SqliteConn, settings: &SqliteSettings) -> Result<()> {
    if !settings.foreign_keys {
        conn.foreign_keys = false;
        let pragma = "PRAGMA foreign_keys = OFF";
        busy::retry(conn, pragma, || true, |c| c.batch_now(pragma)).await?;
    }
    Ok(())
}
