//! `TypedColumn<M, T>`: the column constants `#[derive(Model)]` generates (`User::username`).
//! Comparisons take an [`Operand<T>`], so a text column cannot be compared with an integer.

use std::marker::PhantomData;

use oxalchemy_core::expr::{Ident, OrderBy};
use oxalchemy_core::{Expr, IntoExpr, Value};

use crate::model::Model;

/// A model's column with its Rust type: `User::username: TypedColumn<User, String>`.
pub struct TypedColumn<M, T> {
    name: &'static str,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for TypedColumn<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for TypedColumn<M, T> {}

impl<M, T> std::fmt::Debug for TypedColumn<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedColumn({})", self.name)
    }
}

/// A value or column that may stand on the other side of a comparison with a `T` column.
#[diagnostic::on_unimplemented(
    message = "cannot compare a `{T}` column with a `{Self}`",
    label = "expected a `{T}` value (or a column of that type) here",
    note = "columns compare only with values of their own Rust type; use `.expr()` and Core expressions to compare across types on purpose"
)]
pub trait Operand<T> {
    /// The operand as an expression: a bound value, or a column.
    fn into_operand(self) -> Expr;
}

/// Any expression is accepted as-is (the escape hatch: `User::id.eq(scalar(…))`).
impl<T> Operand<T> for Expr {
    fn into_operand(self) -> Expr {
        self
    }
}

/// A column of any model with the same Rust type (`Post::author_id.eq(User::id)`).
impl<M: Model, T> Operand<T> for TypedColumn<M, T> {
    fn into_operand(self) -> Expr {
        self.expr()
    }
}

/// A non-null column compared with a nullable one, and the reverse.
impl<M: Model, T> Operand<Option<T>> for TypedColumn<M, T> {
    fn into_operand(self) -> Expr {
        self.expr()
    }
}
impl<M: Model, T> Operand<T> for TypedColumn<M, Option<T>> {
    fn into_operand(self) -> Expr {
        self.expr()
    }
}

macro_rules! operands {
    ($($t:ty),*) => {$(
        impl Operand<$t> for $t {
            fn into_operand(self) -> Expr { Expr::Bind(self.into()) }
        }
        impl Operand<Option<$t>> for $t {
            fn into_operand(self) -> Expr { Expr::Bind(self.into()) }
        }
        impl Operand<Option<$t>> for Option<$t> {
            fn into_operand(self) -> Expr { Expr::Bind(self.into()) }
        }
    )*};
}
operands!(
    bool,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    Vec<u8>,
    serde_json::Value,
    uuid::Uuid,
    chrono::NaiveDate,
    chrono::NaiveTime,
    chrono::NaiveDateTime,
    chrono::DateTime<chrono::Utc>,
    rust_decimal::Decimal
);

impl Operand<String> for &str {
    fn into_operand(self) -> Expr {
        Expr::Bind(Value::Text(self.to_owned()))
    }
}
impl Operand<Option<String>> for &str {
    fn into_operand(self) -> Expr {
        Expr::Bind(Value::Text(self.to_owned()))
    }
}
impl Operand<String> for &String {
    fn into_operand(self) -> Expr {
        Expr::Bind(Value::Text(self.clone()))
    }
}
impl Operand<Option<String>> for &String {
    fn into_operand(self) -> Expr {
        Expr::Bind(Value::Text(self.clone()))
    }
}

/// `Option<E>` of a `#[derive(DbEnum)]` enum, compared with a nullable enum column.
impl<E: crate::model::DbEnum + oxalchemy_core::ToValue> Operand<Option<E>> for Option<E> {
    fn into_operand(self) -> Expr {
        Expr::Bind(match self {
            Some(e) => e.to_value(),
            None => Value::Null,
        })
    }
}

/// Column types that LIKE / ILIKE / contains apply to: `String`, `#[derive(DbType)]`
/// wrappers of it, and `Option`s of those.
pub trait TextType {}
impl TextType for String {}
impl<T: TextType> TextType for Option<T> {}

impl<M: Model, T> TypedColumn<M, T> {
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        TypedColumn {
            name,
            _types: PhantomData,
        }
    }
    /// The column's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The column as an expression, qualified by its table: `"users"."username"`.
    pub fn expr(&self) -> Expr {
        Expr::Column {
            table: Some(Ident::new_static(M::TABLE)),
            name: Ident::new_static(self.name),
        }
    }
    /// `column = other` (`User::username.eq("ann")`).
    pub fn eq(self, other: impl Operand<T>) -> Expr {
        self.expr().eq(other.into_operand())
    }
    /// `column <> other`.
    pub fn ne(self, other: impl Operand<T>) -> Expr {
        self.expr().ne(other.into_operand())
    }
    /// `column < other`.
    pub fn lt(self, other: impl Operand<T>) -> Expr {
        self.expr().lt(other.into_operand())
    }
    /// `column <= other`.
    pub fn le(self, other: impl Operand<T>) -> Expr {
        self.expr().le(other.into_operand())
    }
    /// `column > other`.
    pub fn gt(self, other: impl Operand<T>) -> Expr {
        self.expr().gt(other.into_operand())
    }
    /// `column >= other`.
    pub fn ge(self, other: impl Operand<T>) -> Expr {
        self.expr().ge(other.into_operand())
    }
    /// `column IS NULL`.
    pub fn is_null(self) -> Expr {
        self.expr().is_null()
    }
    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Expr {
        self.expr().is_not_null()
    }
    /// `column IN (…)`, every value bound.
    pub fn in_<I>(self, values: I) -> Expr
    where
        I: IntoIterator,
        I::Item: Operand<T>,
    {
        self.expr()
            .in_(values.into_iter().map(Operand::into_operand))
    }
    /// `column NOT IN (…)`, every value bound.
    pub fn not_in<I>(self, values: I) -> Expr
    where
        I: IntoIterator,
        I::Item: Operand<T>,
    {
        self.expr()
            .not_in(values.into_iter().map(Operand::into_operand))
    }
    /// `column BETWEEN low AND high`.
    pub fn between(self, low: impl Operand<T>, high: impl Operand<T>) -> Expr {
        self.expr().between(low.into_operand(), high.into_operand())
    }
    /// Ascending order by this column, for `order_by`.
    pub fn asc(self) -> OrderBy {
        self.expr().asc()
    }
    /// Descending order by this column, for `order_by`.
    pub fn desc(self) -> OrderBy {
        self.expr().desc()
    }
    /// The column under another name in a SELECT (`AS name`).
    pub fn label(self, name: &'static str) -> Expr {
        self.expr().label(name)
    }
    /// An assignment for a bulk UPDATE: `User::karma.to(5)`.
    pub fn to(self, value: impl Operand<T>) -> (&'static str, Expr) {
        (self.name, value.into_operand())
    }
}

impl<M: Model, T: TextType> TypedColumn<M, T> {
    /// `column LIKE pattern` (`%` and `_` are wildcards).
    pub fn like(self, pattern: impl Into<String>) -> Expr {
        self.expr().like(pattern.into())
    }
    /// `column NOT LIKE pattern`.
    pub fn not_like(self, pattern: impl Into<String>) -> Expr {
        self.expr().not_like(pattern.into())
    }
    /// Case-insensitive LIKE.
    pub fn ilike(self, pattern: impl Into<String>) -> Expr {
        self.expr().ilike(pattern.into())
    }
    /// Contains `s` literally (`%` and `_` in `s` are not wildcards).
    pub fn contains(self, s: &str) -> Expr {
        self.expr().contains(s)
    }
    /// Contains `s` literally, ignoring case.
    pub fn icontains(self, s: &str) -> Expr {
        self.expr().icontains(s)
    }
    /// Starts with `s` literally (`%` and `_` in `s` are not wildcards).
    pub fn startswith(self, s: &str) -> Expr {
        self.expr().startswith(s)
    }
    /// Ends with `s` literally (`%` and `_` in `s` are not wildcards).
    pub fn endswith(self, s: &str) -> Expr {
        self.expr().endswith(s)
    }
}

impl<M: Model, T> IntoExpr for TypedColumn<M, T> {
    fn into_expr(self) -> Expr {
        self.expr()
    }
}

impl<M: Model, T> From<TypedColumn<M, T>> for OrderBy {
    fn from(c: TypedColumn<M, T>) -> OrderBy {
        c.asc()
    }
}
