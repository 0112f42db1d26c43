//! The one model query builder, [`Query<M, X>`], whose executor is chosen at the terminal
//! call.
//!
//! * Plain reads: `query::<User>().filter(User::username.eq("ann")).all(&db)` (or
//!   `.all(&mut conn)`, `.all(&mut tx)`) returns owned structs decoded straight from the
//!   driver's rows. Nothing is tracked.
//! * Through a session: `s.query::<User>().filter(…).all()` returns
//!   [`Handle`](crate::Handle)s to the session's objects (identity map, autoflush first);
//!   its terminal calls live in `session::query`.
//!
//! Why one type with an executor parameter rather than two types: the builder methods
//! (`filter`, `order_by`, `limit`, `offset`, `distinct`, `join`, `join_related`,
//! `outerjoin_related`, `options`) are written once in `impl<M, X> Query<M, X>`, so a
//! method added for one kind of query is there for the other — the two used to forward
//! them separately and drifted. `X` is [`Unbound`] for [`query`] (the terminal calls take
//! an [`Exec`]) and `&mut Session` for [`Session::query`](crate::Session::query) (the
//! terminal calls take nothing); inherent terminal methods per `X` keep both spellings
//! short. Loader options (`.options(selectinload(User::posts))`) fill relationship fields
//! either way.

use std::borrow::BorrowMut;
use std::marker::PhantomData;
use std::sync::Arc;

use oxalchemy_core::expr::{func, OrderBy};
use oxalchemy_core::query::select;
use oxalchemy_core::{Expr, Select, SelectHead, Statement};
use oxalchemy_engine::{Connection, Database, Error, FromRow, TransactionGuard};

use crate::loading::{JoinedLoader, Loader};
use crate::model::Model;

/// Where an unbound query's statements run: a `&Database` (a connection is checked out for
/// the call), a `&mut Connection` or a `&mut Transaction`. Terminal calls take
/// `impl Into<Exec>`, so callers pass those directly.
#[derive(Debug)]
pub enum Exec<'a> {
    /// A pool: one connection is checked out for the call and returned after it.
    Database(&'a Database),
    /// A connection (or an open transaction on one) the caller holds.
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

/// A SELECT of whole `M` rows with loader options, and where it will run.
///
/// `X` is the executor the query is bound to. Built by [`query`] it is [`Unbound`]: the
/// terminal call takes the executor (`.all(&db)`, `.all(&mut conn)`) and returns owned
/// structs. Built by [`Session::query`](crate::Session::query) it is `&mut Session`: the
/// terminal calls take nothing more and return [`Handle`](crate::Handle)s to the session's
/// objects. Every builder method (`filter`, `order_by`, `distinct`, `join_related`,
/// `options`, …) is defined once, for every `X`, so both kinds of query can always do the
/// same things.
pub struct Query<M, X = Unbound> {
    // Everything but `M`'s own columns and table (its `SelectHead`), which are written in
    // only when the whole statement is needed: a lookup whose statement is cached builds
    // and walks neither (see `StatementCache::compile_shared_headed_select_into`).
    //
    // Boxed: every builder call and every terminal's future takes the query by value, and
    // a `Select` is some 300 bytes; moving a pointer instead saved more per lookup than the
    // one allocation costs (callgrind, `benches/lookup_callgrind.rs`).
    select: Box<Select>,
    loaders: Vec<Arc<dyn Loader<M>>>,
    exec: X,
    _model: PhantomData<fn() -> M>,
}

/// The executor of a [`Query`] built by [`query`]: none yet; each terminal call takes one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unbound;

impl<M, X: Clone> Clone for Query<M, X> {
    fn clone(&self) -> Self {
        Query {
            select: self.select.clone(),
            loaders: self.loaders.clone(),
            exec: self.exec.clone(),
            _model: PhantomData,
        }
    }
}

impl<M, X> std::fmt::Debug for Query<M, X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("select", &self.select)
            .field("loaders", &self.loaders.len())
            .finish_non_exhaustive()
    }
}

/// Starts a query for model `M`: `query::<User>()`.
pub fn query<M: Model>() -> Query<M> {
    Query {
        // Empty: `M`'s columns and table are its head, written in when needed.
        select: Box::default(),
        // Relationships declared eager are loaded by every query.
        loaders: M::default_loaders(),
        exec: Unbound,
        _model: PhantomData,
    }
}

impl<M: Model, X> Query<M, X> {
    /// The head of `M`'s queries: its columns and table.
    pub(crate) fn head() -> SelectHead {
        SelectHead {
            table: M::TABLE,
            columns: M::columns(),
        }
    }

    /// The whole SELECT built so far (for terminals in other modules: `stream.rs`,
    /// `cache.rs`).
    pub(crate) fn into_select(self) -> Select {
        Self::head().complete(*self.select)
    }
}

/// The builder methods, shared by every executor.
impl<M: Model, X> Query<M, X> {
    /// Adds a WHERE condition; several are ANDed.
    pub fn filter(mut self, cond: Expr) -> Self {
        // In place, rather than moving the tree out and back.
        self.select.add_filter(cond);
        self
    }
    /// Adds an ORDER BY item (`User::name.desc()`, or a column for ascending order).
    pub fn order_by(mut self, item: impl Into<OrderBy>) -> Self {
        self.select.order_by.push(item.into());
        self
    }
    /// At most `n` rows (LIMIT).
    pub fn limit(mut self, n: u64) -> Self {
        self.select.limit = Some(n);
        self
    }
    /// Skips the first `n` rows (OFFSET); pair it with `order_by` for stable pages.
    pub fn offset(mut self, n: u64) -> Self {
        self.select.offset = Some(n);
        self
    }
    /// SELECT DISTINCT: each row once, e.g. after a join that repeats it.
    pub fn distinct(mut self) -> Self {
        self.select.distinct = true;
        self
    }
    /// An INNER JOIN (e.g. to filter on another table, or to fill with
    /// [`contains_eager`](crate::contains_eager)); the selected columns stay `M`'s.
    pub fn join(mut self, table: impl Into<oxalchemy_core::query::FromItem>, on: Expr) -> Self {
        *self.select = std::mem::take(&mut *self.select).join(table, on);
        self
    }
    /// An INNER JOIN along a relationship (`.join_related(Post::author)?`), e.g. to filter
    /// on the related table; the selected columns stay `M`'s.
    pub fn join_related<T: Model>(mut self, rel: crate::Relationship<M, T>) -> Result<Self, Error> {
        for (target, on) in rel.join_path()? {
            *self.select = std::mem::take(&mut *self.select).join(target, on);
        }
        Ok(self)
    }
    /// A LEFT OUTER JOIN along a relationship.
    pub fn outerjoin_related<T: Model>(
        mut self,
        rel: crate::Relationship<M, T>,
    ) -> Result<Self, Error> {
        for (target, on) in rel.join_path()? {
            *self.select = std::mem::take(&mut *self.select).left_join(target, on);
        }
        Ok(self)
    }
    /// A loader option: `selectinload(User::posts)`, `joinedload(Post::author)`. Through a
    /// session the relationship is filled on every returned object, also on objects the
    /// session already held.
    pub fn options(mut self, loader: impl Loader<M> + 'static) -> Self {
        self.loaders.push(Arc::new(loader));
        self
    }
    /// The SELECT this query runs (without joined loaders), to inspect or extend: a copy,
    /// with `M`'s columns and table written in (the query keeps them apart until it
    /// runs, so a cached statement is found without building them).
    pub fn statement(&self) -> Select {
        Self::head().complete((*self.select).clone())
    }

    /// The same query bound to another executor.
    pub(crate) fn bind<Y>(self, exec: Y) -> Query<M, Y> {
        Query {
            select: self.select,
            loaders: self.loaders,
            exec,
            _model: PhantomData,
        }
    }

    /// The query without its executor, and the executor.
    pub(crate) fn unbind(self) -> (Query<M>, X) {
        let Query {
            select,
            loaders,
            exec,
            _model,
        } = self;
        let query = Query {
            select,
            loaders,
            exec: Unbound,
            _model,
        };
        (query, exec)
    }

    pub(crate) fn loaders(&self) -> &[Arc<dyn Loader<M>>] {
        &self.loaders
    }

    /// `SELECT count(*) FROM (<this query>) AS counted`.
    pub(crate) fn count_statement(&self) -> Select {
        select([func::count_star()]).from_subquery(self.statement(), "counted")
    }
}

/// Running a query built by [`query`]: the executor is the terminal call's argument.
impl<M: Model> Query<M> {
    /// Runs the query and its loaders on `conn`, logging every statement.
    pub(crate) async fn fetch(
        self,
        conn: &mut Connection,
        log: &mut Vec<String>,
    ) -> Result<Vec<M>, Error> {
        let select = self.joined_select()?;
        let c = conn.compile(&select.into())?;
        log.push(c.sql.clone());
        fetch_compiled(&self.loaders, &c, conn, log).await
    }

    /// The SELECT with the joined loaders' joins and columns added.
    pub(crate) fn joined_select(&self) -> Result<Select, Error> {
        let mut select = self.statement();
        let joined = self.loaders.iter().filter_map(|l| l.joined());
        for (i, j) in joined.enumerate() {
            select = j.extend(select, &format!("oxalchemy_joined_{i}"))?;
        }
        Ok(select)
    }
}

/// Runs `c`, a model query compiled from [`Query::joined_select`], on `conn`: rows decoded
/// with the joined loaders' columns, repeated parents merged, then the other loaders run.
pub(crate) async fn fetch_compiled<M: Model>(
    loaders: &[Arc<dyn Loader<M>>],
    c: &oxalchemy_core::Compiled,
    conn: &mut Connection,
    log: &mut Vec<String>,
) -> Result<Vec<M>, Error> {
    let joined: Vec<&dyn JoinedLoader<M>> = loaders.iter().filter_map(|l| l.joined()).collect();
    let mut objects: Vec<M> = if joined.is_empty() {
        conn.query_read(c).await?
    } else if joined.iter().any(|j| j.repeats_parents()) {
        crate::loading::read_grouped(conn, c, &joined).await?
    } else {
        conn.query_map_read(c, |row| {
            let mut idx = 0;
            let mut m = M::read(row, &mut idx)?;
            for j in &joined {
                j.decode(row, &mut idx, &mut m)?;
            }
            Ok(m)
        })
        .await?
    };
    for l in loaders {
        l.load(conn, &mut objects, log).await?;
    }
    Ok(objects)
}

impl<M: Model> Query<M> {
    async fn run(self, ex: Exec<'_>) -> Result<Vec<M>, Error> {
        let mut held = None;
        let conn = ex.connection(&mut held).await?;
        if self.loaders.is_empty() {
            // The tree compiled (on a cache hit: looked up) where it is, not moved.
            return conn.query_select_read(&Self::head(), &self.select).await;
        }
        let mut log = Vec::new();
        self.fetch(conn, &mut log).await
    }

    /// Every matching row.
    pub async fn all<'e>(self, ex: impl Into<Exec<'e>>) -> Result<Vec<M>, Error> {
        self.run(ex.into()).await
    }

    /// The first row (LIMIT 1), if any.
    pub async fn first<'e>(self, ex: impl Into<Exec<'e>>) -> Result<Option<M>, Error> {
        let query = self.limit(1);
        if query.loaders.is_empty() {
            // The one row decoded straight into `M`, without a `Vec` around it.
            let mut held = None;
            let conn = ex.into().connection(&mut held).await?;
            return conn
                .query_select_first_read(&Self::head(), &query.select)
                .await;
        }
        let mut rows = query.run(ex.into()).await?;
        Ok(rows.pop())
    }

    /// Exactly one row, else [`Error::NotFound`] / [`Error::MultipleResults`].
    pub async fn one<'e>(self, ex: impl Into<Exec<'e>>) -> Result<M, Error> {
        self.first_of_two(ex.into()).await?.ok_or(Error::NotFound)
    }

    /// At most one row, else [`Error::MultipleResults`]. Fetches at most two.
    pub async fn one_or_none<'e>(self, ex: impl Into<Exec<'e>>) -> Result<Option<M>, Error> {
        self.first_of_two(ex.into()).await
    }

    /// `.one()` / `.one_or_none()`: LIMIT 2, the only row if there is one, else
    /// [`Error::MultipleResults`]. Without loaders every row is decoded as before (a row
    /// that cannot be decoded is still an error) but only the first is kept, so no `Vec`
    /// is built for a lookup.
    async fn first_of_two(self, ex: Exec<'_>) -> Result<Option<M>, Error> {
        let query = self.limit(2);
        if !query.loaders.is_empty() {
            return at_most_one(query.run(ex).await?);
        }
        let mut held = None;
        let conn = ex.connection(&mut held).await?;
        let mut first = None;
        // `Vec<()>` allocates nothing: it only counts the rows.
        let rows = conn
            .query_select_map_read(&Self::head(), &query.select, |row| {
                let m = M::from_row(row)?;
                if first.is_none() {
                    first = Some(m);
                }
                Ok(())
            })
            .await?;
        match rows.len() {
            0 | 1 => Ok(first),
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
        let c = conn.compile(&self.into_select().into())?;
        conn.query_batches(&c, batch, f).await
    }

    /// The number of matching rows: `SELECT count(*) FROM (…)`.
    pub async fn count<'e>(self, ex: impl Into<Exec<'e>>) -> Result<i64, Error> {
        let rows: Vec<(i64,)> = ex.into().fetch(self.count_statement().into()).await?;
        Ok(rows.first().map_or(0, |r| r.0))
    }
}

/// The row of a query that may match at most one, else [`Error::MultipleResults`].
pub(crate) fn at_most_one<T>(mut rows: Vec<T>) -> Result<Option<T>, Error> {
    match rows.len() {
        0 | 1 => Ok(rows.pop()),
        n => Err(Error::MultipleResults { count: n }),
    }
}
