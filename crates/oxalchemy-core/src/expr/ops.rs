//! The operators on [`Expr`]: comparisons, NULL tests, IN, BETWEEN, LIKE and its
//! auto-escaped forms, labels, casts, ordering, and the arithmetic `std::ops` impls.
//!
//! Every right-hand side takes anything [`IntoExpr`], so `col("age").gt(18)` binds `18`.

use super::{boxed, BinaryOp, Expr, Ident, IntoExpr, OrderBy};
use crate::query::Select;
use crate::value::{SqlType, Value};

/// The escape character used by `contains`/`startswith`/`endswith` (as SQLAlchemy's autoescape).
pub const AUTOESCAPE_CHAR: char = '/';

/// Escapes `%`, `_` and the escape character itself so `s` matches literally inside LIKE
/// (with `ESCAPE escape`).
///
/// ```
/// assert_eq!(oxalchemy_core::escape_like("100%_a/b", '/'), "100/%/_a//b");
/// ```
pub fn escape_like(s: &str, escape: char) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c == '%' || c == '_' || c == escape {
            out.push(escape);
        }
        out.push(c);
    }
    out
}

impl Expr {
    /// `=`; comparing with NULL (`None`, `Value::Null`) gives `IS NULL`, as in SQLAlchemy,
    /// because `= NULL` is never true.
    pub fn eq(self, other: impl IntoExpr) -> Expr {
        match other.into_expr() {
            Expr::Bind(Value::Null) => self.is_null(),
            other => self.binary(BinaryOp::Eq, other),
        }
    }

    /// `<>`; comparing with NULL gives `IS NOT NULL`.
    pub fn ne(self, other: impl IntoExpr) -> Expr {
        match other.into_expr() {
            Expr::Bind(Value::Null) => self.is_not_null(),
            other => self.binary(BinaryOp::NotEq, other),
        }
    }

    /// `<`
    pub fn lt(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::Lt, other)
    }

    /// `<=`
    pub fn le(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::LtEq, other)
    }

    /// `>`
    pub fn gt(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::Gt, other)
    }

    /// `>=`
    pub fn ge(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::GtEq, other)
    }

    /// String concatenation `||`.
    pub fn concat(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::Concat, other)
    }

    /// `IS NULL`
    pub fn is_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: false,
        }
    }

    /// `IS NOT NULL`
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: true,
        }
    }

    /// `IN (…)`, each item bound. An empty list is always false (never a syntax error).
    pub fn in_<I>(self, list: I) -> Expr
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        Expr::InList {
            expr: Box::new(self),
            list: list.into_iter().map(IntoExpr::into_expr).collect(),
            negated: false,
        }
    }

    /// `NOT IN (…)`. An empty list is always true.
    pub fn not_in<I>(self, list: I) -> Expr
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        Expr::InList {
            expr: Box::new(self),
            list: list.into_iter().map(IntoExpr::into_expr).collect(),
            negated: true,
        }
    }

    /// `IN (SELECT …)`; the query must select one column.
    pub fn in_subquery(self, query: Select) -> Expr {
        Expr::InSubquery {
            expr: Box::new(self),
            query: Box::new(query),
            negated: false,
        }
    }

    /// `NOT IN (SELECT …)`. Beware SQL's rule: if the subquery yields a NULL, no row matches.
    pub fn not_in_subquery(self, query: Select) -> Expr {
        Expr::InSubquery {
            expr: Box::new(self),
            query: Box::new(query),
            negated: true,
        }
    }

    /// `BETWEEN low AND high`, both ends included.
    pub fn between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: boxed(low),
            high: boxed(high),
            negated: false,
        }
    }

    /// `NOT BETWEEN low AND high`
    pub fn not_between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: boxed(low),
            high: boxed(high),
            negated: true,
        }
    }

    /// `LIKE pattern`: `%` and `_` in the pattern are wildcards. To match user text
    /// literally, use [`Expr::contains`] and friends, or [`escape_like`] with
    /// [`Expr::like_escape`].
    pub fn like(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, Like::CASE_SENSITIVE, None)
    }

    /// `LIKE pattern ESCAPE escape`: `escape` before `%`, `_` or itself matches it literally.
    pub fn like_escape(self, pattern: impl IntoExpr, escape: char) -> Expr {
        self.like_op(pattern, Like::CASE_SENSITIVE, Some(escape))
    }

    /// `NOT LIKE pattern`
    pub fn not_like(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, Like::CASE_SENSITIVE.negated(), None)
    }

    /// Case-insensitive LIKE (native ILIKE on PostgreSQL; on SQLite
    /// `oxalchemy_lower(x) LIKE oxalchemy_lower(p)`, a Unicode-aware lower-casing registered on
    /// every connection, so `ilike("%är%")` matches `Ärger` on both).
    pub fn ilike(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, Like::CASE_INSENSITIVE, None)
    }

    /// Case-insensitive [`Expr::like_escape`].
    pub fn ilike_escape(self, pattern: impl IntoExpr, escape: char) -> Expr {
        self.like_op(pattern, Like::CASE_INSENSITIVE, Some(escape))
    }

    /// Case-insensitive `NOT LIKE`.
    pub fn not_ilike(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, Like::CASE_INSENSITIVE.negated(), None)
    }

    /// Matches rows whose value contains `s` literally (`%`, `_` in `s` are not wildcards).
    ///
    /// ```
    /// use oxalchemy_core::{col, compile, select, Sqlite, Value};
    ///
    /// let c = compile(&Sqlite, &select([col("id")]).filter(col("name").contains("50%")).into())
    ///     .unwrap();
    /// assert_eq!(c.sql, r#"SELECT "id" WHERE "name" LIKE ? ESCAPE ?"#);
    /// assert_eq!(c.binds, [Value::from("%50/%%"), Value::from("/")]);
    /// ```
    pub fn contains(self, s: &str) -> Expr {
        self.autoescaped("%", s, "%", Like::CASE_SENSITIVE)
    }

    /// Matches rows whose value starts with `s` literally.
    pub fn startswith(self, s: &str) -> Expr {
        self.autoescaped("", s, "%", Like::CASE_SENSITIVE)
    }

    /// Matches rows whose value ends with `s` literally.
    pub fn endswith(self, s: &str) -> Expr {
        self.autoescaped("%", s, "", Like::CASE_SENSITIVE)
    }

    /// Case-insensitive [`Expr::contains`].
    pub fn icontains(self, s: &str) -> Expr {
        self.autoescaped("%", s, "%", Like::CASE_INSENSITIVE)
    }

    /// Names the expression: `expr AS "name"` in a select list or RETURNING, `"name"` in
    /// ORDER BY / GROUP BY, the bare expression elsewhere.
    pub fn label(self, name: impl Into<Ident>) -> Expr {
        Expr::Label {
            expr: Box::new(self),
            name: name.into(),
        }
    }

    /// `CAST(expr AS type)`, with the dialect's name for the type.
    pub fn cast(self, ty: SqlType) -> Expr {
        Expr::Cast {
            expr: Box::new(self),
            ty,
        }
    }

    /// Ascending order on this expression.
    pub fn asc(self) -> OrderBy {
        OrderBy {
            expr: self,
            desc: false,
            nulls: None,
        }
    }

    /// Descending order on this expression (`DESC`).
    pub fn desc(self) -> OrderBy {
        OrderBy {
            expr: self,
            desc: true,
            nulls: None,
        }
    }

    /// Wraps in parentheses: `(expr)`.
    pub fn nested(self) -> Expr {
        Expr::Nested(Box::new(self))
    }

    fn binary(self, op: BinaryOp, right: impl IntoExpr) -> Expr {
        Expr::Binary {
            op,
            operands: Box::new([self, right.into_expr()]),
        }
    }

    fn like_op(self, pattern: impl IntoExpr, like: Like, escape: Option<char>) -> Expr {
        Expr::Like {
            expr: Box::new(self),
            pattern: boxed(pattern),
            escape,
            case_insensitive: like.case_insensitive,
            negated: like.negated,
        }
    }

    fn autoescaped(self, prefix: &str, s: &str, suffix: &str, like: Like) -> Expr {
        let pattern = format!("{prefix}{}{suffix}", escape_like(s, AUTOESCAPE_CHAR));
        self.like_op(Value::Text(pattern), like, Some(AUTOESCAPE_CHAR))
    }
}

/// Which LIKE a builder makes, instead of two `bool` parameters.
#[derive(Clone, Copy)]
struct Like {
    case_insensitive: bool,
    negated: bool,
}

impl Like {
    const CASE_SENSITIVE: Like = Like {
        case_insensitive: false,
        negated: false,
    };
    const CASE_INSENSITIVE: Like = Like {
        case_insensitive: true,
        negated: false,
    };

    fn negated(self) -> Like {
        Like {
            negated: true,
            ..self
        }
    }
}

macro_rules! arith {
    ($($tr:ident $m:ident $op:ident $sql:literal),*) => {$(
        #[doc = concat!("`left ", $sql, " right`")]
        impl<R: IntoExpr> std::ops::$tr<R> for Expr {
            type Output = Expr;
            fn $m(self, rhs: R) -> Expr { self.binary(BinaryOp::$op, rhs) }
        }
    )*};
}
arith!(Add add Add "+", Sub sub Sub "-", Mul mul Mul "*", Div div Div "/", Rem rem Mod "%");

/// `-expr`
impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Neg(Box::new(self))
    }
}
