//! Queries of columns and of several models per row, through a session (SQLAlchemy's
//! `session.query(User.username, func.count(Post.id))` and `select(User, Post)`):
//!
//! * `s.query_columns((User::username, func::count(Post::id).label("post_count")))
//!   .join_related(User::posts)?.group_by(User::username).all::<(String, i64)>()` — any
//!   columns and expressions, decoded into a tuple (or a `#[derive(FromRow)]` struct);
//! * `s.query_models::<(User, Option<Post>)>().outerjoin_related(User::posts)?.all()` —
//!   each model decoded straight from its columns, an outer-joined one as `Option` (`None`
//!   when its key is NULL).
//!
//! The rows are owned values: they are not held by the session (use `s.query::<M>()` for
//! tracked objects). Both run after autoflush in the session's transaction.

use std::marker::PhantomData;

use oxalchemy_core::expr::{Ident, IntoExpr, OrderBy};
use oxalchemy_core::query::{select, FromItem};
use oxalchemy_core::{table, Expr, Select, Value};
use oxalchemy_engine::{Error, FromRow, Row};

use crate::column::TypedColumn;
use crate::model::{Fields, Model};
use crate::relation::Relationship;
use crate::session::Session;

/// One selected item of [`Session::query_columns`]: a model's column (`User::username`),
/// whose table becomes the FROM when it is the first, or any expression.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected by `query_columns`",
    label = "not a column constant nor an expression",
    note = "select column constants (`User::username`) or expressions (`func::count(Post::id)`, `lit(5)`); for whole models use `query_models::<(User, Post)>()`"
)]
pub trait SelectItem: IntoExpr {
    /// The table this item comes from, when it names one.
    fn table(&self) -> Option<&'static str> {
        None
    }
}

impl<M: Model, T> SelectItem for TypedColumn<M, T> {
    fn table(&self) -> Option<&'static str> {
        Some(M::TABLE)
    }
}

impl SelectItem for Expr {}

/// What [`Session::query_columns`] selects: a tuple of [`SelectItem`]s.
pub trait SelectList {
    /// The expressions, and the table of the first item that names one.
    fn items(self) -> (Vec<Expr>, Option<&'static str>);
}

/// One model in a row of [`Session::query_models`]: `M`, or `Option<M>` for an outer join.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model `query_models` can decode",
    label = "not a `#[derive(Model)]` struct nor an `Option` of one",
    note = "query_models selects whole models (`Option<Post>` for an outer-joined one); select columns and expressions with `query_columns((User::username, …))`"
)]
pub trait Entity {
    /// What the row holds for it.
    type Out;
    /// The model's table.
    const TABLE: &'static str;
    /// Appends the model's columns, qualified by its table.
    fn columns(out: &mut Vec<Expr>);
    /// Decodes it from `row` at `*idx`, advancing past its columns.
    fn read(row: &Row<'_>, idx: &mut usize) -> Result<Self::Out, Error>;
}

fn qualified_columns<M: Model>(out: &mut Vec<Expr>) {
    out.extend(M::columns().iter().map(|c| Expr::Column {
        table: Some(Ident::new_static(M::TABLE)),
        name: Ident::new_static(c),
    }));
}

impl<M: Model> Entity for M {
    type Out = M;
    const TABLE: &'static str = M::TABLE;
    fn columns(out: &mut Vec<Expr>) {
        qualified_columns::<M>(out);
    }
    fn read(row: &Row<'_>, idx: &mut usize) -> Result<M, Error> {
        <M as Fields>::read(row, idx)
    }
}

impl<M: Model> Entity for Option<M> {
    type Out = Option<M>;
    const TABLE: &'static str = M::TABLE;
    fn columns(out: &mut Vec<Expr>) {
        qualified_columns::<M>(out);
    }
    /// `None` when the model's first key column is NULL (no row joined).
    fn read(row: &Row<'_>, idx: &mut usize) -> Result<Option<M>, Error> {
        let columns = M::columns();
        let key = M::primary_key_columns()
            .first()
            .and_then(|k| columns.iter().position(|c| c == k))
            .unwrap_or(0);
        if matches!(row.get::<Value>(*idx + key)?, Value::Null) {
            *idx += columns.len();
            return Ok(None);
        }
        <M as Fields>::read(row, idx).map(Some)
    }
}

/// A row of [`Session::query_models`] that selects `B` as `Option<B>`, so
/// `outerjoin_related` to `B` can read rows without a match. `I` is the position of
/// `Option<B>` in the tuple, inferred.
#[diagnostic::on_unimplemented(
    message = "an outer join needs its joined model as an `Option` in the row `{Self}`",
    label = "outer-joined here, but the row does not select this relationship's target as an `Option`",
    note = "rows without a match have NULL in every column of the joined model: select it as `Option<…>` (`query_models::<(User, Option<Post>)>()`), or use `join_related` for an inner join"
)]
pub trait OuterJoined<B, I> {}

/// Positions in a row, for [`OuterJoined`].
#[doc(hidden)]
pub mod at {
    /// The first element.
    pub struct P0;
    /// The second element.
    pub struct P1;
    /// The third element.
    pub struct P2;
    /// The fourth element.
    pub struct P3;
    /// The fifth element.
    pub struct P4;
    /// The sixth element.
    pub struct P5;
}

macro_rules! outer_joined {
    ($( [$($before:ident)*] $pos:ident [$($after:ident)*] )*) => {$(
        impl<B: Model $(, $before)* $(, $after)*> OuterJoined<B, at::$pos>
            for ($($before,)* Option<B>, $($after,)*)
        {
        }
    )*};
}

outer_joined! {
    [] P0 []
    [] P0 [A1]
    [A0] P1 []
    [] P0 [A1 A2]
    [A0] P1 [A2]
    [A0 A1] P2 []
    [] P0 [A1 A2 A3]
    [A0] P1 [A2 A3]
    [A0 A1] P2 [A3]
    [A0 A1 A2] P3 []
    [] P0 [A1 A2 A3 A4]
    [A0] P1 [A2 A3 A4]
    [A0 A1] P2 [A3 A4]
    [A0 A1 A2] P3 [A4]
    [A0 A1 A2 A3] P4 []
    [] P0 [A1 A2 A3 A4 A5]
    [A0] P1 [A2 A3 A4 A5]
    [A0 A1] P2 [A3 A4 A5]
    [A0 A1 A2] P3 [A4 A5]
    [A0 A1 A2 A3] P4 [A5]
    [A0 A1 A2 A3 A4] P5 []
}

/// What [`Session::query_models`] selects: a tuple of [`Entity`]s.
pub trait EntityList {
    /// The decoded row: the tuple of each entity's `Out`.
    type Row: Send;
    /// The first model's table (the FROM).
    const FIRST: &'static str;
    /// Every model's columns, in order.
    fn columns(out: &mut Vec<Expr>);
    /// Decodes a row.
    fn read(row: &Row<'_>) -> Result<Self::Row, Error>;
}

macro_rules! tuples {
    ($(($first:ident $(, $t:ident)*))*) => {$(
        impl<$first: SelectItem $(, $t: SelectItem)*> SelectList for ($first, $($t,)*) {
            #[allow(non_snake_case, reason = "one binding per tuple element, named by its type")]
            fn items(self) -> (Vec<Expr>, Option<&'static str>) {
                let ($first, $($t,)*) = self;
                let from = $first.table()$(.or($t.table()))*;
                (vec![$first.into_expr() $(, $t.into_expr())*], from)
            }
        }

        impl<$first: Entity $(, $t: Entity)*> EntityList for ($first, $($t,)*)
        where
            $first::Out: Send, $($t::Out: Send,)*
        {
            type Row = ($first::Out, $($t::Out,)*);
            const FIRST: &'static str = $first::TABLE;
            fn columns(out: &mut Vec<Expr>) {
                $first::columns(out);
                $($t::columns(out);)*
            }
            fn read(row: &Row<'_>) -> Result<Self::Row, Error> {
                let mut idx = 0;
                Ok(($first::read(row, &mut idx)?, $($t::read(row, &mut idx)?,)*))
            }
        }
    )*};
}

tuples! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
}

/// A row of several models, decoded by [`EntityList::read`].
struct Decoded<E: EntityList>(E::Row);

impl<E: EntityList> FromRow for Decoded<E> {
    fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        E::read(row).map(Decoded)
    }
}

/// Marks a [`RowsQuery`] of columns: the row type is chosen at `all::<T>()`.
#[derive(Debug)]
pub struct ColumnRows;

/// A query of columns ([`Session::query_columns`]) or of models
/// ([`Session::query_models`]) bound to a session. Builder methods as on `Query`.
pub struct RowsQuery<'s, R> {
    session: &'s mut Session,
    select: Select,
    _rows: PhantomData<fn() -> R>,
}

impl<R> RowsQuery<'_, R> {
    /// A WHERE condition (several are ANDed).
    pub fn filter(mut self, cond: Expr) -> Self {
        self.select = self.select.filter(cond);
        self
    }
    /// An INNER JOIN along a relationship (`User::posts`): from its model's table to the
    /// target's.
    pub fn join_related<A: Model, B: Model>(
        mut self,
        rel: Relationship<A, B>,
    ) -> Result<Self, Error> {
        for (target, on) in rel.join_path()? {
            self.select = self.select.join(target, on);
        }
        Ok(self)
    }
    /// An explicit LEFT OUTER JOIN: rows of the left side without a match are kept.
    pub fn left_join(mut self, target: impl Into<FromItem>, on: Expr) -> Self {
        self.select = self.select.left_join(target, on);
        self
    }
    /// The LEFT OUTER JOINs along a relationship.
    fn outer_joined<A: Model, B: Model>(mut self, rel: Relationship<A, B>) -> Result<Self, Error> {
        for (target, on) in rel.join_path()? {
            self.select = self.select.left_join(target, on);
        }
        Ok(self)
    }
    /// An explicit INNER JOIN.
    pub fn join(mut self, target: impl Into<FromItem>, on: Expr) -> Self {
        self.select = self.select.join(target, on);
        self
    }
    /// GROUP BY one more expression (`User::username`).
    pub fn group_by(mut self, e: impl IntoExpr) -> Self {
        self.select = self.select.group_by([e.into_expr()]);
        self
    }
    /// A HAVING condition.
    pub fn having(mut self, cond: Expr) -> Self {
        self.select = self.select.having(cond);
        self
    }
    /// ORDER BY (`User::username.asc()`, or a column for ascending).
    pub fn order_by(mut self, item: impl Into<OrderBy>) -> Self {
        self.select = self.select.order_by(item);
        self
    }
    /// LIMIT.
    pub fn limit(mut self, n: u64) -> Self {
        self.select = self.select.limit(n);
        self
    }
    /// OFFSET.
    pub fn offset(mut self, n: u64) -> Self {
        self.select = self.select.offset(n);
        self
    }
    /// The SELECT this query runs.
    pub fn statement(&self) -> &Select {
        &self.select
    }
}

impl RowsQuery<'_, ColumnRows> {
    /// A LEFT OUTER JOIN along a relationship: rows of the left side without a match are
    /// kept, with NULL in the target's columns (read them as `Option<T>`).
    pub fn outerjoin_related<A: Model, B: Model>(
        self,
        rel: Relationship<A, B>,
    ) -> Result<Self, Error> {
        self.outer_joined(rel)
    }
    /// Every row, decoded as `T` (a tuple such as `(String, i64)`, or a
    /// `#[derive(FromRow)]` struct).
    pub async fn all<T: FromRow + Send>(self) -> Result<Vec<T>, Error> {
        self.session.select(self.select).await
    }
}

impl<E: EntityList> RowsQuery<'_, E> {
    /// A LEFT OUTER JOIN along a relationship: rows of the left side without a match are
    /// kept, and the target, which the row must select as `Option<B>`, reads as `None`
    /// for them (checked at compile time: a bare `B` would fail on the first such row).
    /// To outer-join a model without selecting it, use [`RowsQuery::left_join`].
    pub fn outerjoin_related<A: Model, B: Model, I>(
        self,
        rel: Relationship<A, B>,
    ) -> Result<Self, Error>
    where
        E: OuterJoined<B, I>,
    {
        self.outer_joined(rel)
    }
    /// Every row, each model decoded from its columns.
    pub async fn all(self) -> Result<Vec<E::Row>, Error> {
        let rows: Vec<Decoded<E>> = self.session.select(self.select).await?;
        Ok(rows.into_iter().map(|d| d.0).collect())
    }
}

impl Session {
    /// A query of columns and expressions:
    /// `s.query_columns((User::username, func::count(Post::id).label("post_count")))`.
    /// The FROM is the table of the first model column; join the others with
    /// `join_related`. The row type is chosen at `all::<(String, i64)>()`.
    pub fn query_columns<L: SelectList>(&mut self, items: L) -> RowsQuery<'_, ColumnRows> {
        let (exprs, from) = items.items();
        let mut select = select(exprs);
        if let Some(t) = from {
            select = select.from(table(t));
        }
        RowsQuery {
            session: self,
            select,
            _rows: PhantomData,
        }
    }

    /// A query of rows holding several models: `s.query_models::<(User, Option<Post>)>()`
    /// selects every column of each, FROM the first; join the others with
    /// `join_related` / `outerjoin_related`.
    pub fn query_models<E: EntityList>(&mut self) -> RowsQuery<'_, E> {
        let mut columns = Vec::new();
        E::columns(&mut columns);
        RowsQuery {
            session: self,
            select: select(columns).from(table(E::FIRST)),
            _rows: PhantomData,
        }
    }
}
