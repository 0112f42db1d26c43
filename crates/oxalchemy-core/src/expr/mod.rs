//! The SQL expression tree: pure data, no I/O.
//!
//! An [`Expr`] is built with free functions ([`col`], [`lit`], [`and_`], [`func`], …) and the
//! operator methods on [`Expr`] (`eq`, `like`, `in_`, `+`, …), then compiled as part of a
//! statement by [`crate::compile`]. Every literal becomes a bind parameter ([`Expr::Bind`]);
//! every name is an [`Ident`] that the dialect quotes. The only way to put SQL text in a
//! statement is [`text`], whose values are still bound through named parameters.
//!
//! ```
//! use oxalchemy_core::{and_, col, compile, select, table, Postgres, Value};
//!
//! let users = table("users");
//! let adults = select([users.col("name")])
//!     .from(users.clone())
//!     .filter(and_([users.col("age").ge(18i64), users.col("email").is_not_null()]));
//! let c = compile(&Postgres, &adults.into()).unwrap();
//! assert_eq!(
//!     c.sql,
//!     r#"SELECT "users"."name" FROM "users" WHERE ("users"."age" >= $1) AND ("users"."email" IS NOT NULL)"#
//! );
//! assert_eq!(c.binds, [Value::I64(18)]);
//! ```

pub mod func;
mod ident;
mod ops;
mod order;
mod text;

pub use ident::{table, Ident, TableRef};
pub use ops::{escape_like, AUTOESCAPE_CHAR};
pub use order::{case, Case, Nulls, OrderBy};
pub use text::{text, TextSql};

use crate::query::Select;
use crate::value::{SqlType, Value};

/// A node of the expression tree. Build it with the functions and methods of this module
/// rather than by hand; the variants are public so dialects and the ORM can inspect a tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column: `"name"`, or `"table"."name"` when qualified.
    Column {
        /// The table (or alias) qualifying the column, if any.
        table: Option<Ident>,
        /// The column's name.
        name: Ident,
    },
    /// `*` or `table.*`
    Star(Option<Ident>),
    /// A bound parameter. Literals are always bound, never inlined.
    Bind(Value),
    /// `excluded.col` inside `ON CONFLICT DO UPDATE`: the value the insert proposed.
    Excluded(Ident),
    /// `left op right`, each side parenthesised when compound.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left and the right operand, in one allocation: a filter `col = value` is
        /// built for every lookup, and one allocation less is measurable there.
        operands: Box<[Expr; 2]>,
    },
    /// Arithmetic negation: `-expr`.
    Neg(Box<Expr>),
    /// Logical negation: `NOT expr`.
    Not(Box<Expr>),
    /// Conjunction; nested ANDs are flattened on construction. Empty means true.
    And(Vec<Expr>),
    /// Disjunction; nested ORs are flattened on construction. Empty means false.
    Or(Vec<Expr>),
    /// `expr IS [NOT] NULL`
    IsNull {
        /// The tested expression.
        expr: Box<Expr>,
        /// `IS NOT NULL` rather than `IS NULL`.
        negated: bool,
    },
    /// `expr [NOT] IN (a, b, …)`; an empty list compiles to a constant condition.
    InList {
        /// The tested expression.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN` rather than `IN`.
        negated: bool,
    },
    /// `expr [NOT] IN (SELECT …)`
    InSubquery {
        /// The tested expression.
        expr: Box<Expr>,
        /// A query selecting one column.
        query: Box<Select>,
        /// `NOT IN` rather than `IN`.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`
    Between {
        /// The tested expression.
        expr: Box<Expr>,
        /// The lower bound, included.
        low: Box<Expr>,
        /// The upper bound, included.
        high: Box<Expr>,
        /// `NOT BETWEEN` rather than `BETWEEN`.
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern [ESCAPE c]`, or its case-insensitive form.
    Like {
        /// The tested expression.
        expr: Box<Expr>,
        /// The pattern (`%` any run, `_` one character).
        pattern: Box<Expr>,
        /// The escape character that makes the next wildcard literal (bound).
        escape: Option<char>,
        /// ILIKE (PostgreSQL) / `oxalchemy_lower(x) LIKE oxalchemy_lower(p)` (SQLite) rather than LIKE.
        case_insensitive: bool,
        /// `NOT LIKE` rather than `LIKE`.
        negated: bool,
    },
    /// A call of a known SQL function: `name([DISTINCT] args)`. See [`func`].
    Func {
        /// The function called.
        func: Function,
        /// Its arguments.
        args: Vec<Expr>,
        /// `DISTINCT` before the arguments (aggregates).
        distinct: bool,
    },
    /// `count(*)`
    CountStar,
    /// An expression with a name: `expr AS "name"` in a select list. See [`Expr::label`].
    Label {
        /// The named expression.
        expr: Box<Expr>,
        /// The name.
        name: Ident,
    },
    /// `CASE WHEN … THEN … [ELSE …] END`. See [`case`].
    Case {
        /// `(condition, result)` pairs, tried in order.
        whens: Vec<(Expr, Expr)>,
        /// The result when no condition holds; NULL when absent.
        else_: Option<Box<Expr>>,
    },
    /// `CAST(expr AS type)`
    Cast {
        /// The converted expression.
        expr: Box<Expr>,
        /// The target type, written by the dialect.
        ty: SqlType,
    },
    /// A scalar subquery: `(SELECT …)`.
    Subquery(Box<Select>),
    /// `[NOT] EXISTS (SELECT …)`
    Exists {
        /// The query tested for rows.
        query: Box<Select>,
        /// `NOT EXISTS` rather than `EXISTS`.
        negated: bool,
    },
    /// Raw SQL with named binds; see [`text`].
    Text(TextSql),
    /// A parenthesised sub-expression (kept explicit so the compiler needs no precedence table).
    Nested(Box<Expr>),
    /// A parameter of a prepared statement ([`param`]): a placeholder whose value is given
    /// each time the statement runs. Only [`crate::dialect::compile_prepared`] accepts it.
    Param,
}

/// A parameter of a prepared statement: compiled once into a placeholder, its value given
/// at each execution. Parameters are numbered in the order their placeholders appear in the
/// SQL text.
///
/// ```
/// use oxalchemy_core::dialect::compile_prepared;
/// use oxalchemy_core::{col, param, select, table, Sqlite, Value};
///
/// let stmt = select([col("name")]).from(table("users")).filter(col("id").eq(param()));
/// let p = compile_prepared(&Sqlite, &stmt.into()).unwrap();
/// assert_eq!(p.sql(), r#"SELECT "name" FROM "users" WHERE "id" = ?"#);
/// let c = p.bind(&Sqlite, vec![Value::I64(5)]).unwrap();
/// assert_eq!(c.binds, [Value::I64(5)]);
/// ```
pub fn param() -> Expr {
    Expr::Param
}

/// A binary operator of [`Expr::Binary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (integer division on integers)
    Div,
    /// `%`: the remainder.
    Mod,
    /// `||`: string concatenation.
    Concat,
}

impl BinaryOp {
    /// The operator as SQL, the same on every dialect.
    pub fn sql(self) -> &'static str {
        match self {
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Concat => "||",
        }
    }
}

/// SQL functions oxalchemy knows how to render. Function names are never user-supplied.
/// Call them through the [`func`] module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `count(x)`
    Count,
    /// `sum(x)`
    Sum,
    /// `avg(x)`
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `coalesce(a, b, …)`
    Coalesce,
    /// `lower(x)`
    Lower,
    /// `upper(x)`
    Upper,
    /// `length(x)`
    Length,
    /// `abs(x)`
    Abs,
    /// The current timestamp; rendered per dialect ([`crate::Dialect::now_sql`]).
    Now,
}

impl Function {
    /// The function's SQL name (the generic `now` for [`Function::Now`], which dialects
    /// replace).
    pub fn name(self) -> &'static str {
        match self {
            Function::Count => "count",
            Function::Sum => "sum",
            Function::Avg => "avg",
            Function::Min => "min",
            Function::Max => "max",
            Function::Coalesce => "coalesce",
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Length => "length",
            Function::Abs => "abs",
            Function::Now => "now",
        }
    }
}

impl From<TextSql> for Expr {
    fn from(t: TextSql) -> Self {
        Expr::Text(t)
    }
}

/// Anything that can stand where an expression is expected: an [`Expr`], [`TextSql`], or a
/// plain value (anything `Into<Value>`, including `Option`s), which becomes a bind.
///
/// ```
/// use oxalchemy_core::{col, Expr, IntoExpr, Value};
///
/// assert_eq!(5i64.into_expr(), Expr::Bind(Value::I64(5)));
/// assert_eq!(None::<i64>.into_expr(), Expr::Bind(Value::Null));
/// assert_eq!(col("id").into_expr(), col("id"));
/// ```
pub trait IntoExpr {
    /// The expression for `self`.
    fn into_expr(self) -> Expr;
}

impl IntoExpr for Expr {
    fn into_expr(self) -> Expr {
        self
    }
}

impl IntoExpr for &Expr {
    fn into_expr(self) -> Expr {
        self.clone()
    }
}

impl IntoExpr for TextSql {
    fn into_expr(self) -> Expr {
        Expr::Text(self)
    }
}

macro_rules! into_expr_value {
    ($($t:ty),*) => {$(
        impl IntoExpr for $t {
            fn into_expr(self) -> Expr { Expr::Bind(self.into()) }
        }
    )*};
}
into_expr_value!(
    Value,
    bool,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    &str,
    &String,
    Vec<u8>,
    &[u8],
    serde_json::Value,
    uuid::Uuid,
    chrono::NaiveDate,
    chrono::NaiveTime,
    chrono::NaiveDateTime,
    chrono::DateTime<chrono::Utc>,
    rust_decimal::Decimal
);

impl<T: Into<Value>> IntoExpr for Option<T> {
    fn into_expr(self) -> Expr {
        Expr::Bind(self.into())
    }
}

/// An unqualified column reference: `"name"`. Use [`TableRef::col`] for `"table"."name"`.
pub fn col(name: impl Into<Ident>) -> Expr {
    Expr::Column {
        table: None,
        name: name.into(),
    }
}

/// A value as a bind parameter, where an [`Expr`] is needed but a plain value would be
/// ambiguous (`lit(1) + col("x")`).
pub fn lit(value: impl Into<Value>) -> Expr {
    Expr::Bind(value.into())
}

/// `*`: every column of the FROM list.
pub fn star() -> Expr {
    Expr::Star(None)
}

/// `a AND b AND …`; nested ANDs are flattened, and an empty list is true.
pub fn and_<I: IntoIterator<Item = Expr>>(exprs: I) -> Expr {
    let mut out = Vec::new();
    for e in exprs {
        match e {
            Expr::And(inner) => out.extend(inner),
            e => out.push(e),
        }
    }
    Expr::And(out)
}

/// `a OR b OR …`; nested ORs are flattened, and an empty list is false.
pub fn or_<I: IntoIterator<Item = Expr>>(exprs: I) -> Expr {
    let mut out = Vec::new();
    for e in exprs {
        match e {
            Expr::Or(inner) => out.extend(inner),
            e => out.push(e),
        }
    }
    Expr::Or(out)
}

/// `NOT e`; a double negation cancels.
pub fn not_(e: Expr) -> Expr {
    match e {
        Expr::Not(inner) => *inner,
        e => Expr::Not(Box::new(e)),
    }
}

/// `EXISTS (subquery)`: true when the query returns any row.
pub fn exists(query: Select) -> Expr {
    Expr::Exists {
        query: Box::new(query),
        negated: false,
    }
}

/// A scalar subquery `(SELECT …)`: a query returning one row of one column, used as a value.
pub fn scalar(query: Select) -> Expr {
    Expr::Subquery(Box::new(query))
}

/// `excluded.col`, for `ON CONFLICT DO UPDATE SET col = excluded.col`: the value the
/// conflicting insert proposed.
pub fn excluded(name: impl Into<Ident>) -> Expr {
    Expr::Excluded(name.into())
}

fn boxed(e: impl IntoExpr) -> Box<Expr> {
    Box::new(e.into_expr())
}
