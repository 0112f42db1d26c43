//! Statements: SELECT, INSERT, UPDATE, DELETE (pure data, built with small builders), and
//! [`Statement`], the one type [`crate::compile`] accepts.
//!
//! Each builder method takes `self` and returns it, so a statement reads like its SQL:
//!
//! ```
//! use oxalchemy_core::{col, compile, table, update, Sqlite, Value};
//!
//! let stmt = update(table("users"))
//!     .set("active", false)
//!     .filter(col("last_login").is_null())
//!     .returning([col("id")]);
//! let c = compile(&Sqlite, &stmt.into()).unwrap();
//! assert_eq!(
//!     c.sql,
//!     r#"UPDATE "users" SET "active" = ? WHERE "last_login" IS NULL RETURNING "id""#
//! );
//! assert_eq!(c.binds, [Value::I64(0)]);
//! ```

use crate::expr::{and_, Expr, Ident, IntoExpr, OrderBy, TableRef, TextSql};
use crate::schema::{CreateEnumType, CreateIndex, CreateTable, DropEnumType, DropIndex, DropTable};

/// What a FROM or JOIN names: a table, or a subquery under an alias. A [`TableRef`]
/// converts into one, so `.from(table("users"))` works.
#[derive(Debug, Clone, PartialEq)]
pub enum FromItem {
    /// A table (or CTE) by name.
    Table(TableRef),
    /// `(SELECT …) AS alias`
    Subquery {
        /// The derived table's query.
        query: Box<Select>,
        /// The name the query's rows go by (required in SQL).
        alias: Ident,
    },
}

impl From<TableRef> for FromItem {
    fn from(t: TableRef) -> Self {
        FromItem::Table(t)
    }
}

/// The kind of a [`Join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// `JOIN`: only rows with a match on both sides.
    Inner,
    /// `LEFT OUTER JOIN`: every left row, with NULLs where the right has no match.
    Left,
}

/// One `JOIN target ON condition` of a [`Select`]; made by [`Select::join`] and
/// [`Select::left_join`].
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// Inner or left outer.
    pub kind: JoinKind,
    /// The joined table or subquery.
    pub target: FromItem,
    /// The join condition.
    pub on: Expr,
}

/// A set operation combining two selects; see [`Select::union`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`: the rows of both, duplicates removed.
    Union,
    /// `UNION ALL`: the rows of both, duplicates kept (cheaper).
    UnionAll,
}

/// A common table expression: `name (cols) AS (query)`, attached to a select with
/// [`Select::with`] and read through [`Cte::table`].
///
/// ```
/// use oxalchemy_core::{col, compile, select, table, Sqlite};
///
/// let recent = select([col("id")]).from(table("posts")).limit(10).cte("recent");
/// let stmt = select([col("id")]).from(recent.table()).with(recent).into();
/// assert_eq!(
///     compile(&Sqlite, &stmt).unwrap().sql,
///     r#"WITH "recent" AS (SELECT "id" FROM "posts" LIMIT 10) SELECT "id" FROM "recent""#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Cte {
    /// The name the query's rows go by.
    pub name: Ident,
    /// Names for the query's columns; empty keeps the query's own.
    pub columns: Vec<Ident>,
    /// The query (for `WITH RECURSIVE`, a UNION of a base case and a step naming the CTE).
    pub query: Box<Select>,
}

impl Cte {
    /// This CTE as a table to select from or join.
    pub fn table(&self) -> TableRef {
        crate::expr::table(self.name.clone())
    }
}

/// `[WITH …] SELECT [DISTINCT] … FROM … JOIN … WHERE … GROUP BY … HAVING … [UNION …]
/// ORDER BY … LIMIT … OFFSET …`, made by [`select`].
///
/// The fields are public so the ORM can adjust a query it built; the builder methods are
/// the way to make one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    /// `WITH` clauses, in order.
    pub ctes: Vec<Cte>,
    /// `WITH RECURSIVE` rather than `WITH`.
    pub recursive: bool,
    /// `SELECT DISTINCT`
    pub distinct: bool,
    /// The select list; empty selects `*`.
    pub columns: Vec<Expr>,
    /// The FROM list; several items are a cross join.
    pub from: Vec<FromItem>,
    /// Joins, after the FROM list, in order.
    pub joins: Vec<Join>,
    /// The WHERE condition (several [`Select::filter`] calls are ANDed into it).
    pub where_: Option<Expr>,
    /// GROUP BY expressions.
    pub group_by: Vec<Expr>,
    /// The HAVING condition, on groups.
    pub having: Option<Expr>,
    /// `UNION [ALL]` members, compiled after this select's HAVING and before its ORDER BY.
    pub compound: Vec<(SetOp, Select)>,
    /// ORDER BY items (of the whole compound, when there are UNION members).
    pub order_by: Vec<OrderBy>,
    /// `LIMIT n` (bound).
    pub limit: Option<u64>,
    /// `OFFSET n` (bound).
    pub offset: Option<u64>,
}

/// The head every query of one model starts with, `SELECT "t"."a", "t"."b", … FROM "t"`,
/// given as static names.
///
/// The ORM keeps a model query's head apart from the rest of its [`Select`] and hands both
/// to the compiled-statement cache ([`StatementCache::compile_shared_headed_select_into`](
/// crate::dialect::StatementCache::compile_shared_headed_select_into)): a lookup in a loop
/// then neither builds the column list and the FROM item nor walks them to find its cached
/// statement. The names' addresses stand for them in the cache's key (static text never
/// changes), so two heads with the same addresses always render the same SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectHead {
    /// The table: the first FROM item, and the qualifier of every column.
    pub table: &'static str,
    /// The columns, in select order.
    pub columns: &'static [&'static str],
}

impl SelectHead {
    /// Writes this head into `select`: its columns before the select's own, its table
    /// before the select's FROM items. The statement the cache compiles on a miss.
    pub fn prepend_to(&self, select: &mut Select) {
        let table = Ident::new_static(self.table);
        select.columns.splice(
            0..0,
            self.columns.iter().map(|c| Expr::Column {
                table: Some(table.clone()),
                name: Ident::new_static(c),
            }),
        );
        select.from.insert(0, crate::expr::table(table).into());
    }

    /// `select` with this head written in (see [`Self::prepend_to`]).
    pub fn complete(&self, mut select: Select) -> Select {
        self.prepend_to(&mut select);
        select
    }
}

/// `SELECT columns …`: starts a query. Each column is anything [`IntoExpr`]; an empty list
/// selects `*`.
///
/// ```
/// use oxalchemy_core::{col, compile, select, table, Postgres};
///
/// let q = select([col("id"), col("name")])
///     .from(table("users"))
///     .order_by(col("name").desc())
///     .limit(20);
/// assert_eq!(
///     compile(&Postgres, &q.into()).unwrap().sql,
///     r#"SELECT "id", "name" FROM "users" ORDER BY "name" DESC LIMIT $1"#
/// );
/// ```
pub fn select<I>(columns: I) -> Select
where
    I: IntoIterator,
    I::Item: IntoExpr,
{
    Select {
        columns: columns.into_iter().map(IntoExpr::into_expr).collect(),
        ..Select::default()
    }
}

impl Select {
    /// The same query selecting `columns` instead (e.g. aggregates over a model query).
    pub fn columns_replaced<I>(mut self, columns: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        self.columns = columns.into_iter().map(IntoExpr::into_expr).collect();
        self
    }
    /// Adds one column to the select list.
    pub fn column(mut self, e: impl IntoExpr) -> Self {
        self.columns.push(e.into_expr());
        self
    }
    /// Adds a table (or CTE, or subquery) to the FROM list.
    pub fn from(mut self, item: impl Into<FromItem>) -> Self {
        self.from.push(item.into());
        self
    }
    /// `FROM (subquery) AS alias`
    pub fn from_subquery(mut self, query: Select, alias: impl Into<Ident>) -> Self {
        self.from.push(FromItem::Subquery {
            query: Box::new(query),
            alias: alias.into(),
        });
        self
    }
    /// `JOIN target ON on` (an inner join).
    pub fn join(mut self, target: impl Into<FromItem>, on: Expr) -> Self {
        self.joins.push(Join {
            kind: JoinKind::Inner,
            target: target.into(),
            on,
        });
        self
    }
    /// `LEFT OUTER JOIN`
    pub fn left_join(mut self, target: impl Into<FromItem>, on: Expr) -> Self {
        self.joins.push(Join {
            kind: JoinKind::Left,
            target: target.into(),
            on,
        });
        self
    }
    /// Adds a WHERE condition; several calls are ANDed.
    pub fn filter(mut self, cond: Expr) -> Self {
        self.add_filter(cond);
        self
    }
    /// [`Select::filter`] in place, for a builder that holds the `Select` (a model query).
    pub fn add_filter(&mut self, cond: Expr) {
        add_condition(&mut self.where_, cond);
    }
    /// Adds GROUP BY expressions (a label groups by its select-list alias).
    pub fn group_by<I>(mut self, exprs: I) -> Self
    where
        I: IntoIterator<Item = Expr>,
    {
        self.group_by.extend(exprs);
        self
    }
    /// Adds a HAVING condition on groups; several calls are ANDed.
    pub fn having(mut self, cond: Expr) -> Self {
        add_condition(&mut self.having, cond);
        self
    }
    /// Adds an ORDER BY item: an [`Expr`] (ascending) or an [`OrderBy`] from
    /// [`Expr::desc`] and friends. Call again for further keys.
    pub fn order_by(mut self, item: impl Into<OrderBy>) -> Self {
        self.order_by.push(item.into());
        self
    }
    /// `LIMIT n`: at most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// `OFFSET n`: skips the first `n` rows (SQLite gets `LIMIT -1 OFFSET n`).
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    /// `SELECT DISTINCT`: duplicate rows removed.
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }
    /// Adds a `WITH` clause; see [`Cte`].
    pub fn with(mut self, cte: Cte) -> Self {
        self.ctes.push(cte);
        self
    }
    /// Adds a `WITH RECURSIVE` clause: the CTE's query may name the CTE itself.
    pub fn with_recursive(mut self, cte: Cte) -> Self {
        self.recursive = true;
        self.ctes.push(cte);
        self
    }
    /// `… UNION other`: rows of both queries, duplicates removed. A member may not carry
    /// its own ORDER BY / LIMIT / OFFSET / WITH (wrap it in a subquery).
    pub fn union(mut self, other: Select) -> Self {
        self.compound.push((SetOp::Union, other));
        self
    }
    /// `… UNION ALL other`: rows of both queries, duplicates kept.
    pub fn union_all(mut self, other: Select) -> Self {
        self.compound.push((SetOp::UnionAll, other));
        self
    }
    /// Makes this select a CTE named `name`.
    pub fn cte(self, name: impl Into<Ident>) -> Cte {
        Cte {
            name: name.into(),
            columns: Vec::new(),
            query: Box::new(self),
        }
    }
    /// Makes this select a CTE with named columns.
    pub fn cte_with_columns<I>(self, name: impl Into<Ident>, columns: I) -> Cte
    where
        I: IntoIterator,
        I::Item: Into<Ident>,
    {
        Cte {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            query: Box::new(self),
        }
    }
}

/// Which unique constraint an upsert's `ON CONFLICT` is about.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictTarget {
    /// `(a, b)`: the columns of a unique constraint or index; empty (DO NOTHING only) means
    /// any unique constraint.
    Columns(Vec<Ident>),
    /// `ON CONSTRAINT name` (PostgreSQL; SQLite names the columns instead).
    Constraint(Ident),
}

impl ConflictTarget {
    /// Whether the target names nothing (no columns).
    pub fn is_empty(&self) -> bool {
        matches!(self, ConflictTarget::Columns(c) if c.is_empty())
    }
}

impl<I: Into<Ident>> FromIterator<I> for ConflictTarget {
    fn from_iter<T: IntoIterator<Item = I>>(iter: T) -> Self {
        ConflictTarget::Columns(iter.into_iter().map(Into::into).collect())
    }
}

/// `ON CONFLICT` handling for INSERT (an upsert), on SQLite 3.35+ and PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub enum OnConflict {
    /// `ON CONFLICT [target] DO NOTHING`: conflicting rows are skipped.
    DoNothing {
        /// The unique key's columns or constraint; no columns skips a conflict on any
        /// unique constraint.
        target: ConflictTarget,
    },
    /// `ON CONFLICT target DO UPDATE SET … [WHERE …]`: a conflicting row updates the
    /// existing one instead.
    DoUpdate {
        /// The unique key's columns or constraint (required).
        target: ConflictTarget,
        /// The assignments; [`crate::expr::excluded`] names the proposed row's values.
        set: Vec<(Ident, Expr)>,
        /// Updates only existing rows matching this condition.
        where_: Option<Expr>,
    },
}

/// `INSERT INTO table (columns) VALUES (…), (…) [ON CONFLICT …] [RETURNING …]`, made by
/// [`insert`]. With no columns it is `INSERT … DEFAULT VALUES`.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// The table inserted into.
    pub table: TableRef,
    /// The columns given values, in order.
    pub columns: Vec<Ident>,
    /// The rows, each one value per column.
    pub rows: Vec<Vec<Expr>>,
    /// What to do when a row conflicts with a unique constraint; `None` fails the insert.
    pub on_conflict: Option<OnConflict>,
    /// `RETURNING` expressions: what the database sends back for each inserted row.
    pub returning: Vec<Expr>,
    /// [`Insert::on_conflict_where`] was called with no DO UPDATE to apply it to (a
    /// compile error, rather than a condition silently dropped).
    pub conflict_where_without_update: bool,
}

/// `INSERT INTO table …`: starts an insert.
///
/// ```
/// use oxalchemy_core::{col, compile, excluded, insert, lit, table, Postgres};
///
/// let counters = table("counters");
/// let hits = counters.col("hits") + excluded("hits");
/// let upsert = insert(counters)
///     .columns(["name", "hits"])
///     .values([lit("home"), lit(1i64)])
///     .on_conflict_do_update(["name"], [("hits", hits)])
///     .returning([col("hits")]);
/// let c = compile(&Postgres, &upsert.into()).unwrap();
/// assert_eq!(
///     c.sql,
///     concat!(
///         r#"INSERT INTO "counters" ("name", "hits") VALUES ($1, $2) "#,
///         r#"ON CONFLICT ("name") DO UPDATE SET "hits" = "counters"."hits" + excluded."hits" "#,
///         r#"RETURNING "hits""#
///     )
/// );
/// ```
pub fn insert(table: TableRef) -> Insert {
    Insert {
        table,
        columns: Vec::new(),
        rows: Vec::new(),
        on_conflict: None,
        returning: Vec::new(),
        conflict_where_without_update: false,
    }
}

impl Insert {
    /// Names the columns every row gives values for.
    pub fn columns<I>(mut self, columns: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Ident>,
    {
        self.columns = columns.into_iter().map(Into::into).collect();
        self
    }
    /// Adds one row of values, in column order. Call again for a multi-row insert.
    pub fn values<I>(mut self, row: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        self.rows
            .push(row.into_iter().map(IntoExpr::into_expr).collect());
        self
    }
    /// `ON CONFLICT (target) DO NOTHING`; an empty target skips conflicts on any unique
    /// constraint.
    pub fn on_conflict_do_nothing<I>(mut self, target: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Ident>,
    {
        self.on_conflict = Some(OnConflict::DoNothing {
            target: target.into_iter().collect(),
        });
        self
    }
    /// `ON CONFLICT (target) DO UPDATE SET …`; use [`crate::expr::excluded`] for the
    /// proposed row. Columns are names (`"hits"`) or [`Ident`]s, values anything
    /// [`IntoExpr`].
    pub fn on_conflict_do_update<I, S, K, E>(mut self, target: I, set: S) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Ident>,
        S: IntoIterator<Item = (K, E)>,
        K: Into<Ident>,
        E: IntoExpr,
    {
        self.on_conflict = Some(OnConflict::DoUpdate {
            target: target.into_iter().collect(),
            set: set
                .into_iter()
                .map(|(k, e)| (k.into(), e.into_expr()))
                .collect(),
            where_: None,
        });
        self
    }
    /// `ON CONFLICT ON CONSTRAINT name DO NOTHING` (PostgreSQL).
    pub fn on_constraint_do_nothing(mut self, constraint: impl Into<Ident>) -> Self {
        self.on_conflict = Some(OnConflict::DoNothing {
            target: ConflictTarget::Constraint(constraint.into()),
        });
        self
    }
    /// `ON CONFLICT ON CONSTRAINT name DO UPDATE SET …` (PostgreSQL).
    pub fn on_constraint_do_update<S, K, E>(mut self, constraint: impl Into<Ident>, set: S) -> Self
    where
        S: IntoIterator<Item = (K, E)>,
        K: Into<Ident>,
        E: IntoExpr,
    {
        self.on_conflict = Some(OnConflict::DoUpdate {
            target: ConflictTarget::Constraint(constraint.into()),
            set: set
                .into_iter()
                .map(|(k, e)| (k.into(), e.into_expr()))
                .collect(),
            where_: None,
        });
        self
    }
    /// `… DO UPDATE SET … WHERE cond`: only existing rows matching `cond` are updated (the
    /// others are left as they are, and return no row). Applies to the DO UPDATE set by
    /// [`on_conflict_do_update`](Self::on_conflict_do_update) /
    /// [`on_constraint_do_update`](Self::on_constraint_do_update), so call it after them;
    /// with no DO UPDATE the statement fails to compile, naming the mistake.
    pub fn on_conflict_where(mut self, cond: impl IntoExpr) -> Self {
        match &mut self.on_conflict {
            Some(OnConflict::DoUpdate { where_, .. }) => *where_ = Some(cond.into_expr()),
            _ => self.conflict_where_without_update = true,
        }
        self
    }
    /// `RETURNING exprs`: the database sends these back for every inserted row (generated
    /// keys, defaults).
    pub fn returning<I>(mut self, exprs: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        self.returning = exprs.into_iter().map(IntoExpr::into_expr).collect();
        self
    }
    /// Splits a multi-row insert into inserts of at most `max_binds` bound values each, so a
    /// bulk load never exceeds the dialect's parameter limit
    /// ([`crate::dialect::Dialect::max_binds`]). The binds of ON CONFLICT and RETURNING count
    /// against every chunk; a single row over the limit still gets a chunk of its own.
    pub fn chunked(self, max_binds: usize) -> Vec<Insert> {
        use crate::dialect::bind_count;
        let exprs_binds = |exprs: &[Expr]| exprs.iter().map(bind_count).sum::<usize>();
        let fixed = exprs_binds(&self.returning)
            + match &self.on_conflict {
                None | Some(OnConflict::DoNothing { .. }) => 0,
                Some(OnConflict::DoUpdate { set, where_, .. }) => {
                    set.iter().map(|(_, e)| bind_count(e)).sum::<usize>()
                        + where_.as_ref().map_or(0, bind_count)
                }
            };
        let budget = max_binds.saturating_sub(fixed);
        let row_binds: Vec<usize> = self.rows.iter().map(|r| exprs_binds(r)).collect();
        if row_binds.iter().sum::<usize>() <= budget {
            return vec![self];
        }
        let Insert {
            table,
            columns,
            rows,
            on_conflict,
            returning,
            conflict_where_without_update,
        } = self;
        let mut out = Vec::new();
        let mut chunk = Vec::new();
        let mut used = 0;
        for (row, n) in rows.into_iter().zip(row_binds) {
            if !chunk.is_empty() && used + n > budget {
                out.push(std::mem::take(&mut chunk));
                used = 0;
            }
            chunk.push(row);
            used += n;
        }
        out.push(chunk);
        out.into_iter()
            .map(|rows| Insert {
                table: table.clone(),
                columns: columns.clone(),
                rows,
                on_conflict: on_conflict.clone(),
                returning: returning.clone(),
                conflict_where_without_update,
            })
            .collect()
    }
}

/// `UPDATE table SET … [WHERE …] [RETURNING …]`, made by [`update`].
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The table updated.
    pub table: TableRef,
    /// The assignments `column = value`, in order; at least one is required.
    pub set: Vec<(Ident, Expr)>,
    /// Which rows to update; `None` updates every row.
    pub where_: Option<Expr>,
    /// `RETURNING` expressions, sent back for every updated row.
    pub returning: Vec<Expr>,
}

/// `UPDATE table …`: starts an update. Without [`Update::filter`] it updates every row.
pub fn update(table: TableRef) -> Update {
    Update {
        table,
        set: Vec::new(),
        where_: None,
        returning: Vec::new(),
    }
}

impl Update {
    /// Adds `column = value`; the value may be any expression (`col("n") + 1`).
    pub fn set(mut self, column: impl Into<Ident>, value: impl IntoExpr) -> Self {
        self.set.push((column.into(), value.into_expr()));
        self
    }
    /// Adds a WHERE condition; several calls are ANDed.
    pub fn filter(mut self, cond: Expr) -> Self {
        add_condition(&mut self.where_, cond);
        self
    }
    /// `RETURNING exprs`: the database sends these back for every updated row.
    pub fn returning<I>(mut self, exprs: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        self.returning = exprs.into_iter().map(IntoExpr::into_expr).collect();
        self
    }
}

/// `DELETE FROM table [WHERE …] [RETURNING …]`, made by [`delete`].
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// The table deleted from.
    pub table: TableRef,
    /// Which rows to delete; `None` deletes every row.
    pub where_: Option<Expr>,
    /// `RETURNING` expressions, sent back for every deleted row.
    pub returning: Vec<Expr>,
}

/// `DELETE FROM table …`: starts a delete. Without [`Delete::filter`] it deletes every row.
pub fn delete(table: TableRef) -> Delete {
    Delete {
        table,
        where_: None,
        returning: Vec::new(),
    }
}

impl Delete {
    /// Adds a WHERE condition; several calls are ANDed.
    pub fn filter(mut self, cond: Expr) -> Self {
        add_condition(&mut self.where_, cond);
        self
    }
    /// `RETURNING exprs`: the database sends these back for every deleted row.
    pub fn returning<I>(mut self, exprs: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        self.returning = exprs.into_iter().map(IntoExpr::into_expr).collect();
        self
    }
}

/// Any statement the compiler accepts. Every statement type converts into it with `.into()`.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A query.
    Select(Select),
    /// An INSERT (or upsert).
    Insert(Insert),
    /// An UPDATE.
    Update(Update),
    /// A DELETE.
    Delete(Delete),
    /// Raw SQL with named binds.
    Text(TextSql),
    /// `CREATE TABLE`
    CreateTable(CreateTable),
    /// `DROP TABLE`
    DropTable(DropTable),
    /// `CREATE INDEX`
    CreateIndex(CreateIndex),
    /// `DROP INDEX`
    DropIndex(DropIndex),
    /// `CREATE TYPE … AS ENUM` (PostgreSQL)
    CreateEnumType(CreateEnumType),
    /// `DROP TYPE` (PostgreSQL)
    DropEnumType(DropEnumType),
}

macro_rules! statement_from {
    ($($t:ident),*) => {$(
        impl From<$t> for Statement {
            fn from(s: $t) -> Statement { Statement::$t(s) }
        }
    )*};
}
statement_from!(
    Select,
    Insert,
    Update,
    Delete,
    CreateTable,
    DropTable,
    CreateIndex,
    DropIndex,
    CreateEnumType,
    DropEnumType
);
impl From<TextSql> for Statement {
    fn from(s: TextSql) -> Statement {
        Statement::Text(s)
    }
}

/// ANDs `cond` onto the condition in `slot` (WHERE, HAVING).
fn add_condition(slot: &mut Option<Expr>, cond: Expr) {
    *slot = Some(match slot.take() {
        None => cond,
        Some(prev) => and_([prev, cond]),
    });
}
