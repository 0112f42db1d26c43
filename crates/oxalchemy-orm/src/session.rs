//! The unit-of-work `Session`: an identity map keyed by (table, primary key), change
//! detection against the snapshot taken at load, and a `flush` that writes INSERTs (batched
//! per table, keys read back with RETURNING), UPDATEs of changed columns only and DELETEs in
//! foreign-key order — atomically: a failed flush leaves the database and the session as they
//! were.
//!
//! Objects live in the session and are reached through typed [`Handle`]s (`s[h].name`), so
//! the same row is always the same object, and reading a field never does I/O.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use oxalchemy_core::dialect::bulk::{delete_by_key_sql, insert_rows_sql, update_by_key_sql};
use oxalchemy_core::expr::{and_, Ident};
use oxalchemy_core::schema::{Constraint, Table};
use oxalchemy_core::{compile, Compiled, Expr, OrderBy, Statement, Value};
use oxalchemy_engine::{
    Connection, Database, Error, FromRow, OwnedTransaction, Transaction, ValidationError,
};

use crate::loading::Loader;
use crate::loading::{association_column, foreign_key_to, one_to_many_fk};
use crate::model::{Model, RelationshipKind};
use crate::persist::key_filter;
use crate::query::{query, Query};
use crate::relation::Relationship;

type Obj = Box<dyn Any + Send + Sync>;
type Pairs = Vec<(&'static str, Value)>;

/// What the session needs to do with an object whose type it has erased: one set of
/// function pointers per model type, monomorphised from the `Model` impl.
#[derive(Clone, Copy)]
struct Ops {
    table: &'static str,
    table_def: fn() -> Table,
    insert_values: fn(&dyn Any, &mut Pairs),
    update_values: fn(&dyn Any, &mut Pairs),
    pk_values: fn(&dyn Any, &mut Pairs),
    version: fn(&dyn Any) -> Option<(&'static str, i64)>,
    set_version: fn(&mut dyn Any, i64),
    apply_defaults: fn(&mut dyn Any),
    apply_onupdate: fn(&mut dyn Any),
    validate: fn(&dyn Any) -> Result<(), ValidationError>,
    clone: fn(&dyn Any) -> Obj,
    generated_key: fn() -> Option<&'static str>,
    set_generated_key: fn(&mut dyn Any, i64),
    set_integer_column: fn(&mut dyn Any, &str, i64) -> bool,
    relationships: fn() -> &'static [crate::model::RelationshipDef],
    has_defaults: bool,
}

fn cast<M: 'static>(a: &dyn Any) -> &M {
    a.downcast_ref::<M>()
        .expect("a session entry always holds the model type its Ops were made for")
}

fn cast_mut<M: 'static>(a: &mut dyn Any) -> &mut M {
    a.downcast_mut::<M>()
        .expect("a session entry always holds the model type its Ops were made for")
}

/// The `Ops` of model `M`, made once per type and kept for the life of the process (one
/// small table per model type), so every held object carries just a reference.
fn ops<M: Model + Clone>() -> &'static Ops {
    use std::any::TypeId;
    use std::sync::{Mutex, OnceLock};
    static REGISTRY: OnceLock<Mutex<HashMap<TypeId, &'static Ops>>> = OnceLock::new();
    let registry = REGISTRY.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = match registry.lock() {
        Ok(map) => map,
        // The map is only ever inserted into; a panic elsewhere cannot leave it torn.
        Err(poisoned) => poisoned.into_inner(),
    };
    map.entry(TypeId::of::<M>())
        .or_insert_with(|| Box::leak(Box::new(make_ops::<M>())))
}

fn make_ops<M: Model + Clone>() -> Ops {
    Ops {
        table: M::TABLE,
        table_def: M::table,
        insert_values: |a, out| cast::<M>(a).insert_values(out),
        update_values: |a, out| cast::<M>(a).update_values(out),
        pk_values: |a, out| cast::<M>(a).primary_key_values(out),
        version: |a| cast::<M>(a).version(),
        set_version: |a, v| cast_mut::<M>(a).set_version(v),
        apply_defaults: |a| cast_mut::<M>(a).apply_defaults(),
        apply_onupdate: |a| cast_mut::<M>(a).apply_onupdate(),
        validate: |a| cast::<M>(a).validate(),
        clone: |a| Box::new(cast::<M>(a).clone()),
        generated_key: M::generated_key_column,
        set_generated_key: |a, k| cast_mut::<M>(a).set_generated_key(k),
        set_integer_column: |a, c, k| cast_mut::<M>(a).set_integer_column(c, k),
        relationships: M::relationships,
        has_defaults: M::HAS_DEFAULTS,
    }
}

/// A typed reference to an object held by a [`Session`]: `s[h]` reads it, `s[h].x = …`
/// changes it (written at the next flush).
pub struct Handle<M> {
    slot: u32,
    generation: u32,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Handle<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Handle<M> {}
impl<M> PartialEq for Handle<M> {
    fn eq(&self, other: &Self) -> bool {
        self.slot == other.slot && self.generation == other.generation
    }
}
impl<M> Eq for Handle<M> {}
impl<M> std::hash::Hash for Handle<M> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.slot, self.generation).hash(state);
    }
}
impl<M> fmt::Debug for Handle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Handle<{}>({}#{})",
            std::any::type_name::<M>(),
            self.slot,
            self.generation
        )
    }
}

/// Where an object stands in the unit of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    /// Added, not yet inserted.
    Pending,
    /// Has a row; changes are written at flush.
    Persistent,
    /// Marked for deletion at the next flush.
    Deleted,
}

struct Entry {
    obj: Obj,
    ops: &'static Ops,
    state: ObjectState,
    /// Non-key column values as last loaded or flushed: the baseline for change detection.
    snapshot: Pairs,
    key: Option<IdentityKey>,
    generation: u32,
}

impl Entry {
    fn duplicate(&self) -> Entry {
        Entry {
            obj: (self.ops.clone)(&*self.obj),
            ops: self.ops,
            state: self.state,
            snapshot: self.snapshot.clone(),
            key: self.key.clone(),
            generation: self.generation,
        }
    }
}

/// The session's own state, saved by `begin_nested` and restored by `rollback_nested`.
struct Saved {
    entries: Vec<Option<Entry>>,
    identity: HashMap<IdentityKey, usize>,
}

/// Identity-map key: the table and the primary key; a single integer key (the common case)
/// needs no allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdentityKey {
    Int(&'static str, i64),
    Other(&'static str, String),
}

/// The identity-map key of a row: table plus primary key, with integer widths normalised
/// (so `get(5)` finds the row loaded as `i64` 5).
fn identity_key(table: &'static str, pk: &[(&'static str, Value)]) -> IdentityKey {
    use std::fmt::Write;
    if let Some(k) = integer_key(pk) {
        return IdentityKey::Int(table, k);
    }
    let mut key = String::new();
    for (_, v) in pk {
        let _ = match v {
            Value::I16(n) => write!(key, "\u{1f}i{n}"),
            Value::I32(n) => write!(key, "\u{1f}i{n}"),
            Value::I64(n) => write!(key, "\u{1f}i{n}"),
            Value::Text(s) => write!(key, "\u{1f}s{s}"),
            other => write!(key, "\u{1f}{other:?}"),
        };
    }
    IdentityKey::Other(table, key)
}

fn describe_key(key: &[(&'static str, Value)]) -> String {
    let parts: Vec<String> = key.iter().map(|(c, v)| format!("{c}={v:?}")).collect();
    format!("({})", parts.join(", "))
}

/// Orders rows of one table so a row comes after the rows it references through the
/// table's own foreign keys (self-referential tables). Stable; a cycle keeps input order.
fn parent_first(rows: &[&Pairs], self_fks: &[(Vec<String>, Vec<String>)]) -> Vec<usize> {
    let n = rows.len();
    if self_fks.is_empty() || n < 2 {
        return (0..n).collect();
    }
    let get = |row: &Pairs, c: &str| row.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (child, row) in rows.iter().enumerate() {
        for (cols, ref_cols) in self_fks {
            let wanted: Option<Vec<Value>> = cols.iter().map(|c| get(row, c)).collect();
            let Some(wanted) = wanted else { continue };
            if wanted.iter().any(Value::is_null) {
                continue;
            }
            for (parent, prow) in rows.iter().enumerate() {
                if parent == child {
                    continue;
                }
                let have: Option<Vec<Value>> = ref_cols.iter().map(|c| get(prow, c)).collect();
                if have.as_ref() == Some(&wanted) {
                    parents[child].push(parent);
                }
            }
        }
    }
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let next = (0..n).find(|&i| !done[i] && parents[i].iter().all(|&p| done[p]));
        match next {
            Some(i) => {
                done[i] = true;
                out.push(i);
            }
            None => {
                out.extend((0..n).filter(|&i| !done[i]));
                break;
            }
        }
    }
    out
}

/// Tables in foreign-key order (referenced first); ties keep first-seen order.
fn table_order(tables: &[(&'static str, Table)]) -> Vec<&'static str> {
    let mut done: Vec<&'static str> = Vec::with_capacity(tables.len());
    while done.len() < tables.len() {
        let next = tables.iter().find(|(name, t)| {
            !done.contains(name)
                && t.dependencies().all(|dep| {
                    !tables.iter().any(|(n, _)| *n == dep.as_str()) || done.contains(&dep.as_str())
                })
        });
        match next {
            Some((name, _)) => done.push(name),
            None => {
                // A cycle between tables: keep declaration order for the rest.
                for (name, _) in tables {
                    if !done.contains(name) {
                        done.push(name);
                    }
                }
            }
        }
    }
    done
}

fn self_foreign_keys(t: &Table) -> Vec<(Vec<String>, Vec<String>)> {
    t.constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::ForeignKey(fk) if fk.ref_table == t.name => Some((
                fk.columns.iter().map(|c| c.to_string()).collect(),
                fk.ref_columns.iter().map(|c| c.to_string()).collect(),
            )),
            _ => None,
        })
        .collect()
}

/// A unit of work on one database. Create one with [`SessionExt::session`]; it takes a
/// pooled connection and opens a transaction at its first statement, and gives the
/// connection back on commit, rollback, close or drop (a dropped session rolls back).
pub struct Session {
    db: Database,
    tx: Option<OwnedTransaction>,
    entries: Vec<Option<Entry>>,
    next_generation: u32,
    identity: HashMap<IdentityKey, usize>,
    nested: Vec<Saved>,
    autoflush: bool,
    log: Vec<String>,
    /// Many-to-one links made with [`Session::link`]: child slot → parent slot, through a
    /// foreign-key column of the child.
    links: HashMap<(usize, &'static str), usize>,
    /// Many-to-many association rows to add (true) or remove (false) at the next flush:
    /// (association table, left slot, right slot) → change.
    associations: HashMap<(&'static str, usize, usize), AssociationChange>,
}

#[derive(Clone, Debug)]
struct AssociationChange {
    add: bool,
    left_column: String,
    right_column: String,
}

/// A child object's foreign key pointing at a parent object held by the same session.
#[derive(Clone, Debug)]
struct Link {
    child: usize,
    parent: usize,
    fk_column: &'static str,
}

/// `name` as the `'static` column name the child model declares.
fn static_column<M: Model>(name: &str) -> Result<&'static str, Error> {
    M::columns()
        .iter()
        .copied()
        .find(|c| *c == name)
        .ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no column `{name}`", M::NAME),
        })
}

/// A column name as `&'static str` for cascade statements (column names are few and
/// fixed, so each is interned once).
fn leak_column(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| Mutex::new(HashSet::new()));
    let mut set = match names.lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(n) = set.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(n);
    n
}

/// The single integer primary key of an object, for foreign-key sync.
fn integer_key(pk: &[(&'static str, Value)]) -> Option<i64> {
    match pk {
        [(_, Value::I64(k))] => Some(*k),
        [(_, Value::I32(k))] => Some(i64::from(*k)),
        [(_, Value::I16(k))] => Some(i64::from(*k)),
        _ => None,
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("db", &self.db)
            .field("objects", &self.identity.len())
            .field("in_transaction", &self.tx.is_some())
            .finish()
    }
}

/// Opens sessions on a [`Database`].
pub trait SessionExt {
    /// A new, empty session.
    fn session(&self) -> Session;

    /// The guide's `session_scope`: runs `f` with a session, commits when it returns `Ok`,
    /// rolls back on `Err` or panic, and always returns the connection to the pool.
    fn session_scope<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>>
    where
        F: AsyncFnOnce(&mut Session) -> Result<T, E>,
        E: From<Error>;
}

impl SessionExt for Database {
    fn session(&self) -> Session {
        Session {
            db: self.clone(),
            tx: None,
            entries: Vec::new(),
            next_generation: 0,
            identity: HashMap::new(),
            nested: Vec::new(),
            autoflush: true,
            log: Vec::new(),
            links: HashMap::new(),
            associations: HashMap::new(),
        }
    }

    async fn session_scope<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Session) -> Result<T, E>,
        E: From<Error>,
    {
        let mut s = self.session();
        match f(&mut s).await {
            Ok(v) => {
                s.commit().await?;
                Ok(v)
            }
            Err(e) => {
                s.rollback().await?;
                Err(e)
            }
        }
    }
}

impl Session {
    /// Autoflush (on by default) flushes pending changes before every query, so queries see
    /// them.
    pub fn set_autoflush(&mut self, on: bool) {
        self.autoflush = on;
    }

    /// Every SQL statement this session has run, in order (for tests and debugging).
    pub fn statements(&self) -> &[String] {
        &self.log
    }

    /// How many statements this session has run.
    pub fn statement_count(&self) -> usize {
        self.log.len()
    }

    /// Forgets the statement log.
    pub fn reset_statements(&mut self) {
        self.log.clear();
    }

    /// Objects held (pending, persistent or marked deleted).
    pub fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    async fn transaction(&mut self) -> Result<&mut OwnedTransaction, Error> {
        if self.tx.is_none() {
            let conn = self.db.connection().await?;
            self.tx = Some(conn.begin_owned().await?);
        }
        Ok(self.tx.as_mut().expect("the transaction was just opened"))
    }

    fn compile(&self, stmt: &Statement) -> Result<Compiled, Error> {
        Ok(compile(self.db.dialect(), stmt)?)
    }

    fn handle<M>(&self, slot: usize) -> Handle<M> {
        let generation = self.entries[slot].as_ref().map_or(0, |e| e.generation);
        Handle {
            slot: slot as u32,
            generation,
            _model: PhantomData,
        }
    }

    fn entry<M: 'static>(&self, h: Handle<M>) -> Option<&Entry> {
        self.entries
            .get(h.slot as usize)?
            .as_ref()
            .filter(|e| e.generation == h.generation && e.obj.is::<M>())
    }

    fn insert_entry(&mut self, entry: Entry) -> usize {
        self.entries.push(Some(entry));
        self.entries.len() - 1
    }

    /// Adds a new object; it is inserted at the next flush.
    pub fn add<M: Model + Clone>(&mut self, obj: M) -> Handle<M> {
        self.add_with(obj, ops::<M>())
    }

    fn add_with<M: Model + Clone>(&mut self, obj: M, ops: &'static Ops) -> Handle<M> {
        self.next_generation = self.next_generation.wrapping_add(1);
        let slot = self.insert_entry(Entry {
            obj: Box::new(obj),
            ops,
            state: ObjectState::Pending,
            snapshot: Vec::new(),
            key: None,
            generation: self.next_generation,
        });
        self.handle(slot)
    }

    /// Adds several new objects.
    pub fn add_all<M: Model + Clone>(
        &mut self,
        objs: impl IntoIterator<Item = M>,
    ) -> Vec<Handle<M>> {
        let objs = objs.into_iter();
        self.entries.reserve(objs.size_hint().0);
        let ops = ops::<M>();
        objs.map(|o| self.add_with(o, ops)).collect()
    }

    /// Marks an object for deletion at the next flush (a pending one is simply dropped).
    pub fn delete<M: Model>(&mut self, h: Handle<M>) {
        let Some(state) = self.entry(h).map(|e| e.state) else {
            return;
        };
        let slot = h.slot as usize;
        if state == ObjectState::Pending {
            self.entries[slot] = None;
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
        self.entries[h.slot as usize]
            .as_mut()
            .map(|e| cast_mut::<M>(&mut *e.obj))
    }

    /// Where `h` stands in the unit of work.
    pub fn state<M: Model>(&self, h: Handle<M>) -> Option<ObjectState> {
        self.entry(h).map(|e| e.state)
    }

    /// Holds a row read from the database: if the identity map already has it, that object
    /// is returned and the row is ignored (the session's object wins, as in SQLAlchemy).
    fn track<M: Model + Clone>(&mut self, obj: M) -> Handle<M> {
        let mut pk = Vec::new();
        obj.primary_key_values(&mut pk);
        let key = identity_key(M::TABLE, &pk);
        if let Some(&slot) = self.identity.get(&key) {
            return self.handle(slot);
        }
        let mut snapshot = Vec::new();
        obj.update_values(&mut snapshot);
        self.next_generation = self.next_generation.wrapping_add(1);
        let slot = self.insert_entry(Entry {
            obj: Box::new(obj),
            ops: ops::<M>(),
            state: ObjectState::Persistent,
            snapshot,
            key: Some(key.clone()),
            generation: self.next_generation,
        });
        self.identity.insert(key, slot);
        self.handle(slot)
    }

    /// [`Session::track`], giving a row the session already holds the relationships the
    /// loaders just loaded.
    fn track_loaded<M: Model + Clone>(
        &mut self,
        mut obj: M,
        loaders: &[std::sync::Arc<dyn Loader<M>>],
    ) -> Handle<M> {
        if !loaders.is_empty() {
            let mut pk = Vec::new();
            obj.primary_key_values(&mut pk);
            let key = identity_key(M::TABLE, &pk);
            if let Some(&slot) = self.identity.get(&key) {
                if let Some(e) = self.entries[slot].as_mut() {
                    if let Some(held) = e.obj.downcast_mut::<M>() {
                        for l in loaders {
                            l.transfer(&mut obj, held);
                        }
                    }
                }
                return self.handle(slot);
            }
        }
        self.track(obj)
    }

    /// Runs a statement with `RETURNING <primary key>` and collects the keys.
    async fn changed_keys<M: Model>(&mut self, stmt: Statement) -> Result<Vec<Pairs>, Error> {
        let c = self.compile(&stmt)?;
        self.log.push(c.sql.clone());
        let columns = M::primary_key_columns();
        let tx = self.transaction().await?;
        tx.query_map(&c, true, |row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, col)| Ok((*col, row.get::<Value>(i)?)))
                .collect::<Result<Pairs, Error>>()
        })
        .await
    }

    /// Runs a SELECT of whole `M` rows in the session's transaction, logging it.
    async fn load<M: Model + Clone>(&mut self, select: Statement) -> Result<Vec<M>, Error> {
        let c = self.compile(&select)?;
        self.log.push(c.sql.clone());
        let tx = self.transaction().await?;
        tx.query_compiled::<M>(&c, false).await
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
            return Err(Error::Database {
                code: None,
                message: format!(
                    "{} has a {}-column primary key ({}); {} values were given",
                    M::NAME,
                    columns.len(),
                    columns.join(", "),
                    key.len()
                ),
            });
        }
        let pk: Pairs = columns.iter().copied().zip(key).collect();
        let ikey = identity_key(M::TABLE, &pk);
        if let Some(&slot) = self.identity.get(&ikey) {
            let state = self.entries[slot].as_ref().map(|e| e.state);
            return Ok(match state {
                Some(ObjectState::Deleted) | None => None,
                Some(_) => Some(self.handle(slot)),
            });
        }
        if self.autoflush {
            self.flush().await?;
        }
        let table = Ident::new_static(M::TABLE);
        let cond = and_(pk.iter().map(|(c, v)| {
            Expr::Column {
                table: Some(table.clone()),
                name: Ident::new_static(c),
            }
            .eq(v.clone())
        }));
        let rows: Vec<M> = self
            .load(query::<M>().filter(cond).statement().clone().into())
            .await?;
        Ok(rows.into_iter().next().map(|m| self.track(m)))
    }

    /// A query whose results are held by the session: `s.query::<User>().filter(…).all()`.
    pub fn query<M: Model + Clone>(&mut self) -> SessionQuery<'_, M> {
        SessionQuery {
            session: self,
            query: query::<M>(),
        }
    }

    /// Runs a Core statement in the session's transaction (after autoflush), e.g. a
    /// `select` of columns: `s.select::<(String, i64)>(select([...]))`.
    pub async fn select<T: FromRow + Send>(
        &mut self,
        stmt: impl Into<Statement>,
    ) -> Result<Vec<T>, Error> {
        if self.autoflush {
            self.flush().await?;
        }
        let c = self.compile(&stmt.into())?;
        self.log.push(c.sql.clone());
        let tx = self.transaction().await?;
        tx.query_compiled(&c, true).await
    }

    /// Runs a Core statement (UPDATE/DELETE/…) in the session's transaction after
    /// autoflush; returns the changed-row count.
    pub async fn execute(&mut self, stmt: impl Into<Statement>) -> Result<u64, Error> {
        if self.autoflush {
            self.flush().await?;
        }
        let c = self.compile(&stmt.into())?;
        self.log.push(c.sql.clone());
        let tx = self.transaction().await?;
        tx.execute_compiled(&c, true).await
    }

    /// Links two objects through a many-to-one relationship or its one-to-many side:
    /// `s.link(post, Post::author, user)` or `s.link(user, User::posts, post)`. At flush the
    /// child's foreign key is set to the parent's key — after the parent is inserted when it
    /// is new — and both sides agree at once ([`Session::parent`], [`Session::children`]).
    pub fn link<A: Model, B: Model>(
        &mut self,
        from: Handle<A>,
        rel: Relationship<A, B>,
        to: Handle<B>,
    ) -> Result<(), Error> {
        if self.entry(from).is_none() || self.entry(to).is_none() {
            return Err(Error::NotFound);
        }
        let def = rel.def().ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no relationship `{}`", A::NAME, rel.name()),
        })?;
        let (child, parent, fk_column) = match def.kind {
            RelationshipKind::ManyToOne => (
                from.slot as usize,
                to.slot as usize,
                static_column::<A>(&foreign_key_to(def.foreign_key, &A::table(), B::TABLE)?)?,
            ),
            RelationshipKind::OneToMany => (
                to.slot as usize,
                from.slot as usize,
                static_column::<B>(&one_to_many_fk::<A, B>(def)?)?,
            ),
            RelationshipKind::ManyToMany => {
                let secondary = def.secondary.ok_or_else(|| Error::Database {
                    code: None,
                    message: format!("{}.{} needs `secondary`", A::NAME, rel.name()),
                })?;
                self.associations.insert(
                    (secondary, from.slot as usize, to.slot as usize),
                    AssociationChange {
                        add: true,
                        left_column: association_column(A::TABLE),
                        right_column: association_column(B::TABLE),
                    },
                );
                return Ok(());
            }
        };
        self.links.insert((child, fk_column), parent);
        Ok(())
    }

    /// Undoes a relationship between two objects. Many-to-many: the association row is
    /// deleted at flush. One-to-many with `cascade = "…, delete-orphan"`: the child is
    /// deleted at flush. Otherwise set the child's foreign key yourself.
    pub fn unlink<A: Model, B: Model>(
        &mut self,
        from: Handle<A>,
        rel: Relationship<A, B>,
        to: Handle<B>,
    ) -> Result<(), Error> {
        if self.entry(from).is_none() || self.entry(to).is_none() {
            return Err(Error::NotFound);
        }
        let def = rel.def().ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no relationship `{}`", A::NAME, rel.name()),
        })?;
        match def.kind {
            RelationshipKind::ManyToMany => {
                let secondary = def.secondary.ok_or_else(|| Error::Database {
                    code: None,
                    message: format!("{}.{} needs `secondary`", A::NAME, rel.name()),
                })?;
                let key = (secondary, from.slot as usize, to.slot as usize);
                match self.associations.get(&key) {
                    // Linked and unlinked before any flush: nothing to write.
                    Some(c) if c.add => {
                        self.associations.remove(&key);
                    }
                    _ => {
                        self.associations.insert(
                            key,
                            AssociationChange {
                                add: false,
                                left_column: association_column(A::TABLE),
                                right_column: association_column(B::TABLE),
                            },
                        );
                    }
                }
                Ok(())
            }
            RelationshipKind::OneToMany if def.delete_orphan => {
                self.links
                    .retain(|(child, _), _| *child != to.slot as usize);
                self.delete(to);
                Ok(())
            }
            _ => Err(Error::Database {
                code: None,
                message: format!(
                    "{}.{}: unlinking here would leave a row without its parent; set the \
                     foreign key (or delete the child), or declare cascade = \"delete-orphan\"",
                    A::NAME,
                    rel.name()
                ),
            }),
        }
    }

    /// The parent of a many-to-one relationship, if the session holds it: a linked object,
    /// or the held object whose key the child's foreign key names.
    pub fn parent<A: Model, B: Model>(
        &self,
        child: Handle<A>,
        rel: Relationship<A, B>,
    ) -> Option<Handle<B>> {
        let e = self.entry(child)?;
        let def = rel.def()?;
        let fk = foreign_key_to(def.foreign_key, &A::table(), B::TABLE).ok()?;
        let fk = static_column::<A>(&fk).ok()?;
        if let Some(&parent) = self.links.get(&(child.slot as usize, fk)) {
            return Some(self.handle(parent)).filter(|h| self.entry::<B>(*h).is_some());
        }
        let mut values = Vec::new();
        (e.ops.insert_values)(&*e.obj, &mut values);
        let (_, v) = values.into_iter().find(|(c, _)| *c == fk)?;
        let key = identity_key(B::TABLE, &[("", v)]);
        self.identity.get(&key).map(|&slot| self.handle(slot))
    }

    /// The children of a one-to-many relationship that the session holds: objects linked
    /// to `parent`, or whose foreign key names its key.
    pub fn children<A: Model, B: Model>(
        &self,
        parent: Handle<A>,
        rel: Relationship<A, B>,
    ) -> Vec<Handle<B>> {
        let (Some(pe), Some(def)) = (self.entry(parent), rel.def()) else {
            return Vec::new();
        };
        let Some(fk) = one_to_many_fk::<A, B>(def)
            .ok()
            .and_then(|fk| static_column::<B>(&fk).ok())
        else {
            return Vec::new();
        };
        let mut pk = Vec::new();
        (pe.ops.pk_values)(&*pe.obj, &mut pk);
        let parent_key = integer_key(&pk).filter(|_| pe.state != ObjectState::Pending);
        let mut out = Vec::new();
        for (slot, e) in self.entries.iter().enumerate() {
            let Some(e) = e else { continue };
            if !e.obj.is::<B>() || e.state == ObjectState::Deleted {
                continue;
            }
            let link = self.links.get(&(slot, fk));
            let belongs = match link {
                Some(&p) => p == parent.slot as usize,
                None => parent_key.is_some_and(|k| {
                    let mut values = Vec::new();
                    (e.ops.insert_values)(&*e.obj, &mut values);
                    values
                        .iter()
                        .any(|(c, v)| *c == fk && integer_key(&[("", v.clone())]) == Some(k))
                }),
            };
            if belongs {
                out.push(self.handle(slot));
            }
        }
        out
    }

    /// Reloads an object from its row, discarding unflushed changes.
    pub async fn refresh<M: Model + Clone>(&mut self, h: Handle<M>) -> Result<(), Error> {
        let Some(e) = self.entry(h) else {
            return Err(Error::NotFound);
        };
        let mut pk = Vec::new();
        (e.ops.pk_values)(&*e.obj, &mut pk);
        let rows: Vec<M> = self
            .load(
                query::<M>()
                    .filter(key_filter(&pk))
                    .statement()
                    .clone()
                    .into(),
            )
            .await?;
        let Some(fresh) = rows.into_iter().next() else {
            return Err(Error::NotFound);
        };
        let mut snapshot = Vec::new();
        fresh.update_values(&mut snapshot);
        if let Some(e) = self.entries[h.slot as usize].as_mut() {
            e.obj = Box::new(fresh);
            e.snapshot = snapshot;
            e.state = ObjectState::Persistent;
        }
        Ok(())
    }

    /// Removes an object from the session and hands it back: an owned, detached struct.
    /// Unflushed changes to it are not written.
    pub fn expunge<M: Model>(&mut self, h: Handle<M>) -> Option<M> {
        self.entry(h)?;
        let e = self.entries[h.slot as usize].take()?;
        if let Some(key) = &e.key {
            self.identity.remove(key);
        }
        e.obj.downcast::<M>().ok().map(|b| *b)
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

    /// Starts a SAVEPOINT: [`Session::rollback_nested`] undoes the database changes since
    /// then *and* restores the session's objects to how they were.
    pub async fn begin_nested(&mut self) -> Result<(), Error> {
        self.flush().await?;
        let saved = Saved {
            entries: self
                .entries
                .iter()
                .map(|e| e.as_ref().map(Entry::duplicate))
                .collect(),
            identity: self.identity.clone(),
        };
        let name = format!("oxalchemy_nested_{}", self.nested.len() + 1);
        self.log.push(format!("SAVEPOINT {name}"));
        let tx = self.transaction().await?;
        tx.execute(oxalchemy_core::text(format!("SAVEPOINT {name}")))
            .await?;
        self.nested.push(saved);
        Ok(())
    }

    /// Flushes and releases the innermost SAVEPOINT.
    pub async fn commit_nested(&mut self) -> Result<(), Error> {
        if self.nested.is_empty() {
            return Err(Error::TransactionFinished);
        }
        self.flush().await?;
        let name = format!("oxalchemy_nested_{}", self.nested.len());
        self.log.push(format!("RELEASE SAVEPOINT {name}"));
        let tx = self.transaction().await?;
        tx.execute(oxalchemy_core::text(format!("RELEASE SAVEPOINT {name}")))
            .await?;
        self.nested.pop();
        Ok(())
    }

    /// Rolls the innermost SAVEPOINT back and restores the session's objects to their state
    /// at `begin_nested`.
    pub async fn rollback_nested(&mut self) -> Result<(), Error> {
        let Some(saved) = self.nested.pop() else {
            return Err(Error::TransactionFinished);
        };
        let name = format!("oxalchemy_nested_{}", self.nested.len() + 1);
        self.log.push(format!("ROLLBACK TO SAVEPOINT {name}"));
        let tx = self.transaction().await?;
        tx.execute(oxalchemy_core::text(format!(
            "ROLLBACK TO SAVEPOINT {name}"
        )))
        .await?;
        tx.execute(oxalchemy_core::text(format!("RELEASE SAVEPOINT {name}")))
            .await?;
        self.entries = saved.entries;
        self.identity = saved.identity;
        Ok(())
    }

    /// Flushes, then commits the transaction and returns the connection to the pool.
    /// Objects stay in the session with their committed values: nothing is expired, because
    /// reading a field never does I/O — call [`Session::refresh`] to see other transactions'
    /// changes.
    pub async fn commit(&mut self) -> Result<(), Error> {
        self.flush().await?;
        self.nested.clear();
        if let Some(tx) = self.tx.take() {
            self.log.push("COMMIT".into());
            tx.commit().await?;
        }
        Ok(())
    }

    /// Rolls the transaction back, returns the connection, and empties the session (its
    /// objects no longer match the database).
    pub async fn rollback(&mut self) -> Result<(), Error> {
        self.entries.clear();
        self.identity.clear();
        self.nested.clear();
        if let Some(tx) = self.tx.take() {
            self.log.push("ROLLBACK".into());
            tx.rollback().await?;
        }
        Ok(())
    }

    /// Rolls back anything uncommitted and empties the session.
    pub async fn close(mut self) -> Result<(), Error> {
        self.rollback().await
    }

    /// Writes every pending change: INSERTs of new objects (multi-row per table, keys read
    /// back), UPDATEs of changed columns, DELETEs — in foreign-key order, inside a
    /// SAVEPOINT. If any statement fails, the database keeps nothing of the flush and the
    /// session is exactly as before (pending objects stay pending).
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.sync_links_to_persistent_parents();
        let mut plan = self.plan()?;
        if plan.is_empty() {
            return Ok(());
        }
        let mut tx = match self.tx.take() {
            Some(tx) => tx,
            None => self.db.connection().await?.begin_owned().await?,
        };
        let result = Self::run_plan(&mut plan, &mut tx, self.db.dialect(), &mut self.log).await;
        self.tx = Some(tx);
        let inserted = result?;
        self.apply(plan, inserted);
        Ok(())
    }

    /// Sets the foreign key of every child linked to a parent that already has its row
    /// (and so its key); children of new parents are set during the flush itself.
    fn sync_links_to_persistent_parents(&mut self) {
        let entries = &self.entries;
        self.links.retain(|(child, _), parent| {
            entries.get(*child).is_some_and(Option::is_some)
                && entries.get(*parent).is_some_and(Option::is_some)
        });
        let links: Vec<((usize, &'static str), usize)> =
            self.links.iter().map(|(k, v)| (*k, *v)).collect();
        for ((child, fk_column), parent) in links {
            let key = match &self.entries[parent] {
                Some(p) if p.state == ObjectState::Persistent => {
                    let mut pk = Vec::new();
                    (p.ops.pk_values)(&*p.obj, &mut pk);
                    integer_key(&pk)
                }
                _ => None,
            };
            if let (Some(key), Some(c)) = (key, self.entries[child].as_mut()) {
                (c.ops.set_integer_column)(&mut *c.obj, fk_column, key);
            }
        }
    }

    /// Statements that delete a deleted object's dependents: its association rows, and the
    /// rows of `cascade = "delete"` collections (unless `passive_deletes` leaves them to the
    /// database). Held children covered by a cascade leave the session with the parent.
    fn plan_cascades(&self, e: &Entry, key: &Pairs, plan: &mut Plan) -> Result<(), Error> {
        let parent_key = match key.first() {
            Some((_, v)) if key.len() == 1 || (e.ops.version)(&*e.obj).is_some() => v.clone(),
            _ => return Ok(()),
        };
        for def in (e.ops.relationships)() {
            match def.kind {
                RelationshipKind::ManyToMany => {
                    if let Some(secondary) = def.secondary {
                        plan.cascades.push((
                            secondary,
                            vec![(
                                leak_column(&association_column(e.ops.table)),
                                parent_key.clone(),
                            )],
                        ));
                    }
                }
                RelationshipKind::OneToMany if def.cascade_delete => {
                    let child_table = (def.target_table)();
                    let fk = foreign_key_to(def.foreign_key, &child_table, e.ops.table)?;
                    let fk_static = child_table
                        .columns
                        .iter()
                        .find(|c| c.name.as_str() == fk)
                        .map(|_| leak_column(&fk))
                        .unwrap_or("");
                    for (slot, other) in self.entries.iter().enumerate() {
                        let Some(other) = other else { continue };
                        if other.ops.table != def.target {
                            continue;
                        }
                        let mut values = Vec::new();
                        (other.ops.insert_values)(&*other.obj, &mut values);
                        if values.iter().any(|(c, v)| *c == fk && *v == parent_key) {
                            plan.cascaded.push(slot);
                        }
                    }
                    if !def.passive_deletes {
                        plan.cascades
                            .push((def.target, vec![(fk_static, parent_key.clone())]));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Works out the flush on copies: defaults, onupdate values and validators are applied
    /// to clones, so a failure leaves every held object untouched.
    fn plan(&self) -> Result<Plan, Error> {
        let mut plan = Plan::default();
        let pending_parent = |slot: usize| {
            self.entries[slot]
                .as_ref()
                .is_some_and(|e| e.state == ObjectState::Pending)
        };
        plan.links = self
            .links
            .iter()
            .filter(|(_, parent)| pending_parent(**parent))
            .map(|(&(child, fk_column), &parent)| Link {
                child,
                parent,
                fk_column,
            })
            .collect();
        let relinked: std::collections::HashSet<usize> =
            plan.links.iter().map(|l| l.child).collect();
        plan.associations = self
            .associations
            .iter()
            .filter(|((_, l, r), _)| {
                self.entries.get(*l).is_some_and(Option::is_some)
                    && self.entries.get(*r).is_some_and(Option::is_some)
            })
            .map(|(&(table, l, r), c)| (table, l, r, c.clone()))
            .collect();
        // Slots of held objects whose key will have to be known for association rows.
        let key_of_held = |slot: usize| -> Option<Value> {
            let e = self.entries.get(slot)?.as_ref()?;
            if e.state == ObjectState::Pending {
                return None;
            }
            let mut pk = Vec::new();
            (e.ops.pk_values)(&*e.obj, &mut pk);
            (pk.len() == 1).then(|| pk.remove(0).1)
        };
        plan.held_keys = plan
            .associations
            .iter()
            .flat_map(|(_, l, r, _)| [*l, *r])
            .filter_map(|slot| key_of_held(slot).map(|k| (slot, k)))
            .collect();
        for (slot, e) in self.entries.iter().enumerate() {
            let Some(e) = e else { continue };
            match e.state {
                ObjectState::Pending => {
                    // Work on a copy only when the flush itself changes the object
                    // (defaults, a foreign key from a link): the held one must stay as it
                    // was if the flush fails.
                    let work = if e.ops.has_defaults || relinked.contains(&slot) {
                        let mut work = (e.ops.clone)(&*e.obj);
                        (e.ops.apply_defaults)(&mut *work);
                        Some(work)
                    } else {
                        None
                    };
                    let obj: &dyn Any = work.as_deref().unwrap_or(&*e.obj);
                    (e.ops.validate)(obj)?;
                    let mut values = Vec::new();
                    (e.ops.insert_values)(obj, &mut values);
                    let mut pk = Vec::new();
                    (e.ops.pk_values)(obj, &mut pk);
                    plan.table(e.ops);
                    plan.inserts.push(PlannedInsert {
                        slot,
                        table: e.ops.table,
                        values,
                        object: work,
                        explicit_key: integer_key(&pk),
                    });
                }
                ObjectState::Persistent => {
                    let mut now = Vec::with_capacity(e.snapshot.len());
                    (e.ops.update_values)(&*e.obj, &mut now);
                    if now == e.snapshot && !relinked.contains(&slot) {
                        continue;
                    }
                    let mut work = (e.ops.clone)(&*e.obj);
                    (e.ops.apply_onupdate)(&mut *work);
                    (e.ops.validate)(&*work)?;
                    let mut after = Vec::with_capacity(now.len());
                    (e.ops.update_values)(&*work, &mut after);
                    let mut key = Vec::new();
                    (e.ops.pk_values)(&*work, &mut key);
                    let version = (e.ops.version)(&*work);
                    let mut set: Pairs = after
                        .into_iter()
                        .zip(&e.snapshot)
                        .filter(|((c, v), (_, old))| {
                            v != old && version.map(|(vc, _)| vc) != Some(*c)
                        })
                        .map(|(new, _)| new)
                        .collect();
                    if let Some((vc, v)) = version {
                        set.push((vc, Value::I64(v + 1)));
                        key.push((vc, Value::I64(v)));
                        (e.ops.set_version)(&mut *work, v + 1);
                    }
                    plan.table(e.ops);
                    plan.updates.push(PlannedWrite {
                        slot,
                        table: e.ops.table,
                        set,
                        key,
                        object: Some(work),
                    });
                }
                ObjectState::Deleted => {
                    let mut key = Vec::new();
                    (e.ops.pk_values)(&*e.obj, &mut key);
                    let mut row = key.clone();
                    (e.ops.update_values)(&*e.obj, &mut row);
                    if let Some((vc, v)) = (e.ops.version)(&*e.obj) {
                        key.push((vc, Value::I64(v)));
                    }
                    plan.table(e.ops);
                    self.plan_cascades(e, &key, &mut plan)?;
                    plan.deletes.push((
                        row,
                        PlannedWrite {
                            slot,
                            table: e.ops.table,
                            set: Vec::new(),
                            key,
                            object: None,
                        },
                    ));
                }
            }
        }
        plan.insert_at = plan
            .inserts
            .iter()
            .enumerate()
            .map(|(i, ins)| (ins.slot, i))
            .collect();
        plan.update_at = plan
            .updates
            .iter()
            .enumerate()
            .map(|(i, w)| (w.slot, i))
            .collect();
        Ok(plan)
    }

    /// Runs the planned statements inside a SAVEPOINT; returns the inserted rows per
    /// planned insert. Nothing in the session changes here.
    async fn run_plan(
        plan: &mut Plan,
        tx: &mut OwnedTransaction,
        dialect: &'static dyn oxalchemy_core::Dialect,
        log: &mut Vec<String>,
    ) -> Result<Vec<Option<i64>>, Error> {
        let mut sp: Transaction<'_> = tx.savepoint().await?;
        let result = Self::run_statements(plan, &mut sp, dialect, log).await;
        match result {
            Ok(rows) => {
                sp.commit().await?;
                Ok(rows)
            }
            Err(e) => {
                // The flush's own error is what matters; the rollback is best effort (the
                // enclosing transaction rolls back on drop if even this fails).
                let _ = sp.rollback().await;
                Err(e)
            }
        }
    }

    async fn run_statements(
        plan: &mut Plan,
        conn: &mut Connection,
        dialect: &'static dyn oxalchemy_core::Dialect,
        log: &mut Vec<String>,
    ) -> Result<Vec<Option<i64>>, Error> {
        let order = table_order(&plan.tables);
        let mut inserted: Vec<Option<i64>> = vec![None; plan.inserts.len()];
        // INSERTs, referenced tables first.
        for table in &order {
            let idx: Vec<usize> = (0..plan.inserts.len())
                .filter(|&i| plan.inserts[i].table == *table)
                .collect();
            if idx.is_empty() {
                continue;
            }
            let ops = plan.ops(table);
            Self::sync_planned_children(plan, &inserted, table);
            let self_fks = self_foreign_keys(&plan.table_def(table));
            let rows: Vec<&Pairs> = idx.iter().map(|&i| &plan.inserts[i].values).collect();
            let ordered: Vec<usize> = parent_first(&rows, &self_fks)
                .into_iter()
                .map(|k| idx[k])
                .collect();
            // Consecutive rows that set the same columns share one multi-row INSERT.
            let mut start = 0;
            while start < ordered.len() {
                let columns: Vec<&'static str> = plan.inserts[ordered[start]]
                    .values
                    .iter()
                    .map(|(c, _)| *c)
                    .collect();
                let per_row = columns.len().max(1);
                let max_rows = (dialect.max_binds() / per_row).max(1);
                let mut end = start + 1;
                while end < ordered.len()
                    && end - start < max_rows
                    && plan.inserts[ordered[end]]
                        .values
                        .iter()
                        .map(|(c, _)| *c)
                        .eq(columns.iter().copied())
                {
                    end += 1;
                }
                // Only a key the database generates is read back (SQLAlchemy's default;
                // `refresh` re-reads a whole row).
                let returning: Vec<&str> = (ops.generated_key)()
                    .filter(|k| !columns.contains(k))
                    .into_iter()
                    .collect();
                let sql = insert_rows_sql(dialect, table, &columns, end - start, &returning);
                let mut binds = Vec::with_capacity((end - start) * columns.len());
                for &i in &ordered[start..end] {
                    binds.extend(
                        std::mem::take(&mut plan.inserts[i].values)
                            .into_iter()
                            .map(|(_, v)| dialect.encode(v)),
                    );
                }
                let mut c = Compiled { sql, binds };
                log.push(c.sql.clone());
                let rowids = if returning.is_empty() {
                    None
                } else {
                    // SQLite: the same INSERT without RETURNING, keys from the rowids.
                    let plain = Compiled {
                        sql: insert_rows_sql(dialect, table, &columns, end - start, &[]),
                        binds: std::mem::take(&mut c.binds),
                    };
                    match conn.insert_returning_rowids(&plain, end - start).await? {
                        Some(keys) => Some(keys),
                        None => {
                            c.binds = plain.binds;
                            None
                        }
                    }
                };
                if let Some(keys) = rowids {
                    for (&i, key) in ordered[start..end].iter().zip(keys) {
                        inserted[i] = Some(key);
                    }
                } else if returning.is_empty() {
                    conn.execute_compiled(&c, true).await?;
                } else {
                    let keys: Vec<(i64,)> = conn.query_compiled(&c, true).await?;
                    if keys.len() != end - start {
                        return Err(Error::Database {
                            code: None,
                            message: format!(
                                "INSERT into {table} returned {} keys for {} objects",
                                keys.len(),
                                end - start
                            ),
                        });
                    }
                    for (&i, (key,)) in ordered[start..end].iter().zip(keys) {
                        inserted[i] = Some(key);
                    }
                }
                start = end;
            }
        }
        // UPDATEs of changed columns, pipelined on PostgreSQL.
        Self::sync_planned_updates(plan, &inserted);
        // A relinked object whose key turned out unchanged has nothing to write.
        let updates: Vec<&PlannedWrite> =
            plan.updates.iter().filter(|w| !w.set.is_empty()).collect();
        Self::run_checked(&updates, "UPDATE", conn, dialect, log).await?;
        // Association rows (both sides now have keys), then cascades.
        let mut writes = Vec::new();
        for (table, left, right, change) in &plan.associations {
            let key_of = |slot: usize| -> Option<Value> {
                plan.held_keys
                    .get(&slot)
                    .cloned()
                    .or_else(|| Self::planned_key(plan, &inserted, slot).map(Value::I64))
            };
            let (Some(l), Some(r)) = (key_of(*left), key_of(*right)) else {
                continue;
            };
            let cols = [change.left_column.as_str(), change.right_column.as_str()];
            let c = if change.add {
                Compiled {
                    sql: insert_rows_sql(dialect, table, &cols, 1, &[]),
                    binds: vec![dialect.encode(l), dialect.encode(r)],
                }
            } else {
                Compiled {
                    sql: delete_by_key_sql(dialect, table, &cols),
                    binds: vec![dialect.encode(l), dialect.encode(r)],
                }
            };
            writes.push(c);
        }
        for (table, key) in &plan.cascades {
            let cols: Vec<&str> = key.iter().map(|(c, _)| *c).collect();
            writes.push(Compiled {
                sql: delete_by_key_sql(dialect, table, &cols),
                binds: key.iter().map(|(_, v)| dialect.encode(v.clone())).collect(),
            });
        }
        if !writes.is_empty() {
            log.extend(writes.iter().map(|c| c.sql.clone()));
            conn.execute_many_compiled(&writes).await?;
        }
        // DELETEs, dependent tables (and child rows) first; rows a cascade removed already
        // are not deleted again.
        let cascaded: std::collections::HashSet<usize> = plan.cascaded.iter().copied().collect();
        let mut deletes: Vec<&PlannedWrite> = Vec::new();
        for table in order.iter().rev() {
            let idx: Vec<usize> = (0..plan.deletes.len())
                .filter(|&i| plan.deletes[i].1.table == *table)
                .collect();
            let self_fks = self_foreign_keys(&plan.table_def(table));
            let rows: Vec<&Pairs> = idx.iter().map(|&i| &plan.deletes[i].0).collect();
            let mut ordered = parent_first(&rows, &self_fks);
            ordered.reverse();
            deletes.extend(
                ordered
                    .into_iter()
                    .map(|k| &plan.deletes[idx[k]].1)
                    .filter(|w| !cascaded.contains(&w.slot)),
            );
        }
        Self::run_checked(&deletes, "DELETE", conn, dialect, log).await?;
        Ok(inserted)
    }

    /// The key of a parent inserted by this flush: generated, or written explicitly.
    fn planned_key(plan: &Plan, inserted: &[Option<i64>], parent: usize) -> Option<i64> {
        let i = *plan.insert_at.get(&parent)?;
        inserted[i].or(plan.inserts[i].explicit_key)
    }

    /// Sets the foreign keys of `table`'s new rows whose parents were inserted earlier in
    /// this flush, and recomputes their values.
    fn sync_planned_children(plan: &mut Plan, inserted: &[Option<i64>], table: &str) {
        for l in plan.links.clone() {
            let Some(&i) = plan.insert_at.get(&l.child) else {
                continue;
            };
            if plan.inserts[i].table != table {
                continue;
            }
            let Some(key) = Self::planned_key(plan, inserted, l.parent) else {
                continue;
            };
            let ops = plan.ops(table);
            if let Some(obj) = plan.inserts[i].object.as_mut() {
                if (ops.set_integer_column)(&mut **obj, l.fk_column, key) {
                    let mut values = Vec::new();
                    (ops.insert_values)(&**obj, &mut values);
                    plan.inserts[i].values = values;
                }
            }
        }
    }

    /// Sets the foreign keys of persistent children of parents inserted by this flush.
    fn sync_planned_updates(plan: &mut Plan, inserted: &[Option<i64>]) {
        for l in plan.links.clone() {
            let Some(key) = Self::planned_key(plan, inserted, l.parent) else {
                continue;
            };
            let Some(&u) = plan.update_at.get(&l.child) else {
                continue;
            };
            let w = &mut plan.updates[u];
            if let Some(obj) = w.object.as_mut() {
                let table = w.table;
                let set_column = plan
                    .ops
                    .iter()
                    .find(|o| o.table == table)
                    .map(|o| o.set_integer_column);
                let set_column = match set_column {
                    Some(f) => f,
                    None => continue,
                };
                if set_column(&mut **obj, l.fk_column, key) {
                    w.set.retain(|(c, _)| *c != l.fk_column);
                    w.set.push((l.fk_column, Value::I64(key)));
                }
            }
        }
    }

    /// Runs statements that must each match exactly one row (optimistic concurrency).
    async fn run_checked(
        writes: &[&PlannedWrite],
        operation: &'static str,
        conn: &mut Connection,
        dialect: &'static dyn oxalchemy_core::Dialect,
        log: &mut Vec<String>,
    ) -> Result<(), Error> {
        if writes.is_empty() {
            return Ok(());
        }
        let compiled: Vec<Compiled> = writes.iter().map(|w| w.compile(dialect)).collect();
        log.extend(compiled.iter().map(|c| c.sql.clone()));
        let counts = conn.execute_many_compiled(&compiled).await?;
        for (w, n) in writes.iter().zip(counts) {
            if n != 1 {
                return Err(Error::StaleData {
                    operation,
                    table: w.table,
                    key: describe_key(&w.key),
                    matched: n,
                });
            }
        }
        Ok(())
    }

    /// Makes a successful flush visible in the session.
    fn apply(&mut self, plan: Plan, inserted: Vec<Option<i64>>) {
        self.associations.clear();
        for slot in &plan.cascaded {
            if let Some(e) = self.entries[*slot].take() {
                if let Some(key) = e.key {
                    self.identity.remove(&key);
                }
            }
        }
        for (ins, key) in plan.inserts.into_iter().zip(inserted) {
            let Some(e) = self.entries[ins.slot].as_mut() else {
                continue;
            };
            // The object as inserted: the planned copy, or the held object itself.
            let mut row = match ins.object {
                Some(row) => row,
                None => std::mem::replace(&mut e.obj, Box::new(())),
            };
            if let Some(key) = key {
                (e.ops.set_generated_key)(&mut *row, key);
            }
            let mut pk = Vec::new();
            (e.ops.pk_values)(&*row, &mut pk);
            let key = identity_key(e.ops.table, &pk);
            e.snapshot.clear();
            (e.ops.update_values)(&*row, &mut e.snapshot);
            e.obj = row;
            e.state = ObjectState::Persistent;
            e.key = Some(key.clone());
            self.identity.insert(key, ins.slot);
        }
        for upd in plan.updates {
            let Some(e) = self.entries[upd.slot].as_mut() else {
                continue;
            };
            if let Some(obj) = upd.object {
                e.snapshot.clear();
                (e.ops.update_values)(&*obj, &mut e.snapshot);
                e.obj = obj;
            }
        }
        for (_, del) in plan.deletes {
            if let Some(e) = self.entries[del.slot].take() {
                if let Some(key) = e.key {
                    self.identity.remove(&key);
                }
            }
        }
    }
}

struct PlannedInsert {
    slot: usize,
    table: &'static str,
    values: Pairs,
    /// The object as inserted (defaults applied), when the flush had to copy it; it gets
    /// the generated key.
    object: Option<Obj>,
    /// The integer key the object was inserted with, when it set one itself.
    explicit_key: Option<i64>,
}

/// An UPDATE (when `set` is non-empty) or DELETE of one row by its key (plus the version
/// column, for optimistic concurrency).
struct PlannedWrite {
    slot: usize,
    table: &'static str,
    set: Pairs,
    key: Pairs,
    /// For an UPDATE: the object as it will be after the flush (onupdate, version + 1).
    object: Option<Obj>,
}

impl PlannedWrite {
    fn compile(&self, d: &dyn oxalchemy_core::Dialect) -> Compiled {
        let key: Vec<&str> = self.key.iter().map(|(c, _)| *c).collect();
        let sql = if self.object.is_none() {
            delete_by_key_sql(d, self.table, &key)
        } else {
            let set: Vec<&str> = self.set.iter().map(|(c, _)| *c).collect();
            update_by_key_sql(d, self.table, &set, &key)
        };
        let binds = self
            .set
            .iter()
            .chain(&self.key)
            .map(|(_, v)| d.encode(v.clone()))
            .collect();
        Compiled { sql, binds }
    }
}

#[derive(Default)]
struct Plan {
    /// Links whose parent is inserted by this flush: the child's key is set once known.
    links: Vec<Link>,
    /// Association-row changes: (table, left slot, right slot, change).
    associations: Vec<(&'static str, usize, usize, AssociationChange)>,
    /// Keys of held (already stored) objects that association rows need.
    held_keys: HashMap<usize, Value>,
    /// `DELETE FROM table WHERE column = key` for cascades, run before row deletes.
    cascades: Vec<(&'static str, Pairs)>,
    /// Held objects removed with their deleted parent by a cascade.
    cascaded: Vec<usize>,
    /// Slot → index in `inserts` / `updates`.
    insert_at: HashMap<usize, usize>,
    update_at: HashMap<usize, usize>,
    tables: Vec<(&'static str, Table)>,
    ops: Vec<&'static Ops>,
    inserts: Vec<PlannedInsert>,
    updates: Vec<PlannedWrite>,
    /// Rows (key + column values, for self-referential ordering) and their DELETEs.
    deletes: Vec<(Pairs, PlannedWrite)>,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.inserts.is_empty()
            && self.updates.is_empty()
            && self.deletes.is_empty()
            && self.associations.is_empty()
    }
    fn table(&mut self, ops: &'static Ops) {
        if !self.tables.iter().any(|(n, _)| *n == ops.table) {
            self.tables.push((ops.table, (ops.table_def)()));
            self.ops.push(ops);
        }
    }
    fn ops(&self, table: &str) -> &'static Ops {
        let i = self
            .tables
            .iter()
            .position(|(n, _)| *n == table)
            .expect("every planned table was registered with its Ops");
        self.ops[i]
    }
    fn table_def(&self, table: &str) -> Table {
        self.tables
            .iter()
            .find(|(n, _)| *n == table)
            .map(|(_, t)| t.clone())
            .expect("every planned table was registered with its definition")
    }
}

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

fn key_columns<M: Model>() -> impl Iterator<Item = Expr> {
    M::primary_key_columns()
        .iter()
        .map(|c| oxalchemy_core::col(Ident::new_static(c)))
}

/// A model query run through a session: results are held by the session.
pub struct SessionQuery<'s, M> {
    session: &'s mut Session,
    query: Query<M>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, parent: Option<i64>) -> Pairs {
        vec![("id", Value::I64(id)), ("parent_id", parent.into())]
    }

    #[test]
    fn parents_come_before_children() {
        let rows = [row(3, Some(2)), row(2, Some(1)), row(1, None), row(4, None)];
        let refs: Vec<&Pairs> = rows.iter().collect();
        let fks = vec![(vec!["parent_id".to_owned()], vec!["id".to_owned()])];
        let order = parent_first(&refs, &fks);
        let pos = |id: i64| order.iter().position(|&i| rows[i][0].1 == Value::I64(id));
        assert!(pos(1) < pos(2) && pos(2) < pos(3), "{order:?}");
        // Without self-referencing keys the input order is kept.
        assert_eq!(parent_first(&refs, &[]), [0, 1, 2, 3]);
        // A cycle keeps the remaining rows in input order rather than looping.
        let cyc = [row(1, Some(2)), row(2, Some(1))];
        let refs: Vec<&Pairs> = cyc.iter().collect();
        assert_eq!(parent_first(&refs, &fks), [0, 1]);
    }

    #[test]
    fn identity_keys_normalise_integer_widths() {
        assert_eq!(
            identity_key("users", &[("id", Value::I32(5))]),
            identity_key("users", &[("id", Value::I64(5))])
        );
        assert_ne!(
            identity_key("users", &[("id", Value::I64(5))]),
            identity_key("posts", &[("id", Value::I64(5))])
        );
        assert_ne!(
            identity_key("t", &[("a", Value::Text("1".into()))]),
            identity_key("t", &[("a", Value::I64(1))])
        );
    }
}
