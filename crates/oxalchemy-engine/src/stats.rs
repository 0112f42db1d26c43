//! Counters a connection keeps about the statements it ran, for tests and diagnostics that
//! must prove work is not repeated (a cached statement recompiled on every call).

/// What a connection's statement cache has done so far; see
/// [`Connection::statement_stats`](crate::Connection::statement_stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatementStats {
    /// Times SQLite recompiled an already prepared statement before running it: after a
    /// schema change, or because a bound value the planner had looked at was bound again
    /// (SQLite's `SQLITE_STMTSTATUS_REPREPARE`). Always 0 on PostgreSQL, which re-plans a
    /// prepared statement on the server without preparing it again.
    pub reprepares: u64,
}
