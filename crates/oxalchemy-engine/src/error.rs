//! Typed errors. Every message says what happened and, where it can, what to do.

use std::time::Duration;

pub use oxalchemy_core::CompileError;

/// A database constraint rejected a write. Fields are what the database reported: PostgreSQL
/// names the constraint; SQLite names the columns (and the constraint only for CHECKs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    #[error(
        "unique constraint {} violated on {}: {message}",
        opt(constraint),
        target(table, columns)
    )]
    UniqueViolation {
        constraint: Option<String>,
        table: Option<String>,
        columns: Vec<String>,
        message: String,
    },
    #[error("foreign key constraint {} violated on {}: {message}", opt(constraint), target(table, &[]))]
    ForeignKeyViolation {
        constraint: Option<String>,
        table: Option<String>,
        message: String,
    },
    #[error("NOT NULL violated on {}: {message}", target(table, column.as_slice()))]
    NotNullViolation {
        table: Option<String>,
        column: Option<String>,
        message: String,
    },
    #[error("check constraint {} violated on {}: {message}", opt(constraint), target(table, &[]))]
    CheckViolation {
        constraint: Option<String>,
        table: Option<String>,
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{model}{}: {message}", field.map(|f| format!(".{f}")).unwrap_or_default())]
pub struct ValidationError {
    /// The model's name (`User`).
    pub model: &'static str,
    /// The field that failed, or `None` for a whole-object validator.
    pub field: Option<&'static str>,
    pub message: String,
}

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error(
        "timed out after {waited:?} waiting for a pooled connection (pool_size {pool_size}, \
         max_overflow {max_overflow}); return connections sooner (drop transactions and \
         connections when done) or raise pool_size, max_overflow or pool_timeout"
    )]
    PoolTimeout {
        waited: Duration,
        pool_size: usize,
        max_overflow: usize,
    },
    #[error("the connection pool is closed")]
    PoolClosed,
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    #[error(
        "transaction could not be serialized (SQLSTATE {code}): {message}; retry the whole transaction"
    )]
    Serialization { code: String, message: String },
    #[error("could not decode column `{column}` as {rust_type}: {reason}")]
    Decode {
        column: String,
        rust_type: &'static str,
        reason: String,
    },
    #[error("the query returned no rows where exactly one was expected")]
    NotFound,
    #[error("the query returned {count} rows where at most one was expected; add a filter or use .first()")]
    MultipleResults { count: usize },
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("invalid {0}; nothing was written")]
    Validation(#[from] ValidationError),
    #[error(transparent)]
    DependencyCycle(#[from] oxalchemy_core::schema::DependencyCycle),
    #[error(
        "{operation} of {table} {key} matched {matched} rows instead of 1: the row was changed \
         or deleted by another transaction since it was loaded; reload it and retry"
    )]
    StaleData {
        operation: &'static str,
        table: &'static str,
        /// The primary key (and version) the statement looked for.
        key: String,
        matched: u64,
    },
    /// The models, their relationships or the arguments of a call do not fit together: a
    /// mistake in the program, not in the data or the database. The message names what to
    /// change. Nothing was sent to the database.
    #[error("mapping error: {message}")]
    Mapping {
        /// What does not fit, and what to change.
        message: String,
    },
    /// An option was given a value it cannot take (`pool_size(0)`, an unknown URL parameter).
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option's name as the user spells it (`pool_size`).
        option: &'static str,
        /// Why the value was refused and which values are accepted.
        reason: String,
    },
    #[error("the transaction is already finished (committed or rolled back)")]
    TransactionFinished,
    #[error("database error{}: {message}", code.as_deref().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default())]
    Database {
        code: Option<String>,
        message: String,
    },
    #[error("connection to the database was lost: {0}; the pool replaces it on next checkout")]
    ConnectionLost(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
