//! PostgreSQL for tests: one server per test process (`TEST_DATABASE_URL`, or an
//! [ephemeral](crate::ephemeral) one), and one fresh schema per test on it, so PostgreSQL
//! tests run in parallel without seeing each other's tables.
//!
//! The base URL is resolved synchronously and cached in a [`OnceLock`]: every
//! `#[tokio::test]` runs on its own runtime, so no client or task may outlive a call.

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use tokio_postgres::NoTls;

use crate::ephemeral::{ephemeral_unavailable_reason, start_ephemeral};
use crate::{next_id, sanitize};

/// Environment variable naming the PostgreSQL server tests should use.
const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Environment variable by which a user opts in to skipping PostgreSQL cases when no server
/// can be had (`1`, `true` or `yes`). Without it such a case fails, so a missing server can
/// never make a test suite pass silently.
pub const SKIP_POSTGRES_VAR: &str = "OXALCHEMY_TEST_SKIP_POSTGRES";

/// How the base URL was obtained.
struct Resolved {
    url: Result<String, String>,
    /// `TEST_DATABASE_URL` was set: failures must fail the test, never skip it.
    explicit: bool,
}

fn resolved() -> &'static Resolved {
    static BASE: OnceLock<Resolved> = OnceLock::new();
    BASE.get_or_init(|| match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.trim().is_empty() => Resolved {
            url: Ok(url.trim().to_owned()),
            explicit: true,
        },
        _ => Resolved {
            url: match ephemeral_unavailable_reason() {
                Some(reason) => Err(reason),
                None => start_ephemeral(),
            },
            explicit: false,
        },
    })
}

/// The base server URL tests use, or the reason there is none.
///
/// Resolved once per process: `TEST_DATABASE_URL` if set and non-empty, otherwise an
/// ephemeral server started with `initdb`/`pg_ctl` (stopped and deleted when the test
/// process exits), otherwise an error.
pub fn postgres_base_url() -> Result<String, String> {
    resolved().url.clone()
}

/// A PostgreSQL schema created for one test, so tests can run in parallel on one server.
#[derive(Debug)]
pub struct PgSchema {
    /// Connection string whose connections use [`PgSchema::schema`] as `search_path`.
    pub url: String,
    /// The (unquoted) schema name, built only from `[a-z0-9_]`.
    pub schema: String,
    admin_url: String,
}

/// Returns a fresh, empty schema for this test.
///
/// When no PostgreSQL can be had (no `TEST_DATABASE_URL`, and no `initdb`/`pg_ctl` to start
/// an ephemeral server), the test fails with a message saying how to get one — unless the
/// user opted in to skipping with [`SKIP_POSTGRES_VAR`]` = 1`, in which case this prints a
/// visible `SKIPPED PostgreSQL case …` line and returns `None`. When `TEST_DATABASE_URL` is
/// set but unusable the test always fails.
pub async fn pg_schema(test_name: &str) -> Option<PgSchema> {
    let resolved = resolved();
    let base = match &resolved.url {
        Ok(url) => url.clone(),
        Err(reason) => return no_server(test_name, reason),
    };
    let schema = schema_name(test_name);
    let create = format!("CREATE SCHEMA {}", quote_ident(&schema));
    if let Err(e) = execute(&base, &create).await {
        let reason = format!("cannot create schema `{schema}` on {}: {e}", redact(&base));
        if resolved.explicit {
            panic!("PostgreSQL case `{test_name}`: {TEST_DATABASE_URL} is set but {reason}");
        }
        return no_server(test_name, &reason);
    }
    Some(PgSchema {
        url: with_search_path(&base, &schema),
        schema,
        admin_url: base,
    })
}

/// The base server URL for a test that makes its own schema (inside its transaction), or
/// `None` after printing that it skipped; fails the test when no server can be had and the
/// user did not opt in to skipping (the same rule as [`pg_schema`]).
pub(crate) fn base_url_or_skip(test_name: &str) -> Option<String> {
    match &resolved().url {
        Ok(url) => Some(url.clone()),
        Err(reason) => no_server(test_name, reason),
    }
}

/// What a PostgreSQL case does when no server can be had.
#[derive(Debug, PartialEq, Eq)]
enum NoServer {
    /// The user opted in to skipping: print this line and go on without PostgreSQL.
    Skip(String),
    /// Fail the test with this message, which says how to get PostgreSQL.
    Fail(String),
}

/// Decides between skipping and failing from the value of [`SKIP_POSTGRES_VAR`] alone, so
/// the rule is testable without uninstalling PostgreSQL.
fn decide_no_server(test_name: &str, reason: &str, skip_opt_in: Option<&str>) -> NoServer {
    let opted_in = skip_opt_in.is_some_and(|v| {
        let v = v.trim();
        v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes")
    });
    if opted_in {
        NoServer::Skip(format!(
            "SKIPPED PostgreSQL case `{test_name}` ({SKIP_POSTGRES_VAR} is set): {reason}"
        ))
    } else {
        NoServer::Fail(format!(
            "PostgreSQL case `{test_name}` has no server: {reason}. Set {TEST_DATABASE_URL} \
             (e.g. postgresql://postgres@127.0.0.1:5432/test) to a server this test may create \
             schemas on, or install PostgreSQL's server binaries (initdb and pg_ctl, e.g. \
             `apt-get install postgresql`) so that an ephemeral server is started; to skip \
             PostgreSQL cases instead, set {SKIP_POSTGRES_VAR}=1"
        ))
    }
}

/// Skips (returning `None`) or panics, as [`decide_no_server`] says for this environment.
fn no_server<T>(test_name: &str, reason: &str) -> Option<T> {
    let opt_in = std::env::var(SKIP_POSTGRES_VAR).ok();
    match decide_no_server(test_name, reason, opt_in.as_deref()) {
        NoServer::Skip(line) => {
            // Straight to the stderr handle: `eprintln!` goes through libtest's output
            // capture and would only show for failing tests.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{line}");
            None
        }
        NoServer::Fail(message) => panic!("{message}"),
    }
}

impl PgSchema {
    /// Drops the schema (CASCADE). Call at the end of a test.
    ///
    /// A failure is reported on stderr but does not fail the test.
    pub async fn drop(self) {
        let sql = format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&self.schema)
        );
        if let Err(e) = execute(&self.admin_url, &sql).await {
            eprintln!(
                "warning: could not drop PostgreSQL schema `{}`: {e}",
                self.schema
            );
        }
    }
}

/// Connects to `url`, runs `sql` (simple query protocol), and disconnects.
async fn execute(url: &str, sql: &str) -> Result<(), String> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(|e| error_chain(&e))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let (client, connection) = config.connect(NoTls).await.map_err(|e| error_chain(&e))?;
    let conn = tokio::spawn(connection);
    let result = client.batch_execute(sql).await.map_err(|e| error_chain(&e));
    drop(client);
    // The connection future finishes once the client is gone; its own error (if any)
    // is less useful than the query's.
    let _ = conn.await;
    result
}

/// `error: cause: cause...` (tokio-postgres hides the interesting part in `source()`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = cause.source();
    }
    msg
}

/// `t_<sanitized test name, max 30 chars>_<pid>_<counter>`.
pub(crate) fn schema_name(test_name: &str) -> String {
    format!(
        "t_{}_{}_{}",
        sanitize(test_name, 30),
        std::process::id(),
        next_id()
    )
}

pub(crate) fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn is_url(conn: &str) -> bool {
    conn.starts_with("postgres://") || conn.starts_with("postgresql://")
}

/// Adds `options=-c search_path=<schema>` to a connection string (URL or key=value).
fn with_search_path(base: &str, schema: &str) -> String {
    let options = format!("-c search_path={schema}");
    if is_url(base) {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options={}", percent_encode(&options))
    } else {
        format!("{} options='{options}'", base.trim_end())
    }
}

/// Percent-encodes everything except RFC 3986 unreserved characters (tokio-postgres decodes
/// URL parameters with plain percent-decoding, so a form-encoded `+` would stay a `+`).
pub(crate) fn percent_encode(s: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}

/// Hides the password of a connection string for messages (the engine's redaction: one
/// place decides what a password looks like).
fn redact(conn: &str) -> String {
    oxalchemy_engine::redact_url(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_safe_identifiers() {
        let name = schema_name("Tests::Foo-Bar baz/ÄÖ and a very long tail indeed");
        assert!(
            name.starts_with("t_tests__foo_bar_baz____and_a_ve_"),
            "{name}"
        );
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        assert!(name.len() <= 63);
        assert_ne!(schema_name("x"), schema_name("x"));
    }

    #[test]
    fn search_path_is_appended_to_urls() {
        let url = with_search_path("postgresql://postgres@127.0.0.1:5432/test", "t_a_1_2");
        assert_eq!(
            url,
            "postgresql://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dt_a_1_2"
        );
        let config = tokio_postgres::Config::from_str(&url).expect("URL parses");
        assert_eq!(config.get_options(), Some("-c search_path=t_a_1_2"));
        assert_eq!(config.get_dbname(), Some("test"));

        let url = with_search_path("postgres://u:p@h/db?sslmode=disable", "s");
        assert_eq!(
            url,
            "postgres://u:p@h/db?sslmode=disable&options=-c%20search_path%3Ds"
        );
        let config = tokio_postgres::Config::from_str(&url).expect("URL parses");
        assert_eq!(config.get_options(), Some("-c search_path=s"));
    }

    #[test]
    fn search_path_is_appended_to_key_value_strings() {
        let conn = with_search_path("host=127.0.0.1 user=postgres dbname=test", "t_b_1_2");
        assert_eq!(
            conn,
            "host=127.0.0.1 user=postgres dbname=test options='-c search_path=t_b_1_2'"
        );
        let config = tokio_postgres::Config::from_str(&conn).expect("key=value parses");
        assert_eq!(config.get_options(), Some("-c search_path=t_b_1_2"));
    }

    #[test]
    fn no_server_fails_unless_the_user_opts_in_to_skipping() {
        for opt_in in [None, Some(""), Some("0"), Some("false"), Some("no")] {
            match decide_no_server("t", "no initdb", opt_in) {
                NoServer::Fail(message) => {
                    assert!(message.contains("TEST_DATABASE_URL"), "{message}");
                    assert!(message.contains("initdb and pg_ctl"), "{message}");
                    assert!(
                        message.contains("OXALCHEMY_TEST_SKIP_POSTGRES=1"),
                        "{message}"
                    );
                    assert!(message.contains("no initdb"), "{message}");
                }
                skip => panic!("{opt_in:?} must not skip: {skip:?}"),
            }
        }
        for opt_in in ["1", "true", "YES", " 1 "] {
            match decide_no_server("case_a", "no initdb", Some(opt_in)) {
                NoServer::Skip(line) => {
                    assert!(
                        line.starts_with("SKIPPED PostgreSQL case `case_a`"),
                        "{line}"
                    );
                    assert!(line.contains("no initdb"), "{line}");
                }
                fail => panic!("{opt_in:?} must skip: {fail:?}"),
            }
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgresql://u:secret@h:5432/db?x=y"),
            "postgresql://u:***@h:5432/db?x=y"
        );
        assert_eq!(redact("postgresql://u@h/db"), "postgresql://u@h/db");
        assert!(!redact("host=h password=x").contains('x'));
    }
}
