//! oxalchemy engine: the SQLite (rusqlite, bundled) and PostgreSQL (tokio-postgres) drivers,
//! the connection pool, connections and transactions.
//!
//! - [`Database`] is the entry point: [`Database::connect`] takes a URL
//!   (`sqlite://app.db`, `sqlite::memory:`, `postgresql://user:pass@host/db`) and returns
//!   [`ConnectOptions`] to size the pool before `.await`ing it.
//! - [`Connection`] is a connection checked out of the pool; [`Transaction`] an open
//!   transaction on it that rolls back unless committed (nested ones are SAVEPOINTs).
//! - [`FromRow`] / [`FromSql`] decode rows straight from the driver into Rust values.
//! - [`Error`] is every failure, typed: integrity violations, serialization failures to
//!   retry, the server's SQLSTATE with detail and hint, SQLite's result codes, connection
//!   failures with the server's reason. [`redact_url`] hides a URL's password.
//!
//! The drivers are the `sqlite` and `postgres` features (both on by default) and `mysql`
//! (MySQL 8 and MariaDB 10.5+ through mysql_async: `mysql://` / `mariadb://` URLs; off by
//! default); a build needs at least one.
//!
//! ```no_run
//! # async fn demo() -> Result<(), oxalchemy_engine::Error> {
//! use oxalchemy_core::{col, select, table};
//! use oxalchemy_engine::Database;
//!
//! let db = Database::connect("sqlite::memory:").await?;
//! let mut conn = db.connection().await?;
//! let users = table("users");
//! let rows: Vec<(i64, String)> = conn
//!     .query(select([users.col("id"), users.col("name")]).from(users.clone()).filter(col("id").gt(10)))
//!     .await?;
//! # Ok(()) }
//! ```

mod backend;
mod connection;
mod database;
mod decode;
mod error;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
mod stats;
mod transparent;
mod url;

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!(
    "oxalchemy-engine needs at least one driver feature: `sqlite`, `postgres` or `mysql`"
);

pub use connection::{Connection, IsolationLevel, OwnedTransaction, Transaction, TransactionGuard};
pub use database::{
    retry_loop, retry_reason, ConnectOptions, Database, PoolStatus, ReplicaStatus, RetryOptions,
    RetryReason, RetryableError, ShardedDatabase,
};
pub use decode::{ArrayElement, DecodeError, FromRow, FromSql, Row};
pub use error::{BoxDynError, CompileError, Error, IntegrityError, Result, ValidationError};
#[cfg(feature = "postgres")]
pub use postgres::copy::CopyIn;
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub use postgres::copy_out::PgCopyOut;
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub use postgres::stream::PgRowStream;
pub use stats::StatementStats;
pub use url::redact_url;

/// The driver types `__impl_transparent_from_sql!` names; not a stable API.
#[doc(hidden)]
pub mod __driver {
    #[cfg(feature = "mysql")]
    pub use mysql_async::{Column as MysqlColumn, Value as MysqlValue};
    #[cfg(feature = "sqlite")]
    pub use rusqlite::types::ValueRef as SqliteValueRef;
    #[cfg(feature = "postgres")]
    pub use tokio_postgres::types::Type as PgType;
}
