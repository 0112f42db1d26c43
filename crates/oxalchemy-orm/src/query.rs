//! Plain reads: `query::<User>().filter(User::username.eq("ann")).all(&db)` returns owned
//! structs decoded straight from the driver's rows. Nothing is tracked. Loader options
//! (`.options(selectinload(User::posts))`) fill relationship fields.

use std::borrow::BorrowMut;
use std::marker::PhantomData;
use std::sync::Arc;

use oxalchemy_core::expr::{func, Ident, OrderBy};
use oxalchemy_core::query::select;
use oxalchemy_core::{compile, Expr, Select, Statement};
use oxalchemy_engine::{Connection, Database, Error, FromRow, TransactionGuard};

use crate::loading::{JoinedLoader, Loader};
use crate::model::Model;

/// Where statements run: a `&Database` (a connection is checked out for the call), a
/// `&mut Connection` or a `&mut Transaction`.
pub enum Exec<'a> {
    Database(&'a Database),
    Connection(&'a mut Connection),
}

impl<'a> From<&'a Database> for Exec<'a> {
    fn from(db: &'a Database) -> Self {
        Exec::Database(db)
    }
}

impl<'a> From<&'a mut Connection> for Exec<'a> {
    fn from(c: &'a mut Connection) -> Self {
        Exec::Connection(c)
    }
}

impl<'a, C: BorrowMut<Connection>> From<&'a mut TransactionGuard<C>> for Exec<'a> {
    fn from(t: &'a mut TransactionGuard<C>) -> Self {
        Exec::Connection(t)
    }
}

impl Exec<'_> {
    /// The connection to run on, checking one out into `held` for a `&Database`.
    pub(crate) async fn connection<'s>(
        self,
        held: &'s mut Option<Connection>,
    ) -> Result<&'s mut Connection, Error>
    where
        Self: 's,
    {
        match self {
            Exec::Database(db) => Ok(held.insert(db.connection().await?)),
            Exec::Connection(c) => Ok(c),
        }
    }

    pub(crate) async fn fetch<T: FromRow + Send>(self, stmt: Statement) -> Result<Vec<T>, Error> {
        match self {
            Exec::Database(db) => db.query(stmt).await,
            Exec::Connection(c) => c.query(stmt).await,
        }
    }

    pub(crate) async fn run(self, stmt: Statement) -> Result<u64, Error> {
        match self {
            Exec::Database(db) => db.execute(stmt).await,
            Exec::Connection(c) => c.execute(stmt).await,
        }
    }
}

/// A SELECT of whole `M` rows, with loader options.
pub struct Query<M> {
    select: Select,
    loaders: Vec<Arc<dyn Loader<M>>>,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Query<M> {
    fn clone(&self) -> Self {
        Query {
            select: self.select.clone(),
            loaders: self.loaders.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Query<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("select", &self.select)
            .field("loaders", &self.loaders.len())
            .finish()
    }
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
        // Relationships declared eager are loaded by every query.
        loaders: M::default_loaders(),
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
    /// An INNER JOIN (e.g. to filter on another table); the selected columns stay `M`'s.
    pub fn join(mut self, table: impl Into<oxalchemy_core::query::FromItem>, on: Expr) -> Self {
        self.select = self.select.join(table, on);
        self
    }
    /// An INNER JOIN along a relationship (`.join_related(Post::author)`), e.g. to filter on
    /// the related table; the selected columns stay `M`'s.
    pub fn join_related<T: Model>(mut self, rel: crate::Relationship<M, T>) -> Result<Self, Error> {
        for (target, on) in rel.join_path()? {
            self.select = self.select.join(target, on);
        }
        Ok(self)
    }
    /// A LEFT OUTER JOIN along a relationship.
    pub fn outerjoin_related<T: Model>(
        mut self,
        rel: crate::Relationship<M, T>,
    ) -> Result<Self, Error> {
        for (target, on) in rel.join_path()? {
            self.select = self.select.left_join(target, on);
        }
        Ok(self)
    }
    /// A loader option: `selectinload(User::posts)`, `joinedload(Post::author)`.
    pub fn options(mut self, loader: impl Loader<M> + 'static) -> Self {
        self.loaders.push(Arc::new(loader));
        self
    }
    /// The SELECT this query runs (without joined loaders), to inspect or extend.
    pub fn statement(&self) -> &Select {
        &self.select
    }

    pub(crate) fn loaders(&self) -> &[Arc<dyn Loader<M>>] {
        &self.loaders
    }

    /// Runs the query and its loaders on `conn`, logging every statement.
    pub(crate) async fn fetch(
        self,
        conn: &mut Connection,
        log: &mut Vec<String>,
    ) -> Result<Vec<M>, Error> {
        let mut select = self.select;
        let joined: Vec<&dyn JoinedLoader<M>> =
            self.loaders.iter().filter_map(|l| l.joined()).collect();
        for (i, j) in joined.iter().enumerate() {
            select = j.extend(select, &format!("oxalchemy_joined_{i}"))?;
        }
        let c = compile(conn.dialect(), &select.into())?;
        log.push(c.sql.clone());
        let mut objects: Vec<M> = if joined.is_empty() {
            conn.query_compiled(&c, false).await?
        } else {
            conn.query_map(&c, false, |row| {
                let mut idx = 0;
                let mut m = M::read(row, &mut idx)?;
                for j in &joined {
                    j.decode(row, &mut idx, &mut m)?;
                }
                Ok(m)
            })
            .await?
        };
        if joined.iter().any(|j| j.repeats_parents()) {
            objects = Self::merge_repeated(objects, &joined);
        }
        for l in &self.loaders {
            l.load(conn, &mut objects, log).await?;
        }
        Ok(objects)
    }

    /// A joined collection repeats its parent once per child: keep each parent once, in
    /// first-seen order, with every child.
    fn merge_repeated(rows: Vec<M>, joined: &[&dyn JoinedLoader<M>]) -> Vec<M> {
        let mut out: Vec<M> = Vec::new();
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for mut row in rows {
            let mut pk = Vec::new();
            row.primary_key_values(&mut pk);
            let key = format!("{pk:?}");
            match seen.get(&key) {
                Some(&i) => {
                    for j in joined {
                        j.merge(&mut row, &mut out[i]);
                    }
                }
                None => {
                    seen.insert(key, out.len());
                    out.push(row);
                }
            }
        }
        out
    }

    async fn run(self, ex: Exec<'_>) -> Result<Vec<M>, Error> {
        if self.loaders.is_empty() {
            return ex.fetch(self.select.into()).await;
        }
        let mut held = None;
        let conn = ex.connection(&mut held).await?;
        let mut log = Vec::new();
        self.fetch(conn, &mut log).await
    }

    /// Every matching row.
    pub async fn all<'e>(self, ex: impl Into<Exec<'e>>) -> Result<Vec<M>, Error> {
        self.run(ex.into()).await
    }

    /// The first row (LIMIT 1), if any.
    pub async fn first<'e>(self, ex: impl Into<Exec<'e>>) -> Result<Option<M>, Error> {
        let mut rows = self.limit(1).run(ex.into()).await?;
        Ok(rows.pop())
    }

    /// Exactly one row, else [`Error::NotFound`] / [`Error::MultipleResults`].
    pub async fn one<'e>(self, ex: impl Into<Exec<'e>>) -> Result<M, Error> {
        self.one_or_none(ex).await?.ok_or(Error::NotFound)
    }

    /// At most one row, else [`Error::MultipleResults`]. Fetches at most two.
    pub async fn one_or_none<'e>(self, ex: impl Into<Exec<'e>>) -> Result<Option<M>, Error> {
        let mut rows = self.limit(2).run(ex.into()).await?;
        match rows.len() {
            0 | 1 => Ok(rows.pop()),
            n => Err(Error::MultipleResults { count: n }),
        }
    }

    /// Streams the matching rows in batches of `batch` (`yield_per`): `f` receives each
    /// `Vec<M>` in turn, so memory holds one batch, never the whole result. Loader options
    /// are not applied (load per batch with [`crate::load`] if needed). Returns the row count.
    pub async fn for_each_batch<'e>(
        self,
        ex: impl Into<Exec<'e>>,
        batch: usize,
        f: impl FnMut(Vec<M>) -> Result<(), Error> + Send,
    ) -> Result<u64, Error> {
        let mut held = None;
        let conn = ex.into().connection(&mut held).await?;
        let c = compile(conn.dialect(), &self.select.into())?;
        conn.query_batches(&c, batch, f).await
    }

    /// The number of matching rows: `SELECT count(*) FROM (…)`.
    pub async fn count<'e>(self, ex: impl Into<Exec<'e>>) -> Result<i64, Error> {
        let counted = select([func::count_star()]).from_subquery(self.select, "counted");
        let rows: Vec<(i64,)> = ex.into().fetch(counted.into()).await?;
        Ok(rows.first().map_or(0, |r| r.0))
    }
}
