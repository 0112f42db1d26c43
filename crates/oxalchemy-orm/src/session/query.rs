//! The terminal calls of a [`Query`] bound to a session (`s.query::<User>()…`): results are
//! tracked by the session's identity map and handed back as [`Handle`]s, and bulk
//! UPDATE/DELETE by query keep the held objects in step. The builder methods are
//! [`Query`]'s own, shared with unbound queries.

use oxalchemy_core::expr::Ident;
use oxalchemy_core::Expr;
use oxalchemy_engine::Error;

use super::objects::{identity_key, Handle};
use super::Session;
use crate::errors::mapping;
use crate::model::Model;
use crate::query::{at_most_one, Query};

/// A model query run through a session: `s.query::<User>().filter(…).all()` returns
/// [`Handle`]s to the session's objects. The same [`Query`] type as [`crate::query`]'s,
/// bound to the session.
pub type SessionQuery<'s, M> = Query<M, &'s mut Session>;

fn key_columns<M: Model>() -> impl Iterator<Item = Expr> {
    M::primary_key_columns()
        .iter()
        .map(|c| oxalchemy_core::col(Ident::new_static(c)))
}

/// Running a query bound to a session: autoflush first, then the session's transaction.
impl<'s, M: Model + Clone> Query<M, &'s mut Session> {
    async fn fetch(self) -> Result<Vec<Handle<M>>, Error> {
        let (query, s) = self.unbind();
        if s.autoflushes() {
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
        self.fetch().await
    }

    /// The first matching object (LIMIT 1), if any.
    pub async fn first(self) -> Result<Option<Handle<M>>, Error> {
        Ok(self.limit(1).fetch().await?.into_iter().next())
    }

    /// At most one object, else [`Error::MultipleResults`]. Fetches at most two rows.
    pub async fn one_or_none(self) -> Result<Option<Handle<M>>, Error> {
        at_most_one(self.limit(2).fetch().await?)
    }

    /// Exactly one object, else [`Error::NotFound`] / [`Error::MultipleResults`].
    pub async fn one(self) -> Result<Handle<M>, Error> {
        self.one_or_none().await?.ok_or(Error::NotFound)
    }

    /// The number of matching rows (`SELECT count(*) FROM (…)`), after autoflush.
    pub async fn count(self) -> Result<i64, Error> {
        let (query, s) = self.unbind();
        if s.autoflushes() {
            s.flush().await?;
        }
        let c = s.compile(&query.count_statement().into())?;
        s.log.push(c.sql.clone());
        let tx = s.transaction().await?;
        let rows: Vec<(i64,)> = tx.query_read(&c).await?;
        Ok(rows.first().map_or(0, |r| r.0))
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
        s.wrote_tables(std::iter::once(M::TABLE));
        // Re-read the held objects whose rows changed.
        let held: Vec<Handle<M>> = changed
            .iter()
            .filter_map(|pk| s.identity.get(&identity_key(M::TABLE, pk), &s.entries))
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
        s.wrote_tables(crate::cache::delete_tables::<M>());
        for pk in &deleted {
            if let Some(slot) = s.identity.remove(&identity_key(M::TABLE, pk), &s.entries) {
                s.entries.take(slot);
            }
        }
        Ok(deleted.len() as u64)
    }

    /// The session (flushed) and the WHERE clause for a bulk UPDATE/DELETE by query.
    async fn bulk_target(self, what: &str) -> Result<(&'s mut Session, Option<Expr>), Error> {
        let (query, s) = self.unbind();
        let select = query.into_select();
        if !select.joins.is_empty() {
            return Err(mapping(format!(
                "a bulk {what} cannot use a query with joins; filter with any()/has() instead"
            )));
        }
        if s.autoflushes() {
            s.flush().await?;
        }
        Ok((s, select.where_))
    }
}
