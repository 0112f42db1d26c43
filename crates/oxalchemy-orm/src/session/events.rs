//! Session events (SQLAlchemy's `before_flush`, `after_flush` and `after_rollback`
//! session events): listeners registered on one session ([`Session::events`]) or on every
//! session a [`SessionMaker`] opens (SQLAlchemy's `event.listen(Session, …)`).
//!
//! A flush with flush listeners runs inside a SAVEPOINT of its own, around the listeners
//! and the statements, with a copy of the session's object table: an error from a
//! `before_flush` or `after_flush` listener (or anything after the first one) rolls the
//! database back to before the flush — including what a listener wrote through the session
//! — and puts the session back as it was. Without flush listeners a flush costs nothing
//! more than before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use oxalchemy_engine::{Database, Error};

use super::objects::ObjectState;
use super::{Session, SessionExt};
use crate::errors::mapping;
use crate::HookResult;

/// An async listener: a boxed future borrowing the session.
type AsyncListener<T> = dyn for<'s> Fn(&'s mut Session) -> BoxFuture<'s, T> + Send + Sync;

/// A flush listener: sync, or returning a boxed future.
#[derive(Clone)]
enum FlushListener {
    Sync(Arc<dyn Fn(&mut Session) -> HookResult + Send + Sync>),
    Async(Arc<AsyncListener<HookResult>>),
}

impl FlushListener {
    async fn call(&self, s: &mut Session, hook: &'static str) -> Result<(), Error> {
        let result = match self {
            FlushListener::Sync(f) => f(s),
            FlushListener::Async(f) => f(s).await,
        };
        result.map_err(|source| Error::Hook {
            model: "Session",
            hook,
            source,
        })
    }
}

/// An `after_rollback` listener: the rollback already happened, so it returns nothing.
#[derive(Clone)]
enum RollbackListener {
    Sync(Arc<dyn Fn(&mut Session) + Send + Sync>),
    Async(Arc<AsyncListener<()>>),
}

/// The session-level event listeners of a session, or of every session a
/// [`SessionMaker`] opens. Listeners run in the order registered.
///
/// * `before_flush(&mut Session)`: at the start of a flush that has something to write,
///   before the model `before_*` hooks and any SQL. It may add, change or delete objects:
///   its changes are written by the same flush. Autoflush is off while it runs, so its
///   queries see the database as before the flush.
/// * `after_flush(&mut Session)`: after the statements, the model `after_*` hooks and the
///   session's update (new objects are persistent with their keys), before the flush
///   returns. What it changes is written by the next flush; [`Session::commit`] flushes
///   until nothing is left (at most 100 times, then it is an error).
/// * `after_rollback(&mut Session)`: after [`Session::rollback`] (or
///   [`Session::close`]) ended a transaction, and after a COMMIT that failed (the database
///   rolled back). Not after a flush that failed: its SAVEPOINT rolled back, but the
///   transaction goes on. Not when a session is dropped (a drop cannot wait for it).
///
/// An `Err` from `before_flush` or `after_flush` stops the flush: nothing of it is written
/// (neither the flush's statements nor what listeners wrote through the session), the
/// session is as before the flush, and the error is
/// [`Error::Hook`](oxalchemy_engine::Error::Hook) with `model: "Session"` and the
/// listener's name. A listener must not commit, roll back or flush the session it is
/// given: `flush`/`commit`/`rollback` called from a flush listener are errors. (A flush
/// future dropped before it finished — a timeout around it — leaves the session in an
/// unknown state, with or without listeners: drop the session.)
///
/// ```no_run
/// # use oxalchemy_orm::{Session, SessionExt, SessionMaker};
/// # async fn f(db: oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
/// let mut maker = SessionMaker::new(&db);
/// maker.events().after_rollback(|_s| tracing::warn!("rolled back"));
/// let mut s = maker.session();
/// s.events().before_flush(|s| {
///     // derive something from the session's pending objects, add audit rows, …
///     let _ = s.len();
///     Ok(())
/// });
/// s.events().after_flush_async(|s| {
///     Box::pin(async move {
///         let _ = s.statement_count();
///         Ok(())
///     })
/// });
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct SessionEvents {
    before_flush: Vec<FlushListener>,
    after_flush: Vec<FlushListener>,
    after_rollback: Vec<RollbackListener>,
}

impl std::fmt::Debug for SessionEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionEvents")
            .field("before_flush", &self.before_flush.len())
            .field("after_flush", &self.after_flush.len())
            .field("after_rollback", &self.after_rollback.len())
            .finish()
    }
}

impl SessionEvents {
    /// No listeners.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `before_flush` listener.
    pub fn before_flush(
        &mut self,
        f: impl Fn(&mut Session) -> HookResult + Send + Sync + 'static,
    ) -> &mut Self {
        self.before_flush.push(FlushListener::Sync(Arc::new(f)));
        self
    }

    /// Adds an async `before_flush` listener: `|s| Box::pin(async move { …; Ok(()) })`.
    pub fn before_flush_async(
        &mut self,
        f: impl for<'s> Fn(&'s mut Session) -> BoxFuture<'s, HookResult> + Send + Sync + 'static,
    ) -> &mut Self {
        self.before_flush.push(FlushListener::Async(Arc::new(f)));
        self
    }

    /// Adds an `after_flush` listener.
    pub fn after_flush(
        &mut self,
        f: impl Fn(&mut Session) -> HookResult + Send + Sync + 'static,
    ) -> &mut Self {
        self.after_flush.push(FlushListener::Sync(Arc::new(f)));
        self
    }

    /// Adds an async `after_flush` listener.
    pub fn after_flush_async(
        &mut self,
        f: impl for<'s> Fn(&'s mut Session) -> BoxFuture<'s, HookResult> + Send + Sync + 'static,
    ) -> &mut Self {
        self.after_flush.push(FlushListener::Async(Arc::new(f)));
        self
    }

    /// Adds an `after_rollback` listener.
    pub fn after_rollback(
        &mut self,
        f: impl Fn(&mut Session) + Send + Sync + 'static,
    ) -> &mut Self {
        self.after_rollback
            .push(RollbackListener::Sync(Arc::new(f)));
        self
    }

    /// Adds an async `after_rollback` listener.
    pub fn after_rollback_async(
        &mut self,
        f: impl for<'s> Fn(&'s mut Session) -> BoxFuture<'s, ()> + Send + Sync + 'static,
    ) -> &mut Self {
        self.after_rollback
            .push(RollbackListener::Async(Arc::new(f)));
        self
    }

    /// Whether no listener is registered.
    pub fn is_empty(&self) -> bool {
        self.before_flush.is_empty()
            && self.after_flush.is_empty()
            && self.after_rollback.is_empty()
    }

    fn has_flush_listeners(&self) -> bool {
        !self.before_flush.is_empty() || !self.after_flush.is_empty()
    }
}

/// Opens sessions on a database with listeners already registered (SQLAlchemy's
/// `sessionmaker` plus `event.listen(Session, …)`): every session it opens starts with a
/// copy of [`SessionMaker::events`]. It implements [`SessionExt`], so code written against
/// `impl SessionExt` (`session_scope` included) gets the listeners.
#[derive(Clone, Debug)]
pub struct SessionMaker {
    db: Database,
    events: SessionEvents,
}

impl SessionMaker {
    /// A maker of sessions on `db`, with no listeners yet.
    pub fn new(db: &Database) -> Self {
        SessionMaker {
            db: db.clone(),
            events: SessionEvents::new(),
        }
    }

    /// The listeners every new session starts with.
    pub fn events(&mut self) -> &mut SessionEvents {
        &mut self.events
    }
}

impl SessionExt for SessionMaker {
    fn session(&self) -> Session {
        let mut s = Session::new(&self.db);
        s.events = self.events.clone();
        s
    }
}

/// What a failing flush with listeners puts back.
pub(super) struct FlushSaved {
    entries: super::objects::Entries,
    identity: super::objects::IdentityMap,
    links: rustc_hash::FxHashMap<(usize, &'static str), super::links::LinkTo>,
    associations:
        rustc_hash::FxHashMap<(&'static str, usize, usize), super::links::AssociationChange>,
    refused: rustc_hash::FxHashMap<(usize, &'static str), String>,
    groups: rustc_hash::FxHashMap<(usize, &'static str), super::sync::Group>,
    dirty_links: Vec<(usize, &'static str)>,
    dirty_groups: rustc_hash::FxHashSet<(usize, &'static str)>,
    after_commit: usize,
}

/// How many flushes one commit runs at most while `after_flush` listeners keep changing
/// the session.
const MAX_COMMIT_FLUSHES: usize = 100;

/// The SAVEPOINT around a flush with listeners (flushes do not nest, so one name does).
const SAVEPOINT: &str = "SAVEPOINT oxalchemy_flush";
const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT oxalchemy_flush";
const RELEASE_SAVEPOINT: &str = "RELEASE SAVEPOINT oxalchemy_flush";

/// Whether flush listeners are running, shared with the guard that clears it: a flush
/// future dropped midway drops its guard too, so the session is not left "flushing",
/// refusing every later flush, commit and rollback as if called from a listener.
#[derive(Debug, Default)]
pub(super) struct FlushingFlag(Arc<AtomicBool>);

impl FlushingFlag {
    pub(super) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn enter(&self) -> FlushingGuard {
        self.0.store(true, Ordering::Relaxed);
        FlushingGuard(Arc::clone(&self.0))
    }
}

/// Clears a [`FlushingFlag`] when dropped.
struct FlushingGuard(Arc<AtomicBool>);

impl Drop for FlushingGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

impl Session {
    /// This session's event listeners: register with
    /// `s.events().before_flush(|s| { …; Ok(()) })`. See [`SessionEvents`].
    pub fn events(&mut self) -> &mut SessionEvents {
        &mut self.events
    }

    /// Whether queries flush first: autoflush is on and no flush listener is running
    /// (SQLAlchemy's no autoflush while flushing: a listener's own queries must not flush).
    pub(super) fn autoflushes(&self) -> bool {
        self.autoflush && !self.flushing.get()
    }

    /// The error for a `flush`, `commit`, `rollback` or a nested transaction's end called
    /// from a flush listener.
    pub(super) fn not_while_flushing(&self, what: &str) -> Result<(), Error> {
        if self.flushing.get() {
            return Err(mapping(format!(
                "Session::{what} was called while the session is flushing (from a \
                 before_flush / after_flush listener); a listener changes objects and the \
                 flush writes them"
            )));
        }
        Ok(())
    }

    /// Whether a flush with listeners is needed: the listeners exist and the flush has
    /// something to write (SQLAlchemy fires `before_flush` only then, so autoflushes before
    /// queries do not run the listeners each time).
    pub(super) fn flush_needs_listeners(&mut self) -> bool {
        if !self.events.has_flush_listeners() {
            return false;
        }
        self.cascade_held();
        self.sync_links_to_persistent_parents();
        if !self.associations.is_empty() {
            return true;
        }
        let mut now = Vec::new();
        let entries = &self.entries;
        entries.iter().enumerate().any(|(slot, e)| {
            let Some(e) = e else { return false };
            match e.state {
                ObjectState::Pending | ObjectState::Deleted => true,
                // No snapshot: never handed out mutably since load or flush, so unchanged.
                ObjectState::Persistent => entries.snapshot(slot).is_some_and(|snapshot| {
                    now.clear();
                    (e.ops().update_values)(&*e.obj, &mut now);
                    !now.iter().map(|(_, v)| v).eq(snapshot.iter())
                }),
            }
        })
    }

    /// At commit, after the first flush: what `after_flush` listeners changed is flushed
    /// too, until nothing is left (SQLAlchemy's commit flushes up to 100 times).
    pub(super) async fn flush_listeners_changes(&mut self) -> Result<(), Error> {
        let mut flushes = 1;
        while self.flush_needs_listeners() {
            if flushes == MAX_COMMIT_FLUSHES {
                return Err(mapping(format!(
                    "the session still had changes after {MAX_COMMIT_FLUSHES} flushes in one \
                     commit: an after_flush listener changes the session at every flush"
                )));
            }
            self.flush().await?;
            flushes += 1;
        }
        Ok(())
    }

    /// A flush with `before_flush` / `after_flush` listeners, inside its own SAVEPOINT and
    /// with a copy of the session to put back if anything fails.
    pub(super) async fn flush_with_listeners(&mut self) -> Result<(), Error> {
        let saved = self.save_for_flush();
        self.log.push(SAVEPOINT.to_owned());
        self.transaction()
            .await?
            .execute(oxalchemy_core::text(SAVEPOINT))
            .await?;
        // Kept in the session rather than in this future, once the SAVEPOINT exists to roll
        // back to: if the future is dropped midway (a timeout), the next flush finds the
        // copy and undoes what this one did.
        self.flush_copy = Some(saved);
        // The listeners' own queries must not flush (`autoflushes`); an explicit flush
        // from them is an error (`not_while_flushing`). The guard clears the flag however
        // this future ends, dropped midway included.
        let result = {
            let _flushing = self.flushing.enter();
            self.flush_listened().await
        };
        let saved = self.flush_copy.take();
        let ended = match &result {
            Ok(()) => self.end_savepoint(&[RELEASE_SAVEPOINT]).await,
            Err(_) => {
                if let Some(saved) = saved {
                    self.restore_after_flush(saved);
                }
                self.end_savepoint(&[ROLLBACK_TO_SAVEPOINT, RELEASE_SAVEPOINT])
                    .await
            }
        };
        match result {
            // The flush's own error is what the caller acts on; if even the rollback to the
            // SAVEPOINT failed the connection is gone and the transaction with it.
            Err(e) => Err(e),
            Ok(()) => ended,
        }
    }

    /// Undoes a flush with listeners whose future was dropped midway (by a timeout, a
    /// `select!`): the session goes back to its copy from before that flush and the
    /// database to the flush's SAVEPOINT, so nothing is written twice or lost. If the
    /// dropped future left a statement in flight, the transaction's outcome is unknown and
    /// the ROLLBACK TO SAVEPOINT fails with the engine's error saying so: roll back.
    pub(super) async fn undo_abandoned_flush(&mut self) -> Result<(), Error> {
        let Some(saved) = self.flush_copy.take() else {
            return Ok(());
        };
        self.restore_after_flush(saved);
        if self.tx.is_none() {
            // The transaction, and the SAVEPOINT with it, already ended.
            return Ok(());
        }
        self.end_savepoint(&[ROLLBACK_TO_SAVEPOINT, RELEASE_SAVEPOINT])
            .await
    }

    /// Runs `statements`, which end the flush's SAVEPOINT, in the session's transaction,
    /// logging each; stops at the first error.
    async fn end_savepoint(&mut self, statements: &[&'static str]) -> Result<(), Error> {
        for &sql in statements {
            self.log.push(sql.to_owned());
            let Some(tx) = self.tx.as_mut() else {
                return Err(Error::TransactionFinished);
            };
            tx.execute(oxalchemy_core::text(sql)).await?;
        }
        Ok(())
    }

    async fn flush_listened(&mut self) -> Result<(), Error> {
        let listeners = self.events.before_flush.clone();
        for l in &listeners {
            l.call(self, "before_flush").await?;
        }
        self.flush_statements().await?;
        let listeners = self.events.after_flush.clone();
        for l in &listeners {
            l.call(self, "after_flush").await?;
        }
        Ok(())
    }

    /// Runs the `after_rollback` listeners.
    pub(super) async fn rolled_back(&mut self) {
        let listeners = self.events.after_rollback.clone();
        for l in &listeners {
            match l {
                RollbackListener::Sync(f) => f(self),
                RollbackListener::Async(f) => f(self).await,
            }
        }
    }

    fn save_for_flush(&self) -> FlushSaved {
        FlushSaved {
            entries: self.entries.duplicate(),
            identity: self.identity.clone(),
            links: self.links.clone(),
            associations: self.associations.clone(),
            refused: self.refused.clone(),
            groups: self.groups.clone(),
            dirty_links: self.dirty_links.clone(),
            dirty_groups: self.dirty_groups.clone(),
            after_commit: self.after_commit.len(),
        }
    }

    fn restore_after_flush(&mut self, saved: FlushSaved) {
        self.entries = saved.entries;
        self.identity = saved.identity;
        self.links = saved.links;
        self.associations = saved.associations;
        self.refused = saved.refused;
        self.groups = saved.groups;
        self.dirty_links = saved.dirty_links;
        self.dirty_groups = saved.dirty_groups;
        self.pending_keys = None;
        self.after_commit.truncate(saved.after_commit);
    }
}
