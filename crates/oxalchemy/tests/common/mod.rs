//! Runs each integration case on every database: SQLite in memory, SQLite file, and
//! PostgreSQL (its own schema) when a server is available.
#![allow(
    dead_code,
    reason = "each test (bench) binary uses a different part of this shared module"
)]

pub(crate) mod pgbouncer;

use oxalchemy::Database;
use oxalchemy_testing::{pg_schema, postgres_base_url, PgSchema, TempSqliteFile};

pub(crate) struct Target {
    pub label: &'static str,
    pub url: String,
    _file: Option<TempSqliteFile>,
    pg: Option<PgSchema>,
    /// Declared after `pg`: the bouncer stops after the schema is dropped through it.
    _bouncer: Option<pgbouncer::Bouncer>,
}

impl Target {
    pub(crate) fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
    pub(crate) fn is_sqlite(&self) -> bool {
        self.pg.is_none()
    }
    pub(crate) async fn connect(&self) -> Database {
        Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("[{}] connect: {e}", self.label))
    }
    /// Drops the PostgreSQL schema; the SQLite file goes with the guard.
    pub(crate) async fn finish(self) {
        if let Some(pg) = self.pg {
            pg.drop().await;
        }
    }
}

pub(crate) async fn sqlite_targets(test: &str) -> Vec<Target> {
    let file = TempSqliteFile::new(test);
    vec![
        Target {
            label: "sqlite-memory",
            url: "sqlite::memory:".into(),
            _file: None,
            pg: None,
            _bouncer: None,
        },
        Target {
            label: "sqlite-file",
            url: file.url(),
            _file: Some(file),
            pg: None,
            _bouncer: None,
        },
    ]
}

pub(crate) async fn postgres_target(test: &str) -> Option<Target> {
    pg_schema(test).await.map(|pg| Target {
        label: "postgresql",
        url: pg.url.clone(),
        _file: None,
        pg: Some(pg),
        _bouncer: None,
    })
}

/// PostgreSQL through a PgBouncer in transaction pooling mode with `statement_cache_size=0`,
/// when `OXALCHEMY_TEST_PGBOUNCER=1` (a schema of its own; the server from the test kit).
pub(crate) async fn pgbouncer_target(test: &str) -> Option<Target> {
    if std::env::var(pgbouncer::PGBOUNCER_VAR).ok().as_deref() != Some("1") {
        return None;
    }
    let pg = pg_schema(&format!("{test}_pgb")).await?;
    let base = postgres_base_url().unwrap_or_else(|e| panic!("PostgreSQL for PgBouncer: {e}"));
    let bouncer = pgbouncer::Bouncer::start(&base, &[("oxa", &pg.schema)], 4)
        .unwrap_or_else(|e| panic!("PgBouncer: {e}"));
    Some(Target {
        label: "postgresql-pgbouncer",
        url: bouncer.url("oxa", "statement_cache_size=0"),
        _file: None,
        pg: Some(pg),
        _bouncer: Some(bouncer),
    })
}

/// SQLite (memory and file) and PostgreSQL when available.
pub(crate) async fn all_targets(test: &str) -> Vec<Target> {
    let mut t = sqlite_targets(test).await;
    t.extend(postgres_target(test).await);
    t.extend(pgbouncer_target(test).await);
    t
}
