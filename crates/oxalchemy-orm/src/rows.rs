//! Queries of columns and of several models per row, through a session (SQLAlchemy's
//! `session.query(User.username, func.count(Post.id))` and `select(User, Post)`):
//!
//! * `s.query_columns((User::username, func::count(Post::id).label("post_count")))
//!   .join_related(User::posts)?.group_by(User::username).all::<(String, i64)>()` — any
//!   columns and expressions, decoded into a tuple (or a `#[derive(FromRow)]` struct);
//! * `s.query_models::<(User, Option<Post>)>().outerjoin_related(User::posts)?.all()` —
//!   each model decoded straight from its columns, an outer-joined one as `Option` (`None`
//!   when its key is NULL);
//! * `s.query_columns((entity::<User>(), func::count(Post::id).label("post_count")))
//!   .outerjoin_related(User::posts)?.group_by(User::id).all::<(User, i64)>()` — whole
//!   models and columns mixed in one row ([`entity`]), each model decoded from its columns.
//!
//! Every column a query names must come from its FROM table or a joined one: a column of a
//! table that is not joined is an error naming the join to add, before anything is sent
//! (the column constants and expressions do not carry their tables in their types, so this
//! is checked when the query runs, not at compile time).
//!
//! The rows are owned values: they are not held by the session (use `s.query::<M>()` for
//! tracked objects). Both run after autoflush in the session's transaction.

use std::marker::PhantomData;

use oxalchemy_core::expr::{Ident, IntoExpr, OrderBy};
use oxalchemy_core::query::{select, FromItem};
use oxalchemy_core::{table, Expr, Select};
use oxalchemy_engine::FromSql;
use oxalchemy_engine::{Error, FromRow, Row};

use crate::column::TypedColumn;
use crate::errors::mapping;
use crate::model::{Fields, Model, RelationshipDef};
use crate::relation::Relationship;
use crate::session::Session;

/// One selected item of [`Session::query_columns`]: a model's column (`User::username`),
/// whose table becomes the FROM when it is the first, any expression, or a whole model
/// ([`entity`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected by `query_columns`",
    label = "not a column constant, an expression nor `entity::<Model>()`",
    note = "select column constants (`User::username`), expressions (`func::count(Post::id)`, `lit(5)`) or whole models (`entity::<User>()`)"
)]
pub trait SelectItem {
    /// Whether the item is a whole model or a column / expression: a list with a model
    /// reads rows with [`RowOf`], one without any with `FromRow`.
    #[doc(hidden)]
    type Kind: ItemKind;
    /// Appends the item's expressions (every column of a model).
    fn push(self, out: &mut Vec<Expr>);
    /// The table this item comes from, when it names one.
    fn table(&self) -> Option<&'static str> {
        None
    }
    /// The model the item belongs to, for the hint naming a missing join.
    #[doc(hidden)]
    fn model(&self) -> Option<ModelHint> {
        None
    }
}

/// A model a query names, for the hint naming a missing join.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct ModelHint {
    name: &'static str,
    relationships: fn() -> &'static [RelationshipDef],
}

impl ModelHint {
    fn of<M: Model>() -> Self {
        ModelHint {
            name: M::NAME,
            relationships: M::relationships,
        }
    }
}

impl<M: Model, T> SelectItem for TypedColumn<M, T> {
    type Kind = kind::Columns;
    fn push(self, out: &mut Vec<Expr>) {
        out.push(self.into_expr());
    }
    fn table(&self) -> Option<&'static str> {
        Some(M::TABLE)
    }
    fn model(&self) -> Option<ModelHint> {
        Some(ModelHint::of::<M>())
    }
}

impl SelectItem for Expr {
    type Kind = kind::Columns;
    fn push(self, out: &mut Vec<Expr>) {
        out.push(self);
    }
}

/// A whole model in a [`Session::query_columns`] list ([`entity`]): every column of `E`'s
/// table, read back as `E` (`User`, or `Option<Post>` for an outer-joined one).
pub struct Whole<E>(PhantomData<fn() -> E>);

/// Selects a whole model among columns: `s.query_columns((entity::<User>(),
/// func::count(Post::id)))` reads rows of `(User, i64)`; `entity::<Option<Post>>()` reads
/// `Option<Post>`, `None` where an outer join found no row.
pub fn entity<E: Entity>() -> Whole<E> {
    Whole(PhantomData)
}

impl<E: Entity> SelectItem for Whole<E> {
    type Kind = kind::Models;
    fn push(self, out: &mut Vec<Expr>) {
        E::columns(out);
    }
    fn table(&self) -> Option<&'static str> {
        Some(E::TABLE)
    }
    fn model(&self) -> Option<ModelHint> {
        Some(E::hint())
    }
}

/// The kinds of [`SelectItem`]: whether a list holds a whole model.
#[doc(hidden)]
pub mod kind {
    /// Columns and expressions only.
    pub struct Columns;
    /// At least one whole model.
    pub struct Models;
}

/// Combines item kinds: a list is [`kind::Models`] when any item is, and its rows are
/// [`ColumnRows`] or [`MixedRows`] accordingly.
#[doc(hidden)]
pub trait ItemKind {
    /// The kind of a list of this item and items of kind `K`.
    type Or<K: ItemKind>: ItemKind;
    /// The row marker of a list `L` of this kind.
    type Rows<L>;
}

impl ItemKind for kind::Columns {
    type Or<K: ItemKind> = K;
    type Rows<L> = ColumnRows;
}

impl ItemKind for kind::Models {
    type Or<K: ItemKind> = kind::Models;
    type Rows<L> = MixedRows<L>;
}

/// What [`Session::query_columns`] selects: a tuple of [`SelectItem`]s.
pub trait SelectList {
    /// [`ColumnRows`] for columns only, [`MixedRows`] when a whole model is selected.
    type Rows;
    /// The expressions, and the table of the first item that names one.
    fn items(self) -> (Vec<Expr>, Option<&'static str>);
    /// The models the items belong to.
    #[doc(hidden)]
    fn models(&self, out: &mut Vec<ModelHint>);
}

/// A row element read from the [`SelectItem`] `I` of a [`Session::query_columns`] list that
/// selects a whole model: the model itself for `entity::<User>()`, `Option<Post>` for
/// `entity::<Option<Post>>()`, any `FromSql` type for a column or an expression.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from the selected item `{I}`",
    label = "the row's element does not match the item selected at its position",
    note = "`entity::<User>()` reads as `User`, `entity::<Option<Post>>()` as `Option<Post>`; a column or an expression reads as a `FromSql` type (`i64`, `String`, `Option<…>`)"
)]
pub trait ReadAs<I>: Sized {
    /// Decodes it from `row` at `*idx`, advancing past its columns.
    fn read_as(row: &Row<'_>, idx: &mut usize) -> Result<Self, Error>;
}

impl<M: Model> ReadAs<Whole<M>> for M {
    #[inline]
    fn read_as(row: &Row<'_>, idx: &mut usize) -> Result<Self, Error> {
        <M as Entity>::read(row, idx)
    }
}

impl<M: Model> ReadAs<Whole<Option<M>>> for Option<M> {
    #[inline]
    fn read_as(row: &Row<'_>, idx: &mut usize) -> Result<Self, Error> {
        <Option<M> as Entity>::read(row, idx)
    }
}

impl<T: FromSql> ReadAs<Expr> for T {
    #[inline]
    fn read_as(row: &Row<'_>, idx: &mut usize) -> Result<Self, Error> {
        let v = row.get(*idx)?;
        *idx += 1;
        Ok(v)
    }
}

impl<T: FromSql, M: Model, C> ReadAs<TypedColumn<M, C>> for T {
    #[inline]
    fn read_as(row: &Row<'_>, idx: &mut usize) -> Result<Self, Error> {
        let v = row.get(*idx)?;
        *idx += 1;
        Ok(v)
    }
}

/// A row of a [`Session::query_columns`] list `L` that selects whole models: a tuple with
/// one element per item, each [`ReadAs`] its item (`(User, i64)` for
/// `(entity::<User>(), func::count(Post::id))`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a row of the selected items `{L}`",
    label = "the row type does not match the selected items",
    note = "give one element per selected item, in order: `entity::<User>()` reads as `User`, a column or an expression as a `FromSql` type"
)]
pub trait RowOf<L>: Sized {
    /// Decodes a row.
    fn read_row(row: &Row<'_>) -> Result<Self, Error>;
}

/// One model in a row of [`Session::query_models`]: `M`, or `Option<M>` for an outer join.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model `query_models` can decode",
    label = "not a `#[derive(Model)]` struct nor an `Option` of one",
    note = "query_models selects whole models (`Option<Post>` for an outer-joined one); select columns and expressions with `query_columns((User::username, …))`, models and columns mixed with `query_columns((entity::<User>(), func::count(Post::id)))`"
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
    /// The model, for the hint naming a missing join.
    #[doc(hidden)]
    fn hint() -> ModelHint;
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
    /// A row without this model (NULL key: an outer join found none) is an error naming
    /// the fix, rather than the first NOT NULL column's decode error.
    #[inline]
    fn read(row: &Row<'_>, idx: &mut usize) -> Result<M, Error> {
        let start = *idx;
        <M as Fields>::read(row, idx).map_err(|e| match row.is_null(start + M::LAYOUT.key_at()) {
            Ok(true) => mapping(format!(
                "a row has no {} (its key is NULL: an outer join found no match); select \
                     it as an Option (`Option<{}>`, `entity::<Option<{}>>()`) to read such \
                     rows",
                M::NAME,
                M::NAME,
                M::NAME
            )),
            _ => e,
        })
    }
    fn hint() -> ModelHint {
        ModelHint::of::<M>()
    }
}

impl<M: Model> Entity for Option<M> {
    type Out = Option<M>;
    const TABLE: &'static str = M::TABLE;
    fn columns(out: &mut Vec<Expr>) {
        qualified_columns::<M>(out);
    }
    /// `None` when the model's first key column is NULL (no row joined).
    #[inline]
    fn read(row: &Row<'_>, idx: &mut usize) -> Result<Option<M>, Error> {
        <M as Fields>::read_present(row, idx)
    }
    fn hint() -> ModelHint {
        ModelHint::of::<M>()
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
    /// The models, for the hint naming a missing join.
    #[doc(hidden)]
    fn models(out: &mut Vec<ModelHint>);
}

/// The kind of a list of items: [`kind::Models`] when any of them is a whole model.
macro_rules! kind_of {
    ($a:ident) => { <$a as SelectItem>::Kind };
    ($a:ident $(, $rest:ident)+) => {
        <<$a as SelectItem>::Kind as ItemKind>::Or<kind_of!($($rest),+)>
    };
}

macro_rules! tuples {
    ($(($first:ident $(, $t:ident)*))*) => {$(
        impl<$first: SelectItem $(, $t: SelectItem)*> SelectList for ($first, $($t,)*) {
            type Rows = <kind_of!($first $(, $t)*) as ItemKind>::Rows<Self>;
            #[allow(non_snake_case, reason = "one binding per tuple element, named by its type")]
            fn items(self) -> (Vec<Expr>, Option<&'static str>) {
                let ($first, $($t,)*) = self;
                let from = $first.table()$(.or($t.table()))*;
                let mut out = Vec::new();
                $first.push(&mut out);
                $($t.push(&mut out);)*
                (out, from)
            }
            #[allow(non_snake_case, reason = "one binding per tuple element, named by its type")]
            fn models(&self, out: &mut Vec<ModelHint>) {
                let ($first, $($t,)*) = self;
                out.extend($first.model());
                $(out.extend($t.model());)*
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
            #[inline]
            fn read(row: &Row<'_>) -> Result<Self::Row, Error> {
                let mut idx = 0;
                Ok(($first::read(row, &mut idx)?, $($t::read(row, &mut idx)?,)*))
            }
            fn models(out: &mut Vec<ModelHint>) {
                out.push($first::hint());
                $(out.push($t::hint());)*
            }
        }
    )*};
}

macro_rules! rows_of {
    ($(($($item:ident $out:ident),+))*) => {$(
        impl<$($item, $out: ReadAs<$item>),+> RowOf<($($item,)+)> for ($($out,)+) {
            #[inline]
            fn read_row(row: &Row<'_>) -> Result<Self, Error> {
                let mut idx = 0;
                Ok(($($out::read_as(row, &mut idx)?,)+))
            }
        }
    )*};
}

rows_of! {
    (I0 R0)
    (I0 R0, I1 R1)
    (I0 R0, I1 R1, I2 R2)
    (I0 R0, I1 R1, I2 R2, I3 R3)
    (I0 R0, I1 R1, I2 R2, I3 R3, I4 R4)
    (I0 R0, I1 R1, I2 R2, I3 R3, I4 R4, I5 R5)
}

tuples! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
}

/// Marks a [`RowsQuery`] of columns: the row type is chosen at `all::<T>()`.
#[derive(Debug)]
pub struct ColumnRows;

/// Marks a [`RowsQuery`] of a list `L` that selects whole models among columns
/// ([`entity`]): the row type is chosen at `all::<T>()`, a [`RowOf<L>`] tuple.
pub struct MixedRows<L>(PhantomData<fn() -> L>);

/// A query of columns ([`Session::query_columns`]) or of models
/// ([`Session::query_models`]) bound to a session. Builder methods as on `Query`.
pub struct RowsQuery<'s, R> {
    session: &'s mut Session,
    select: Select,
    /// The models the query names (items, joined relationships), for the hint naming a
    /// missing join.
    models: Vec<ModelHint>,
    _rows: PhantomData<fn() -> R>,
}

/// Adds the names of a FROM or JOIN item that columns may be qualified by.
fn from_names<'a>(item: &'a FromItem, out: &mut Vec<&'a str>) {
    match item {
        FromItem::Table(t) => {
            out.push(t.name.as_str());
            out.extend(t.alias.as_ref().map(Ident::as_str));
        }
        FromItem::Subquery { alias, .. } => out.push(alias.as_str()),
    }
}

/// The first column of `e` qualified by a table not in `known`. Subqueries are not entered:
/// their columns may name their own FROM or, correlated, the outer one.
fn unjoined<'a>(e: &'a Expr, known: &[&str]) -> Option<(&'a str, &'a str)> {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Column {
                table: Some(t),
                name,
            } if !known.contains(&t.as_str()) => return Some((t.as_str(), name.as_str())),
            Expr::Star(Some(t)) if !known.contains(&t.as_str()) => return Some((t.as_str(), "*")),
            Expr::Binary { operands, .. } => stack.extend(operands.iter()),
            Expr::Neg(x) | Expr::Not(x) | Expr::Nested(x) => stack.push(x),
            Expr::IsNull { expr, .. }
            | Expr::InSubquery { expr, .. }
            | Expr::Label { expr, .. }
            | Expr::Cast { expr, .. } => stack.push(expr),
            Expr::And(v) | Expr::Or(v) | Expr::Func { args: v, .. } => stack.extend(v),
            Expr::InList { expr, list, .. } => {
                stack.push(expr);
                stack.extend(list);
            }
            Expr::Between {
                expr, low, high, ..
            } => stack.extend([&**expr, &**low, &**high]),
            Expr::Like { expr, pattern, .. } => stack.extend([&**expr, &**pattern]),
            Expr::Case { whens, else_ } => {
                for (w, t) in whens {
                    stack.extend([w, t]);
                }
                stack.extend(else_.as_deref());
            }
            _ => {}
        }
    }
    None
}

/// Checks that every column the select names is qualified by its FROM table or a joined
/// one: otherwise the database would fail with "missing FROM-clause entry" / "no such
/// column"; this names the join to add.
fn check_joined(select: &Select, models: &[ModelHint]) -> Result<(), Error> {
    let mut known = Vec::new();
    for f in &select.from {
        from_names(f, &mut known);
    }
    for j in &select.joins {
        from_names(&j.target, &mut known);
    }
    let exprs = select
        .columns
        .iter()
        .chain(select.joins.iter().map(|j| &j.on))
        .chain(&select.where_)
        .chain(&select.group_by)
        .chain(&select.having)
        .chain(select.order_by.iter().map(|o| &o.expr));
    for e in exprs {
        let Some((table, column)) = unjoined(e, &known) else {
            continue;
        };
        let via = models.iter().find_map(|m| {
            (m.relationships)()
                .iter()
                .find(|r| r.target == table)
                .map(|r| format!("`.join_related({}::{})`", m.name, r.name))
        });
        let via = via.map_or_else(String::new, |v| format!("{v}, "));
        return Err(mapping(format!(
            "the query names `{table}.{column}` but `{table}` is not in its FROM ({}) nor \
             joined: join it first ({via}`.outerjoin_related(..)`, or `.join(table(\"{table}\"), on)`)",
            if known.is_empty() {
                "empty".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok(())
}

impl<'s, R> RowsQuery<'s, R> {
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
        self.models
            .extend([ModelHint::of::<A>(), ModelHint::of::<B>()]);
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
        self.models
            .extend([ModelHint::of::<A>(), ModelHint::of::<B>()]);
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
    /// The SELECT, once every column it names is known to come from a table it reads.
    fn checked(self) -> Result<(&'s mut Session, Select), Error> {
        check_joined(&self.select, &self.models)?;
        Ok((self.session, self.select))
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
        let (session, select) = self.checked()?;
        session.select(select).await
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
        let (session, select) = self.checked()?;
        session.select_map(select, E::read).await
    }
}

impl<L> RowsQuery<'_, MixedRows<L>> {
    /// A LEFT OUTER JOIN along a relationship: rows of the left side without a match are
    /// kept, with NULL in the target's columns. Select the target as
    /// `entity::<Option<B>>()` to read such rows (a bare `entity::<B>()` fails on them,
    /// naming the fix); counting its rows (`func::count(Post::id)`) gives 0 for them.
    pub fn outerjoin_related<A: Model, B: Model>(
        self,
        rel: Relationship<A, B>,
    ) -> Result<Self, Error> {
        self.outer_joined(rel)
    }
    /// Every row, decoded as `T`: a tuple with one element per selected item, whole models
    /// as themselves (`(User, i64)` for `(entity::<User>(), func::count(Post::id))`).
    pub async fn all<T: RowOf<L> + Send>(self) -> Result<Vec<T>, Error> {
        let (session, select) = self.checked()?;
        session.select_map(select, T::read_row).await
    }
}

impl Session {
    /// A query of columns and expressions:
    /// `s.query_columns((User::username, func::count(Post::id).label("post_count")))`.
    /// The FROM is the table of the first model column; join the others with
    /// `join_related`. The row type is chosen at `all::<(String, i64)>()`.
    ///
    /// Whole models mix with columns through [`entity`]:
    /// `s.query_columns((entity::<User>(), func::count(Post::id)))` reads rows of
    /// `(User, i64)` (`all::<(User, i64)>()`), each model decoded from its columns.
    pub fn query_columns<L: SelectList>(&mut self, items: L) -> RowsQuery<'_, L::Rows> {
        let mut models = Vec::new();
        items.models(&mut models);
        let (exprs, from) = items.items();
        let mut select = select(exprs);
        if let Some(t) = from {
            select = select.from(table(t));
        }
        RowsQuery {
            session: self,
            select,
            models,
            _rows: PhantomData,
        }
    }

    /// A query of rows holding several models: `s.query_models::<(User, Option<Post>)>()`
    /// selects every column of each, FROM the first; join the others with
    /// `join_related` / `outerjoin_related`.
    pub fn query_models<E: EntityList>(&mut self) -> RowsQuery<'_, E> {
        let mut columns = Vec::new();
        E::columns(&mut columns);
        let mut models = Vec::new();
        E::models(&mut models);
        RowsQuery {
            session: self,
            select: select(columns).from(table(E::FIRST)),
            models,
            _rows: PhantomData,
        }
    }
}
