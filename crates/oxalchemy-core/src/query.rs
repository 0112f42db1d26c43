//! Statements: SELECT, INSERT, UPDATE, DELETE (pure data, built with small builders).

use crate::expr::{and_, Expr, Ident, IntoExpr, OrderBy, TableRef, TextSql};
use crate::schema::{CreateEnumType, CreateIndex, CreateTable, DropEnumType, DropIndex, DropTable};

/// What a FROM or JOIN names.
#[derive(Debug, Clone, PartialEq)]
pub enum FromItem {
    Table(TableRef),
    /// `(SELECT …) AS alias`
    Subquery {
        query: Box<Select>,
        alias: Ident,
    },
}

impl From<TableRef> for FromItem {
    fn from(t: TableRef) -> Self {
        FromItem::Table(t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
    pub target: FromItem,
    pub on: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Union,
    UnionAll,
}

/// A common table expression: `name (cols) AS (query)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cte {
    pub name: Ident,
    pub columns: Vec<Ident>,
    pub query: Box<Select>,
}

impl Cte {
    /// This CTE as a table to select from or join.
    pub fn table(&self) -> TableRef {
        crate::expr::table(self.name.clone())
    }
}

/// `SELECT`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    pub ctes: Vec<Cte>,
    pub recursive: bool,
    pub distinct: bool,
    pub columns: Vec<Expr>,
    pub from: Vec<FromItem>,
    pub joins: Vec<Join>,
    pub where_: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    /// `UNION [ALL]` members, compiled after this select's HAVING and before its ORDER BY.
    pub compound: Vec<(SetOp, Select)>,
    pub order_by: Vec<OrderBy>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// `SELECT columns …`
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

fn add_condition(slot: &mut Option<Expr>, cond: Expr) {
    *slot = Some(match slot.take() {
        None => cond,
        Some(prev) => and_([prev, cond]),
    });
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
    pub fn column(mut self, e: impl IntoExpr) -> Self {
        self.columns.push(e.into_expr());
        self
    }
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
        add_condition(&mut self.where_, cond);
        self
    }
    pub fn group_by<I>(mut self, exprs: I) -> Self
    where
        I: IntoIterator<Item = Expr>,
    {
        self.group_by.extend(exprs);
        self
    }
    pub fn having(mut self, cond: Expr) -> Self {
        add_condition(&mut self.having, cond);
        self
    }
    pub fn order_by(mut self, item: impl Into<OrderBy>) -> Self {
        self.order_by.push(item.into());
        self
    }
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }
    pub fn with(mut self, cte: Cte) -> Self {
        self.ctes.push(cte);
        self
    }
    /// `WITH RECURSIVE`
    pub fn with_recursive(mut self, cte: Cte) -> Self {
        self.recursive = true;
        self.ctes.push(cte);
        self
    }
    pub fn union(mut self, other: Select) -> Self {
        self.compound.push((SetOp::Union, other));
        self
    }
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

/// `ON CONFLICT` handling for INSERT.
#[derive(Debug, Clone, PartialEq)]
pub enum OnConflict {
    DoNothing {
        target: Vec<Ident>,
    },
    DoUpdate {
        target: Vec<Ident>,
        set: Vec<(Ident, Expr)>,
        where_: Option<Expr>,
    },
}

/// `INSERT INTO table (columns) VALUES (…), (…) [ON CONFLICT …] [RETURNING …]`
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub table: TableRef,
    pub columns: Vec<Ident>,
    pub rows: Vec<Vec<Expr>>,
    pub on_conflict: Option<OnConflict>,
    pub returning: Vec<Expr>,
}

/// `INSERT INTO table …`
pub fn insert(table: TableRef) -> Insert {
    Insert {
        table,
        columns: Vec::new(),
        rows: Vec::new(),
        on_conflict: None,
        returning: Vec::new(),
    }
}

impl Insert {
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
    pub fn on_conflict_do_nothing<I>(mut self, target: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Ident>,
    {
        self.on_conflict = Some(OnConflict::DoNothing {
            target: target.into_iter().map(Into::into).collect(),
        });
        self
    }
    /// `ON CONFLICT (target) DO UPDATE SET …`; use [`crate::expr::excluded`] for the proposed row.
    pub fn on_conflict_do_update<I, S>(mut self, target: I, set: S) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Ident>,
        S: IntoIterator<Item = (Ident, Expr)>,
    {
        self.on_conflict = Some(OnConflict::DoUpdate {
            target: target.into_iter().map(Into::into).collect(),
            set: set.into_iter().collect(),
            where_: None,
        });
        self
    }
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
            })
            .collect()
    }
}

/// `UPDATE table SET … [WHERE …] [RETURNING …]`
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub table: TableRef,
    pub set: Vec<(Ident, Expr)>,
    pub where_: Option<Expr>,
    pub returning: Vec<Expr>,
}

pub fn update(table: TableRef) -> Update {
    Update {
        table,
        set: Vec::new(),
        where_: None,
        returning: Vec::new(),
    }
}

impl Update {
    pub fn set(mut self, column: impl Into<Ident>, value: impl IntoExpr) -> Self {
        self.set.push((column.into(), value.into_expr()));
        self
    }
    pub fn filter(mut self, cond: Expr) -> Self {
        add_condition(&mut self.where_, cond);
        self
    }
    pub fn returning<I>(mut self, exprs: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        self.returning = exprs.into_iter().map(IntoExpr::into_expr).collect();
        self
    }
}

/// `DELETE FROM table [WHERE …] [RETURNING …]`
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub table: TableRef,
    pub where_: Option<Expr>,
    pub returning: Vec<Expr>,
}

pub fn delete(table: TableRef) -> Delete {
    Delete {
        table,
        where_: None,
        returning: Vec::new(),
    }
}

impl Delete {
    pub fn filter(mut self, cond: Expr) -> Self {
        add_condition(&mut self.where_, cond);
        self
    }
    pub fn returning<I>(mut self, exprs: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoExpr,
    {
        self.returning = exprs.into_iter().map(IntoExpr::into_expr).collect();
        self
    }
}

/// Any statement the compiler accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(Select),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    Text(TextSql),
    CreateTable(CreateTable),
    DropTable(DropTable),
    CreateIndex(CreateIndex),
    DropIndex(DropIndex),
    CreateEnumType(CreateEnumType),
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
