//! The unit-of-work `Session`: an identity map keyed by (table, primary key), change
//! detection against a snapshot of the row's values taken when an object is first handed
//! out mutably after load or flush, and a `flush` that writes INSERTs (batched
//! per table, keys read back with RETURNING), UPDATEs of changed columns only and DELETEs in
//! foreign-key order — atomically: a failed flush leaves the database and the session as they
//! were.
//!
//! Objects live in the session and are reached through typed [`Handle`]s (`s[h].name`), so
//! the same row is always the same object, and reading a field never does I/O.
//!
//! # A tour
//!
//! ```no_run
//! # use oxalchemy_orm::{Model, Session, SessionExt};
//! # async fn tour<User: Model + Clone>(db: oxalchemy_engine::Database, ann: User)
//! # -> Result<(), oxalchemy_engine::Error> {
//! let mut s = db.session();             // no connection taken yet
//! let h = s.add(ann);                   // pending: inserted at the next flush
//! s.flush().await?;                     // INSERT … RETURNING id; `s[h]` now has its key
//! let same = s.get::<User>(1).await?;   // the identity map answers without SQL if it holds the row
//! let all = s.query::<User>().all().await?; // handles to the session's objects
//! s.commit().await?;                    // flush, COMMIT, the connection goes back to the pool
//! # let _ = (h, same, all);
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! * `mod.rs` (this file): the [`Session`] type and its public API.
//! * `objects`: the type-erased object table — [`Handle`], [`ObjectState`], the per-model
//!   function table and identity keys.
//! * `links`: relationships between held objects (`link`, `unlink`, `parent`, `children`)
//!   and many-to-many association rows.
//! * `nested`: SAVEPOINTs that also restore the session's objects.
//! * `joined`: sessions on a lent connection, whose transactions are SAVEPOINTs inside the
//!   lender's (the rollback test fixture).
//! * `flush`: the unit of work — `plan` works out the statements on copies, `run` sends
//!   them inside a SAVEPOINT, `order` sorts tables and self-referential rows.
//! * `events`: session listeners (`before_flush`, `after_flush`, `after_rollback`) and
//!   [`SessionMaker`], which opens sessions with listeners registered.
//! * `query`: the terminal calls of a [`Query`](crate::Query) bound to a session.
//! * `bulk`: what the bulk operations (`crate::bulk`) need: the flushed transaction, and
//!   held objects refreshed or dropped after rows were written behind their back.

mod add;
mod bulk;
mod cascade;
mod events;
mod flush;
mod joined;
mod links;
mod nested;
mod objects;
mod query;
mod sync;

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt;
use std::future::Future;
use std::ops::{Index, IndexMut};

use oxalchemy_core::{Compiled, Expr, Ident, Statement, Value};
use oxalchemy_engine::{Database, Error, FromRow, Row};

use crate::errors::mapping;
use crate::model::Model;
use crate::persist::key_filter;
use crate::query::query;

pub use self::add::{AddAll, AddOne};
pub use self::cascade::{fill_many, fill_one, take_many, take_one, Assigned, Fill};
pub use self::events::{SessionEvents, SessionMaker};
use self::joined::{Checkout, SessionTx};
use self::links::{AssociationChange, LinkTo};
use self::nested::Saved;
use self::objects::IdentityKey;
use self::objects::{cast, cast_mut, identity_key, ops, Entries, IdentityMap, Pairs};
pub use self::objects::{Handle, ObjectState};
pub use self::query::SessionQuery;
use self::sync::Group;

/// A unit of work on one database. Create one with [`SessionExt::session`]; it takes a
/// pooled connection and opens a transaction at its first statement, and gives the
/// connection back on commit, rollback, close or drop (a dropped session rolls back).
pub struct Session {
    db: Database,
    tx: Option<SessionTx>,
    /// Set for a [joined](Session::joined) session: where its connection comes from.
    checkout: Option<Checkout>,
    entries: Entries,
    next_generation: u32,
    identity: IdentityMap,
    nested: Vec<Saved>,
    autoflush: bool,
    /// The last statements run ([`Session::statements`]), at most `2 * LOG_KEEP`.
    log: Vec<String>,
    /// How many statements were dropped from the front of `log` ([`Session::trim_log`]).
    log_dropped: usize,
    /// Many-to-one links made with [`Session::link`]: child slot → parent slot, through a
    /// foreign-key column of the child.
    links: FxHashMap<(usize, &'static str), LinkTo>,
    /// Many-to-many association rows to insert or delete at the next flush:
    /// (association table, left slot, right slot) → change.
    associations: FxHashMap<(&'static str, usize, usize), AssociationChange>,
    /// Tables written in the open transaction: their cached reads are invalidated again
    /// at commit (`crate::cache`).
    written: Vec<&'static str>,
    /// Relationship values that could not be honoured: (slot, field) → why. The next flush
    /// fails with the message while the object is held.
    refused: FxHashMap<(usize, &'static str), String>,
    /// Pending objects with an explicit key, for matching cascaded values by identity;
    /// built on first use, dropped at flush.
    pending_keys: Option<FxHashMap<IdentityKey, usize>>,
    /// (model table, relationship) → the child's foreign-key column.
    fk_cache: FxHashMap<(&'static str, &'static str), &'static str>,
    /// (parent slot, collection field) → the children linked to it (`sync.rs`).
    groups: FxHashMap<(usize, &'static str), Group>,
    /// Links made since the last flush, whose copies the next flush refreshes.
    dirty_links: Vec<(usize, &'static str)>,
    /// Collections to rebuild at the next flush.
    dirty_groups: FxHashSet<(usize, &'static str)>,
    /// Work queued with [`Session::after_commit`], run after the next COMMIT.
    after_commit: Vec<AfterCommit>,
    /// `before_flush` / `after_flush` / `after_rollback` listeners (`events.rs`).
    events: SessionEvents,
    /// Set while flush listeners run: no autoflush, no nested flush (`events.rs`).
    flushing: events::FlushingFlag,
    /// The copy of the session taken before a flush with listeners, put back if it fails.
    /// Still here when no flush is running, it belongs to a flush whose future was dropped
    /// midway, which the next flush undoes first (`events.rs`).
    flush_copy: Option<events::FlushSaved>,
}

/// How many statements the log keeps at least (it drops the oldest past twice as many).
const LOG_KEEP: usize = 10_000;

/// A closure queued with [`Session::after_commit`].
type AfterCommit = Box<dyn FnOnce() + Send + Sync>;

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("db", &self.db)
            .field("objects", &self.identity.len())
            .field("in_transaction", &self.tx.is_some())
            .field("joined", &self.checkout.is_some())
            .finish()
    }
}

/// Opens sessions: on a [`Database`] (each session takes a pooled connection), or on
/// anything else that can make one — the rollback test fixture implements it with
/// [joined](Session::joined) sessions, so code written against `impl SessionExt` runs
/// unchanged inside a test's outer transaction.
pub trait SessionExt {
    /// A new, empty session.
    fn session(&self) -> Session;

    /// The guide's `session_scope`: runs `f` with a session, commits when it returns `Ok`,
    /// rolls back on `Err` or panic, and always returns the connection to the pool.
    fn session_scope<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>>
    where
        F: AsyncFnOnce(&mut Session) -> Result<T, E>,
        E: From<Error>,
    {
        scope(self.session(), f)
    }
}

impl SessionExt for Database {
    fn session(&self) -> Session {
        Session::new(self)
    }
}

/// The body of [`SessionExt::session_scope`]: commit on `Ok`, rollback on `Err`, the
/// session (and with it the connection) dropped either way — a panic drops it too, which
/// rolls back.
async fn scope<T, E, F>(mut s: Session, f: F) -> Result<T, E>
where
    F: AsyncFnOnce(&mut Session) -> Result<T, E>,
    E: From<Error>,
{
    match f(&mut s).await {
        Ok(v) => {
            s.commit().await?;
            Ok(v)
        }
        Err(e) => {
            // The closure's error is the one the caller can act on; a ROLLBACK that also
            // fails (the connection died) must not hide it. The server rolls back a dead
            // connection's transaction anyway.
            if let Err(rollback) = s.rollback().await {
                tracing::warn!(
                    target: "oxalchemy::orm",
                    error = %rollback,
                    "ROLLBACK after session_scope's closure failed also failed; returning the closure's error"
                );
            }
            Err(e)
        }
    }
}

impl Session {
    /// An empty session on `db`, taking its connections from the pool.
    fn new(db: &Database) -> Session {
        Session {
            db: db.clone(),
            tx: None,
            checkout: None,
            entries: Entries::default(),
            next_generation: 0,
            identity: IdentityMap::default(),
            nested: Vec::new(),
            autoflush: true,
            log: Vec::new(),
            log_dropped: 0,
            links: FxHashMap::default(),
            associations: FxHashMap::default(),
            written: Vec::new(),
            refused: FxHashMap::default(),
            pending_keys: None,
            fk_cache: FxHashMap::default(),
            groups: FxHashMap::default(),
            dirty_links: Vec::new(),
            dirty_groups: FxHashSet::default(),
            after_commit: Vec::new(),
            events: SessionEvents::default(),
            flushing: events::FlushingFlag::default(),
            flush_copy: None,
        }
    }

    /// Forgets every link and relationship record (the objects are gone).
    fn forget_links(&mut self) {
        self.links.clear();
        self.associations.clear();
        self.refused.clear();
        self.pending_keys = None;
        self.groups.clear();
        self.dirty_links.clear();
        self.dirty_groups.clear();
    }

    /// Autoflush (on by default) flushes pending changes before every query, so queries see
    /// them.
    pub fn set_autoflush(&mut self, on: bool) {
        self.autoflush = on;
    }

    /// The SQL statements this session has run, in order (for tests and debugging): all of
    /// them since the session began or [`reset_statements`](Session::reset_statements),
    /// up to the last 10,000 — past 20,000 the oldest are dropped down to 10,000, so a
    /// long session (a flush of 100,000 UPDATEs) does not keep every statement's text for
    /// its whole life. A multi-row INSERT of a flush is recorded by its first row and a
    /// comment counting the rows (`INSERT INTO "users" ("name") VALUES (?) -- 500 rows`),
    /// not its whole text, which would cost a dozen bytes per inserted object.
    pub fn statements(&self) -> &[String] {
        &self.log
    }

    /// How many statements this session has run since it began or
    /// [`reset_statements`](Session::reset_statements), including any the log dropped.
    pub fn statement_count(&self) -> usize {
        self.log_dropped + self.log.len()
    }

    /// Forgets the statement log.
    pub fn reset_statements(&mut self) {
        self.log.clear();
        self.log_dropped = 0;
    }

    /// Bounds the statement log: past `2 * LOG_KEEP` statements the oldest are dropped
    /// down to `LOG_KEEP` (in batches, so a statement costs no shifting on average).
    fn trim_log(&mut self) {
        if self.log.len() > 2 * LOG_KEEP {
            let dropped = self.log.len() - LOG_KEEP;
            self.log.drain(..dropped);
            self.log_dropped += dropped;
        }
    }

    /// Objects held (pending, persistent or marked deleted).
    pub fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    /// Whether the session holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The session's transaction, opened at the first statement. Every statement comes
    /// through here (a flush once for all of its statements), so the statement log is
    /// bounded here too.
    async fn transaction(&mut self) -> Result<&mut SessionTx, Error> {
        self.trim_log();
        if self.tx.is_none() {
            self.tx = Some(self.open_transaction().await?);
        }
        Ok(self.tx.as_mut().expect("the transaction was just opened"))
    }

    fn compile(&self, stmt: &Statement) -> Result<Compiled, Error> {
        self.db.compile(stmt)
    }

    /// Adds a new object; it is inserted at the next flush. Related objects assigned into
    /// its relationship fields (values or handles: `Post { author: user.into(), .. }`) are
    /// added too when new and linked (save-update cascade); a value whose identity the
    /// session already holds is matched to that object, not added twice. A relationship
    /// value that cannot be honoured fails the next flush with an error naming the field.
    pub fn add<M: Model + Clone>(&mut self, obj: M) -> Handle<M> {
        self.add_with(obj, ops::<M>())
    }
    /// Adds several new objects: of one model from an array, `Vec` or mapped iterator
    /// (handles in a `Vec`), or of different models from a tuple (handles in a tuple, an
    /// element that is already a handle staying as it is):
    /// `let (user, post) = s.add_all((user, Post { author: user.into(), .. }));`.
    pub fn add_all<T: AddAll>(&mut self, objs: T) -> T::Handles {
        objs.add_to(self)
    }
    /// Marks an object for deletion at the next flush (a pending one is simply dropped).
    pub fn delete<M: Model>(&mut self, h: Handle<M>) {
        let Some(state) = self.entry(h).map(|e| e.state) else {
            return;
        };
        let slot = h.slot();
        if state == ObjectState::Pending {
            self.entries.take(slot);
        } else if let Some(e) = self.entries[slot].as_mut() {
            e.state = ObjectState::Deleted;
        }
    }

    /// The object behind `h`, if the session still holds it.
    pub fn get_ref<M: Model>(&self, h: Handle<M>) -> Option<&M> {
        self.entry(h).map(|e| cast::<M>(&*e.obj))
    }

    /// The object behind `h`, mutably.
    pub fn get_mut<M: Model>(&mut self, h: Handle<M>) -> Option<&mut M> {
        self.entry(h)?;
        self.entries.before_mut(h.slot());
        self.entries[h.slot()]
            .as_mut()
            .map(|e| cast_mut::<M>(&mut *e.obj))
    }

    /// Where `h` stands in the unit of work.
    pub fn state<M: Model>(&self, h: Handle<M>) -> Option<ObjectState> {
        self.entry(h).map(|e| e.state)
    }

    /// Runs a statement with `RETURNING <primary key>` and collects the keys.
    async fn changed_keys<M: Model>(&mut self, stmt: Statement) -> Result<Vec<Pairs>, Error> {
        let d = self.db.dialect();
        let stmt = match stmt {
            Statement::Update(u) if !d.update_returning() => {
                return self
                    .changed_keys_by_select::<M>(u.where_.clone(), Statement::Update(u))
                    .await
            }
            Statement::Delete(del) if !d.insert_returning() => {
                return self
                    .changed_keys_by_select::<M>(del.where_.clone(), Statement::Delete(del))
                    .await
            }
            stmt => stmt,
        };
        let c = self.compile(&stmt)?;
        self.log.push(c.sql.clone());
        let columns = M::primary_key_columns();
        let tx = self.transaction().await?;
        tx.query_map_write(&c, |row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, col)| Ok((*col, row.get::<Value>(i)?)))
                .collect::<Result<Pairs, Error>>()
        })
        .await
    }

    /// [`Session::changed_keys`] where the database has no RETURNING for `stmt` (MySQL's
    /// UPDATE and DELETE, MariaDB's UPDATE): the keys of the rows `where_` matches are read
    /// first with `SELECT … FOR UPDATE`, which locks them until the transaction ends, so the
    /// statement then changes exactly those rows.
    async fn changed_keys_by_select<M: Model>(
        &mut self,
        where_: Option<Expr>,
        mut stmt: Statement,
    ) -> Result<Vec<Pairs>, Error> {
        match &mut stmt {
            Statement::Update(u) => u.returning.clear(),
            Statement::Delete(d) => d.returning.clear(),
            _ => {}
        }
        let columns = M::primary_key_columns();
        let mut select = oxalchemy_core::select(
            columns
                .iter()
                .map(|c| oxalchemy_core::col(Ident::new_static(c))),
        )
        .from(oxalchemy_core::table(M::TABLE));
        select.where_ = where_;
        let mut keys = self.compile(&Statement::Select(select))?;
        // Only dialects without RETURNING come here (MySQL, MariaDB), and all of them
        // have FOR UPDATE at the end of a plain SELECT.
        keys.sql.push_str(" FOR UPDATE");
        let write = self.compile(&stmt)?;
        self.log.push(keys.sql.clone());
        self.log.push(write.sql.clone());
        let tx = self.transaction().await?;
        let found = tx
            .query_map_write(&keys, |row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, col)| Ok((*col, row.get::<Value>(i)?)))
                    .collect::<Result<Pairs, Error>>()
            })
            .await?;
        tx.execute_write(&write).await?;
        Ok(found)
    }

    /// Runs a SELECT of whole `M` rows in the session's transaction, logging it.
    async fn load<M: Model + Clone>(&mut self, select: Statement) -> Result<Vec<M>, Error> {
        let c = self.compile(&select)?;
        self.log.push(c.sql.clone());
        let tx = self.transaction().await?;
        tx.query_read::<M>(&c).await
    }

    /// The object with this primary key: from the identity map without any SQL when the
    /// session holds it, else with one SELECT. `None` when no such row exists.
    pub async fn get<M: Model + Clone>(
        &mut self,
        pk: impl Into<Value>,
    ) -> Result<Option<Handle<M>>, Error> {
        self.get_by_key::<M>(vec![pk.into()]).await
    }

    /// [`Session::get`] for composite keys, values in key-column order.
    pub async fn get_by_key<M: Model + Clone>(
        &mut self,
        key: Vec<Value>,
    ) -> Result<Option<Handle<M>>, Error> {
        let columns = M::primary_key_columns();
        if key.len() != columns.len() {
            return Err(mapping(format!(
                "{} has a {}-column primary key ({}); {} values were given",
                M::NAME,
                columns.len(),
                columns.join(", "),
                key.len()
            )));
        }
        let pk: Pairs = columns.iter().copied().zip(key).collect();
        let ikey = identity_key(M::TABLE, &pk);
        if let Some(slot) = self.identity.get(&ikey, &self.entries) {
            let state = self.entries[slot].as_ref().map(|e| e.state);
            return Ok(match state {
                Some(ObjectState::Deleted) | None => None,
                Some(_) => Some(self.handle(slot)),
            });
        }
        if self.autoflushes() {
            self.flush().await?;
        }
        // The SQL is compiled once per model and dialect (crate::prepared::get_sql).
        let dialect = self.db.dialect();
        let key = pk.into_iter().map(|(_, v)| v).collect();
        let c = crate::prepared::get_sql::<M>(dialect)?.bind(dialect, key)?;
        self.log.push(c.sql.clone());
        let tx = self.transaction().await?;
        let rows: Vec<M> = tx.query_read(&c).await?;
        Ok(rows.into_iter().next().map(|m| self.track(m)))
    }

    /// A query whose results are held by the session: `s.query::<User>().filter(…).all()`.
    pub fn query<M: Model + Clone>(&mut self) -> SessionQuery<'_, M> {
        query::<M>().bind(self)
    }

    /// Runs a Core statement in the session's transaction (after autoflush), e.g. a
    /// `select` of columns: `s.select::<(String, i64)>(select([...]))`.
    pub async fn select<T: FromRow + Send>(
        &mut self,
        stmt: impl Into<Statement>,
    ) -> Result<Vec<T>, Error> {
        if self.autoflushes() {
            self.flush().await?;
        }
        let c = self.compile_logged(&stmt.into())?;
        let tx = self.transaction().await?;
        tx.query_write(&c).await
    }

    /// [`Session::select`] decoding each row with `f`: rows of several models are built
    /// straight into the result, with no wrapper to unpack afterwards.
    pub(crate) async fn select_map<T: Send>(
        &mut self,
        stmt: impl Into<Statement>,
        f: impl FnMut(&Row<'_>) -> Result<T, Error> + Send,
    ) -> Result<Vec<T>, Error> {
        if self.autoflushes() {
            self.flush().await?;
        }
        let c = self.compile_logged(&stmt.into())?;
        let tx = self.transaction().await?;
        tx.query_map_write(&c, f).await
    }

    /// Runs a Core statement (UPDATE/DELETE/…) in the session's transaction after
    /// autoflush; returns the changed-row count.
    pub async fn execute(&mut self, stmt: impl Into<Statement>) -> Result<u64, Error> {
        if self.autoflushes() {
            self.flush().await?;
        }
        let c = self.compile_logged(&stmt.into())?;
        let tx = self.transaction().await?;
        tx.execute_write(&c).await
    }

    /// Compiles a Core statement run in the session (after its autoflush) and logs its
    /// SQL. (Not an `async fn` around the autoflush: every async layer deepens the futures
    /// of the callers, and a user's transaction closure nests them all.)
    fn compile_logged(&mut self, stmt: &Statement) -> Result<Compiled, Error> {
        let c = self.compile(stmt)?;
        self.log.push(c.sql.clone());
        Ok(c)
    }

    /// Reloads an object from its row, discarding unflushed changes.
    pub async fn refresh<M: Model + Clone>(&mut self, h: Handle<M>) -> Result<(), Error> {
        let Some(e) = self.entry(h) else {
            return Err(Error::NotFound);
        };
        let mut pk = Vec::new();
        (e.ops().pk_values)(&*e.obj, &mut pk);
        let rows: Vec<M> = self
            .load(query::<M>().filter(key_filter(&pk)).statement().into())
            .await?;
        let Some(fresh) = rows.into_iter().next() else {
            return Err(Error::NotFound);
        };
        if let Some(e) = self.entries[h.slot()].as_mut() {
            e.obj = Box::new(fresh);
            e.state = ObjectState::Persistent;
        }
        self.entries.drop_snapshot(h.slot());
        Ok(())
    }

    /// Removes an object from the session and hands it back: an owned, detached struct.
    /// Unflushed changes to it are not written.
    pub fn expunge<M: Model>(&mut self, h: Handle<M>) -> Option<M> {
        self.entry(h)?;
        let e = self.entries.take(h.slot())?;
        if let Some(key) = &e.key {
            self.identity.remove_slot(key, h.slot());
        }
        (e.obj as Box<dyn std::any::Any + Send + Sync>)
            .downcast::<M>()
            .ok()
            .map(|b| *b)
    }

    /// Attaches a detached object: if the session (or the database) has its row, the held
    /// object takes `obj`'s values (written at the next flush); otherwise `obj` is added
    /// as new.
    pub async fn merge<M: Model + Clone>(&mut self, obj: M) -> Result<Handle<M>, Error> {
        let mut pk = Vec::new();
        obj.primary_key_values(&mut pk);
        let existing = self
            .get_by_key::<M>(pk.into_iter().map(|(_, v)| v).collect())
            .await?;
        match existing {
            Some(h) => {
                if let Some(held) = self.get_mut(h) {
                    *held = obj;
                }
                Ok(h)
            }
            None => Ok(self.add(obj)),
        }
    }

    /// Flushes, then commits the transaction and returns the connection to the pool.
    /// Objects stay in the session with their committed values: nothing is expired, because
    /// reading a field never does I/O — call [`Session::refresh`] to see other transactions'
    /// changes.
    pub async fn commit(&mut self) -> Result<(), Error> {
        self.flush().await?;
        self.flush_listeners_changes().await?;
        self.nested.clear();
        if let Some(tx) = self.tx.take() {
            self.log.push(end_label(&tx, "COMMIT", "RELEASE SAVEPOINT"));
            if let Err(e) = tx.commit().await {
                // The database rolled the transaction back.
                self.rolled_back().await;
                return Err(e);
            }
        }
        self.committed_writes();
        for f in std::mem::take(&mut self.after_commit) {
            f();
        }
        Ok(())
    }

    /// Queues `f` to run once the next [`commit`](Session::commit) succeeded (SQLAlchemy's
    /// `after_commit` event): work that must see the data committed — sending a mail,
    /// publishing an event, clearing a cache. Queued closures run in order, after the
    /// COMMIT; a failed commit keeps them queued for the next one, and
    /// [`rollback`](Session::rollback) / [`close`](Session::close) drop them unrun.
    /// Model events that run inside the flush are [`Hooks`](crate::Hooks).
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + Sync + 'static) {
        self.after_commit.push(Box::new(f));
    }

    /// Rolls the transaction back, returns the connection, and empties the session (its
    /// objects no longer match the database).
    pub async fn rollback(&mut self) -> Result<(), Error> {
        self.not_while_flushing("rollback")?;
        // An abandoned flush's copy is moot: everything it could restore is dropped here.
        self.flush_copy = None;
        self.after_commit.clear();
        self.entries.clear();
        self.identity.clear();
        self.forget_links();
        self.nested.clear();
        self.written.clear();
        if let Some(tx) = self.tx.take() {
            self.log
                .push(end_label(&tx, "ROLLBACK", "ROLLBACK TO SAVEPOINT"));
            match tx.rollback().await {
                // The server ends a transaction whose connection is gone or is being
                // discarded (a statement was abandoned in flight), so it is rolled back:
                // what the caller asked for.
                Ok(()) | Err(Error::ConnectionLost { .. } | Error::TransactionAbandoned) => {}
                Err(e) => return Err(e),
            }
            self.rolled_back().await;
        }
        Ok(())
    }

    /// Rolls back anything uncommitted and empties the session.
    pub async fn close(mut self) -> Result<(), Error> {
        self.rollback().await
    }
}

/// How the statement log records the end of the session's transaction: a joined session's
/// transaction is a SAVEPOINT inside the lender's.
fn end_label(tx: &SessionTx, outermost: &str, savepoint: &str) -> String {
    if tx.is_savepoint() {
        savepoint.to_owned()
    } else {
        outermost.to_owned()
    }
}

/// A session moves between tasks, and so do the futures of its methods: keep it `Send`.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Session>();
};

impl<M: Model> Index<Handle<M>> for Session {
    type Output = M;
    /// Panics if the session no longer holds the object (expunged, deleted and flushed, or
    /// after rollback); use [`Session::get_ref`] to check.
    fn index(&self, h: Handle<M>) -> &M {
        match self.get_ref(h) {
            Some(m) => m,
            None => panic!("{h:?} is not held by this session (expunged, deleted or rolled back)"),
        }
    }
}

impl<M: Model> IndexMut<Handle<M>> for Session {
    fn index_mut(&mut self, h: Handle<M>) -> &mut M {
        if self.get_ref(h).is_none() {
            panic!("{h:?} is not held by this session (expunged, deleted or rolled back)");
        }
        self.get_mut(h)
            .expect("checked just above that the session holds the object")
    }
}
