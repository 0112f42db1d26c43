//! oxalchemy migrations (Alembic for Rust).
//!
//! * [`reflect`]: read a live database's schema into core `Table`s.
//! * [`ops`]: migration operations (create/drop table, add/drop/alter column, indexes,
//!   constraints, rename, raw SQL) rendered per dialect, with SQLite's table-rebuild
//!   "batch mode" for what SQLite cannot ALTER.
//! * [`diff`]: autogenerate — compare models' metadata with a reflected schema.
//! * [`migration`]: migrations, the revision graph, the version table and the runner.
//! * [`lint`]: safety lints on planned operations.
//! * [`script`]: writing migration files (autogenerate output) as Rust.

pub mod diff;
pub mod lint;
pub mod migration;
pub mod ops;
pub mod reflect;
pub mod script;
