//! Database URLs: which driver a URL names and what its parameters ask for (`sqlite`:
//! SQLAlchemy's and sqlx's path forms, `postgres`: libpq's parameters), and [`redact_url`],
//! the one place that hides a URL's password. Query strings are split where the driver splits
//! them and percent-decoded as libpq decodes them (`query`); a parameter no reader knows is
//! [`Error::UnknownUrlParameter`].
//!
//! A password never leaves this module except inside the driver's connection config: every
//! URL the engine stores, logs, shows in `Debug`/`Display` or puts in an error has been through
//! [`redact_url`].
//!
//! Why not the `url` crate: database URLs are not WHATWG URLs. tokio-postgres accepts raw
//! `/ ? #` in a password, several hosts (`h1:5432,h2:5433`) and key=value strings, and SQLite
//! paths are relative (`sqlite://data/app.db`); a WHATWG parser rejects or re-reads these, and
//! a redactor that reads a URL differently from the driver can miss the password. PostgreSQL
//! URLs are therefore parsed by tokio-postgres itself (after the parameters it does not know
//! are taken out), query strings are decoded with `percent-encoding` (the `url` crate's own
//! decoder), and redaction follows a rule that hides at least what any of the readers takes
//! for the password.

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
mod query;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use crate::error::{Error, Result};

/// What a URL connects to.
#[derive(Clone)]
pub(crate) enum Target {
    /// `sqlite://`, `sqlite::memory:`: a new in-memory database, private to the `Database`
    /// connecting.
    #[cfg(feature = "sqlite")]
    SqliteMemory(
        std::sync::Arc<crate::sqlite::MemoryDb>,
        sqlite::SqliteSettings,
    ),
    /// A SQLite file (absolute: a relative path was resolved when the URL was read).
    #[cfg(feature = "sqlite")]
    SqliteFile(std::path::PathBuf, sqlite::SqliteSettings),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::PgUrl>),
    /// `mysql://`, `mariadb://`.
    #[cfg(feature = "mysql")]
    Mysql(Box<mysql::MysqlUrl>),
}

/// The text shown instead of a password.
const HIDDEN: &str = "***";

/// Hides the password of a database URL, for logs, `Debug` output and error messages.
///
/// - In a URL (`scheme://user:password@host/…`) the password is everything between the first
///   `:` after `scheme://` and the last `@`, so a password holding `/ ? # @ :` or
///   percent-escapes is hidden whole: `postgres://ann:p@ss/w?rd@db/app` →
///   `postgres://ann:***@db/app`.
/// - A `password=` query parameter is hidden too: `…/app?password=s3cret` → `…/app?password=***`.
/// - In a key=value connection string (`host=db password='s 3'`) the `password` value is
///   hidden, quoted or not.
///
/// When in doubt it hides more than the password (an `@` in the query string hides the host
/// before it), never less.
///
/// ```
/// use oxalchemy_engine::redact_url;
/// assert_eq!(redact_url("postgresql://ann:s3cret@db:5432/app"), "postgresql://ann:***@db:5432/app");
/// assert_eq!(redact_url("sqlite://data/app.db"), "sqlite://data/app.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return redact_key_values(url);
    };
    let authority = scheme_end + "://".len();
    let rest = &url[authority..];
    if let Some(at) = rest.rfind('@') {
        let userinfo = &rest[..at];
        if let Some(colon) = userinfo.find(':') {
            let user_end = authority + colon;
            return format!("{}:{HIDDEN}{}", &url[..user_end], redact_query(&rest[at..]));
        }
    }
    redact_query(url)
}

/// Hides the value of every `password=` parameter of the query string.
fn redact_query(url: &str) -> String {
    let Some(q) = url.find('?') else {
        return url.to_owned();
    };
    let (base, query) = url.split_at(q + 1);
    let params: Vec<&str> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect();
    format!("{base}{}", params.join("&"))
}

/// Hides the value of `password=` in a libpq key=value string, where a value is either a bare
/// word or single-quoted with `\'` and `\\` escapes.
fn redact_key_values(conninfo: &str) -> String {
    let mut out = String::with_capacity(conninfo.len());
    let mut rest = conninfo;
    while let Some(pos) = find_password_key(rest) {
        let value_start = pos + "password=".len();
        out.push_str(&rest[..value_start]);
        out.push_str(HIDDEN);
        rest = &rest[value_start + value_len(&rest[value_start..])..];
    }
    out.push_str(rest);
    out
}

/// The position of a `password=` key that starts a word.
fn find_password_key(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("password=") {
        let at = from + i;
        if at == 0 || s[..at].ends_with(char::is_whitespace) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The length of a key=value string's value at the start of `s`.
fn value_len(s: &str) -> usize {
    let Some(quoted) = s.strip_prefix('\'') else {
        return s.find(char::is_whitespace).unwrap_or(s.len());
    };
    let mut escaped = false;
    for (i, c) in quoted.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '\'') => return 1 + i + 1,
            _ => {}
        }
    }
    s.len()
}

/// Reads a database URL: which driver, and what its parameters ask for.
pub(crate) fn parse(url: &str) -> Result<Target> {
    #[cfg(feature = "sqlite")]
    {
        if url.starts_with("sqlite:") {
            return Ok(match sqlite::parse(url)? {
                sqlite::SqliteUrl::Memory(settings) => {
                    Target::SqliteMemory(Default::default(), settings)
                }
                sqlite::SqliteUrl::File(path, settings) => Target::SqliteFile(path, settings),
            });
        }
    }
    #[cfg(feature = "postgres")]
    {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let env = |name: &str| std::env::var(name).ok();
            return Ok(Target::Postgres(Box::new(postgres::parse(url, &env)?)));
        }
    }
    #[cfg(feature = "mysql")]
    {
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            return Ok(Target::Mysql(Box::new(mysql::parse(url)?)));
        }
    }
    let invalid = |reason: String| Error::InvalidUrl {
        url: redact_url(url),
        reason,
        source: None,
    };
    let scheme = url.split(':').next().unwrap_or("");
    let known = [
        #[cfg(feature = "sqlite")]
        "sqlite:",
        #[cfg(feature = "postgres")]
        "postgresql://",
        #[cfg(feature = "mysql")]
        "mysql://",
        #[cfg(feature = "mysql")]
        "mariadb://",
    ];
    Err(invalid(format!(
        "unsupported scheme `{scheme}`; this build supports {} (enable the crate's \
             `sqlite` / `postgres` / `mysql` features for more)",
        known.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgresql://ann:s3cret@db:5432/app"),
            "postgresql://ann:***@db:5432/app"
        );
        assert_eq!(
            redact_url("postgresql://ann@db/app?password=s3cret&sslmode=disable"),
            "postgresql://ann@db/app?password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("postgresql://db/app?sslmode=disable&password=s%20x"),
            "postgresql://db/app?sslmode=disable&password=***"
        );
        assert_eq!(
            redact_url("host=db password=s3cret"),
            "host=db password=***"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("postgresql://ann@db/app"),
            "postgresql://ann@db/app"
        );
        assert_eq!(
            redact_url("postgresql://db:5432/app"),
            "postgresql://db:5432/app"
        );
    }

    #[test]
    fn redacts_passwords_with_url_delimiters_and_escapes() {
        for password in [
            "p@ss",
            "p/ss",
            "p?ss",
            "p#ss",
            "p:ss",
            "p%ss",
            "p%40s%2Fs",
            "a/b?c#d@e:f%40g",
            "@",
            ":",
        ] {
            let url = format!("postgresql://ann:{password}@db:5432/app?sslmode=disable");
            let shown = redact_url(&url);
            assert_eq!(
                shown, "postgresql://ann:***@db:5432/app?sslmode=disable",
                "{password}"
            );
        }
        // An empty user name still hides the password.
        assert_eq!(
            redact_url("postgresql://:s3cret@db/app"),
            "postgresql://:***@db/app"
        );
        // An `@` in the query string hides more than the password, never less.
        let shown = redact_url("postgresql://ann:s3cret@db/app?application_name=a@b");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn redacts_quoted_key_value_passwords() {
        assert_eq!(
            redact_url("host=db password='s 3 \\' x' user=ann"),
            "host=db password=*** user=ann"
        );
        assert_eq!(
            redact_url("password=a user=ann password=b"),
            "password=*** user=ann password=***"
        );
        // `password=` inside another key's value is not a key.
        assert_eq!(
            redact_url("options=-cpassword=x user=ann"),
            "options=-cpassword=x user=ann"
        );
    }

    #[test]
    fn rejects_unknown_scheme_without_leaking_password() {
        let err = parse("oracle://root:hunter2@db/app")
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("unsupported scheme `oracle`"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn malformed_postgres_urls_keep_the_parser_error_and_hide_the_password() {
        let err = parse("postgresql://ann:hunter2@db:notaport/app")
            .err()
            .map(|e| {
                (
                    e.to_string(),
                    format!("{e:?}"),
                    std::error::Error::source(&e).is_some(),
                )
            });
        let (shown, debug, has_source) = err.unwrap_or_default();
        assert!(shown.starts_with("invalid database URL"), "{shown}");
        assert!(shown.contains("port"), "{shown}");
        assert!(
            !shown.contains("hunter2") && !debug.contains("hunter2"),
            "{debug}"
        );
        assert!(has_source);
    }
}
