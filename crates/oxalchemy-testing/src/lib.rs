//! Test fixtures for oxalchemy (`oxalchemy::testing`, the facade's `testing` feature).
//!
//! * `#[oxalchemy::test(sqlite, postgres, schema = …)]` runs an async test once per backend,
//!   isolated (a rolled-back transaction by default, `fresh` for a database of its own),
//!   with the schema from models or migrations and fixtures loaded; it expands to a
//!   [`TestCase`], which can also be used by hand. The guide's §5 tests written with it are
//!   `crates/oxalchemy/examples/testing_guide/mod.rs` (the README's "Testing" section).
//! * [`Factory`] / [`Factories`]: factory_boy's test data — sequences, lazy attributes,
//!   sub-factories, overrides and traits, `build`, `create`, `create_batch` in one flush.
//! * `MigrationTests` (feature `migrate`): pytest-alembic's tests — single head, upgrade,
//!   models match at head, up/down consistency, data migrations.
//! * [`TestTransaction`] is the per-test rollback fixture: an outer transaction whose
//!   sessions and connections run inside it (their commits become SAVEPOINT releases), rolled
//!   back at the end so the test leaves nothing behind.
//! * [`assert_queries!`] fails a block that runs another number of statements than
//!   expected, or (`repeats <= N`) the same statement more than `N` times — the N+1
//!   signature — listing the SQL.
//! * [`pg_schema`] hands every test its own PostgreSQL schema on a shared server, so
//!   PostgreSQL tests can run in parallel. The server is `TEST_DATABASE_URL` when set,
//!   otherwise an ephemeral server started once per test process with `initdb`/`pg_ctl`
//!   (see [`postgres_base_url`]).
//! * [`TempSqliteFile`] is a uniquely named SQLite file in its own temporary directory,
//!   deleted (with its `-wal`/`-shm` siblings) on drop.
//!
//! Without `TEST_DATABASE_URL` and without PostgreSQL's binaries, [`pg_schema`] fails the
//! test with a message saying how to get PostgreSQL, unless the user opted in to skipping
//! with `OXALCHEMY_TEST_SKIP_POSTGRES=1` ([`SKIP_POSTGRES_VAR`]): then it returns `None`
//! after printing `SKIPPED PostgreSQL case …` to stderr. A PostgreSQL case never passes
//! silently.

mod case;
mod context;
mod ephemeral;
mod factory;
#[cfg(feature = "migrate")]
mod migration_tests;
#[cfg(feature = "mysql")]
mod mysql;
mod outcome;
mod postgres;
mod queries;
mod rollback;
mod script;
mod sqlite;

use std::sync::atomic::{AtomicU64, Ordering};

pub use case::{Backend, IntoMetaData, TestCase};
pub use context::{TestConnection, TestContext};
pub use ephemeral::EPHEMERAL_VAR;
#[doc(hidden)]
pub use ephemeral::{ephemeral_unavailable_reason, start_ephemeral, start_ephemeral_with_password};
pub use factory::{Build, Factories, Factory, FactoryCtx, SubFactories};
/// The `fake` crate (feature `fake`), for [`FactoryCtx::fake`]'s fakers.
#[cfg(feature = "fake")]
pub use fake;
#[cfg(feature = "migrate")]
pub use migration_tests::{MigrationTestError, MigrationTests};
#[cfg(feature = "mysql")]
pub use mysql::{mysql_base_url, mysql_database, MysqlDatabase, SKIP_MYSQL_VAR, TEST_MYSQL_URL};
pub use outcome::TestResult;
pub use postgres::{pg_schema, postgres_base_url, PgSchema, SKIP_POSTGRES_VAR};
pub use queries::{check_count, check_repeats, StatementLog};
pub use rollback::{JoinedConnection, TestTransaction};
pub use sqlite::TempSqliteFile;

/// What `#[oxalchemy::test]` generates calls to, beside [`TestCase`]; not an API.
#[doc(hidden)]
pub mod __private {
    use crate::{TestConnection, TestContext};

    /// The connection a test function taking `&mut Connection` gets.
    pub async fn connection(ctx: &TestContext) -> TestConnection {
        match ctx.connection().await {
            Ok(conn) => conn,
            Err(e) => panic!("cannot get the test's connection: {e}"),
        }
    }

    /// The rollback fixture a test function taking `&TestTransaction` gets (the attribute
    /// refuses `fresh` for such a function, so there is one).
    pub fn test_transaction(ctx: &TestContext) -> &crate::TestTransaction {
        match ctx.test_transaction() {
            Some(outer) => outer,
            None => panic!("a `fresh` test has no rollback fixture"),
        }
    }
}

/// Per-process counter so that names built from the same test name never collide.
static COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) fn next_id() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Lower-cases `name` and maps everything outside `[a-z0-9_]` to `_`, keeping at most
/// `max` characters.
pub(crate) fn sanitize(name: &str, max: usize) -> String {
    let s: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    if s.is_empty() {
        "test".to_owned()
    } else {
        s
    }
}
