//! Migration tests, pytest-alembic's built-in ones: a single head, upgrading from base to
//! head one revision at a time, the models matching the database at head (autogenerate
//! finds nothing), every revision's downgrade undoing its upgrade (and the upgrade after it
//! giving the same schema again), and a data migration checked with rows inserted before it.
//!
//! Each check is one call on a [`MigrationTests`] with an empty database (a `fresh`
//! `#[oxalchemy::test]`'s `Database`); each starts by downgrading to base, so several can run
//! on the same database one after the other. Schemas are compared by reflecting the
//! database and diffing as autogenerate does.

use std::fmt::Write;

use oxalchemy_core::schema::MetaData;
use oxalchemy_engine::{Connection, Database, Error};
use oxalchemy_migrate::diff::diff;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner, VERSION_TABLE};
use oxalchemy_migrate::ops::Op;
use oxalchemy_migrate::reflect::reflect;

/// A failed migration test, saying what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationTestError {
    /// More than one head: two branches were never merged.
    #[error(
        "the migrations have {} heads ({}): merge them with a merge revision \
         (`migrate merge`) so that `upgrade head` has one target",
        heads.len(),
        heads.join(", ")
    )]
    MultipleHeads {
        /// The heads.
        heads: Vec<&'static str>,
    },
    /// No migrations at all.
    #[error("there are no migrations to test")]
    NoMigrations,
    /// A migration step failed to run.
    #[error("{step} failed: {source}")]
    Migrate {
        /// What was being done (`upgrading to 1a2b…`).
        step: String,
        /// Why (boxed: a migration error is large, and this one is rare).
        #[source]
        source: Box<MigrateError>,
    },
    /// At head, autogenerate finds differences between the models and the database.
    #[error(
        "after upgrading to head the models and the database differ; autogenerate would \
         write:\n{operations}write a migration for this change (`migrate revision \
         --autogenerate`)"
    )]
    ModelsDiffer {
        /// One line per operation.
        operations: String,
    },
    /// A revision's downgrade does not restore the schema from before its upgrade.
    #[error(
        "downgrading {revision} does not restore the schema from before its upgrade; what \
         is left over:\n{differences}make its downgrade undo exactly what its upgrade does"
    )]
    DowngradeMismatch {
        /// The revision.
        revision: &'static str,
        /// One line per difference.
        differences: String,
    },
    /// Upgrading a revision again after its downgrade gives another schema.
    #[error(
        "upgrading {revision} again after its downgrade gives another schema than its first \
         upgrade:\n{differences}its downgrade leaves something its upgrade then trips over"
    )]
    ReupgradeMismatch {
        /// The revision.
        revision: &'static str,
        /// One line per difference.
        differences: String,
    },
    /// A data migration's `before` or `after` step failed.
    #[error("data migration {revision}: the `{stage}` step failed: {message}")]
    DataCheck {
        /// The data migration's revision.
        revision: &'static str,
        /// `before` (filling rows at its parent) or `after` (checking them).
        stage: &'static str,
        /// The step's error.
        message: String,
    },
    /// The revision given to [`MigrationTests::data_migration`] is not one of the migrations.
    #[error("no migration has revision `{0}`")]
    UnknownRevision(String),
    /// The database failed outside a migration (reflecting, connecting).
    #[error("database error: {0}")]
    Database(#[from] Error),
    /// Reflecting the schema failed.
    #[error("reading the schema failed: {0}")]
    Reflect(#[from] oxalchemy_migrate::reflect::ReflectError),
}

/// The migration tests of one project: its migrations, and its models for
/// [`MigrationTests::models_match`].
#[derive(Debug, Clone)]
pub struct MigrationTests {
    migrations: &'static [Migration],
    models: Option<MetaData>,
}

impl MigrationTests {
    /// Tests of `migrations` (the project's `migrations::ALL`).
    pub fn new(migrations: &'static [Migration]) -> Self {
        MigrationTests {
            migrations,
            models: None,
        }
    }

    /// The models the database must match at head.
    pub fn models(mut self, metadata: MetaData) -> Self {
        self.models = Some(metadata);
        self
    }

    /// The migrations have exactly one head.
    pub fn single_head(&self) -> Result<&'static str, MigrationTestError> {
        let graph = self.graph()?;
        let heads = graph.heads();
        match heads.as_slice() {
            [] => Err(MigrationTestError::NoMigrations),
            [head] => Ok(head),
            _ => Err(MigrationTestError::MultipleHeads { heads }),
        }
    }

    /// Upgrades an empty database from base to head one revision at a time, in order.
    pub async fn upgrade(&self, db: &Database) -> Result<(), MigrationTestError> {
        let graph = self.graph()?;
        let runner = Runner::new(&graph);
        to_base(&runner, db).await?;
        for revision in order(&graph)? {
            run(&runner, db, revision, "upgrading to").await?;
        }
        Ok(())
    }

    /// After upgrading to head, autogenerate finds nothing between the models (given with
    /// [`MigrationTests::models`]) and the database.
    ///
    /// # Panics
    /// When no models were given: the test itself is incomplete.
    pub async fn models_match(&self, db: &Database) -> Result<(), MigrationTestError> {
        let models = self
            .models
            .as_ref()
            .expect("MigrationTests::models_match needs the models: call .models(metadata)");
        let graph = self.graph()?;
        let runner = Runner::new(&graph);
        to_base(&runner, db).await?;
        run(&runner, db, "heads", "upgrading to").await?;
        let current = schema(db).await?;
        let found = diff(db.dialect(), models, &current, &|t| t != VERSION_TABLE);
        if found.is_empty() {
            return Ok(());
        }
        Err(MigrationTestError::ModelsDiffer {
            operations: describe(&found.upgrade),
        })
    }

    /// For every revision from base to head: upgrade to it, downgrade to its parent (the
    /// schema must be the one from before the upgrade), upgrade again (the schema must be
    /// the one after the first upgrade).
    pub async fn up_down_consistency(&self, db: &Database) -> Result<(), MigrationTestError> {
        let graph = self.graph()?;
        let runner = Runner::new(&graph);
        to_base(&runner, db).await?;
        let mut before = schema(db).await?;
        for revision in order(&graph)? {
            let parent = parent_target(&graph, revision);
            run(&runner, db, revision, "upgrading to").await?;
            let after = schema(db).await?;
            run(&runner, db, &parent, &format!("downgrading {revision} to")).await?;
            let left_over = differences(db, &before, &schema(db).await?);
            if !left_over.is_empty() {
                return Err(MigrationTestError::DowngradeMismatch {
                    revision,
                    differences: left_over,
                });
            }
            run(&runner, db, revision, "upgrading again to").await?;
            let again = schema(db).await?;
            let changed = differences(db, &after, &again);
            if !changed.is_empty() {
                return Err(MigrationTestError::ReupgradeMismatch {
                    revision,
                    differences: changed,
                });
            }
            before = again;
        }
        Ok(())
    }

    /// Tests the data migration `revision`: upgrades to its parent, runs `before` (insert
    /// the rows it must change), upgrades to `revision`, runs `after` (check them).
    pub async fn data_migration<B, A, E1, E2>(
        &self,
        db: &Database,
        revision: &str,
        before: B,
        after: A,
    ) -> Result<(), MigrationTestError>
    where
        B: AsyncFnOnce(&mut Connection) -> Result<(), E1>,
        A: AsyncFnOnce(&mut Connection) -> Result<(), E2>,
        E1: std::fmt::Display,
        E2: std::fmt::Display,
    {
        let graph = self.graph()?;
        let revision = graph
            .migration(revision)
            .map(|m| m.revision)
            .ok_or_else(|| MigrationTestError::UnknownRevision(revision.to_owned()))?;
        let runner = Runner::new(&graph);
        to_base(&runner, db).await?;
        run(
            &runner,
            db,
            &parent_target(&graph, revision),
            "upgrading to",
        )
        .await?;
        let mut conn = db.connection().await?;
        before(&mut conn)
            .await
            .map_err(|e| MigrationTestError::DataCheck {
                revision,
                stage: "before",
                message: e.to_string(),
            })?;
        drop(conn);
        run(&runner, db, revision, "upgrading to").await?;
        let mut conn = db.connection().await?;
        after(&mut conn)
            .await
            .map_err(|e| MigrationTestError::DataCheck {
                revision,
                stage: "after",
                message: e.to_string(),
            })
    }

    fn graph(&self) -> Result<Graph, MigrationTestError> {
        Graph::new(self.migrations).map_err(|source| MigrationTestError::Migrate {
            step: "reading the migrations".into(),
            source: Box::new(source),
        })
    }
}

/// Revisions from base to head, parents first.
fn order(graph: &Graph) -> Result<Vec<&'static str>, MigrationTestError> {
    graph
        .topological()
        .map_err(|source| MigrationTestError::Migrate {
            step: "ordering the migrations".into(),
            source: Box::new(source),
        })
}

/// The target that downgrades exactly `revision`: its (single) parent, or base.
fn parent_target(graph: &Graph, revision: &str) -> String {
    match graph.migration(revision).map(|m| m.down_revisions) {
        Some([parent]) => (*parent).to_owned(),
        Some([]) | None => "base".to_owned(),
        // A merge revision: one step down.
        Some(_) => "-1".to_owned(),
    }
}

async fn to_base(runner: &Runner<'_>, db: &Database) -> Result<(), MigrationTestError> {
    run(runner, db, "base", "downgrading to").await
}

async fn run(
    runner: &Runner<'_>,
    db: &Database,
    target: &str,
    doing: &str,
) -> Result<(), MigrationTestError> {
    runner
        .run(db, target)
        .await
        .map(|_| ())
        .map_err(|source| MigrationTestError::Migrate {
            step: format!("{doing} {target}"),
            source: Box::new(source),
        })
}

/// The database's tables as reflection sees them.
async fn schema(db: &Database) -> Result<MetaData, MigrationTestError> {
    let mut conn = db.connection().await?;
    Ok(reflect(&mut conn).await?)
}

/// What would turn `actual` into `expected`, one line each (empty when they agree).
fn differences(db: &Database, expected: &MetaData, actual: &MetaData) -> String {
    describe(&diff(db.dialect(), expected, actual, &|_| true).upgrade)
}

/// One line per operation, short enough to read (a table is named, not dumped).
fn describe(ops: &[Op]) -> String {
    let mut out = String::new();
    for op in ops {
        let line = match op {
            Op::CreateTable(t) => format!("create table {}", t.name),
            Op::DropTable(t) => format!("drop table {t}"),
            Op::AddColumn { table, column } => format!("add column {table}.{}", column.name),
            Op::DropColumn { table, column } => format!("drop column {table}.{column}"),
            Op::CreateIndex { table, index } => {
                let name = index.name.as_ref().map(|n| n.to_string());
                format!("create index {} on {table}", name.as_deref().unwrap_or("?"))
            }
            Op::DropIndex { table, name } => format!("drop index {name} on {table}"),
            other => {
                let text = format!("{other:?}");
                text.chars().take(160).collect()
            }
        };
        let _ = writeln!(out, "  {line}");
    }
    out
}
