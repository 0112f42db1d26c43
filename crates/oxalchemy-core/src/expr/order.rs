//! ORDER BY items ([`OrderBy`], [`Nulls`]) and CASE expressions ([`case`], [`Case`]).

use super::{boxed, Expr, IntoExpr};

/// Where NULLs sort in an ORDER BY item: `NULLS FIRST` / `NULLS LAST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// `NULLS FIRST`: NULLs before every value.
    First,
    /// `NULLS LAST`: NULLs after every value.
    Last,
}

/// An ORDER BY item: `expr [DESC] [NULLS FIRST | NULLS LAST]`. Made by [`Expr::asc`] and
/// [`Expr::desc`]; a plain [`Expr`] converts to its ascending order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// What to sort by; a label sorts by its select-list alias.
    pub expr: Expr,
    /// Descending (`DESC`) rather than ascending.
    pub desc: bool,
    /// Where NULLs go; `None` is the database's default (PostgreSQL: last ascending, SQLite:
    /// first ascending).
    pub nulls: Option<Nulls>,
}

impl OrderBy {
    /// `… NULLS FIRST`
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some(Nulls::First);
        self
    }

    /// `… NULLS LAST`
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some(Nulls::Last);
        self
    }
}

impl From<Expr> for OrderBy {
    fn from(expr: Expr) -> Self {
        expr.asc()
    }
}

/// `CASE WHEN … THEN … [ELSE …] END`, built with [`Case::when`] and finished with
/// [`Case::else_`] or [`Case::end`].
///
/// ```
/// use oxalchemy_core::{case, col, compile, select, Sqlite};
///
/// let size = case().when(col("n").gt(100i64), "big").else_("small");
/// let c = compile(&Sqlite, &select([size]).into()).unwrap();
/// assert_eq!(c.sql, r#"SELECT CASE WHEN "n" > ? THEN ? ELSE ? END"#);
/// ```
pub fn case() -> Case {
    Case {
        whens: Vec::new(),
        else_: None,
    }
}

/// A CASE expression being built; see [`case`].
#[derive(Debug, Clone)]
pub struct Case {
    whens: Vec<(Expr, Expr)>,
    else_: Option<Box<Expr>>,
}

impl Case {
    /// Adds `WHEN cond THEN then`; the first true condition wins.
    pub fn when(mut self, cond: Expr, then: impl IntoExpr) -> Self {
        self.whens.push((cond, then.into_expr()));
        self
    }

    /// Finishes with `ELSE value END`: the result when no condition holds.
    pub fn else_(mut self, value: impl IntoExpr) -> Expr {
        self.else_ = Some(boxed(value));
        self.end()
    }

    /// Finishes with `END` alone: NULL when no condition holds.
    pub fn end(self) -> Expr {
        Expr::Case {
            whens: self.whens,
            else_: self.else_,
        }
    }
}
