//! Runs each integration case on every database: SQLite in memory, SQLite file,
//! PostgreSQL (its own schema) when a server is available, and MariaDB / MySQL (its own
//! database, on `TEST_MYSQL_URL`).
#![allow(
    dead_code,
    reason = "each test (bench) binary uses a different part of this shared module"
)]

pub(crate) mod pgbouncer;

use oxalchemy::Database;
use oxalchemy_testing::{
    mysql_database, pg_schema, postgres_base_url, MysqlDatabase, PgSchema, TempSqliteFile,
};

pub(crate) struct Target {
    pub label: &'static str,
    pub url: String,
    _file: Option<TempSqliteFile>,
    pg: Option<PgSchema>,
    mysql: Option<MysqlDatabase>,
    /// Declared after `pg`: the bouncer stops after the schema is dropped through it.
    _bouncer: Option<pgbouncer::Bouncer>,
}

impl Target {
    pub(crate) fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
    pub(crate) fn is_sqlite(&self) -> bool {
        self.pg.is_none() && self.mysql.is_none()
    }
    pub(crate) fn is_mysql(&self) -> bool {
        self.mysql.is_some()
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
        if let Some(my) = self.mysql {
            my.drop().await;
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
            mysql: None,
            _bouncer: None,
        },
        Target {
            label: "sqlite-file",
            url: file.url(),
            _file: Some(file),
            pg: None,
            mysql: None,
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
        mysql: None,
        _bouncer: None,
    })
}

/// A schema of its own for `test` and a PgBouncer (pool of `pool_size`) serving it as
/// database `oxa`; `None` without a PostgreSQL server. Panics when pgbouncer cannot start,
/// after dropping the schema (made first: the bouncer names it), so that a machine without
/// pgbouncer is not left one schema per run.
pub(crate) async fn schema_behind_bouncer(
    test: &str,
    pool_size: usize,
) -> Option<(PgSchema, pgbouncer::Bouncer)> {
    let pg = pg_schema(test).await?;
    let base = postgres_base_url().unwrap_or_else(|e| panic!("PostgreSQL for PgBouncer: {e}"));
    match pgbouncer::Bouncer::start(&base, &[("oxa", &pg.schema)], pool_size) {
        Ok(bouncer) => Some((pg, bouncer)),
        Err(e) => {
            pg.drop().await;
            panic!("PgBouncer: {e}");
        }
    }
}

/// PostgreSQL through a PgBouncer in transaction pooling mode with `statement_cache_size=0`,
/// when `OXALCHEMY_TEST_PGBOUNCER=1` (a schema of its own; the server from the test kit).
pub(crate) async fn pgbouncer_target(test: &str) -> Option<Target> {
    if std::env::var(pgbouncer::PGBOUNCER_VAR).ok().as_deref() != Some("1") {
        return None;
    }
    let (pg, bouncer) = schema_behind_bouncer(&format!("{test}_pgb"), 4).await?;
    Some(Target {
        label: "postgresql-pgbouncer",
        url: bouncer.url("oxa", "statement_cache_size=0"),
        _file: None,
        pg: Some(pg),
        mysql: None,
        _bouncer: Some(bouncer),
    })
}

/// MariaDB / MySQL: a database of its own on `TEST_MYSQL_URL` (default
/// `mysql://root@127.0.0.1:3306/test`); without a server the test fails unless
/// `OXALCHEMY_TEST_SKIP_MYSQL=1`.
pub(crate) async fn mysql_target(test: &str) -> Option<Target> {
    mysql_database(test).await.map(|my| Target {
        label: "mariadb",
        url: my.url.clone(),
        _file: None,
        pg: None,
        mysql: Some(my),
        _bouncer: None,
    })
}

/// SQLite (memory and file), PostgreSQL when available, and MariaDB.
pub(crate) async fn all_targets(test: &str) -> Vec<Target> {
    // The bouncer first: without pgbouncer it fails the test, and no other target's
    // schema or database may exist yet then (a panic never drops them).
    let bouncer = pgbouncer_target(test).await;
    let mut t = sqlite_targets(test).await;
    t.extend(postgres_target(test).await);
    t.extend(bouncer);
    t.extend(mysql_target(test).await);
    t
}

/// [`all_targets`] without MariaDB, for a test that cannot run there yet; every caller
/// says in a comment which piece is missing.
pub(crate) async fn all_targets_but_mysql(test: &str) -> Vec<Target> {
    // The bouncer first: without pgbouncer it fails the test, and no other target's
    // schema or database may exist yet then (a panic never drops them).
    let bouncer = pgbouncer_target(test).await;
    let mut t = sqlite_targets(test).await;
    t.extend(postgres_target(test).await);
    t.extend(bouncer);
    t
}

/// Polls `f` `polls` times (a short sleep between polls, so the server's answer can arrive
/// partway), then drops it unfinished, as a `timeout` or a lost `select!` branch does: a
/// future cut off at each point in turn. `Some` if it finished first.
pub(crate) async fn poll_then_drop<F: std::future::Future>(
    f: F,
    polls: usize,
) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    for _ in 0..polls {
        let polled = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match f.as_mut().poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await;
        if polled.is_some() {
            return polled;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    None
}
