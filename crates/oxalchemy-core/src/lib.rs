//! oxalchemy Core: values and SQL types, the SQL expression tree, schema metadata and the
//! dialect compilers. Nothing here does I/O; drivers and the engine live in
//! `oxalchemy-engine`.

pub mod dialect;
pub mod expr;
pub mod query;
pub mod schema;
pub mod value;

pub use dialect::{compile, CompileError, Compiled, Dialect, Postgres, Sqlite};
pub use expr::{
    and_, case, col, escape_like, excluded, exists, func, lit, not_, or_, scalar, star, table,
    text, Expr, Ident, IntoExpr, Nulls, OrderBy, TableRef, TextSql,
};
pub use query::{delete, insert, select, update, Cte, Delete, Insert, Select, Statement, Update};
pub use schema::{
    Column, Constraint, ForeignKey, Index, MetaData, NamingConvention, ReferentialAction,
    ServerDefault, Table,
};
pub use value::{SqlType, ToValue, Value};
