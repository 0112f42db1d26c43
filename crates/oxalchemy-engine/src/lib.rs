//! oxalchemy engine: the SQLite (rusqlite, bundled) and PostgreSQL (tokio-postgres) drivers,
//! the connection pool, connections and transactions.
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
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
mod url;

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("oxalchemy-engine needs at least one driver feature: `sqlite` or `postgres`");

pub use connection::{Connection, IsolationLevel, OwnedTransaction, Transaction, TransactionGuard};
pub use database::{ConnectOptions, Database, PoolStatus};
pub use decode::{DecodeError, FromRow, FromSql, Row};
pub use error::{BoxDynError, CompileError, Error, IntegrityError, Result, ValidationError};
pub use url::redact_url;
