//! oxalchemy Core: values and SQL types, the SQL expression tree, schema metadata and the
//! dialect compilers. Nothing here does I/O; drivers and the engine live in
//! `oxalchemy-engine`, the ORM in `oxalchemy-orm`.
//!
//! | module | owns |
//! | --- | --- |
//! | [`value`] | [`Value`] (a bind value), [`ToValue`], [`SqlType`] and the conversion rules |
//! | [`expr`] | the expression tree [`Expr`], names ([`Ident`], [`TableRef`]), functions, `text()` |
//! | [`query`] | SELECT / INSERT / UPDATE / DELETE builders and [`Statement`] |
//! | [`schema`] | [`Table`], [`Column`], constraints, indexes, [`MetaData`], the naming convention, DDL |
//! | [`dialect`] | [`compile`], the [`Dialect`] trait, [`Sqlite`], [`Postgres`], [`CompileError`] |
//!
//! Two rules hold everywhere: **values are always bound** (every literal is a
//! [`Expr::Bind`]; DDL, which cannot bind, escapes its literals) and **identifiers are
//! always quoted**.
//!
//! ```
//! use oxalchemy_core::{col, compile, select, table, Postgres, Value};
//!
//! let users = table("users");
//! let stmt = select([users.col("id"), users.col("name")])
//!     .from(users.clone())
//!     .filter(users.col("name").eq("O'Brien"))
//!     .into();
//! let c = compile(&Postgres, &stmt).unwrap();
//! assert_eq!(
//!     c.sql,
//!     r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."name" = $1"#
//! );
//! assert_eq!(c.binds, [Value::Text("O'Brien".into())]);
//! ```

pub mod dialect;
pub mod expr;
pub mod query;
pub mod schema;
pub mod value;
pub mod value_types;

pub use dialect::{compile, CompileError, Compiled, Dialect, MySql, Postgres, Sqlite};
pub use expr::{
    and_, case, col, escape_like, excluded, exists, func, lit, not_, or_, param, scalar, star,
    table, text, Expr, Ident, IntoExpr, Nulls, OrderBy, TableRef, TextSql,
};
pub use query::{
    delete, insert, select, update, Cte, Delete, Insert, Select, SelectHead, Statement, Update,
};
pub use schema::{
    Column, Constraint, ForeignKey, Index, MetaData, NamingConvention, ReferentialAction,
    ServerDefault, Table,
};
pub use value::{SqlType, ToValue, Value};
