//! The SQL expression tree: pure data, no I/O.
//!
//! Every literal becomes a bind parameter ([`Expr::Bind`]); every name is an [`Ident`] that the
//! dialect quotes. The only way to put SQL text in a statement is [`text`], whose values are
//! still bound through named parameters.

use std::borrow::Cow;
use std::fmt;

use crate::query::Select;
use crate::value::{SqlType, Value};

/// A table, column, alias or constraint name. Always quoted when compiled.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(Cow<'static, str>);

impl Ident {
    pub const fn new_static(name: &'static str) -> Self {
        Ident(Cow::Borrowed(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl From<&'static str> for Ident {
    fn from(s: &'static str) -> Self {
        Ident(Cow::Borrowed(s))
    }
}
impl From<String> for Ident {
    fn from(s: String) -> Self {
        Ident(Cow::Owned(s))
    }
}
impl From<&Ident> for Ident {
    fn from(s: &Ident) -> Self {
        s.clone()
    }
}

/// A table (or CTE) named in FROM / JOIN, optionally schema-qualified and aliased.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub schema: Option<Ident>,
    pub name: Ident,
    pub alias: Option<Ident>,
}

/// Names a table for use in a query: `table("users").col("id")`.
pub fn table(name: impl Into<Ident>) -> TableRef {
    TableRef {
        schema: None,
        name: name.into(),
        alias: None,
    }
}

impl TableRef {
    pub fn schema(mut self, schema: impl Into<Ident>) -> Self {
        self.schema = Some(schema.into());
        self
    }
    pub fn alias(mut self, alias: impl Into<Ident>) -> Self {
        self.alias = Some(alias.into());
        self
    }
    /// The name columns of this table are qualified with: the alias if any, else the name.
    pub fn qualifier(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.name)
    }
    /// A column of this table, qualified by the table's alias or name.
    pub fn col(&self, name: impl Into<Ident>) -> Expr {
        Expr::Column {
            table: Some(self.qualifier().clone()),
            name: name.into(),
        }
    }
    /// `table.*`
    pub fn star(&self) -> Expr {
        Expr::Star(Some(self.qualifier().clone()))
    }
}

/// An unqualified column reference.
pub fn col(name: impl Into<Ident>) -> Expr {
    Expr::Column {
        table: None,
        name: name.into(),
    }
}

/// A value as a bind parameter.
pub fn lit(value: impl Into<Value>) -> Expr {
    Expr::Bind(value.into())
}

/// `*`
pub fn star() -> Expr {
    Expr::Star(None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
}

impl BinaryOp {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Coalesce,
    Lower,
    Upper,
    Length,
    Abs,
    /// The current timestamp; rendered per dialect.
    Now,
}

impl Function {
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

/// A raw SQL fragment with named bind parameters (`:name`), from [`text`].
#[derive(Debug, Clone, PartialEq)]
pub struct TextSql {
    pub sql: String,
    pub binds: Vec<(String, Value)>,
}

/// Raw SQL with named binds: `text("SELECT * FROM t WHERE id = :id").bind("id", 5)`.
///
/// `:name` placeholders are replaced by the dialect's bind markers; `::` (a PostgreSQL cast)
/// and colons inside quoted strings or identifiers are left alone; `\:` is a literal colon.
pub fn text(sql: impl Into<String>) -> TextSql {
    TextSql {
        sql: sql.into(),
        binds: Vec::new(),
    }
}

impl TextSql {
    pub fn bind(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.binds.push((name.into(), value.into()));
        self
    }
}

/// A node of the expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column {
        table: Option<Ident>,
        name: Ident,
    },
    /// `*` or `table.*`
    Star(Option<Ident>),
    /// A bound parameter. Literals are always bound, never inlined.
    Bind(Value),
    /// `excluded.col` inside `ON CONFLICT DO UPDATE`.
    Excluded(Ident),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    /// Conjunction; nested ANDs are flattened on construction. Empty means true.
    And(Vec<Expr>),
    /// Disjunction; nested ORs are flattened on construction. Empty means false.
    Or(Vec<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    InSubquery {
        expr: Box<Expr>,
        query: Box<Select>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        case_insensitive: bool,
        negated: bool,
    },
    Func {
        func: Function,
        args: Vec<Expr>,
        distinct: bool,
    },
    /// `count(*)`
    CountStar,
    Label {
        expr: Box<Expr>,
        name: Ident,
    },
    Case {
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    Cast {
        expr: Box<Expr>,
        ty: SqlType,
    },
    /// A scalar subquery: `(SELECT …)`.
    Subquery(Box<Select>),
    Exists {
        query: Box<Select>,
        negated: bool,
    },
    Text(TextSql),
    /// A parenthesised sub-expression (kept explicit so the compiler needs no precedence table).
    Nested(Box<Expr>),
}

impl From<TextSql> for Expr {
    fn from(t: TextSql) -> Self {
        Expr::Text(t)
    }
}

/// Anything that can stand where an expression is expected: an `Expr`, or a plain value
/// (which becomes a bind).
pub trait IntoExpr {
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

fn boxed(e: impl IntoExpr) -> Box<Expr> {
    Box::new(e.into_expr())
}

/// The escape character used by `contains`/`startswith`/`endswith` (as SQLAlchemy's autoescape).
pub const AUTOESCAPE_CHAR: char = '/';

/// Escapes `%`, `_` and the escape character itself so `s` matches literally inside LIKE.
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
    fn binary(self, op: BinaryOp, right: impl IntoExpr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(self),
            right: boxed(right),
        }
    }
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
    pub fn lt(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::Lt, other)
    }
    pub fn le(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::LtEq, other)
    }
    pub fn gt(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::Gt, other)
    }
    pub fn ge(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::GtEq, other)
    }
    /// String concatenation `||`.
    pub fn concat(self, other: impl IntoExpr) -> Expr {
        self.binary(BinaryOp::Concat, other)
    }
    pub fn is_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: false,
        }
    }
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: true,
        }
    }
    /// `IN (…)`. An empty list is always false (never a syntax error).
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
    pub fn in_subquery(self, query: Select) -> Expr {
        Expr::InSubquery {
            expr: Box::new(self),
            query: Box::new(query),
            negated: false,
        }
    }
    pub fn not_in_subquery(self, query: Select) -> Expr {
        Expr::InSubquery {
            expr: Box::new(self),
            query: Box::new(query),
            negated: true,
        }
    }
    pub fn between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: boxed(low),
            high: boxed(high),
            negated: false,
        }
    }
    pub fn not_between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: boxed(low),
            high: boxed(high),
            negated: true,
        }
    }
    fn like_op(
        self,
        pattern: impl IntoExpr,
        ci: bool,
        negated: bool,
        escape: Option<char>,
    ) -> Expr {
        Expr::Like {
            expr: Box::new(self),
            pattern: boxed(pattern),
            escape,
            case_insensitive: ci,
            negated,
        }
    }
    /// `LIKE pattern` — `%` and `_` in the pattern are wildcards.
    pub fn like(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, false, false, None)
    }
    /// `LIKE pattern ESCAPE escape`.
    pub fn like_escape(self, pattern: impl IntoExpr, escape: char) -> Expr {
        self.like_op(pattern, false, false, Some(escape))
    }
    pub fn not_like(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, false, true, None)
    }
    /// Case-insensitive LIKE (native ILIKE on PostgreSQL, `lower(x) LIKE lower(p)` on SQLite).
    pub fn ilike(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, true, false, None)
    }
    pub fn ilike_escape(self, pattern: impl IntoExpr, escape: char) -> Expr {
        self.like_op(pattern, true, false, Some(escape))
    }
    pub fn not_ilike(self, pattern: impl IntoExpr) -> Expr {
        self.like_op(pattern, true, true, None)
    }
    fn autoescaped(self, prefix: &str, s: &str, suffix: &str, ci: bool) -> Expr {
        let pattern = format!("{prefix}{}{suffix}", escape_like(s, AUTOESCAPE_CHAR));
        self.like_op(Value::Text(pattern), ci, false, Some(AUTOESCAPE_CHAR))
    }
    /// Matches rows whose value contains `s` literally (`%`, `_` in `s` are not wildcards).
    pub fn contains(self, s: &str) -> Expr {
        self.autoescaped("%", s, "%", false)
    }
    pub fn startswith(self, s: &str) -> Expr {
        self.autoescaped("", s, "%", false)
    }
    pub fn endswith(self, s: &str) -> Expr {
        self.autoescaped("%", s, "", false)
    }
    /// Case-insensitive [`Expr::contains`].
    pub fn icontains(self, s: &str) -> Expr {
        self.autoescaped("%", s, "%", true)
    }
    pub fn label(self, name: impl Into<Ident>) -> Expr {
        Expr::Label {
            expr: Box::new(self),
            name: name.into(),
        }
    }
    pub fn cast(self, ty: SqlType) -> Expr {
        Expr::Cast {
            expr: Box::new(self),
            ty,
        }
    }
    pub fn asc(self) -> OrderBy {
        OrderBy {
            expr: self,
            desc: false,
            nulls: None,
        }
    }
    pub fn desc(self) -> OrderBy {
        OrderBy {
            expr: self,
            desc: true,
            nulls: None,
        }
    }
    /// Wraps in parentheses.
    pub fn nested(self) -> Expr {
        Expr::Nested(Box::new(self))
    }
}

macro_rules! arith {
    ($($tr:ident $m:ident $op:ident),*) => {$(
        impl<R: IntoExpr> std::ops::$tr<R> for Expr {
            type Output = Expr;
            fn $m(self, rhs: R) -> Expr { self.binary(BinaryOp::$op, rhs) }
        }
    )*};
}
arith!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div, Rem rem Mod);

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Neg(Box::new(self))
    }
}

/// `a AND b AND …`; nested ANDs are flattened.
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

/// `a OR b OR …`; nested ORs are flattened.
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

/// `EXISTS (subquery)`
pub fn exists(query: Select) -> Expr {
    Expr::Exists {
        query: Box::new(query),
        negated: false,
    }
}

/// A scalar subquery `(SELECT …)`.
pub fn scalar(query: Select) -> Expr {
    Expr::Subquery(Box::new(query))
}

/// `excluded.col`, for `ON CONFLICT DO UPDATE SET col = excluded.col`.
pub fn excluded(name: impl Into<Ident>) -> Expr {
    Expr::Excluded(name.into())
}

/// `CASE WHEN … THEN … [ELSE …] END`, built with [`Case::when`] and [`Case::else_`].
pub fn case() -> Case {
    Case {
        whens: Vec::new(),
        else_: None,
    }
}

#[derive(Debug, Clone)]
pub struct Case {
    whens: Vec<(Expr, Expr)>,
    else_: Option<Box<Expr>>,
}

impl Case {
    pub fn when(mut self, cond: Expr, then: impl IntoExpr) -> Self {
        self.whens.push((cond, then.into_expr()));
        self
    }
    pub fn else_(mut self, value: impl IntoExpr) -> Expr {
        self.else_ = Some(boxed(value));
        self.end()
    }
    pub fn end(self) -> Expr {
        Expr::Case {
            whens: self.whens,
            else_: self.else_,
        }
    }
}

/// SQL functions: `func::count(col("id"))`, `func::now()` …
pub mod func {
    use super::{Expr, Function, IntoExpr};

    fn call(func: Function, args: Vec<Expr>) -> Expr {
        Expr::Func {
            func,
            args,
            distinct: false,
        }
    }
    pub fn count(e: impl IntoExpr) -> Expr {
        call(Function::Count, vec![e.into_expr()])
    }
    pub fn count_distinct(e: impl IntoExpr) -> Expr {
        Expr::Func {
            func: Function::Count,
            args: vec![e.into_expr()],
            distinct: true,
        }
    }
    /// `count(*)`
    pub fn count_star() -> Expr {
        Expr::CountStar
    }
    pub fn sum(e: impl IntoExpr) -> Expr {
        call(Function::Sum, vec![e.into_expr()])
    }
    pub fn avg(e: impl IntoExpr) -> Expr {
        call(Function::Avg, vec![e.into_expr()])
    }
    pub fn min(e: impl IntoExpr) -> Expr {
        call(Function::Min, vec![e.into_expr()])
    }
    pub fn max(e: impl IntoExpr) -> Expr {
        call(Function::Max, vec![e.into_expr()])
    }
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
    pub fn lower(e: impl IntoExpr) -> Expr {
        call(Function::Lower, vec![e.into_expr()])
    }
    pub fn upper(e: impl IntoExpr) -> Expr {
        call(Function::Upper, vec![e.into_expr()])
    }
    pub fn length(e: impl IntoExpr) -> Expr {
        call(Function::Length, vec![e.into_expr()])
    }
    pub fn abs(e: impl IntoExpr) -> Expr {
        call(Function::Abs, vec![e.into_expr()])
    }
    /// The current timestamp (`now()` on PostgreSQL, `CURRENT_TIMESTAMP` on SQLite).
    pub fn now() -> Expr {
        call(Function::Now, Vec::new())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    First,
    Last,
}

/// An ORDER BY item.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub expr: Expr,
    pub desc: bool,
    pub nulls: Option<Nulls>,
}

impl OrderBy {
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some(Nulls::First);
        self
    }
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
