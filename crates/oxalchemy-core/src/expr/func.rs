//! SQL functions: `func::count(col("id"))`, `func::now()` …
//!
//! Only the functions listed here can be called, so a function name is never user-supplied
//! text. Each takes anything [`IntoExpr`] (a column, an expression, or a plain value, which
//! is bound).
//!
//! ```
//! use oxalchemy_core::{col, compile, func, select, table, Sqlite};
//!
//! let stmt = select([func::count_distinct(col("city"))]).from(table("users")).into();
//! let c = compile(&Sqlite, &stmt).unwrap();
//! assert_eq!(c.sql, r#"SELECT count(DISTINCT "city") FROM "users""#);
//! ```

use super::{Expr, Function, IntoExpr};

fn call(func: Function, args: Vec<Expr>) -> Expr {
    Expr::Func {
        func,
        args,
        distinct: false,
    }
}

/// `count(e)`: the number of rows where `e` is not NULL.
pub fn count(e: impl IntoExpr) -> Expr {
    call(Function::Count, vec![e.into_expr()])
}

/// `count(DISTINCT e)`: the number of distinct non-NULL values of `e`.
pub fn count_distinct(e: impl IntoExpr) -> Expr {
    Expr::Func {
        func: Function::Count,
        args: vec![e.into_expr()],
        distinct: true,
    }
}

/// `count(*)`: the number of rows.
pub fn count_star() -> Expr {
    Expr::CountStar
}

/// `sum(e)`; NULL over no rows.
pub fn sum(e: impl IntoExpr) -> Expr {
    call(Function::Sum, vec![e.into_expr()])
}

/// `avg(e)`; NULL over no rows.
pub fn avg(e: impl IntoExpr) -> Expr {
    call(Function::Avg, vec![e.into_expr()])
}

/// `min(e)`: the smallest value of `e`.
pub fn min(e: impl IntoExpr) -> Expr {
    call(Function::Min, vec![e.into_expr()])
}

/// `max(e)`: the largest value of `e`.
pub fn max(e: impl IntoExpr) -> Expr {
    call(Function::Max, vec![e.into_expr()])
}

/// `coalesce(a, b, …)`: the first argument that is not NULL.
pub fn coalesce<I>(args: I) -> Expr
where
    I: IntoIterator,
    I::Item: IntoExpr,
{
    call(
        Function::Coalesce,
        args.into_iter().map(IntoExpr::into_expr).collect(),
    )
}

/// `lower(e)`: `e` in lower case.
pub fn lower(e: impl IntoExpr) -> Expr {
    call(Function::Lower, vec![e.into_expr()])
}

/// `upper(e)`: `e` in upper case.
pub fn upper(e: impl IntoExpr) -> Expr {
    call(Function::Upper, vec![e.into_expr()])
}

/// `length(e)`: the number of characters in `e`.
pub fn length(e: impl IntoExpr) -> Expr {
    call(Function::Length, vec![e.into_expr()])
}

/// `abs(e)`: the absolute value of `e`.
pub fn abs(e: impl IntoExpr) -> Expr {
    call(Function::Abs, vec![e.into_expr()])
}

/// The current timestamp (`now()` on PostgreSQL, `CURRENT_TIMESTAMP` on SQLite).
pub fn now() -> Expr {
    call(Function::Now, Vec::new())
}
