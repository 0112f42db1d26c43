//! Migrations, the revision graph, the version table and the runner.
//!
//! A migration is Rust code in the user's crate (like Alembic's scripts): a revision id,
//! its down revision(s), a message, and `upgrade` / `downgrade` functions that fill an
//! [`Ops`]. The version table `oxalchemy_version` records every applied revision with a
//! checksum of its operations, so a migration edited after it was applied is caught.
//!
//! * `graph`: [`Graph`], the revisions as a DAG, and [`Graph::plan`].
//! * `runner`: [`Runner`], moving a live database along the graph (adopting tables no
//!   migration created, with PostgreSQL lock and statement timeouts).
//! * `autocommit`: migrations with concurrent index builds, run as transactions around
//!   them on PostgreSQL.
//! * `offline`: [`Runner::offline_sql`], the same as a SQL script.
//! * `mysql`: MySQL / MariaDB, where DDL is not transactional: progress recorded per
//!   operation, the `GET_LOCK` migration lock.
//! * `version_table`: the `oxalchemy_version` table.
//! * `error`: [`MigrateError`].

mod autocommit;
pub mod checksum;
mod error;
mod graph;
mod mysql;
mod offline;
mod runner;
mod sharded;
mod version_table;

pub use error::MigrateError;
pub use graph::{Direction, Graph, Plan};
pub use runner::{
    execute_ops, Report, Runner, DEFAULT_STATEMENT_TIMEOUT, DEFAULT_TABLE_LOCK_TIMEOUT,
};
pub use sharded::ShardedReport;
pub use version_table::{applied, VERSION_TABLE};

use crate::ops::Ops;

/// One migration: a revision of the schema, written as Rust in the user's crate (the
/// `migration_file` of [`crate::script`] writes them) and listed in the project's
/// `migrations::ALL`.
#[derive(Clone, Copy)]
pub struct Migration {
    /// The revision id (12 hex digits when generated); unique in the project.
    pub revision: &'static str,
    /// Parents; empty for a base revision, two or more for a merge revision.
    pub down_revisions: &'static [&'static str],
    /// What the migration does, as given to `revision -m`.
    pub message: &'static str,
    /// The date it was written (`YYYY-MM-DD`), shown by `history`.
    pub created: &'static str,
    /// Fills the operations that apply the migration.
    pub upgrade: fn(&mut Ops),
    /// Fills the operations that revert it.
    pub downgrade: fn(&mut Ops),
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} ({})",
            self.revision, self.down_revisions, self.message
        )
    }
}

impl Migration {
    /// The operations of [`Migration::upgrade`].
    pub fn upgrade_ops(&self) -> Ops {
        let mut ops = Ops::new();
        (self.upgrade)(&mut ops);
        ops
    }

    /// The operations of [`Migration::downgrade`].
    pub fn downgrade_ops(&self) -> Ops {
        let mut ops = Ops::new();
        (self.downgrade)(&mut ops);
        ops
    }

    /// The operations that move the migration in `dir`.
    pub fn ops_for(&self, dir: Direction) -> Ops {
        match dir {
            Direction::Up => self.upgrade_ops(),
            Direction::Down => self.downgrade_ops(),
        }
    }

    /// SHA-256 of the canonical text of the upgrade and downgrade operations
    /// ([`checksum`]): changes when the migration is edited, not when oxalchemy's types
    /// change their `Debug` output.
    pub fn checksum(&self) -> String {
        checksum::checksum(self.upgrade_ops().ops(), self.downgrade_ops().ops())
    }

    /// The checksum version tables recorded before the current format
    /// ([`checksum::legacy`]); a row holding it is rewritten to [`Migration::checksum`].
    pub fn legacy_checksum(&self) -> String {
        checksum::legacy(self.upgrade_ops().ops(), self.downgrade_ops().ops())
    }
}

type Result<T, E = MigrateError> = std::result::Result<T, E>;
