//! [`MigrateError`]: everything that can go wrong planning or running migrations, in one enum
//! so a `migrate` binary has one type to report.

use oxalchemy_engine::Error as EngineError;

use crate::ops::OpError;

/// Everything that can go wrong planning or running migrations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// No revision has this id, and no revision id starts with it.
    #[error("unknown revision `{0}`; `history` lists them")]
    UnknownRevision(String),
    /// The prefix matches more than one revision id.
    #[error("revision prefix `{prefix}` is ambiguous: {candidates:?}; type more of the id")]
    AmbiguousRevision {
        /// What was typed.
        prefix: String,
        /// The revision ids it matches.
        candidates: Vec<String>,
    },
    /// A migration names a down revision that is not in the migrations list.
    #[error(
        "revision `{revision}` names down revision `{parent}`, which does not exist; add \
         the missing migration to the list or fix `down_revisions`"
    )]
    MissingParent {
        /// The migration naming the parent.
        revision: String,
        /// The parent that is missing.
        parent: String,
    },
    /// Following down revisions leads back to where it started.
    #[error(
        "the revision graph has a cycle through `{0}`; fix the `down_revisions` of the \
         migrations in it"
    )]
    Cycle(String),
    /// The target `head` (or a new revision) needs one head, and there are several.
    #[error("there are several heads {0:?}; name one, or create a merge revision with `merge`")]
    MultipleHeads(Vec<String>),
    /// An applied migration's operations changed since it was applied (the checksum recorded
    /// in the version table differs).
    #[error(
        "migration `{0}` was edited after it was applied (its checksum changed); write a new \
         migration instead of editing an applied one"
    )]
    Edited(String),
    /// The version table records a revision the migrations list does not have.
    #[error(
        "the database has revision `{0}` applied, which this project does not know; is the \
         database ahead of this code?"
    )]
    UnknownApplied(String),
    /// A relative target (`+N`, `-N`) is not a number, or moves past the first or last
    /// revision.
    #[error(
        "cannot move {0} steps from the current revision; `current` and `history` show \
         where the database is"
    )]
    BadRelative(String),
    /// SQLite's `PRAGMA foreign_key_check` found rows violating a foreign key after a
    /// migration (which was rolled back).
    #[error(
        "foreign key check failed after migration `{revision}` (rolled back): {problems}; \
         fix the rows or the migration"
    )]
    ForeignKeyCheck {
        /// The migration that was rolled back.
        revision: String,
        /// The violations, as `(table, rowid, parent, fk id)` rows.
        problems: String,
    },
    /// Another run held the PostgreSQL migration lock for longer than the runner's
    /// [`lock_timeout`](crate::migration::Runner::lock_timeout).
    #[error(
        "another migration run holds the migration lock (waited {waited:?}): held by \
         {holders}; wait for that run to finish and retry, or end that session with \
         SELECT pg_terminate_backend(pid)"
    )]
    MigrationLocked {
        /// How long the runner waited.
        waited: std::time::Duration,
        /// The sessions holding the lock: pid, application name, client address and since
        /// when.
        holders: String,
    },
    /// Reading a table no migration created from the database (to run an operation on
    /// it) failed.
    #[error(
        "could not read table `{table}` from the database (no migration created it, so the \
         runner reflects it before altering it): {source}"
    )]
    Reflect {
        /// The table being read.
        table: String,
        /// Why reflection failed.
        #[source]
        source: Box<crate::reflect::ReflectError>,
    },
    /// A statement of a migration waited longer than the runner's
    /// [`table_lock_timeout`](crate::migration::Runner::table_lock_timeout) for a lock on a
    /// table (PostgreSQL `lock_timeout`, SQLSTATE 55P03). The migration was rolled back
    /// rather than block the queries queued behind its lock request.
    #[error(
        "migration `{revision}` gave up after waiting {waited:?} for a lock on table `{}` \
         (PostgreSQL lock_timeout) instead of blocking the queries queued behind it; \
         nothing of it was kept. The lock is held by {holders}. Retry when those \
         transactions end (or end them with SELECT pg_terminate_backend(pid)), or raise \
         Runner::table_lock_timeout",
        .table.as_deref().unwrap_or("(raw SQL)")
    )]
    TableLocked {
        /// The migration that was rolled back.
        revision: String,
        /// The table of the operation that waited (`None` for raw SQL).
        table: Option<String>,
        /// The lock timeout that ran out.
        waited: std::time::Duration,
        /// The other sessions holding locks on the table: pid, application name, lock
        /// mode, state, since when and their current query.
        holders: String,
        /// The database's error.
        #[source]
        source: Box<EngineError>,
    },
    /// A statement of a migration ran longer than the runner's
    /// [`statement_timeout`](crate::migration::Runner::statement_timeout) (SQLSTATE 57014).
    #[error(
        "a statement of migration `{revision}` on `{}` ran longer than statement_timeout \
         ({limit:?}) and was cancelled; nothing of the migration was kept. Raise \
         Runner::statement_timeout, or split the slow work out (an index can be built \
         with .concurrently())",
        .table.as_deref().unwrap_or("(raw SQL)")
    )]
    StatementTimeout {
        /// The migration that was rolled back.
        revision: String,
        /// The table of the operation that was cancelled (`None` for raw SQL).
        table: Option<String>,
        /// The statement timeout that ran out.
        limit: std::time::Duration,
        /// The database's error.
        #[source]
        source: Box<EngineError>,
    },
    /// `CREATE INDEX CONCURRENTLY` failed. It ran outside the migration's transaction, so
    /// the operations before it stayed applied, and PostgreSQL may have left an invalid
    /// index behind.
    #[error(
        "building index `{index}` concurrently in migration `{revision}` failed: {source}. \
         The migration's operations before it stayed applied (a concurrent build runs \
         outside its transaction) and the migration is not recorded; drop the invalid \
         index (DROP INDEX CONCURRENTLY IF EXISTS \"{index}\"), undo or finish those \
         operations, then run the migration again"
    )]
    ConcurrentIndex {
        /// The migration.
        revision: String,
        /// The index being built.
        index: String,
        /// The database's error.
        #[source]
        source: Box<EngineError>,
    },
    /// [`Ops::concurrently`](crate::ops::Ops::concurrently) follows an operation other
    /// than `create_index`.
    #[error(
        "migration `{revision}` marks operation #{op} concurrently(), but only \
         create_index can run concurrently; remove .concurrently() from it"
    )]
    NotConcurrent {
        /// The migration.
        revision: String,
        /// The operation's index in its migration direction.
        op: usize,
    },
    /// A migration adds a NOT NULL column without a server default to a table that may
    /// have rows (see [`crate::lint::refused_not_null`]); refused before anything runs.
    #[error(
        "migration `{revision}` adds NOT NULL column `{table}.{column}` without a server \
         default, which fails on a table with rows; nothing was run. Give the column a \
         server_default, or add it nullable, fill it (ops.execute / ops.run), then \
         alter_column it to nullable: Some(false); if the table is always empty, accept it \
         with ops.allow(\"not-null-without-default\") after the add_column"
    )]
    NotNullWithoutDefault {
        /// The migration.
        revision: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A lint the runner was told to deny ([`Runner::deny`](super::Runner::deny)) was found
    /// in a migration that does not allow it; refused before anything runs.
    #[error(
        "migration `{revision}`: {lint}; nothing was run. Change the migration as the lint \
         says, or accept the risk in that migration with ops.allow(\"{}\")",
        lint.code
    )]
    LintDenied {
        /// The migration.
        revision: String,
        /// The finding.
        lint: Box<crate::lint::Lint>,
    },
    /// A migration failed part way on MySQL / MariaDB, where every DDL statement commits on
    /// its own: the operations in `ran` are applied and recorded in
    /// `oxalchemy_migration_progress`, `failed` is not, `not_run` did not run.
    #[error(
        "migration `{revision}` ({direction}) failed at operation {failed}: {source}. \
         MySQL/MariaDB commit each DDL statement on its own, so the operations before it \
         stay applied: ran {ran:?}; not run {not_run:?}. To resume, fix the cause and run \
         again: the recorded operations are skipped and the run continues at {failed}. To \
         undo instead, reverse the operations that ran by hand (last first), then call \
         `Runner::forget_progress` for `{revision}` (or delete its rows from \
         oxalchemy_migration_progress)"
    )]
    PartiallyApplied {
        /// The migration.
        revision: String,
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// The operations that ran and are committed, as `#i what`, in order.
        ran: Vec<String>,
        /// The operation that failed, as `#i what`.
        failed: String,
        /// The operations after it, which did not run.
        not_run: Vec<String>,
        /// Why the operation failed.
        source: Box<MigrateError>,
    },
    /// `oxalchemy_migration_progress` records operations of a migration from another
    /// direction or another version of its operations: it cannot be resumed.
    #[error(
        "migration `{revision}` has recorded progress from an earlier failed run \
         ({recorded}) that does not match what would run now (another direction, or the \
         migration was edited); finish or undo those operations by hand, then call \
         `Runner::forget_progress` for `{revision}`"
    )]
    PartialProgress {
        /// The migration.
        revision: String,
        /// What is recorded.
        recorded: String,
    },
    /// An operation cannot be planned or rendered at its point of the history.
    #[error(transparent)]
    Op(#[from] OpError),
    /// The database failed (connecting, or running a migration's statements).
    #[error(transparent)]
    Engine(#[from] EngineError),
}
