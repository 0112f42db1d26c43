//! SQLite URLs: the file (or in-memory database) and how to open it.
//!
//! | URL | database |
//! | --- | --- |
//! | `sqlite://`, `sqlite::memory:`, `sqlite:///:memory:`, `?mode=memory` | a new in-memory database |
//! | `sqlite:///app.db` (three slashes, SQLAlchemy) | `app.db` relative to the working directory |
//! | `sqlite:////var/app.db` (four slashes, SQLAlchemy) | `/var/app.db` |
//! | `sqlite:app.db`, `sqlite://app.db`, `sqlite://data/app.db` (sqlx) | relative to the working directory |
//! | `sqlite:/var/app.db` | `/var/app.db` |
//!
//! A relative path is resolved against the working directory when the URL is read, so every
//! connection of the pool opens the same file. The path is percent-decoded (`%3F` is a `?`
//! in the file name); the query string never becomes part of it.

use std::path::PathBuf;
use std::time::Duration;

use super::query::{self, Param};
use crate::error::{Error, Result};

/// The parameters a SQLite URL may carry.
pub(crate) const PARAMETERS: &[&str] = &[
    "mode",
    "cache",
    "immutable",
    "journal_mode",
    "busy_timeout",
    "foreign_keys",
];

/// How SQLite opens the file (`mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OpenMode {
    /// `mode=ro`: read only; the file must exist.
    Ro,
    /// `mode=rw`: read and write; the file must exist.
    Rw,
    /// `mode=rwc` (the default): read and write, created if missing.
    #[default]
    Rwc,
}

/// What a SQLite URL's parameters ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqliteSettings {
    pub(crate) mode: OpenMode,
    /// `cache=shared`.
    pub(crate) shared_cache: bool,
    /// `immutable=1`: the file never changes while open (read-only media); no locking.
    pub(crate) immutable: bool,
    /// `journal_mode=…`; files default to WAL when writable.
    pub(crate) journal_mode: Option<&'static str>,
    /// `busy_timeout=<ms>`; [`ConnectOptions::busy_timeout`](crate::ConnectOptions::busy_timeout) wins.
    pub(crate) busy_timeout: Option<Duration>,
    /// `foreign_keys=0` turns enforcement off (default on).
    pub(crate) foreign_keys: bool,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        SqliteSettings {
            mode: OpenMode::default(),
            shared_cache: false,
            immutable: false,
            journal_mode: None,
            busy_timeout: None,
            foreign_keys: true,
        }
    }
}

impl SqliteSettings {
    /// Whether the connection may write (and so may switch the journal mode).
    pub(crate) fn writable(&self) -> bool {
        self.mode != OpenMode::Ro && !self.immutable
    }
}

/// A parsed SQLite URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqliteUrl {
    Memory(SqliteSettings),
    File(PathBuf, SqliteSettings),
}

/// Reads `url`, which starts with `sqlite:`.
pub(crate) fn parse(url: &str) -> Result<SqliteUrl> {
    let rest = &url["sqlite:".len()..];
    let (location, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let mut memory = false;
    let mut settings = SqliteSettings::default();
    for p in query
        .map(|q| query::decode(q, url))
        .transpose()?
        .unwrap_or_default()
    {
        apply(&mut settings, &mut memory, &p, url)?;
    }
    // `//` introduces the (empty) authority; the next `/` separates it from the path
    // (SQLAlchemy), so `sqlite:///a.db` is `a.db` and `sqlite:////a.db` is `/a.db`.
    let path = match location.strip_prefix("//") {
        Some(after) => after.strip_prefix('/').unwrap_or(after),
        None => location,
    };
    if memory || location == "//" || path == ":memory:" || location == ":memory:" {
        return Ok(SqliteUrl::Memory(settings));
    }
    if path.is_empty() {
        return Err(Error::InvalidUrl {
            url: super::redact_url(url),
            reason: "no file path; use sqlite:///relative/app.db, sqlite:////absolute/app.db \
                     or sqlite:// (in memory)"
                .to_owned(),
            source: None,
        });
    }
    let path = PathBuf::from(query::percent(path, url)?.as_ref());
    let path = if path.is_absolute() {
        path
    } else {
        let cwd = std::env::current_dir().map_err(|e| Error::InvalidUrl {
            url: super::redact_url(url),
            reason: format!(
                "the path is relative and the working directory cannot be read ({e}); \
                 use an absolute path (sqlite:////absolute/app.db)"
            ),
            source: Some(Box::new(e)),
        })?;
        cwd.join(path)
    };
    Ok(SqliteUrl::File(path, settings))
}

fn apply(s: &mut SqliteSettings, memory: &mut bool, p: &Param, url: &str) -> Result<()> {
    match p.key.as_str() {
        "mode" => match p.value.as_str() {
            "ro" => s.mode = OpenMode::Ro,
            "rw" => s.mode = OpenMode::Rw,
            "rwc" => s.mode = OpenMode::Rwc,
            "memory" => *memory = true,
            _ => return Err(query::invalid_value(p, "ro, rw, rwc or memory", url)),
        },
        "cache" => match p.value.as_str() {
            "shared" => s.shared_cache = true,
            "private" => s.shared_cache = false,
            _ => return Err(query::invalid_value(p, "shared or private", url)),
        },
        "immutable" => s.immutable = query::boolean(p, url)?,
        "journal_mode" => {
            const MODES: [&str; 6] = ["delete", "truncate", "persist", "memory", "wal", "off"];
            let lower = p.value.to_ascii_lowercase();
            s.journal_mode = Some(MODES.into_iter().find(|m| *m == lower).ok_or_else(|| {
                query::invalid_value(p, "delete, truncate, persist, memory, wal or off", url)
            })?);
        }
        "busy_timeout" => s.busy_timeout = Some(query::millis(p, url)?),
        "foreign_keys" => s.foreign_keys = query::boolean(p, url)?,
        _ => return Err(query::unknown(p, PARAMETERS, url)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(url: &str) -> (PathBuf, SqliteSettings) {
        match parse(url) {
            Ok(SqliteUrl::File(p, s)) => (p, s),
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn sqlalchemy_and_sqlx_forms() {
        let cwd = std::env::current_dir().unwrap_or_default();
        assert_eq!(file("sqlite:///rel.db").0, cwd.join("rel.db"));
        assert_eq!(
            file("sqlite:////abs/path.db").0,
            PathBuf::from("/abs/path.db")
        );
        assert_eq!(file("sqlite:x.db").0, cwd.join("x.db"));
        assert_eq!(file("sqlite://x.db").0, cwd.join("x.db"));
        assert_eq!(file("sqlite://data/app.db").0, cwd.join("data/app.db"));
        assert_eq!(file("sqlite:/abs/x.db").0, PathBuf::from("/abs/x.db"));
        assert_eq!(file("sqlite:///a%3Fb.db").0, cwd.join("a?b.db"));
        for memory in [
            "sqlite://",
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite:///:memory:",
            "sqlite:///x.db?mode=memory",
        ] {
            assert!(
                matches!(parse(memory), Ok(SqliteUrl::Memory(_))),
                "{memory}"
            );
        }
        assert!(matches!(parse("sqlite:"), Err(Error::InvalidUrl { .. })));
    }

    #[test]
    fn parameters_never_reach_the_file_name() {
        let (path, s) = file(
            "sqlite://rel.db?mode=ro&cache=shared&immutable=1&journal_mode=WAL&busy_timeout=250&foreign_keys=off",
        );
        assert!(path.ends_with("rel.db"), "{path:?}");
        assert_eq!(s.mode, OpenMode::Ro);
        assert!(s.shared_cache && s.immutable && !s.foreign_keys);
        assert_eq!(s.journal_mode, Some("wal"));
        assert_eq!(s.busy_timeout, Some(Duration::from_millis(250)));
        assert_eq!(file("sqlite:x.db?mode=rw").1.mode, OpenMode::Rw);
    }

    #[test]
    fn unknown_and_invalid_parameters_are_named() {
        let err = parse("sqlite:///x.db?journal=wal")
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.contains("`journal`") && err.contains("journal_mode"),
            "{err}"
        );
        let err = parse("sqlite:///x.db?mode=readonly")
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.contains("`mode`") && err.contains("ro, rw, rwc"),
            "{err}"
        );
    }
}
