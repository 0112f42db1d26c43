//! [`Capabilities`]: what a database can do that oxalchemy relies on, as flags, so that a
//! backend without a feature (CockroachDB and YugabyteDB lack some PostgreSQL ones) gets a
//! documented alternative instead of a failure at run time. ARCHITECTURE.md ("Distributed
//! SQL") holds the plan for each flag that is false somewhere.

/// What a database supports, among the features oxalchemy uses. Read through
/// [`Dialect::capabilities`](super::Dialect::capabilities); the presets describe the
/// databases oxalchemy speaks to or plans to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Session and transaction advisory locks (`pg_advisory_xact_lock`): the migration
    /// runner's lock. Without them the runner needs a lock table (a row locked `FOR UPDATE`).
    pub advisory_locks: bool,
    /// DDL runs inside a transaction and rolls back with it: each migration is atomic.
    /// Without it a failed migration can leave part of its DDL applied.
    pub transactional_ddl: bool,
    /// An auto-incrementing integer key (`SERIAL` / identity / `INTEGER PRIMARY KEY`) gives
    /// increasing, mostly dense values. CockroachDB's `SERIAL` is `unique_rowid()`: unique
    /// but neither dense nor ordered by insert time across nodes.
    pub sequential_serial: bool,
    /// Transactions are `SERIALIZABLE` by default, so any of them may fail with `40001`
    /// and must be run through a retry loop (`Database::run_transaction`).
    pub serializable_by_default: bool,
    /// `SAVEPOINT` / `ROLLBACK TO SAVEPOINT`: nested transactions and the session's
    /// per-flush savepoint.
    pub savepoints: bool,
    /// `CREATE INDEX CONCURRENTLY` (an index built without blocking writes, outside a
    /// transaction).
    pub concurrent_index: bool,
    /// `pg_last_xact_replay_timestamp()`-style replica lag, for `max_replica_staleness`.
    pub replica_lag: bool,
}

impl Capabilities {
    /// PostgreSQL 13 and later.
    pub const POSTGRES: Capabilities = Capabilities {
        advisory_locks: true,
        transactional_ddl: true,
        sequential_serial: true,
        serializable_by_default: false,
        savepoints: true,
        concurrent_index: true,
        replica_lag: true,
    };

    /// SQLite 3.35 and later (one writer: its transactions are serializable by locking, and
    /// never fail with `40001`).
    pub const SQLITE: Capabilities = Capabilities {
        advisory_locks: false,
        transactional_ddl: true,
        sequential_serial: true,
        serializable_by_default: false,
        savepoints: true,
        concurrent_index: false,
        replica_lag: false,
    };

    /// MySQL 8 and MariaDB 10.5+ (InnoDB): named locks (`GET_LOCK`, the migration runner's
    /// lock), but every DDL statement commits on its own, so the runner records each
    /// operation as it completes instead. Indexes are built online by InnoDB itself, not by
    /// a `CONCURRENTLY` statement; replica lag is not read (`SHOW REPLICA STATUS` needs
    /// privileges a service rarely has).
    pub const MYSQL: Capabilities = Capabilities {
        advisory_locks: true,
        transactional_ddl: false,
        sequential_serial: true,
        serializable_by_default: false,
        savepoints: true,
        concurrent_index: false,
        replica_lag: false,
    };

    /// CockroachDB (PostgreSQL wire protocol; not a backend yet): advisory-lock functions
    /// exist but do nothing, schema changes inside a transaction are limited and not atomic
    /// with its other statements, `SERIAL` is `unique_rowid()`, every transaction is
    /// `SERIALIZABLE`; indexes are always built online.
    pub const COCKROACHDB: Capabilities = Capabilities {
        advisory_locks: false,
        transactional_ddl: false,
        sequential_serial: false,
        serializable_by_default: true,
        savepoints: true,
        concurrent_index: true,
        replica_lag: false,
    };

    /// YugabyteDB YSQL (PostgreSQL's query layer; not a backend yet): advisory locks only in
    /// recent releases behind a flag, DDL not transactional by default, sequences cached per
    /// node (gaps, not ordered across nodes).
    pub const YUGABYTEDB: Capabilities = Capabilities {
        advisory_locks: false,
        transactional_ddl: false,
        sequential_serial: false,
        serializable_by_default: false,
        savepoints: true,
        concurrent_index: true,
        replica_lag: false,
    };
}
