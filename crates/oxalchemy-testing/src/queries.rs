//! Query-count assertions (django's `assertNumQueries`) and the N+1 detector, over any
//! statement log — a [`Session`]'s own, which records every statement it runs.
//!
//! The macros read the log before and after the block, so the block may use the session
//! mutably and `.await` freely; the checks themselves are plain functions
//! ([`check_count`], [`check_repeats`]) that return the failure message.

use std::collections::HashMap;
use std::fmt::Write;

use oxalchemy_orm::Session;

/// Something that records the SQL statements it runs, in order: what
/// [`assert_queries!`](crate::assert_queries) counts.
pub trait StatementLog {
    /// Every statement recorded so far, oldest first (SQL with placeholders, so the same
    /// statement with other bind values has the same text).
    fn statement_log(&self) -> &[String];
}

impl StatementLog for Session {
    fn statement_log(&self) -> &[String] {
        self.statements()
    }
}

impl<T: StatementLog + ?Sized> StatementLog for &T {
    fn statement_log(&self) -> &[String] {
        (**self).statement_log()
    }
}

impl<T: StatementLog + ?Sized> StatementLog for &mut T {
    fn statement_log(&self) -> &[String] {
        (**self).statement_log()
    }
}

/// Asserts how many statements a block runs, listing them when the count differs; or, with
/// `repeats <= N`, that no statement shape (its SQL text, binds as placeholders) runs more
/// than `N` times — the N+1 signature of loading a relationship one object at a time.
/// Evaluates to the block's value.
///
/// Every statement the session sends counts, `COMMIT` and `SAVEPOINT`s included.
///
/// ```no_run
/// # async fn demo(s: &mut oxalchemy_orm::Session) -> Result<(), oxalchemy_engine::Error> {
/// use oxalchemy_testing::assert_queries;
/// // Exactly two statements: the users, then all their posts in one SELECT … IN.
/// let users = assert_queries!(s, 2, { s.select::<(i64,)>(oxalchemy::text("SELECT 1")).await? });
/// // No statement more than once, however many rows the loop walks.
/// assert_queries!(s, repeats <= 1, {
///     for _ in &users {
///         s.select::<(i64,)>(oxalchemy::text("SELECT 2")).await?;
///     }
/// });
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! assert_queries {
    ($log:expr, repeats <= $max:expr, $body:block) => {{
        let __oxalchemy_before = $crate::StatementLog::statement_log(&$log).len();
        let __oxalchemy_value = $body;
        let __oxalchemy_log = $crate::StatementLog::statement_log(&$log);
        let __oxalchemy_ran = __oxalchemy_log
            .get(__oxalchemy_before..)
            .unwrap_or(__oxalchemy_log);
        if let Err(message) = $crate::check_repeats(__oxalchemy_ran, $max) {
            panic!("{message}");
        }
        __oxalchemy_value
    }};
    ($log:expr, $expected:expr, $body:block) => {{
        let __oxalchemy_before = $crate::StatementLog::statement_log(&$log).len();
        let __oxalchemy_value = $body;
        let __oxalchemy_log = $crate::StatementLog::statement_log(&$log);
        let __oxalchemy_ran = __oxalchemy_log
            .get(__oxalchemy_before..)
            .unwrap_or(__oxalchemy_log);
        if let Err(message) = $crate::check_count(__oxalchemy_ran, $expected) {
            panic!("{message}");
        }
        __oxalchemy_value
    }};
}

/// `Ok` when `ran` holds exactly `expected` statements; otherwise the failure message,
/// which lists them.
pub fn check_count(ran: &[String], expected: usize) -> Result<(), String> {
    if ran.len() == expected {
        return Ok(());
    }
    Err(format!(
        "expected {expected} statement(s), the block ran {}:\n{}",
        ran.len(),
        numbered(ran)
    ))
}

/// `Ok` when no statement text occurs more than `max` times in `ran`; otherwise the failure
/// message, naming each repeated statement with its count, then listing all of them.
pub fn check_repeats(ran: &[String], max: usize) -> Result<(), String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for sql in ran {
        *counts.entry(sql.as_str()).or_default() += 1;
    }
    // In order of first appearance, so the message reads like the log.
    let mut repeated: Vec<(&str, usize)> = Vec::new();
    for sql in ran {
        let n = counts[sql.as_str()];
        if n > max && !repeated.iter().any(|(s, _)| *s == sql) {
            repeated.push((sql, n));
        }
    }
    if repeated.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "the same statement ran more than {max} time(s) in the block — the N+1 signature; \
         load the relationship for all rows at once (selectinload / joinedload):\n"
    );
    for (sql, n) in &repeated {
        let _ = writeln!(message, "  {n}x {sql}");
    }
    let _ = write!(
        message,
        "all {} statement(s):\n{}",
        ran.len(),
        numbered(ran)
    );
    Err(message)
}

/// `  1. SQL` lines, one per statement.
fn numbered(ran: &[String]) -> String {
    let mut out = String::new();
    for (i, sql) in ran.iter().enumerate() {
        let _ = writeln!(out, "  {}. {sql}", i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(sqls: &[&str]) -> Vec<String> {
        sqls.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn count_mismatch_lists_the_statements() {
        let ran = log(&["SELECT a", "SELECT b"]);
        assert_eq!(check_count(&ran, 2), Ok(()));
        let message = check_count(&ran, 1).unwrap_err();
        assert!(
            message.starts_with("expected 1 statement(s), the block ran 2"),
            "{message}"
        );
        assert!(
            message.contains("  1. SELECT a\n  2. SELECT b"),
            "{message}"
        );
    }

    #[test]
    fn repeats_over_the_limit_are_named_with_their_count() {
        let ran = log(&[
            "SELECT u",
            "SELECT p WHERE id = $1",
            "SELECT p WHERE id = $1",
        ]);
        assert_eq!(check_repeats(&ran, 2), Ok(()));
        let message = check_repeats(&ran, 1).unwrap_err();
        assert!(message.contains("N+1"), "{message}");
        assert!(
            message.contains("  2x SELECT p WHERE id = $1\n"),
            "{message}"
        );
        assert!(!message.contains("x SELECT u"), "{message}");
        assert!(message.contains("  1. SELECT u"), "{message}");
    }
}
