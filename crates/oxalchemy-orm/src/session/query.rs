//! Queries run through a session: results are tracked by the session's identity map and
//! handed back as [`Handle`]s; bulk UPDATE/DELETE by query keep the held objects in step.

use oxalchemy_core::expr::Ident;
use oxalchemy_core::{Expr, OrderBy};
use oxalchemy_engine::Error;

use super::objects::{identity_key, Handle};
use super::Session;
use crate::loading::Loader;
use crate::model::Model;
use crate::query::Query;
use crate::relation::Relationship;

fn key_columns<M: Model>() -> impl Iterator<Item = Expr> {
    M::primary_key_columns()
        .iter()
        .map(|c| oxalchemy_core::col(Ident::new_static(c)))
}

/// A model query run through a session: results are held by the session.
pub struct SessionQuery<'s, M> {
    pub(super) session: &'s mut Session,
    pub(super) query: Query<M>,
}

impl<'s, M: Model + Clone> SessionQuery<'s, M> {
    pub fn filter(mut self, cond: Expr) -> Self {
        self.query = self.query.filter(cond);
        self
    }
    pub fn order_by(mut self, item: impl Into<OrderBy>) -> Self {
        self.query = self.query.order_by(item);
        self
    }
    pub fn limit(mut self, n: u64) -> Self {
        self.query = self.query.limit(n);
        self
    }
    pub fn offset(mut self, n: u64) -> Self {
        self.query = self.query.offset(n);
        self
    }
    /// An INNER JOIN along a relationship (`.join_related(Post::author)?`).
    pub fn join_related<T: Model>(mut self, rel: Relationship<M, T>) -> Result<Self, Error> {
        self.query = self.query.join_related(rel)?;
        Ok(self)
    }
    /// An INNER JOIN (to filter on, or to fill with `contains_eager`).
    pub fn join(mut self, table: impl Into<oxalchemy_core::query::FromItem>, on: Expr) -> Self {
        self.query = self.query.join(table, on);
        self
    }

    /// A loader option (`selectinload(User::posts)`, `joinedload(Post::author)`): the
    /// relationship is filled on the returned objects, also on objects the session already
    /// held.
    pub fn options(mut self, loader: impl Loader<M> + 'static) -> Self {
        self.query = self.query.options(loader);
        self
    }

    async fn fetch(self, query: Query<M>) -> Result<Vec<Handle<M>>, Error> {
        let s = self.session;
        if s.autoflush {
            s.flush().await?;
        }
        let loaders = query.loaders().to_vec();
        s.transaction().await?;
        let mut tx =
            s.tx.take()
                .expect("the session's transaction was just opened");
        let result = query.fetch(&mut tx, &mut s.log).await;
        s.tx = Some(tx);
        let rows = result?;
        Ok(rows
            .into_iter()
            .map(|m| s.track_loaded(m, &loaders))
            .collect())
    }

    /// Every matching object (the session's own object for rows it already holds).
    pub async fn all(self) -> Result<Vec<Handle<M>>, Error> {
        let q = self.query.clone();
        self.fetch(q).await
    }

    pub async fn first(self) -> Result<Option<Handle<M>>, Error> {
        let q = self.query.clone().limit(1);
        Ok(self.fetch(q).await?.into_iter().next())
    }

    pub async fn one_or_none(self) -> Result<Option<Handle<M>>, Error> {
        let q = self.query.clone().limit(2);
        let mut rows = self.fetch(q).await?;
        match rows.len() {
            0 | 1 => Ok(rows.pop()),
            n => Err(Error::MultipleResults { count: n }),
        }
    }

    pub async fn one(self) -> Result<Handle<M>, Error> {
        self.one_or_none().await?.ok_or(Error::NotFound)
    }

    /// `UPDATE … WHERE <this query's filter>` in the database, then the session's objects
    /// for the changed rows are re-read, so the session stays consistent (SQLAlchemy's
    /// `synchronize_session="fetch"`). Returns how many rows changed.
    pub async fn update<I>(self, set: I) -> Result<u64, Error>
    where
        I: IntoIterator<Item = (&'static str, Expr)>,
    {
        let (s, where_) = self.bulk_target("update").await?;
        let mut stmt = oxalchemy_core::update(oxalchemy_core::table(M::TABLE));
        for (c, e) in set {
            stmt = stmt.set(Ident::new_static(c), e);
        }
        stmt.where_ = where_;
        let changed = s
            .changed_keys::<M>(stmt.returning(key_columns::<M>()).into())
            .await?;
        // Re-read the held objects whose rows changed.
        let held: Vec<Handle<M>> = changed
            .iter()
            .filter_map(|pk| s.identity.get(&identity_key(M::TABLE, pk)).copied())
            .map(|slot| s.handle(slot))
            .collect();
        for h in held {
            s.refresh(h).await?;
        }
        Ok(changed.len() as u64)
    }

    /// `DELETE … WHERE <this query's filter>`; the session drops its objects for the deleted
    /// rows. Returns how many rows were deleted.
    pub async fn delete(self) -> Result<u64, Error> {
        let (s, where_) = self.bulk_target("delete").await?;
        let mut stmt = oxalchemy_core::delete(oxalchemy_core::table(M::TABLE));
        stmt.where_ = where_;
        let deleted = s
            .changed_keys::<M>(stmt.returning(key_columns::<M>()).into())
            .await?;
        for pk in &deleted {
            if let Some(slot) = s.identity.remove(&identity_key(M::TABLE, pk)) {
                s.entries[slot] = None;
            }
        }
        Ok(deleted.len() as u64)
    }

    /// The session (flushed) and the WHERE clause for a bulk UPDATE/DELETE by query.
    async fn bulk_target(self, what: &str) -> Result<(&'s mut Session, Option<Expr>), Error> {
        let SessionQuery { session: s, query } = self;
        let select = query.statement().clone();
        if !select.joins.is_empty() {
            return Err(Error::Database {
                code: None,
                message: format!(
                    "a bulk {what} cannot use a query with joins; filter with any()/has() instead"
                ),
            });
        }
        if s.autoflush {
            s.flush().await?;
        }
        Ok((s, select.where_))
    }

    pub async fn count(self) -> Result<i64, Error> {
        let s = self.session;
        if s.autoflush {
            s.flush().await?;
        }
        let counted = oxalchemy_core::select([oxalchemy_core::func::count_star()])
            .from_subquery(self.query.statement().clone(), "counted");
        let c = s.compile(&counted.into())?;
        s.log.push(c.sql.clone());
        let tx = s.transaction().await?;
        let rows: Vec<(i64,)> = tx.query_compiled(&c, false).await?;
        Ok(rows.first().map_or(0, |r| r.0))
    }
}
