//! MySQL / MariaDB for tests: the server `TEST_MYSQL_URL` names (default
//! `mysql://root@127.0.0.1:3306/test`), and one fresh database per test on it, dropped
//! afterwards, so MySQL tests run in parallel without seeing each other's tables.
//!
//! (MySQL's "schema" is a database: there is no search path, so each test gets a database
//! of its own and a URL naming it.)

use oxalchemy_engine::Database;

use crate::{next_id, sanitize};

/// Environment variable naming the MySQL / MariaDB server tests should use.
pub const TEST_MYSQL_URL: &str = "TEST_MYSQL_URL";

/// The server used when [`TEST_MYSQL_URL`] is not set.
const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// Environment variable by which a user opts in to skipping MySQL cases when no server
/// answers (`1`, `true` or `yes`). Without it such a case fails: a missing server never
/// makes a test suite pass silently.
pub const SKIP_MYSQL_VAR: &str = "OXALCHEMY_TEST_SKIP_MYSQL";

/// The base server URL tests use: [`TEST_MYSQL_URL`], else `mysql://root@127.0.0.1:3306/test`.
pub fn mysql_base_url() -> String {
    match std::env::var(TEST_MYSQL_URL) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => DEFAULT_URL.to_owned(),
    }
}

/// A database created for one test.
#[derive(Debug)]
pub struct MysqlDatabase {
    /// A URL whose connections use [`MysqlDatabase::name`].
    pub url: String,
    /// The database's (unquoted) name, built only from `[a-z0-9_]`, at most 64 bytes.
    pub name: String,
    admin_url: String,
}

/// Returns a fresh, empty database for this test, or `None` after printing that it skipped
/// (only when [`SKIP_MYSQL_VAR`] is set); without a server and without that opt-in the test
/// fails, saying how to get one.
pub async fn mysql_database(test_name: &str) -> Option<MysqlDatabase> {
    let base = mysql_base_url();
    let name = format!(
        "t_{}_{}_{}",
        sanitize(test_name, 40),
        std::process::id(),
        next_id()
    );
    if let Err(e) = execute(&base, &format!("CREATE DATABASE `{name}`")).await {
        let reason = format!(
            "cannot create database `{name}` on {}: {e}",
            oxalchemy_engine::redact_url(&base)
        );
        return no_server(test_name, &reason);
    }
    Some(MysqlDatabase {
        url: with_database(&base, &name),
        name,
        admin_url: base,
    })
}

impl MysqlDatabase {
    /// Drops the database. Call at the end of a test; a failure is reported on stderr but
    /// does not fail the test.
    pub async fn drop(self) {
        let sql = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        if let Err(e) = execute(&self.admin_url, &sql).await {
            eprintln!(
                "warning: could not drop MySQL database `{}`: {e}",
                self.name
            );
        }
    }
}

/// Connects to `url` with one connection, runs `sql`, and closes the pool.
async fn execute(url: &str, sql: &str) -> Result<(), String> {
    let db = Database::connect(url)
        .pool_size(1)
        .await
        .map_err(|e| e.to_string())?;
    let result = db
        .execute(oxalchemy_core::text(sql))
        .await
        .map(drop)
        .map_err(|e| e.to_string());
    db.close();
    result
}

/// `base` with its database replaced by `name` (query string kept).
fn with_database(base: &str, name: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (base, None),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let host_end = main[scheme_end..]
        .rfind('@')
        .map_or(scheme_end, |at| scheme_end + at + 1);
    let authority_end = main[host_end..]
        .find('/')
        .map_or(main.len(), |i| host_end + i);
    let mut url = format!("{}/{name}", &main[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Skips (returning `None`, with a visible line) when the user opted in, else panics.
fn no_server<T>(test_name: &str, reason: &str) -> Option<T> {
    let opted_in = std::env::var(SKIP_MYSQL_VAR).is_ok_and(|v| {
        let v = v.trim();
        v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes")
    });
    if opted_in {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED MySQL case `{test_name}` ({SKIP_MYSQL_VAR} is set): {reason}"
        );
        return None;
    }
    panic!(
        "MySQL case `{test_name}` has no server: {reason}. Start MariaDB or MySQL and set \
         {TEST_MYSQL_URL} (default {DEFAULT_URL}) to a server this test may create databases \
         on; to skip MySQL cases instead, set {SKIP_MYSQL_VAR}=1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test", "t_a_1_2"),
            "mysql://root@127.0.0.1:3306/t_a_1_2"
        );
        assert_eq!(
            with_database("mysql://u:p/w@db/test?ssl-mode=disabled", "x"),
            "mysql://u:p/w@db/x?ssl-mode=disabled"
        );
        assert_eq!(
            with_database("mariadb://db:3307", "x"),
            "mariadb://db:3307/x"
        );
    }
}
