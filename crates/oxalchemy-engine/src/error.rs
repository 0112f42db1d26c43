//! The engine's errors: [`Error`], one enum for everything a database call can fail with, and
//! the typed details some variants carry ([`IntegrityError`], [`ValidationError`]).
//!
//! Errors are typed so that a caller decides by variant, never by parsing text: retry on
//! [`Error::Serialization`], show a form error on [`Error::Integrity`], fix the program on
//! [`Error::Mapping`]. Where a driver (tokio-postgres, rusqlite) or the operating system
//! reported the failure, its error is kept as the variant's [`source`](std::error::Error::source);
//! every `Display` says what happened and, where it can, what to do.

use std::error::Error as StdError;
use std::time::Duration;

pub use oxalchemy_core::CompileError;

/// A driver's or the operating system's error, kept as the `source()` of an [`Error`].
pub type BoxDynError = Box<dyn StdError + Send + Sync + 'static>;

/// A shorthand for results whose error is the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the engine can fail with.
///
/// Match on the variant to decide what to do; the `Display` text is for people. New variants
/// may be added, so a `match` needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL could not be understood (unknown scheme, missing path, malformed
    /// PostgreSQL URL). Nothing was connected.
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given, with its password replaced by `***`.
        url: String,
        /// What is wrong and which forms are accepted.
        reason: String,
        /// The parser's own error, when there is one.
        #[source]
        source: Option<BoxDynError>,
    },
    /// The URL carries a query parameter no reader of it knows (a misspelling, or a
    /// parameter of another driver). Nothing was connected.
    #[error(
        "invalid database URL `{url}`: unknown parameter `{parameter}`; this URL accepts {}",
        supported.join(", ")
    )]
    UnknownUrlParameter {
        /// The URL as given, with its password replaced by `***`.
        url: String,
        /// The parameter's name as written (percent-decoded).
        parameter: String,
        /// The parameters this kind of URL accepts.
        supported: &'static [&'static str],
    },
    /// A prepared statement this connection made is missing on the server (or another one
    /// has its name): a connection pooler in transaction mode (PgBouncer's `pool_mode =
    /// transaction`) sent the request to a different server connection than the one that
    /// prepared it. The statement did not run.
    #[error(
        "{message}: a connection pooler in transaction mode (PgBouncer) sent this request to \
         another server connection than the one that prepared the statement; add \
         statement_cache_size=0 to the database URL (unnamed statements only), or use \
         PgBouncer 1.21 or later with max_prepared_statements set, or connect directly"
    )]
    PreparedStatementMissing {
        /// The server's message (`prepared statement "s3" does not exist`).
        message: String,
        /// The driver's error.
        #[source]
        source: BoxDynError,
    },
    /// An option was given a value it cannot take (`pool_size(0)`, an unknown URL parameter).
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option's name as the user spells it (`pool_size`).
        option: &'static str,
        /// Why the value was refused and which values are accepted.
        reason: String,
    },
    /// A new connection could not be opened: the server refused or dropped it, rejected the
    /// login (unknown role, wrong password, missing database), or the SQLite file could not
    /// be opened. `reason` is the server's or operating system's own explanation.
    #[error("could not connect to {url}: {reason}")]
    Connect {
        /// The URL, with its password replaced by `***`.
        url: String,
        /// The cause as the server or the operating system put it.
        reason: String,
        /// The driver's error (a PostgreSQL error response, an I/O error, a SQLite error).
        #[source]
        source: Option<BoxDynError>,
    },
    /// An open connection broke (the server closed it, the network failed) while it was in
    /// use. Anything not committed is lost; the pool opens a new connection next time.
    #[error(
        "connection to the database was lost: {reason}; the pool replaces it on next checkout"
    )]
    ConnectionLost {
        /// The cause as the driver reported it.
        reason: String,
        /// The driver's error.
        #[source]
        source: BoxDynError,
    },
    /// No pooled connection became free within `pool_timeout`.
    #[error(
        "timed out after {waited:?} waiting for a pooled connection (pool_size {pool_size}, \
         max_overflow {max_overflow}); return connections sooner (drop transactions and \
         connections when done) or raise pool_size, max_overflow or pool_timeout"
    )]
    PoolTimeout {
        /// How long the caller waited (the pool's `pool_timeout`).
        waited: Duration,
        /// The pool's `pool_size`.
        pool_size: usize,
        /// The pool's `max_overflow`.
        max_overflow: usize,
    },
    /// [`Database::close`](crate::Database::close) was called; the pool hands out no more
    /// connections.
    #[error("the connection pool is closed")]
    PoolClosed,
    /// A constraint (unique, foreign key, NOT NULL, check) rejected a write.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// PostgreSQL aborted a transaction that conflicted with another (serialization failure
    /// `40001` or deadlock `40P01`). Retrying the whole transaction is expected to succeed.
    #[error(
        "transaction could not be serialized (SQLSTATE {code}): {message}; retry the whole transaction"
    )]
    Serialization {
        /// The SQLSTATE: `40001` or `40P01`.
        code: String,
        /// The server's message.
        message: String,
        /// The driver's error.
        #[source]
        source: Option<BoxDynError>,
    },
    /// A column's value could not be turned into the requested Rust type.
    #[error("could not decode column `{column}` as {rust_type}: {reason}")]
    Decode {
        /// The column's name (its label, for expressions).
        column: String,
        /// The Rust type that was asked for.
        rust_type: &'static str,
        /// Why the value does not fit.
        reason: String,
    },
    /// A query expected to return exactly one row returned none.
    #[error("the query returned no rows where exactly one was expected")]
    NotFound,
    /// A query expected to return at most one row returned several.
    #[error("the query returned {count} rows where at most one was expected; add a filter or use .first()")]
    MultipleResults {
        /// How many rows it returned.
        count: usize,
    },
    /// A statement could not be compiled to SQL (a missing bind, an unsupported construct).
    /// Nothing was sent to the database.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// A model's validator rejected an object before it was written.
    #[error("invalid {0}; nothing was written")]
    Validation(#[from] ValidationError),
    /// Tables reference each other in a cycle, so no creation or deletion order exists.
    #[error(transparent)]
    DependencyCycle(#[from] oxalchemy_core::schema::DependencyCycle),
    /// An UPDATE or DELETE of a loaded object matched no row (or several): another
    /// transaction changed or deleted it since it was loaded (optimistic concurrency).
    #[error(
        "{operation} of {table} {key} matched {matched} rows instead of 1: the row was changed \
         or deleted by another transaction since it was loaded; reload it and retry"
    )]
    StaleData {
        /// `UPDATE` or `DELETE`.
        operation: &'static str,
        /// The table written to.
        table: &'static str,
        /// The primary key (and version) the statement looked for.
        key: String,
        /// How many rows the statement matched.
        matched: u64,
    },
    /// An INSERT gave back a different number of rows than it was sent, so the generated keys
    /// cannot be matched to the objects. A trigger or rule on the table skipped or added rows
    /// (a PostgreSQL `BEFORE INSERT` trigger returning NULL, SQLite's `RAISE(IGNORE)`). The
    /// statement's transaction was rolled back: nothing was kept.
    #[error(
        "INSERT into {table} returned {returned} rows for {sent} objects: a trigger or rule on          the table skipped or added rows, so generated keys cannot be matched to objects;          nothing was kept. Insert such rows one at a time, or change the trigger"
    )]
    InsertRowCount {
        /// The table written to.
        table: String,
        /// How many objects were sent.
        sent: usize,
        /// How many rows (keys) came back.
        returned: usize,
    },
    /// The models, their relationships or the arguments of a call do not fit together: a
    /// mistake in the program, not in the data or the database. The message names what to
    /// change. Nothing was sent to the database.
    #[error("mapping error: {message}")]
    Mapping {
        /// What does not fit, and what to change.
        message: String,
    },
    /// A model hook (`Hooks::before_insert`, `after_update`, …) returned an error: the flush
    /// stopped, nothing of it was written (its SAVEPOINT rolled back) and the session is as
    /// it was before the flush. The hook's error is the `source()`; fix its cause and flush
    /// again.
    #[error("the `{hook}` hook of {model} failed: {source}; nothing of the flush was written")]
    Hook {
        /// The model whose hook failed (`User`).
        model: &'static str,
        /// The hook (`before_insert`).
        hook: &'static str,
        /// The hook's error.
        #[source]
        source: BoxDynError,
    },
    /// The operation does not exist for this input or on this database: PostgreSQL's
    /// `COPY … TO STDOUT` of a query with bound values (COPY takes no parameters), or COPY on
    /// SQLite or MariaDB. Nothing was sent to the database; `fix` says what to use instead.
    #[error("{operation} is unsupported: {reason}; {fix}")]
    Unsupported {
        /// What was asked for.
        operation: &'static str,
        /// Why it cannot be done here.
        reason: String,
        /// What to do instead.
        fix: String,
    },
    /// Writing the output of a `COPY … TO STDOUT` failed (the I/O error is the `source()`).
    /// The COPY was abandoned (the connection is reset before its next use); the database
    /// is unchanged. Check the destination (disk space, a closed pipe) and run it again.
    #[error("writing the COPY output failed: {source}; the COPY was abandoned, run it again once the destination accepts writes")]
    CopyWrite {
        /// The writer's error.
        #[source]
        source: std::io::Error,
    },
    /// A relationship field that was not loaded was read (the ORM's `NotLoaded`, kept as
    /// the `source()`): add a loader option to the query that read the object, or load the
    /// relationship explicitly. Nothing was sent to the database.
    #[error("mapping error: {source}")]
    NotLoaded {
        /// The field that was read (`User::posts`).
        relationship: &'static str,
        /// The ORM's `NotLoaded` error.
        #[source]
        source: BoxDynError,
    },
    /// A bind value the database cannot store so that it reads back as written: on SQLite, a
    /// date or timestamp outside the years 0000–9999, or a NaN float (SQLite would store
    /// NULL). Refused before the statement ran: nothing was written.
    #[error("cannot store {value} in {database}: {reason}; nothing was written")]
    UnstorableValue {
        /// The database's name (`SQLite`).
        database: &'static str,
        /// The value, as `Debug` shows it.
        value: String,
        /// Why it cannot be stored and what to do instead.
        reason: &'static str,
    },
    /// `commit` or `rollback` was called on a transaction that had already ended.
    #[error("the transaction is already finished (committed or rolled back)")]
    TransactionFinished,
    /// `commit` found that one of the transaction's statements had been abandoned in flight
    /// (its future dropped by a `timeout`, a `select!` or an aborted task), so that
    /// statement's outcome is unknown (on PostgreSQL it was cancelled, which aborts the
    /// transaction). The transaction (or savepoint) was rolled back instead: nothing of it
    /// was kept.
    #[error(
        "the transaction was rolled back, not committed: one of its statements was abandoned \
         in flight (its future was dropped by a timeout, select! or aborted task), so its \
         outcome is unknown; run the whole transaction again, and let statements inside a \
         transaction finish (put the timeout around the whole transaction)"
    )]
    TransactionAbandoned,
    /// A retried transaction ([`Database::run_transaction`](crate::Database::run_transaction))
    /// failed with a conflict on each of its `attempts` attempts, the last time with `last`
    /// (kept as the `source()`). Nothing of it was committed. Raise `max_attempts` or the
    /// backoff, or make the transactions conflict less (smaller, touching fewer rows).
    #[error("transaction failed after {attempts} attempts, the last with: {last}")]
    RetriesExhausted {
        /// How many attempts ran.
        attempts: u32,
        /// The last attempt's error (a serialization failure, deadlock or lock timeout).
        #[source]
        last: Box<Error>,
    },
    /// PostgreSQL (or the driver talking to it) reported an error that has no more specific
    /// variant: a syntax error, a missing table, a permission denied, a bind value that does
    /// not fit its parameter.
    #[error(
        "database error{}: {message}{}",
        sqlstate(code),
        detail_and_hint(detail, hint)
    )]
    Database {
        /// The SQLSTATE (`42P01`), or `None` when the driver failed before the server answered.
        code: Option<String>,
        /// The server's (or driver's) message.
        message: String,
        /// The server's DETAIL line, when it sent one.
        detail: Option<String>,
        /// The server's HINT line, when it sent one.
        hint: Option<String>,
        /// The driver's error.
        #[source]
        source: Option<BoxDynError>,
    },
    /// SQLite reported an error that has no more specific variant, with its result code.
    #[error(
        "SQLite error {code} (extended code {extended_code}): {message}{}",
        sqlite_advice(code)
    )]
    Sqlite {
        /// The primary result code's name: `SQLITE_BUSY`, `SQLITE_ERROR`, `SQLITE_READONLY` …
        code: &'static str,
        /// The extended result code (`5` for `SQLITE_BUSY`, `2067` for
        /// `SQLITE_CONSTRAINT_UNIQUE`); its low byte is the primary code.
        extended_code: i32,
        /// SQLite's message.
        message: String,
        /// The driver's error.
        #[source]
        source: Option<BoxDynError>,
    },
}

impl Error {
    /// The SQLSTATE of a PostgreSQL error (`40001`, `42P01` …), when the server sent one;
    /// an [`Error::Integrity`] gives its kind's SQLSTATE (`23505` …) on either database.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Database { code, .. } => code.as_deref(),
            Error::Serialization { code, .. } => Some(code),
            Error::Integrity(i) => Some(i.sqlstate()),
            Error::RetriesExhausted { last, .. } => last.sqlstate(),
            _ => None,
        }
    }
}

/// Whether `e` is PostgreSQL's "cached plan must not change result type" (SQLSTATE 0A000):
/// a prepared statement whose result columns DDL (`ALTER TABLE … ALTER COLUMN … TYPE`)
/// changed since it was prepared. 0A000 also covers other unsupported features, so the
/// message is checked too.
pub(crate) fn is_stale_plan(e: &Error) -> bool {
    matches!(
        e,
        Error::Database { code: Some(code), message, .. }
            if code == "0A000" && message.contains("cached plan must not change result type")
    )
}

fn sqlstate(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(" (SQLSTATE {c})"))
        .unwrap_or_default()
}

fn detail_and_hint(detail: &Option<String>, hint: &Option<String>) -> String {
    let mut out = String::new();
    if let Some(detail) = detail {
        out.push_str("; detail: ");
        out.push_str(detail);
    }
    if let Some(hint) = hint {
        out.push_str("; hint: ");
        out.push_str(hint);
    }
    out
}

fn sqlite_advice(code: &str) -> &'static str {
    match code {
        "SQLITE_BUSY" | "SQLITE_LOCKED" => {
            "; another connection holds the database lock: commit or drop open transactions \
             sooner, or raise busy_timeout"
        }
        _ => "",
    }
}

/// The name of SQLite's primary result code (the low byte of an extended code), as SQLite's
/// documentation spells it.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_code_name(extended_code: i32) -> &'static str {
    match extended_code & 0xff {
        0 => "SQLITE_OK",
        1 => "SQLITE_ERROR",
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        16 => "SQLITE_EMPTY",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        24 => "SQLITE_FORMAT",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        27 => "SQLITE_NOTICE",
        28 => "SQLITE_WARNING",
        _ => "SQLITE_UNKNOWN",
    }
}

/// An error and its `source()` chain as one line (`error connecting to server: Connection
/// refused (os error 111)`), skipping a cause whose text its parent already shows.
#[cfg(feature = "postgres")]
pub(crate) fn chain_text(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// A database constraint rejected a write. Fields are what the database reported: PostgreSQL
/// names the constraint; SQLite names the columns (and the constraint only for CHECKs), and
/// the engine looks up a unique constraint's declared name in the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// A UNIQUE or PRIMARY KEY constraint (or a unique index) already holds the value.
    #[error(
        "unique constraint {} violated on {}: {message}",
        opt(constraint),
        target(table, columns)
    )]
    UniqueViolation {
        /// The constraint's (or unique index's) name.
        constraint: Option<String>,
        /// The table written to.
        table: Option<String>,
        /// The constrained columns.
        columns: Vec<String>,
        /// The database's message.
        message: String,
    },
    /// A FOREIGN KEY points at a row that does not exist (or a row still referenced was
    /// deleted).
    #[error("foreign key constraint {} violated on {}: {message}", opt(constraint), target(table, &[]))]
    ForeignKeyViolation {
        /// The constraint's name (PostgreSQL only; SQLite does not report it).
        constraint: Option<String>,
        /// The table written to (PostgreSQL only).
        table: Option<String>,
        /// The database's message.
        message: String,
    },
    /// A NOT NULL column was given NULL.
    #[error("NOT NULL violated on {}: {message}", target(table, column.as_slice()))]
    NotNullViolation {
        /// The table written to.
        table: Option<String>,
        /// The column that was NULL.
        column: Option<String>,
        /// The database's message.
        message: String,
    },
    /// A CHECK constraint's condition was false.
    #[error("check constraint {} violated on {}: {message}", opt(constraint), target(table, &[]))]
    CheckViolation {
        /// The constraint's name.
        constraint: Option<String>,
        /// The table written to (PostgreSQL only).
        table: Option<String>,
        /// The database's message.
        message: String,
    },
}

impl IntegrityError {
    /// The constraint's name, when the database reported it.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            IntegrityError::UniqueViolation { constraint, .. }
            | IntegrityError::ForeignKeyViolation { constraint, .. }
            | IntegrityError::CheckViolation { constraint, .. } => constraint.as_deref(),
            IntegrityError::NotNullViolation { .. } => None,
        }
    }

    /// The SQLSTATE PostgreSQL uses for this kind of violation (`23505` for unique …), on
    /// either database.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            IntegrityError::UniqueViolation { .. } => "23505",
            IntegrityError::ForeignKeyViolation { .. } => "23503",
            IntegrityError::NotNullViolation { .. } => "23502",
            IntegrityError::CheckViolation { .. } => "23514",
        }
    }
}

fn opt(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("`{s}`"),
        None => "(unnamed)".to_owned(),
    }
}

fn target(table: &Option<String>, columns: &[String]) -> String {
    let t = table.as_deref().unwrap_or("?");
    if columns.is_empty() {
        t.to_owned()
    } else {
        format!("{t}({})", columns.join(", "))
    }
}

/// A validator rejected a model before it was written.
///
/// Built with [`ValidationError::new`] (by the code `#[derive(Model)]` generates, and by
/// hand-written validators); read through its public fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{model}{}: {message}", field.map(|f| format!(".{f}")).unwrap_or_default())]
pub struct ValidationError {
    /// The model's name (`User`).
    pub model: &'static str,
    /// The field that failed, or `None` for a whole-object validator.
    pub field: Option<&'static str>,
    /// What is wrong with the value, for the person who entered it.
    pub message: String,
}

impl ValidationError {
    /// A validation failure of `model` (and `field`, or `None` for the whole object).
    pub fn new(
        model: &'static str,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        ValidationError {
            model,
            field,
            message: message.into(),
        }
    }
}
