//! Plain reads: `query::<User>().filter(User::username.eq("ann")).all(&db)` returns owned
//! structs decoded straight from the driver's rows. Nothing is tracked.

use std::future::Future;
use std::marker::PhantomData;

use oxalchemy_core::expr::{func, Ident, OrderBy};
use oxalchemy_core::query::select;
use oxalchemy_core::{Expr, Select, Statement};
use oxalchemy_engine::{Connection, Database, Error, FromRow, TransactionGuard};

use crate::model::Model;

/// Something statements can run on: a `&Database` (checks a connection out for the call),
/// a `&mut Connection` or a `&mut Transaction`.
pub trait Executor: Send {
    fn fetch<T: FromRow + Send>(
        self,
        stmt: Statement,
    ) -> impl Future<Output = Result<Vec<T>, Error>> + Send;
    fn run(self, stmt: Statement) -> impl Future<Output = Result<u64, Error>> + Send;
}

impl Executor for &Database {
    async fn fetch<T: FromRow + Send>(self, stmt: Statement) -> Result<Vec<T>, Error> {
        self.query(stmt).await
    }
    async fn run(self, stmt: Statement) -> Result<u64, Error> {
        self.execute(stmt).await
    }
}

impl Executor for &mut Connection {
    async fn fetch<T: FromRow + Send>(self, stmt: Statement) -> Result<Vec<T>, Error> {
        self.query(stmt).await
    }
    async fn run(self, stmt: Statement) -> Result<u64, Error> {
        self.execute(stmt).await
    }
}

impl<C: std::borrow::BorrowMut<Connection> + Send> Executor for &mut TransactionGuard<C> {
    async fn fetch<T: FromRow + Send>(self, stmt: Statement) -> Result<Vec<T>, Error> {
        self.query(stmt).await
    }
    async fn run(self, stmt: Statement) -> Result<u64, Error> {
        self.execute(stmt).await
    }
}

/// A SELECT of whole `M` rows.
#[derive(Debug, Clone)]
pub struct Query<M> {
    select: Select,
    _model: PhantomData<fn() -> M>,
}

/// Starts a query for model `M`: `query::<User>()`.
pub fn query<M: Model>() -> Query<M> {
    let table = Ident::new_static(M::TABLE);
    let columns = M::columns().iter().map(|c| Expr::Column {
        table: Some(table.clone()),
        name: Ident::new_static(c),
    });
    Query {
        select: select(columns).from(oxalchemy_core::table(M::TABLE)),
        _model: PhantomData,
    }
}

impl<M: Model> Query<M> {
    /// Adds a WHERE condition; several are ANDed.
    pub fn filter(mut self, cond: Expr) -> Self {
        self.select = self.select.filter(cond);
        self
    }
    pub fn order_by(mut self, item: impl Into<OrderBy>) -> Self {
        self.select = self.select.order_by(item);
        self
    }
    pub fn limit(mut self, n: u64) -> Self {
        self.select = self.select.limit(n);
        self
    }
    pub fn offset(mut self, n: u64) -> Self {
        self.select = self.select.offset(n);
        self
    }
    pub fn distinct(mut self) -> Self {
        self.select = self.select.distinct();
        self
    }
    /// The SELECT this query runs, to inspect or extend.
    pub fn statement(&self) -> &Select {
        &self.select
    }

    /// Every matching row.
    pub async fn all(self, ex: impl Executor) -> Result<Vec<M>, Error> {
        ex.fetch(self.select.into()).await
    }

    /// The first row (LIMIT 1), if any.
    pub async fn first(self, ex: impl Executor) -> Result<Option<M>, Error> {
        let mut rows: Vec<M> = ex.fetch(self.select.limit(1).into()).await?;
        Ok(rows.pop())
    }

    /// Exactly one row, else [`Error::NotFound`] / [`Error::MultipleResults`].
    pub async fn one(self, ex: impl Executor) -> Result<M, Error> {
        self.one_or_none(ex).await?.ok_or(Error::NotFound)
    }

    /// At most one row, else [`Error::MultipleResults`]. Fetches at most two.
    pub async fn one_or_none(self, ex: impl Executor) -> Result<Option<M>, Error> {
        let mut rows: Vec<M> = ex.fetch(self.select.limit(2).into()).await?;
        match rows.len() {
            0 | 1 => Ok(rows.pop()),
            n => Err(Error::MultipleResults { count: n }),
        }
    }

    /// The number of matching rows: `SELECT count(*) FROM (…)`.
    pub async fn count(self, ex: impl Executor) -> Result<i64, Error> {
        let counted = select([func::count_star()]).from_subquery(self.select, "counted");
        let rows: Vec<(i64,)> = ex.fetch(counted.into()).await?;
        Ok(rows.first().map_or(0, |r| r.0))
    }
}
