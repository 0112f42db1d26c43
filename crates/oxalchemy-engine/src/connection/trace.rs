//! What a statement leaves behind for observability: a `tracing` span per statement with
//! OpenTelemetry's database fields, the `echo` log (printed to stderr when no subscriber is
//! installed, like SQLAlchemy's echo), and a WARN for statements slower than
//! `slow_query_threshold`.
//!
//! The span is `oxalchemy.statement` on target `oxalchemy::sql`, at INFO: `db.system`,
//! `db.statement` (the SQL, bind values never in it), `db.operation` (`SELECT` …),
//! `db.sql.table`, `otel.name` (`SELECT users`), `otel.kind`, and, once answered, `db.rows`,
//! `db.duration_us`, `db.pool.wait_us` (for the first statement after a checkout), and
//! `otel.status_code` / `error.message` on failure. Bind values go in `db.params` only with
//! [`trace_parameters`](crate::ConnectOptions::trace_parameters). With no subscriber
//! interested the span is disabled and costs a callsite check; the clock is read only when a
//! span is live or a slow-query threshold is set.

use std::time::{Duration, Instant};

use tracing::field::Empty;
use tracing::Span;

use super::Connection;
use crate::error::Error;
use oxalchemy_core::{Compiled, Value};

/// One statement's span and timer, finished with its result.
pub(super) struct StatementTrace {
    span: Span,
    start: Option<Instant>,
    slow: Option<Duration>,
    #[cfg(feature = "metrics")]
    shared: std::sync::Arc<crate::database::Shared>,
}

impl Connection {
    /// Opens the statement's span, and logs it (`echo`).
    pub(super) fn trace(&mut self, c: &Compiled) -> StatementTrace {
        self.trace_parts(&c.sql, &c.binds)
    }

    /// [`Self::trace`] for a statement given as its SQL and binds.
    pub(super) fn trace_parts(&mut self, sql: &str, binds: &[Value]) -> StatementTrace {
        self.echo(sql, binds);
        let s = &self.shared;
        let span = match &self.tx_span {
            Some(tx) if Span::current().is_none() => statement_span(Some(tx), s.dialect.name()),
            _ => statement_span(None, s.dialect.name()),
        };
        if !span.is_disabled() {
            let (operation, table) = operation_and_table(sql);
            span.record("db.statement", sql);
            span.record("db.operation", operation);
            if let Some(table) = table {
                span.record("db.sql.table", table);
                span.record("otel.name", format!("{operation} {table}"));
            } else {
                span.record("otel.name", operation);
            }
            if s.trace_parameters && !s.hide_parameters {
                span.record("db.params", format!("{binds:?}"));
            }
            if let Some(wait) = self.pool_wait_us.take() {
                span.record("db.pool.wait_us", wait);
            }
        }
        let slow = s.slow_query_threshold;
        let start = (!span.is_disabled() || slow.is_some()).then(Instant::now);
        StatementTrace {
            span,
            start,
            slow,
            #[cfg(feature = "metrics")]
            shared: self.shared.clone(),
        }
    }

    /// Whether a statement run now would leave nothing behind: no `echo`, no slow-query
    /// threshold, no metrics, and neither its span nor its log line enabled for any
    /// subscriber. Many runs of one statement then skip making a trace for each.
    pub(super) fn untraced(&self) -> bool {
        use tracing::{metadata::Kind, Level};
        let s = &self.shared;
        !cfg!(feature = "metrics")
            && !s.echo
            && s.slow_query_threshold.is_none()
            && !tracing::enabled!(kind: Kind::SPAN, target: "oxalchemy::sql", Level::INFO)
            && !tracing::enabled!(target: "oxalchemy::sql", Level::DEBUG)
    }

    /// The statement log: INFO with `echo`, else DEBUG, on target `oxalchemy::sql`; with
    /// `echo` and no subscriber installed, printed to stderr instead. Bind values are logged
    /// when asked for: with `echo` (as SQLAlchemy's) or `trace_parameters`, never with
    /// `hide_parameters`.
    fn echo(&self, sql: &str, binds: &[Value]) {
        let s = &self.shared;
        if s.echo && no_subscriber() {
            if s.hide_parameters {
                eprintln!("oxalchemy.sql: {sql}");
            } else {
                eprintln!(
                    "oxalchemy.sql: {}\noxalchemy.sql: [parameters] {:?}",
                    sql, binds
                );
            }
            return;
        }
        let params = !s.hide_parameters && (s.echo || s.trace_parameters);
        match (s.echo, params) {
            (true, false) => tracing::info!(target: "oxalchemy::sql", sql = %sql),
            (true, true) => {
                tracing::info!(target: "oxalchemy::sql", sql = %sql, params = ?binds)
            }
            (false, false) => tracing::debug!(target: "oxalchemy::sql", sql = %sql),
            (false, true) => {
                tracing::debug!(target: "oxalchemy::sql", sql = %sql, params = ?binds)
            }
        }
    }
}

impl StatementTrace {
    /// Records the outcome: rows, duration, error; and the slow-query WARN.
    pub(super) fn finish(self, outcome: Result<u64, &Error>, sql: &str) {
        #[cfg(feature = "metrics")]
        crate::database::pool_metrics::statement(&self.shared, outcome.is_ok());
        let Some(start) = self.start else { return };
        let elapsed = start.elapsed();
        if !self.span.is_disabled() {
            self.span
                .record("db.duration_us", elapsed.as_micros() as u64);
            match outcome {
                Ok(rows) => {
                    self.span.record("db.rows", rows);
                }
                Err(e) => {
                    self.span.record("otel.status_code", "ERROR");
                    self.span.record("error.message", e.to_string());
                }
            }
        }
        if let Some(threshold) = self.slow {
            if elapsed >= threshold {
                tracing::warn!(
                    target: "oxalchemy::sql::slow",
                    parent: &self.span,
                    duration_ms = elapsed.as_secs_f64() * 1000.0,
                    threshold_ms = threshold.as_secs_f64() * 1000.0,
                    sql,
                    "slow statement"
                );
            }
        }
    }
}

/// OpenTelemetry's `db.system` for a dialect name.
pub(crate) fn db_system(dialect: &str) -> &str {
    match dialect {
        "postgresql" | "postgres" => "postgresql",
        other => other,
    }
}

fn statement_span(parent: Option<&Span>, system: &str) -> Span {
    let system = db_system(system);
    macro_rules! span {
        ($($parent:tt)*) => {
            tracing::info_span!(
                target: "oxalchemy::sql",
                $($parent)*
                "oxalchemy.statement",
                "db.system" = system,
                "db.statement" = Empty,
                "db.operation" = Empty,
                "db.sql.table" = Empty,
                "db.params" = Empty,
                "db.rows" = Empty,
                "db.duration_us" = Empty,
                "db.pool.wait_us" = Empty,
                "otel.name" = Empty,
                "otel.kind" = "client",
                "otel.status_code" = Empty,
                "error.message" = Empty,
            )
        };
    }
    match parent {
        Some(parent) => span!(parent: parent,),
        None => span!(),
    }
}

/// Whether no subscriber is installed (globally or for this thread), so `echo` prints.
fn no_subscriber() -> bool {
    tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>())
}

/// `SELECT` and `users` from `SELECT … FROM "users" …`: the first keyword, and the first
/// name after FROM / INTO / UPDATE / TABLE, unquoted.
pub(crate) fn operation_and_table(sql: &str) -> (&str, Option<&str>) {
    let mut words = sql.split_whitespace();
    let operation = words.next().unwrap_or("");
    let operation = if operation.eq_ignore_ascii_case("select") {
        "SELECT"
    } else if operation.eq_ignore_ascii_case("insert") {
        "INSERT"
    } else if operation.eq_ignore_ascii_case("update") {
        "UPDATE"
    } else if operation.eq_ignore_ascii_case("delete") {
        "DELETE"
    } else {
        operation
    };
    if operation == "UPDATE" {
        return (operation, words.next().map(unquote));
    }
    let mut prev = "";
    for w in words {
        if ["FROM", "INTO", "TABLE"]
            .iter()
            .any(|k| prev.eq_ignore_ascii_case(k))
            && !w.starts_with('(')
        {
            return (operation, Some(unquote(w)));
        }
        prev = w;
    }
    (operation, None)
}

fn unquote(name: &str) -> &str {
    let name = name.trim_end_matches([',', ';', ')']);
    let name = name.rsplit('.').next().unwrap_or(name);
    name.trim_matches(|c| c == '"' || c == '`')
}

#[cfg(test)]
mod tests {
    use super::operation_and_table;

    #[test]
    fn operation_and_table_from_sql() {
        assert_eq!(
            operation_and_table("SELECT \"users\".\"id\" FROM \"users\" WHERE x = $1"),
            ("SELECT", Some("users"))
        );
        assert_eq!(
            operation_and_table("INSERT INTO \"app\".\"posts\" (a) VALUES (?)"),
            ("INSERT", Some("posts"))
        );
        assert_eq!(
            operation_and_table("update \"t\" SET a = 1"),
            ("UPDATE", Some("t"))
        );
        assert_eq!(operation_and_table("BEGIN"), ("BEGIN", None));
    }
}
