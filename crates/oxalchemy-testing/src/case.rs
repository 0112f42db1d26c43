//! [`TestCase`]: one test on one backend, set up, isolated and torn down — what
//! `#[oxalchemy::test]` expands to (the attribute only builds a `TestCase` and hands it the
//! test function), usable by hand as well.
//!
//! Isolation:
//! * **rollback** (the default): the schema's tables, the fixtures and the test body all run
//!   inside one transaction that is rolled back at the end (on PostgreSQL the test's own
//!   schema is created in that transaction too), so nothing is ever committed and nothing
//!   is left behind, even by a killed test. The code under test's commits are SAVEPOINT
//!   releases ([`TestTransaction`]).
//! * **fresh**: a database of its own (SQLite) or a schema of its own (PostgreSQL), with real
//!   commits, dropped at the end — for code that needs them (several connections, a
//!   `Database`), like `#[sqlx::test]`.
//!
//! A schema built by running migrations is committed (the runner commits each migration)
//! in the test's own database or PostgreSQL schema; the rollback fixture then starts after
//! it.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures_util::FutureExt;
use oxalchemy_core::schema::MetaData;
use oxalchemy_core::Compiled;
use oxalchemy_engine::{Connection, Database, Error};
use oxalchemy_orm::{Registry, Session, SessionExt};

use crate::context::TestContext;
use crate::outcome::TestResult;
use crate::postgres::{base_url_or_skip, pg_schema, quote_ident, schema_name, PgSchema};
use crate::rollback::TestTransaction;
use crate::script::run_script;
use crate::sqlite::TempSqliteFile;

/// The database a [`TestCase`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `sqlite::memory:`, a database private to the test.
    Sqlite,
    /// A SQLite file in a temporary directory of the test's own.
    SqliteFile,
    /// PostgreSQL: `TEST_DATABASE_URL`, else an ephemeral server, else the test fails
    /// (skips only with [`SKIP_POSTGRES_VAR`](crate::SKIP_POSTGRES_VAR)` = 1`).
    Postgres,
    /// MySQL / MariaDB (feature `mysql`): a database of the test's own on the server
    /// `TEST_MYSQL_URL` names (default `mysql://root@127.0.0.1:3306/test`), dropped at the
    /// end; without a server the test fails (skips only with
    /// [`SKIP_MYSQL_VAR`](crate::SKIP_MYSQL_VAR)` = 1`). MySQL's DDL commits, so the
    /// schema's tables are created (committed) in that database before the rollback fixture
    /// starts; the fixtures and the body still run inside it.
    #[cfg(feature = "mysql")]
    Mysql,
}

/// A Rust fixture function, boxed: it gets a session and fills it (the case commits).
type FixtureFn = Box<
    dyn for<'a> FnOnce(&'a mut Session) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>,
>;

/// Where the test's tables come from.
enum Schema {
    None,
    MetaData(Box<MetaData>),
    #[cfg(feature = "migrate")]
    Migrations(&'static [oxalchemy_migrate::migration::Migration]),
}

/// Data loaded before the test body runs, in the order given.
enum Fixture {
    Sql {
        name: &'static str,
        sql: &'static str,
    },
    Rust {
        name: &'static str,
        fill: FixtureFn,
    },
}

/// One test: its name, isolation, schema and fixtures; [`TestCase::run`] runs it on a
/// backend.
///
/// ```no_run
/// use oxalchemy::orm::{Registry, Session};
/// use oxalchemy_testing::{Backend, TestCase};
///
/// #[test]
/// fn counts_nothing_in_a_new_schema() {
///     TestCase::new("counts_nothing_in_a_new_schema")
///         .schema(Registry::new())
///         .run(Backend::Sqlite, async |ctx| {
///             let mut conn = ctx.connection().await?;
///             let one: i64 = conn.query_scalar(oxalchemy::text("SELECT 1")).await?;
///             assert_eq!(one, 1);
///             Ok::<_, oxalchemy::Error>(())
///         });
/// }
/// ```
pub struct TestCase {
    name: String,
    fresh: bool,
    schema: Schema,
    fixtures: Vec<Fixture>,
}

impl std::fmt::Debug for TestCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCase")
            .field("name", &self.name)
            .field("fresh", &self.fresh)
            .finish_non_exhaustive()
    }
}

/// What a test's schema can be built from.
pub trait IntoMetaData {
    /// The tables to create.
    fn into_metadata(self) -> MetaData;
}

impl IntoMetaData for MetaData {
    fn into_metadata(self) -> MetaData {
        self
    }
}

impl IntoMetaData for Registry {
    fn into_metadata(self) -> MetaData {
        self.metadata()
    }
}

impl TestCase {
    /// A test named `name` (it names the PostgreSQL schema and the SQLite file, and appears
    /// in failure messages), isolated by the rollback fixture, with no tables.
    pub fn new(name: impl Into<String>) -> Self {
        TestCase {
            name: name.into(),
            fresh: false,
            schema: Schema::None,
            fixtures: Vec::new(),
        }
    }

    /// A database (SQLite) or schema (PostgreSQL) of the test's own with real commits,
    /// instead of the rollback fixture.
    pub fn fresh(mut self) -> Self {
        self.fresh = true;
        self
    }

    /// Creates these tables (a [`Registry`]'s or a [`MetaData`]'s) before the test.
    pub fn schema(mut self, schema: impl IntoMetaData) -> Self {
        self.schema = Schema::MetaData(Box::new(schema.into_metadata()));
        self
    }

    /// Builds the schema by running these migrations up to `head` before the test.
    #[cfg(feature = "migrate")]
    pub fn migrations(
        mut self,
        migrations: &'static [oxalchemy_migrate::migration::Migration],
    ) -> Self {
        self.schema = Schema::Migrations(migrations);
        self
    }

    /// Runs this SQL (statements separated by `;`) before the test; `name` is for messages.
    pub fn sql_fixture(mut self, name: &'static str, sql: &'static str) -> Self {
        self.fixtures.push(Fixture::Sql { name, sql });
        self
    }

    /// Runs `fill` with a session before the test and commits what it added.
    ///
    /// A closure passed here gets its signature from this bound:
    /// `.fixture("seed", |s| Box::pin(async move { seed(s).await.into_result() }))`.
    pub fn fixture<F>(mut self, name: &'static str, fill: F) -> Self
    where
        F: for<'a> FnOnce(
                &'a mut Session,
            ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>
            + 'static,
    {
        self.fixtures.push(Fixture::Rust {
            name,
            fill: Box::new(fill),
        });
        self
    }

    /// Runs the test on `backend`, on a runtime of its own: sets up the database, schema and
    /// fixtures, runs `body`, and tears down (rollback, dropped schema or file) whether
    /// the body passed, failed or panicked.
    ///
    /// # Panics
    /// When the body fails or panics, when setting up fails (naming the step), and on
    /// PostgreSQL when no server can be had — unless skipping was opted in to, when it
    /// prints that it skipped and returns.
    pub fn run<F, R>(self, backend: Backend, body: F)
    where
        F: AsyncFnOnce(&TestContext) -> R,
        R: TestResult,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("`{}`: cannot start a tokio runtime: {e}", self.name));
        runtime.block_on(self.run_async(backend, body));
    }

    async fn run_async<F, R>(self, backend: Backend, body: F)
    where
        F: AsyncFnOnce(&TestContext) -> R,
        R: TestResult,
    {
        let Some(place) = Place::open(&self, backend).await else {
            return;
        };
        let db = match Database::connect(place.url.clone()).await {
            Ok(db) => db,
            Err(e) => {
                place.close().await;
                panic!("`{}` on {backend:?}: cannot connect: {e}", self.name);
            }
        };
        let name = self.name.clone();
        let outcome = AssertUnwindSafe(self.set_up_and_run(
            &db,
            backend,
            place.schema_in_transaction.as_deref(),
            body,
        ))
        .catch_unwind()
        .await;
        db.close();
        drop(db);
        place.close().await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(message)) => panic!("`{name}` on {backend:?}: {message}"),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    async fn set_up_and_run<F, R>(
        self,
        db: &Database,
        backend: Backend,
        schema_in_transaction: Option<&str>,
        body: F,
    ) -> Result<(), String>
    where
        F: AsyncFnOnce(&TestContext) -> R,
        R: TestResult,
    {
        #[cfg(feature = "migrate")]
        if let Schema::Migrations(migrations) = &self.schema {
            run_migrations(db, migrations).await?;
        }
        let metadata = match &self.schema {
            Schema::MetaData(metadata) => Some(&**metadata),
            _ => None,
        };
        // MySQL's CREATE TABLE commits the open transaction: its tables are made (in the
        // test's own database) before the rollback fixture begins.
        #[cfg(feature = "mysql")]
        let ddl_commits = backend == Backend::Mysql;
        #[cfg(not(feature = "mysql"))]
        let ddl_commits = false;
        let outer = if self.fresh || ddl_commits {
            if let Some(metadata) = metadata {
                db.create_all(metadata)
                    .await
                    .map_err(|e| format!("creating the schema's tables failed: {e}"))?;
            }
            if self.fresh {
                None
            } else {
                Some(
                    TestTransaction::begin(db)
                        .await
                        .map_err(|e| format!("cannot begin the test transaction: {e}"))?,
                )
            }
        } else {
            let outer = TestTransaction::begin(db)
                .await
                .map_err(|e| format!("cannot begin the test transaction: {e}"))?;
            let mut conn = outer.connection().map_err(|e| e.to_string())?;
            if let Some(schema) = schema_in_transaction {
                create_schema(&mut conn, schema)
                    .await
                    .map_err(|e| format!("cannot create the test's schema `{schema}`: {e}"))?;
            }
            if let Some(metadata) = metadata {
                create_tables(&mut conn, metadata)
                    .await
                    .map_err(|e| format!("creating the schema's tables failed: {e}"))?;
            }
            drop(conn);
            Some(outer)
        };
        let ctx = TestContext {
            db: db.clone(),
            outer,
            backend,
        };
        for fixture in self.fixtures {
            load_fixture(&ctx, fixture).await?;
        }
        let result = body(&ctx).await.into_result();
        if let Some(outer) = ctx.outer {
            let rolled_back = outer.rollback().await;
            // The body's failure is the one to report; a rollback failing after a passing
            // body is a failure of its own (a session kept the connection).
            if result.is_ok() {
                rolled_back.map_err(|e| format!("the test transaction's rollback failed: {e}"))?;
            }
        }
        result
    }
}

/// Where a case's database is, and what to remove afterwards.
struct Place {
    url: String,
    /// PostgreSQL rollback cases create their schema inside the test transaction.
    schema_in_transaction: Option<String>,
    guard: Guard,
}

enum Guard {
    None,
    File(
        #[allow(dead_code, reason = "held for its Drop, which deletes the directory")]
        TempSqliteFile,
    ),
    Pg(PgSchema),
    #[cfg(feature = "mysql")]
    Mysql(crate::mysql::MysqlDatabase),
}

impl Place {
    /// `None` when the PostgreSQL case is skipped (the user opted in; it was printed).
    async fn open(case: &TestCase, backend: Backend) -> Option<Place> {
        let committed_schema =
            case.fresh || !matches!(case.schema, Schema::MetaData(_) | Schema::None);
        Some(match backend {
            Backend::Sqlite => Place {
                url: "sqlite::memory:".into(),
                schema_in_transaction: None,
                guard: Guard::None,
            },
            Backend::SqliteFile => {
                let file = TempSqliteFile::new(&case.name);
                Place {
                    url: file.url(),
                    schema_in_transaction: None,
                    guard: Guard::File(file),
                }
            }
            Backend::Postgres if committed_schema => {
                let pg = pg_schema(&case.name).await?;
                Place {
                    url: pg.url.clone(),
                    schema_in_transaction: None,
                    guard: Guard::Pg(pg),
                }
            }
            Backend::Postgres => Place {
                url: base_url_or_skip(&case.name)?,
                schema_in_transaction: Some(schema_name(&case.name)),
                guard: Guard::None,
            },
            // A database per test whatever the isolation: MySQL has no transactional DDL,
            // so even a rollback case's tables are committed, where no other test sees them.
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let db = crate::mysql::mysql_database(&case.name).await?;
                Place {
                    url: db.url.clone(),
                    schema_in_transaction: None,
                    guard: Guard::Mysql(db),
                }
            }
        })
    }

    async fn close(self) {
        match self.guard {
            Guard::Pg(pg) => pg.drop().await,
            #[cfg(feature = "mysql")]
            Guard::Mysql(db) => db.drop().await,
            Guard::None | Guard::File(_) => {}
        }
    }
}

/// `CREATE SCHEMA` and `SET LOCAL search_path` inside the test transaction.
async fn create_schema(conn: &mut Connection, schema: &str) -> Result<(), Error> {
    let schema = quote_ident(schema);
    for sql in [
        format!("CREATE SCHEMA {schema}"),
        format!("SET LOCAL search_path TO {schema}"),
    ] {
        conn.execute_write(&Compiled {
            sql,
            binds: Vec::new(),
        })
        .await?;
    }
    Ok(())
}

/// `Database::create_all` on one connection, inside the test transaction (the schema is
/// new and empty, so nothing can exist yet).
async fn create_tables(conn: &mut Connection, metadata: &MetaData) -> Result<(), Error> {
    // Foreign keys closing a cycle between tables are added after the CREATEs, as
    // `Database::create_all` does.
    let order = metadata.creation_order();
    let alter = conn.dialect().alter_foreign_keys();
    let tables = order.tables.clone();
    if conn.dialect().native_enums() {
        let mut seen = std::collections::HashSet::new();
        for ty in tables.iter().flat_map(|t| t.native_enums()) {
            if seen.insert(ty.name.clone()) {
                conn.execute(ty).await?;
            }
        }
    }
    for table in tables {
        if alter && !order.deferred.is_empty() {
            conn.execute(order.without_deferred(table).create()).await?;
        } else {
            conn.execute(table.create()).await?;
        }
        for ix in table.create_indexes() {
            conn.execute(ix).await?;
        }
    }
    if alter {
        for (table, fk) in &order.deferred {
            let sql = oxalchemy_core::dialect::foreign_key_add_sql(conn.dialect(), table, fk);
            conn.execute_write(&Compiled {
                sql,
                binds: Vec::new(),
            })
            .await?;
        }
    }
    Ok(())
}

#[cfg(feature = "migrate")]
async fn run_migrations(
    db: &Database,
    migrations: &'static [oxalchemy_migrate::migration::Migration],
) -> Result<(), String> {
    use oxalchemy_migrate::migration::{Graph, Runner};
    let graph =
        Graph::new(migrations).map_err(|e| format!("the migrations do not form a graph: {e}"))?;
    Runner::new(&graph)
        .run(db, "head")
        .await
        .map_err(|e| format!("running the migrations to head failed: {e}"))?;
    Ok(())
}

async fn load_fixture(ctx: &TestContext, fixture: Fixture) -> Result<(), String> {
    match fixture {
        Fixture::Sql { name, sql } => {
            let mut conn = ctx
                .connection()
                .await
                .map_err(|e| format!("fixture `{name}`: {e}"))?;
            let mut tx = conn
                .begin()
                .await
                .map_err(|e| format!("fixture `{name}`: {e}"))?;
            run_script(&mut tx, name, sql).await?;
            tx.commit()
                .await
                .map_err(|e| format!("fixture `{name}`: commit: {e}"))
        }
        Fixture::Rust { name, fill } => {
            let mut session = ctx.session();
            fill(&mut session)
                .await
                .map_err(|e| format!("fixture `{name}` failed: {e}"))?;
            session
                .commit()
                .await
                .map_err(|e| format!("fixture `{name}`: commit: {e}"))?;
            session
                .close()
                .await
                .map_err(|e| format!("fixture `{name}`: {e}"))
        }
    }
}
