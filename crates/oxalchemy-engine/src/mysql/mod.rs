//! The MySQL / MariaDB driver: mysql_async connections, binds in the binary protocol
//! (`bind.rs`), errors typed by server error number (`errors.rs`), rows decoded straight
//! from the driver's row (`crate::decode::mysql`).
//!
//! Every connection is opened with `CLIENT_FOUND_ROWS` (an UPDATE reports the rows it
//! matched, not only those whose values changed: the session's optimistic-concurrency check
//! counts matches) and runs [`SESSION_SETUP`]. Statements are prepared once per connection
//! and cached by mysql_async (an LRU of `statement_cache_size`, default 256).

mod bind;
pub(crate) mod errors;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts};

use crate::decode::{FromRow, Row};
use crate::error::{Error, Result};
use crate::url::mysql::{MysqlUrl, SslMode};
use oxalchemy_core::Value;

pub(crate) use errors::map_error;

/// Prepared statements kept per connection unless the URL says otherwise.
pub(crate) const STATEMENT_CACHE_CAPACITY: usize = 256;

/// What every new connection runs: `utf8mb4`, UTC as the session time zone, and a
/// `sql_mode` that makes MySQL read SQL as the other databases do: strict (an out-of-range
/// or truncated value is an error, not a warning), `ANSI_QUOTES` (`"name"` is a name),
/// `NO_BACKSLASH_ESCAPES` (literals escape only `'`), `PIPES_AS_CONCAT` (`||` concatenates),
/// `NO_AUTO_VALUE_ON_ZERO` (an explicit key 0 is stored as 0, not replaced by the next
/// AUTO_INCREMENT value). The connection's collation follows once the server is known
/// ([`collation`]).
pub(crate) const SESSION_SETUP: &str = "SET NAMES utf8mb4, \
     time_zone = '+00:00', \
     sql_mode = 'STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PIPES_AS_CONCAT,\
NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE'";

/// The binary collation without trailing-space padding (`'a' = 'a '` is false, as on
/// PostgreSQL and SQLite): MariaDB's `utf8mb4_nopad_bin`, MySQL 8's `utf8mb4_0900_bin`. The
/// dialect creates tables with the same one ([`oxalchemy_core::MySql`]).
pub(crate) fn collation(mariadb: bool) -> &'static str {
    if mariadb {
        "utf8mb4_nopad_bin"
    } else {
        "utf8mb4_0900_bin"
    }
}

/// Whether a MariaDB `VERSION()` (`10.11.6-MariaDB-0+deb12u1`, or with the
/// `5.5.5-` prefix old clients needed) is 10.5 or later, the first with `INSERT …
/// RETURNING`. A version it cannot read counts as having it (every MariaDB still supported).
fn mariadb_has_returning(version: &str) -> bool {
    let v = version.strip_prefix("5.5.5-").unwrap_or(version);
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(major), Some(minor)) => (major, minor) >= (10, 5),
        _ => true,
    }
}

/// Puts a connection in an unknown state back into autocommit and releases every named
/// lock (`GET_LOCK`) it holds.
pub(crate) const RESET: &str = "ROLLBACK; DO RELEASE_ALL_LOCKS()";

/// One MySQL / MariaDB connection.
pub(crate) struct MysqlConn {
    /// `None` while a dropped transaction's ROLLBACK runs in a task that owns it
    /// (`pending`), or after that ROLLBACK failed (the connection is then closed).
    conn: Option<Conn>,
    /// The task rolling back a dropped transaction; it hands the connection back.
    pending: Option<tokio::task::JoinHandle<Option<Conn>>>,
    /// MariaDB rather than MySQL.
    pub(crate) mariadb: bool,
    /// Whether `INSERT … RETURNING` is used: MariaDB 10.5 or later, unless the URL says
    /// `returning=off`. MySQL has none.
    pub(crate) returning: bool,
    /// `@@innodb_autoinc_lock_mode` (0 traditional, 1 consecutive, 2 interleaved): whether
    /// the rows of one multi-row INSERT get consecutive AUTO_INCREMENT values.
    pub(crate) autoinc_lock_mode: i64,
    /// `@@auto_increment_increment` (1 unless replication with several writers sets it).
    pub(crate) autoinc_increment: i64,
}

impl MysqlConn {
    /// Opens a connection as the URL asks (TLS per `ssl-mode`) and reads what the server is.
    pub(crate) async fn connect(u: &MysqlUrl, shown_url: &str, cache: usize) -> Result<MysqlConn> {
        let base = OptsBuilder::default()
            .ip_or_hostname(u.host.clone())
            .tcp_port(u.port)
            .user(u.user.clone())
            .pass(u.password.clone())
            .db_name(u.database.clone())
            .prefer_socket(false)
            .client_found_rows(true)
            .stmt_cache_size(cache)
            .init(vec![SESSION_SETUP]);
        let tls = |accept_any: bool, check_host: bool| {
            let mut ssl = SslOpts::default()
                .with_danger_accept_invalid_certs(accept_any)
                .with_danger_skip_domain_validation(!check_host);
            if let Some(ca) = &u.ssl_ca {
                ssl = ssl.with_root_certs(vec![ca.clone().into()]);
            }
            ssl
        };
        let conn = match u.ssl_mode {
            SslMode::Disabled => Conn::new(base).await,
            SslMode::Required => Conn::new(base.ssl_opts(tls(true, false))).await,
            SslMode::VerifyCa => Conn::new(base.ssl_opts(tls(false, false))).await,
            SslMode::VerifyIdentity => Conn::new(base.ssl_opts(tls(false, true))).await,
            SslMode::Preferred => match Conn::new(base.clone().ssl_opts(tls(true, false))).await {
                Ok(c) => Ok(c),
                // A server that refused the login refuses it without TLS too; anything
                // else (no TLS offered, a failed handshake) is tried again in plain text.
                Err(e @ mysql_async::Error::Server(_)) => Err(e),
                Err(_) => Conn::new(base).await,
            },
        };
        let mut conn = conn.map_err(|e| errors::connect_error(e, shown_url))?;
        let (version, lock_mode, increment): (String, Option<i64>, i64) = conn
            .query_first("SELECT VERSION(), @@innodb_autoinc_lock_mode, @@auto_increment_increment")
            .await
            .map_err(map_error)?
            .ok_or_else(|| Error::Connect {
                url: shown_url.to_owned(),
                reason: "the server answered SELECT VERSION() with no row".into(),
                source: None,
            })?;
        let mariadb = version.contains("MariaDB");
        let returning = mariadb && !u.returning_off && mariadb_has_returning(&version);
        conn.query_drop(format!(
            "SET collation_connection = '{}'",
            collation(mariadb)
        ))
        .await
        .map_err(map_error)?;
        Ok(MysqlConn {
            conn: Some(conn),
            pending: None,
            mariadb,
            returning,
            autoinc_lock_mode: lock_mode.unwrap_or(2),
            autoinc_increment: increment,
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        match &self.conn {
            Some(c) => c.is_disconnected(),
            None => self.pending.is_none(),
        }
    }

    /// Waits for a dropped transaction's ROLLBACK (started by [`Self::rollback_now`]).
    pub(crate) async fn settle(&mut self) {
        if let Some(task) = self.pending.take() {
            self.conn = task.await.ok().flatten();
        }
    }

    /// Whether this connection can no longer be used: a request was abandoned in the middle
    /// of one of mysql_async's exchanges with the server (its future dropped between
    /// sending the command and reading the whole answer), or the connection broke, or a
    /// dropped transaction's ROLLBACK found it so. mysql_async marks a connection
    /// "disconnected" when an exchange starts and clears the mark only when the exchange
    /// completes, so a mark still set before the next request means the server's answer
    /// (or part of it) is still to be read: the next request would take it for its own,
    /// and a reset would read it as the ROLLBACK's. There is no way to skip to the end of
    /// an answer whose length is unknown, so such a connection is closed, never reused.
    /// (Rows of a result set left unread are not this case: mysql_async records that
    /// result as pending and reads it to its end before the next command.) Call after
    /// [`Self::settle`].
    pub(crate) fn out_of_step(&self) -> bool {
        self.conn.as_ref().is_none_or(|c| c.is_disconnected())
    }

    /// The connection, once anything a dropped transaction left running has finished;
    /// a connection [`out_of_step`](Self::out_of_step) is closed instead.
    async fn ready(&mut self) -> Result<&mut Conn> {
        self.settle().await;
        if self.out_of_step() {
            // Dropped without a COM_QUIT: the server ends the session (and rolls back its
            // transaction) when the socket closes.
            self.conn = None;
        }
        match self.conn.as_mut() {
            Some(c) => Ok(c),
            None => Err(Error::ConnectionLost {
                reason: "this MySQL connection was closed: a request abandoned in flight \
                         left it out of step with the server, or the ROLLBACK of a dropped \
                         transaction failed on it"
                    .into(),
                source: "connection closed after an abandoned request or a failed ROLLBACK".into(),
            }),
        }
    }

    /// Starts `sql` (a ROLLBACK) at once in a task that owns the connection until it is
    /// answered, so a dropped transaction holds no row locks while the connection sits in
    /// the pool; the next request waits for it. False outside a tokio runtime.
    pub(crate) fn rollback_now(&mut self, sql: String) -> bool {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let previous = self.pending.take();
        let conn = self.conn.take();
        self.pending = Some(rt.spawn(async move {
            let mut conn = match previous {
                Some(task) => task.await.ok().flatten(),
                None => conn,
            };
            let c = conn.as_mut()?;
            if c.is_disconnected() {
                // The transaction was dropped with a request in the middle of its exchange
                // (see `out_of_step`): the ROLLBACK would read that request's answer as its
                // own and leave its own answer for the next request. Closing the socket
                // rolls the transaction back on the server instead.
                return None;
            }
            if let Err(e) = c.query_drop(sql).await {
                tracing::warn!(target: "oxalchemy::engine", error = %e, "rollback of a dropped transaction failed");
                return None;
            }
            conn
        }));
        true
    }

    /// `LAST_INSERT_ID()` of the last INSERT on this connection.
    fn last_insert_id(&self) -> Option<u64> {
        self.conn.as_ref().and_then(|c| c.last_insert_id())
    }

    /// Runs a statement; the rows it changed (matched, for an UPDATE), or for a statement
    /// that returns rows, how many it returned.
    pub(crate) async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        match self.execute_inner(sql, binds).await {
            Err(e) => Err(self.explain_unique(sql, e).await),
            ok => ok,
        }
    }

    async fn execute_inner(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        let params = bind::params(binds)?;
        let mut result = self
            .ready()
            .await?
            .exec_iter(sql, params)
            .await
            .map_err(map_error)?;
        if result.columns_ref().is_empty() {
            let n = result.affected_rows();
            result.drop_result().await.map_err(map_error)?;
            return Ok(n);
        }
        let mut n = 0u64;
        while result.next().await.map_err(map_error)?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    pub(crate) async fn query<T: FromRow>(&mut self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        self.query_map(sql, binds, &mut |row: &Row<'_>| T::from_row(row))
            .await
    }

    /// Runs a query and turns each row into a `T` with `f`, as the rows arrive. A row `f`
    /// refuses stops the read; the rest of the result is drained so the connection stays
    /// usable.
    pub(crate) async fn query_map<T>(
        &mut self,
        sql: &str,
        binds: &[Value],
        f: &mut (impl FnMut(&Row<'_>) -> Result<T> + ?Sized),
    ) -> Result<Vec<T>> {
        match self.query_map_inner(sql, binds, f).await {
            Err(e) => Err(self.explain_unique(sql, e).await),
            ok => ok,
        }
    }

    async fn query_map_inner<T>(
        &mut self,
        sql: &str,
        binds: &[Value],
        f: &mut (impl FnMut(&Row<'_>) -> Result<T> + ?Sized),
    ) -> Result<Vec<T>> {
        let params = bind::params(binds)?;
        let mut result = self
            .ready()
            .await?
            .exec_iter(sql, params)
            .await
            .map_err(map_error)?;
        let mut out = Vec::new();
        while let Some(row) = result.next().await.map_err(map_error)? {
            // Decoded before any await: a `Row` (which may borrow a SQLite row) is not `Send`.
            let step = f(&Row::mysql(&row));
            match step {
                Ok(v) => out.push(v),
                Err(e) => {
                    let _ = result.drop_result().await;
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// Streams a query's rows to `f` in batches of `batch`, decoding each as it arrives.
    pub(crate) async fn query_batches<T>(
        &mut self,
        sql: &str,
        binds: &[Value],
        batch: usize,
        decode: &mut (impl FnMut(&Row<'_>) -> Result<T> + ?Sized),
        f: &mut (impl FnMut(Vec<T>) -> Result<()> + ?Sized),
    ) -> Result<u64> {
        let params = bind::params(binds)?;
        let mut result = self
            .ready()
            .await?
            .exec_iter(sql, params)
            .await
            .map_err(map_error)?;
        let mut buf = Vec::with_capacity(batch);
        let mut n = 0u64;
        loop {
            let row = match result.next().await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => return Err(map_error(e)),
            };
            n += 1;
            let step = decode(&Row::mysql(&row)).and_then(|v| {
                buf.push(v);
                if buf.len() >= batch {
                    f(std::mem::replace(&mut buf, Vec::with_capacity(batch)))
                } else {
                    Ok(())
                }
            });
            if let Err(e) = step {
                let _ = result.drop_result().await;
                return Err(e);
            }
        }
        if !buf.is_empty() {
            f(buf)?;
        }
        Ok(n)
    }

    /// Completes a unique violation with its table and columns: MySQL's message names only
    /// the key (`for key 'uq_users_email'`), so they are read from `information_schema`
    /// (one query, only after the failure; the table is the statement's own when the
    /// message does not say). Any other error is returned as it is.
    async fn explain_unique(&mut self, sql: &str, e: Error) -> Error {
        use crate::error::IntegrityError;
        let Error::Integrity(IntegrityError::UniqueViolation {
            constraint: Some(key),
            table,
            columns,
            message,
        }) = e
        else {
            return e;
        };
        let table = table.or_else(|| errors::statement_table(sql));
        let mut lookup = "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = ?"
            .to_owned();
        let mut binds = vec![Value::Text(key.clone())];
        if let Some(t) = &table {
            lookup.push_str(" AND TABLE_NAME = ?");
            binds.push(Value::Text(t.clone()));
        }
        lookup.push_str(" ORDER BY TABLE_NAME, SEQ_IN_INDEX");
        let found: Result<Vec<(String, String)>> = self
            .query_map_inner(&lookup, &binds, &mut |r: &Row<'_>| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?))
            })
            .await;
        let (table, columns) = match found {
            Ok(rows) if !rows.is_empty() && rows.iter().all(|(t, _)| *t == rows[0].0) => (
                Some(rows[0].0.clone()),
                rows.into_iter().map(|(_, c)| c).collect(),
            ),
            _ => (table, columns),
        };
        Error::Integrity(IntegrityError::UniqueViolation {
            constraint: Some(key),
            table,
            columns,
            message,
        })
    }

    /// Runs SQL text without binds (transaction control; several statements may be `;`
    /// separated).
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        self.ready().await?.query_drop(sql).await.map_err(map_error)
    }

    pub(crate) async fn ping(&mut self) -> Result<()> {
        self.ready().await?.ping().await.map_err(map_error)
    }

    /// Whether one multi-row INSERT's AUTO_INCREMENT values are consecutive, so its keys can
    /// be told from `LAST_INSERT_ID()` (the first row's) and the row count: when
    /// `innodb_autoinc_lock_mode` is 0 ("traditional") or 1 ("consecutive", MariaDB's and
    /// MySQL 5.7's default), as read when the connection opened. Under mode 2
    /// ("interleaved", MySQL 8's default) a concurrent INSERT may take values in between, so
    /// rows whose keys must be read back are inserted one per statement.
    pub(crate) fn consecutive_autoinc(&self) -> bool {
        self.autoinc_lock_mode <= 1
    }

    /// Runs an INSERT into a table with an AUTO_INCREMENT key and returns the keys it
    /// generated, from `LAST_INSERT_ID()` (the first row's) and the row count: this server
    /// has no RETURNING (MySQL; MariaDB before 10.5; `returning=off`). One row is always
    /// safe; several only where [`Self::consecutive_autoinc`] holds (the callers send rows
    /// one by one otherwise, and several rows under lock mode 2 are refused here rather
    /// than given keys that might be wrong). The values step by `auto_increment_increment`.
    pub(crate) async fn insert_returning_ids(
        &mut self,
        sql: &str,
        binds: &[Value],
        table: &str,
        rows: usize,
    ) -> Result<Vec<i64>> {
        if rows > 1 && !self.consecutive_autoinc() {
            return Err(Error::Mapping {
                message: format!(
                    "cannot read the keys of a {rows}-row INSERT into {table}: this MySQL server \
                     has innodb_autoinc_lock_mode = {} (interleaved), under which one INSERT's \
                     AUTO_INCREMENT values need not be consecutive and MySQL has no RETURNING; \
                     insert such rows one per statement (the session does), or set \
                     innodb_autoinc_lock_mode = 1 in the server's configuration",
                    self.autoinc_lock_mode
                ),
            });
        }
        let changed = self.execute(sql, binds).await?;
        let first = self.last_insert_id().unwrap_or(0) as i64;
        if changed != rows as u64 || first < 1 {
            return Err(Error::InsertRowCount {
                table: table.to_owned(),
                sent: rows,
                returned: usize::try_from(changed).unwrap_or(usize::MAX),
            });
        }
        let step = self.autoinc_increment.max(1);
        Ok((0..rows as i64).map(|i| first + i * step).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::mariadb_has_returning;

    #[test]
    fn mariadb_returning_from_10_5() {
        assert!(mariadb_has_returning("10.11.6-MariaDB-0+deb12u1"));
        assert!(mariadb_has_returning("10.5.0-MariaDB"));
        assert!(mariadb_has_returning("5.5.5-10.6.12-MariaDB-log"));
        assert!(mariadb_has_returning("11.4.2-MariaDB"));
        assert!(!mariadb_has_returning("10.4.32-MariaDB"));
        assert!(!mariadb_has_returning("5.5.5-10.3.39-MariaDB"));
    }
}
