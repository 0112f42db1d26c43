//! oxalchemy: SQLAlchemy + Alembic for Rust.
//!
//! This facade re-exports the layers: [`core`] (values, expressions, schema, dialect
//! compilers) and [`engine`] (drivers, pool, connections, transactions). Most code only needs
//! `use oxalchemy::prelude::*;`.

#[cfg(feature = "cli")]
pub use oxalchemy_cli as cli;
pub use oxalchemy_core as core;
pub use oxalchemy_engine as engine;
#[cfg(feature = "migrate")]
pub use oxalchemy_migrate as migrate;
pub use oxalchemy_orm as orm;
#[cfg(feature = "testing")]
pub use oxalchemy_testing as testing;

/// `#[oxalchemy::test(sqlite, postgres, …)]`: an async test per backend, isolated per test
/// (the testing kit, [`testing`]).
#[cfg(feature = "testing")]
pub use oxalchemy_macros::test;
pub use oxalchemy_macros::{DbEnum, DbType, FromRow, Mixin, Model};

/// What a `#[column(validate = f)]` / `#[model(validate = f)]` function returns: `Err` with
/// a message a person can act on.
pub type ValidationMessage = std::result::Result<(), String>;

pub use oxalchemy_core::{
    and_, case, col, delete, exists, func, insert, lit, not_, or_, scalar, select, star, table,
    text, update, Column, Expr, Index, MetaData, SqlType, Statement, Table, Value,
};
pub use oxalchemy_engine::{
    Connection, Database, Error, FromRow, FromSql, IntegrityError, Result, RetryOptions, Row,
    Transaction,
};

/// The names most programs use.
pub mod prelude {
    pub use oxalchemy_core::expr::excluded;
    pub use oxalchemy_core::schema::ReferentialAction;
    pub use oxalchemy_core::{
        and_, case, col, delete, exists, func, insert, lit, not_, or_, param, scalar, select, star,
        table, text, update, Column, Expr, Index, IntoExpr, MetaData, SqlType, Table, Value,
    };
    pub use oxalchemy_engine::{
        Connection, Database, Error, FromRow, FromSql, IntegrityError, RetryOptions, Row,
        Transaction, ValidationError,
    };
    pub use oxalchemy_macros::{DbEnum, DbType, FromRow, Mixin, Model};
    pub use oxalchemy_orm::{
        entity, query, DbEnum, Handle, Many, Mapping, Model, One, Query, Registry, Session,
        SessionExt, SessionRetryExt, TypedColumn,
    };
}
