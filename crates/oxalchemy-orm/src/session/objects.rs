//! The session's object table, with the types erased: every held object is a boxed `Any`
//! plus a reference to its model's [`Ops`] (function pointers made once per model type), so
//! one `Vec` holds users, posts and tags alike. Typed [`Handle`]s (slot + generation) are
//! how callers reach them again; [`IdentityKey`]s map rows to slots.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use oxalchemy_core::schema::Table;
use oxalchemy_core::Value;
use oxalchemy_engine::ValidationError;

use super::Session;
use crate::loading::Loader;
use crate::model::Model;

/// A held object with its type erased. Its vtable leads to the model's [`Ops`]
/// ([`Erased::ops`]), so an entry needs no pointer of its own to them.
pub(super) type Obj = Box<dyn Erased>;

/// What every held object is: an `Any` (cast back to its model by [`cast`]) that knows its
/// model's [`Ops`].
pub(super) trait Erased: Any + Send + Sync {
    fn ops(&self) -> &'static Ops;
}

impl<M: Model + Clone> Erased for M {
    fn ops(&self) -> &'static Ops {
        ops::<M>()
    }
}

pub(super) type Pairs = Vec<(&'static str, Value)>;

/// What the session needs to do with an object whose type it has erased: one set of
/// function pointers per model type, monomorphised from the `Model` impl.
#[derive(Clone, Copy)]
pub(super) struct Ops {
    /// The model's name (`User`), for error messages.
    pub(super) model: &'static str,
    pub(super) table: &'static str,
    pub(super) table_def: fn() -> Table,
    pub(super) insert_values: fn(&dyn Any, &mut Pairs),
    pub(super) update_values: fn(&dyn Any, &mut Pairs),
    pub(super) pk_values: fn(&dyn Any, &mut Pairs),
    pub(super) version: fn(&dyn Any) -> Option<(&'static str, i64)>,
    pub(super) set_version: fn(&mut dyn Any, i64),
    pub(super) apply_defaults: fn(&mut dyn Any),
    pub(super) apply_onupdate: fn(&mut dyn Any),
    pub(super) validate: fn(&dyn Any) -> Result<(), ValidationError>,
    pub(super) clone: fn(&dyn Any) -> Obj,
    pub(super) generated_key: fn() -> Option<&'static str>,
    pub(super) set_generated_key: fn(&mut dyn Any, i64),
    pub(super) set_integer_column: fn(&mut dyn Any, &str, i64) -> bool,
    pub(super) relationships: fn() -> &'static [crate::model::RelationshipDef],
    pub(super) has_defaults: bool,
    pub(super) columns: fn() -> &'static [&'static str],
    /// Takes the relationship values assigned into the object (save-update cascade).
    pub(super) take_assigned: fn(&mut dyn Any, &mut super::cascade::Assigned),
    /// Fills one relationship field with copies of held objects (collections in step).
    pub(super) fill_relationship: fn(&mut dyn Any, &str, &mut super::cascade::Fill),
    /// A copy without its relationship fields (what another object's field holds).
    pub(super) shallow_clone: fn(&mut dyn Any) -> Obj,
    /// The model's hooks (`#[model(hooks)]`), called by the flush.
    pub(super) hooks: fn() -> Option<crate::HookFns>,
}

impl Ops {
    /// Whether the model has relationship fields (else the cascade skips it).
    pub(super) fn has_relationships(&self) -> bool {
        !(self.relationships)().is_empty()
    }
}

pub(super) fn cast<M: 'static>(a: &dyn Any) -> &M {
    a.downcast_ref::<M>()
        .expect("a session entry always holds the model type its Ops were made for")
}

pub(super) fn cast_mut<M: 'static>(a: &mut dyn Any) -> &mut M {
    a.downcast_mut::<M>()
        .expect("a session entry always holds the model type its Ops were made for")
}

/// The `Ops` of model `M`: a constant, made at compile time once per model type, so
/// getting it costs nothing and every held object reaches it through its vtable.
pub(super) fn ops<M: Model + Clone>() -> &'static Ops {
    const { &make_ops::<M>() }
}

/// Every field is a constant or a function pointer, so the table can be a constant (what
/// is not known at compile time, the hooks and relationships, is behind a function).
const fn make_ops<M: Model + Clone>() -> Ops {
    Ops {
        model: M::NAME,
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
        hooks: M::hook_fns,
        columns: M::columns,
        take_assigned: |a, out| cast_mut::<M>(a).take_assigned(out),
        fill_relationship: |a, name, fill| cast_mut::<M>(a).fill_relationship(name, fill),
        shallow_clone: |a| {
            let m = cast_mut::<M>(a);
            let saved = m.take_relationships();
            let copy = m.clone();
            m.restore_relationships(saved);
            Box::new(copy)
        },
    }
}

/// A typed reference to an object held by a [`Session`]: `s[h]` reads it, `s[h].x = …`
/// changes it (written at the next flush).
pub struct Handle<M> {
    slot: u32,
    generation: u32,
    _model: PhantomData<fn() -> M>,
}

impl<M> Handle<M> {
    /// The object's index in the session's object table.
    pub(super) fn slot(self) -> usize {
        self.slot as usize
    }
    /// (slot, generation), kept by a relationship field a handle was assigned into.
    pub(crate) fn raw(self) -> crate::relation::RawHandle {
        (self.slot, self.generation)
    }
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

pub(super) struct Entry {
    pub(super) obj: Obj,
    pub(super) key: Option<IdentityKey>,
    pub(super) generation: u32,
    pub(super) state: ObjectState,
    /// Whether the object has a snapshot in [`Entries`]' side table (see there). Set and
    /// cleared only by `Entries`, which keeps the two in step.
    has_snapshot: bool,
}

/// The object table, indexed by slot. Entries sit in chunks of a fixed size, allocated
/// whole as the table grows, instead of one `Vec` doubling: a doubling `Vec` holds on
/// average a third more than it uses (a session of 100,000 objects: 131,072 slots), and
/// the entries are most of a session's memory per object. The first chunk grows as a
/// `Vec` does, so a small session stays small.
///
/// Snapshots, the baselines of change detection, sit beside the entries in a map by slot
/// rather than in them: the non-key column values (in `update_values` order, values only)
/// as last loaded or flushed, taken lazily when the object is first handed out mutably
/// ([`Entries::before_mut`]). Until then it cannot differ from its row, so a clean object —
/// most objects of most sessions — has none, is skipped by the flush without comparing,
/// and pays one flag byte instead of a pointer. A flush or refresh makes the object clean
/// again. `Entry::has_snapshot` says whether the map has one, so the flush does not
/// probe the map for every clean object.
#[derive(Default)]
pub(super) struct Entries {
    chunks: Vec<Vec<Option<Entry>>>,
    len: usize,
    snapshots: rustc_hash::FxHashMap<u32, Box<[Value]>>,
}

const CHUNK_BITS: usize = 10;
const CHUNK: usize = 1 << CHUNK_BITS;

impl Entries {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn push(&mut self, entry: Option<Entry>) {
        if self.len.is_multiple_of(CHUNK) {
            let chunk = if self.chunks.is_empty() {
                Vec::new()
            } else {
                Vec::with_capacity(CHUNK)
            };
            self.chunks.push(chunk);
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(entry);
        }
        self.len += 1;
    }

    /// Room for `n` more entries' chunks (the chunks themselves are allocated as needed).
    pub(super) fn reserve(&mut self, n: usize) {
        let chunks = (self.len + n).div_ceil(CHUNK);
        self.chunks
            .reserve(chunks.saturating_sub(self.chunks.len()));
    }

    pub(super) fn get(&self, slot: usize) -> Option<&Option<Entry>> {
        self.chunks.get(slot >> CHUNK_BITS)?.get(slot & (CHUNK - 1))
    }

    pub(super) fn get_mut(&mut self, slot: usize) -> Option<&mut Option<Entry>> {
        self.chunks
            .get_mut(slot >> CHUNK_BITS)?
            .get_mut(slot & (CHUNK - 1))
    }

    /// The entries in slot order (`.enumerate()` gives the slots).
    pub(super) fn iter(&self) -> impl Iterator<Item = &Option<Entry>> {
        self.chunks.iter().flatten()
    }

    pub(super) fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
        self.snapshots.clear();
    }

    /// Takes the entry out of its slot, with its snapshot.
    pub(super) fn take(&mut self, slot: usize) -> Option<Entry> {
        let e = self.get_mut(slot)?.take()?;
        if e.has_snapshot {
            self.snapshots.remove(&(slot as u32));
        }
        Some(e)
    }

    /// The change-detection baseline of the object in `slot`, if it has one.
    pub(super) fn snapshot(&self, slot: usize) -> Option<&[Value]> {
        if !self.get(slot)?.as_ref()?.has_snapshot {
            return None;
        }
        self.snapshots.get(&(slot as u32)).map(|s| &**s)
    }

    /// Called before anything may change the object's columns (`get_mut`, `IndexMut`, a
    /// link setting a foreign key): a persistent object without a snapshot is clean, so
    /// its current values are its row's — they become the baseline. Returns whether a
    /// snapshot was taken now.
    pub(super) fn before_mut(&mut self, slot: usize) -> bool {
        let Some(Some(e)) = self
            .chunks
            .get_mut(slot >> CHUNK_BITS)
            .and_then(|c| c.get_mut(slot & (CHUNK - 1)))
        else {
            return false;
        };
        if e.state != ObjectState::Persistent || e.has_snapshot {
            return false;
        }
        let mut pairs = Vec::new();
        (e.ops().update_values)(&*e.obj, &mut pairs);
        e.has_snapshot = true;
        self.snapshots
            .insert(slot as u32, pairs.into_iter().map(|(_, v)| v).collect());
        true
    }

    /// Drops the snapshot of the object in `slot` again when its columns still equal it
    /// (the object is clean).
    pub(super) fn drop_snapshot_if_clean(&mut self, slot: usize) {
        let clean = match (self.snapshot(slot), self.get(slot)) {
            (Some(snapshot), Some(Some(e))) => {
                let mut pairs = Vec::with_capacity(snapshot.len());
                (e.ops().update_values)(&*e.obj, &mut pairs);
                pairs.iter().map(|(_, v)| v).eq(snapshot.iter())
            }
            _ => false,
        };
        if clean {
            self.drop_snapshot(slot);
        }
    }

    /// Makes the object in `slot` clean: its current values are its row's (after a flush
    /// wrote it or a refresh read it).
    pub(super) fn drop_snapshot(&mut self, slot: usize) {
        if let Some(Some(e)) = self.get_mut(slot) {
            if e.has_snapshot {
                e.has_snapshot = false;
                self.snapshots.remove(&(slot as u32));
            }
        }
    }

    /// Forgets snapshots whose entries are gone (removed through `IndexMut`, which cannot
    /// see the side table), and gives back the room of a large flush's snapshots; the
    /// flush calls it once it has applied its result, when few snapshots are left.
    pub(super) fn prune_snapshots(&mut self) {
        let chunks = &self.chunks;
        self.snapshots.retain(|&slot, _| {
            let slot = slot as usize;
            chunks
                .get(slot >> CHUNK_BITS)
                .and_then(|c| c.get(slot & (CHUNK - 1)))
                .is_some_and(|e| e.as_ref().is_some_and(|e| e.has_snapshot))
        });
        // A small table is kept: a loop of one change and one flush would otherwise
        // allocate it again every time.
        if self.snapshots.capacity() > 64 && self.snapshots.len() * 4 < self.snapshots.capacity() {
            self.snapshots.shrink_to_fit();
        }
    }

    /// A deep copy (every object cloned): what a savepoint or a flush with listeners keeps
    /// to restore the session to if it is rolled back.
    pub(super) fn duplicate(&self) -> Entries {
        let mut copy: Entries = self
            .iter()
            .map(|e| e.as_ref().map(Entry::duplicate))
            .collect();
        copy.snapshots = self.snapshots.clone();
        copy
    }
}

impl std::ops::Index<usize> for Entries {
    type Output = Option<Entry>;
    fn index(&self, slot: usize) -> &Option<Entry> {
        &self.chunks[slot >> CHUNK_BITS][slot & (CHUNK - 1)]
    }
}

impl std::ops::IndexMut<usize> for Entries {
    fn index_mut(&mut self, slot: usize) -> &mut Option<Entry> {
        &mut self.chunks[slot >> CHUNK_BITS][slot & (CHUNK - 1)]
    }
}

impl FromIterator<Option<Entry>> for Entries {
    fn from_iter<I: IntoIterator<Item = Option<Entry>>>(iter: I) -> Self {
        let mut entries = Entries::default();
        for e in iter {
            entries.push(e);
        }
        entries
    }
}

// One entry per held object: its size is most of what a session costs per object beyond
// the object itself (benches/session_memory.rs); keep it from growing unnoticed.
const _: () = assert!(std::mem::size_of::<Option<Entry>>() <= 40);

impl Entry {
    /// The model's function table, from the object's vtable.
    #[inline]
    pub(super) fn ops(&self) -> &'static Ops {
        self.obj.ops()
    }

    /// Whether the object has a change-detection baseline ([`Entries::snapshot`]); without
    /// one it is clean.
    #[inline]
    pub(super) fn has_snapshot(&self) -> bool {
        self.has_snapshot
    }

    pub(super) fn duplicate(&self) -> Entry {
        Entry {
            obj: (self.ops().clone)(&*self.obj),
            key: self.key.clone(),
            generation: self.generation,
            state: self.state,
            has_snapshot: self.has_snapshot,
        }
    }
}

/// A row's identity: its table (as a small number, [`table_id`]) and primary key. A single
/// integer key, the common case, needs no allocation, and the key fits 16 bytes: it is
/// stored once per held object, in its [`Entry`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum IdentityKey {
    Int(u32, i64),
    /// Other keys (text, composite): the table and the key's values as text.
    Other(Box<(u32, Box<str>)>),
}

const _: () = assert!(std::mem::size_of::<Option<IdentityKey>>() == 16);

/// Identity key → slot. The keys themselves are not stored here but in the entries (the
/// table holds slot numbers, 4 bytes each), so hashing and comparing go through
/// `entries`; every slot in the table names an entry holding its key. Keys hold users'
/// primary-key values, which may come from untrusted input: foldhash is seeded per map
/// (no fixed collisions to aim at) and several times faster than SipHash on these keys.
#[derive(Clone, Default)]
pub(super) struct IdentityMap {
    slots: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

fn key_at(entries: &Entries, slot: u32) -> Option<&IdentityKey> {
    entries.get(slot as usize)?.as_ref()?.key.as_ref()
}

impl IdentityMap {
    fn hash(&self, key: &IdentityKey) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    /// The slot holding `key`.
    pub(super) fn get(&self, key: &IdentityKey, entries: &Entries) -> Option<usize> {
        self.slots
            .find(self.hash(key), |&s| key_at(entries, s) == Some(key))
            .map(|&s| s as usize)
    }

    /// Maps `key` to `slot`, whose entry already holds `key` (replacing any slot the key
    /// was mapped to).
    pub(super) fn insert(&mut self, key: &IdentityKey, slot: usize, entries: &Entries) {
        use std::hash::BuildHasher;
        let hash = self.hash(key);
        let hasher = &self.hasher;
        match self.slots.find_entry(hash, |&s| {
            s as usize == slot || key_at(entries, s) == Some(key)
        }) {
            Ok(mut found) => *found.get_mut() = slot as u32,
            Err(absent) => {
                // Growing rehashes every slot from its entry's key; an entry without one
                // cannot be in the table (slots are removed before their entries go).
                absent.into_table().insert_unique(hash, slot as u32, |&s| {
                    key_at(entries, s).map_or(0, |k| hasher.hash_one(k))
                });
            }
        }
    }

    /// Unmaps `key`, whose entry is still held; returns its slot.
    pub(super) fn remove(&mut self, key: &IdentityKey, entries: &Entries) -> Option<usize> {
        let hash = self.hash(key);
        let found = self
            .slots
            .find_entry(hash, |&s| key_at(entries, s) == Some(key))
            .ok()?;
        Some(found.remove().0 as usize)
    }

    /// Unmaps the slot `slot`, mapped from `key` (its entry may already be gone).
    pub(super) fn remove_slot(&mut self, key: &IdentityKey, slot: usize) {
        let hash = self.hash(key);
        if let Ok(found) = self.slots.find_entry(hash, |&s| s as usize == slot) {
            found.remove();
        }
    }

    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(super) fn clear(&mut self) {
        self.slots.clear();
    }
}

/// A small number per table name, the same for every model mapped to the table, so an
/// identity key holds 4 bytes instead of a 16-byte `&str`. Names are interned in a
/// process-wide table (a few entries: one per table the process uses); each thread caches
/// the lookup by the name's address, so the hot path (`get`, loading rows) takes no lock.
pub(super) fn table_id(table: &'static str) -> u32 {
    use std::cell::{Cell, RefCell};
    use std::sync::{Mutex, OnceLock};
    static IDS: OnceLock<Mutex<HashMap<&'static str, u32>>> = OnceLock::new();
    thread_local! {
        // The last name looked up (a loop over one model asks for the same one again).
        static LAST: Cell<(usize, usize, u32)> = const { Cell::new((0, 0, 0)) };
        static CACHE: RefCell<rustc_hash::FxHashMap<(usize, usize), u32>> =
            RefCell::new(rustc_hash::FxHashMap::default());
    }
    let addr = (table.as_ptr() as usize, table.len());
    let (ptr, len, id) = LAST.get();
    if (ptr, len) == addr {
        return id;
    }
    if let Some(id) = CACHE.with(|c| c.borrow().get(&addr).copied()) {
        LAST.set((addr.0, addr.1, id));
        return id;
    }
    let ids = IDS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut ids = match ids.lock() {
        Ok(ids) => ids,
        // Only ever inserted into; a panic elsewhere cannot leave it torn.
        Err(poisoned) => poisoned.into_inner(),
    };
    let next = ids.len() as u32;
    let id = *ids.entry(table).or_insert(next);
    drop(ids);
    CACHE.with(|c| c.borrow_mut().insert(addr, id));
    LAST.set((addr.0, addr.1, id));
    id
}

/// The identity-map key of a row: table plus primary key, with integer widths normalised
/// (so `get(5)` finds the row loaded as `i64` 5).
pub(super) fn identity_key(table: &'static str, pk: &[(&'static str, Value)]) -> IdentityKey {
    use std::fmt::Write;
    let table = table_id(table);
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
    IdentityKey::Other(Box::new((table, key.into_boxed_str())))
}

pub(super) fn describe_key(key: &[(&'static str, Value)]) -> String {
    let parts: Vec<String> = key.iter().map(|(c, v)| format!("{c}={v:?}")).collect();
    format!("({})", parts.join(", "))
}

/// The single integer primary key of an object, for foreign-key sync.
pub(super) fn integer_key(pk: &[(&'static str, Value)]) -> Option<i64> {
    match pk {
        [(_, Value::I64(k))] => Some(*k),
        [(_, Value::I32(k))] => Some(i64::from(*k)),
        [(_, Value::I16(k))] => Some(i64::from(*k)),
        _ => None,
    }
}

impl Session {
    pub(super) fn handle<M>(&self, slot: usize) -> Handle<M> {
        let generation = self.entries[slot].as_ref().map_or(0, |e| e.generation);
        Handle {
            slot: slot as u32,
            generation,
            _model: PhantomData,
        }
    }

    pub(super) fn entry<M: 'static>(&self, h: Handle<M>) -> Option<&Entry> {
        self.entries
            .get(h.slot as usize)?
            .as_ref()
            .filter(|e| e.generation == h.generation && (&*e.obj as &dyn Any).is::<M>())
    }

    pub(super) fn insert_entry(&mut self, entry: Entry) -> usize {
        self.entries.push(Some(entry));
        self.entries.len() - 1
    }

    pub(super) fn add_with<M: Model + Clone>(&mut self, obj: M, ops: &'static Ops) -> Handle<M> {
        let slot = self.hold_new(Box::new(obj), ops);
        self.handle(slot)
    }

    /// Holds a new (pending) object and cascades the relationship values assigned into it.
    pub(super) fn hold_new(&mut self, obj: Obj, ops: &'static Ops) -> usize {
        self.next_generation = self.next_generation.wrapping_add(1);
        let slot = self.insert_entry(Entry {
            obj,
            key: None,
            generation: self.next_generation,
            state: ObjectState::Pending,
            has_snapshot: false,
        });
        self.note_pending_key(slot);
        if ops.has_relationships() {
            self.cascade(slot, true);
        }
        slot
    }

    /// Holds a row read from the database: if the identity map already has it, that object
    /// is returned and the row is ignored (the session's object wins, as in SQLAlchemy).
    pub(super) fn track<M: Model + Clone>(&mut self, obj: M) -> Handle<M> {
        let mut pk = Vec::new();
        obj.primary_key_values(&mut pk);
        let key = identity_key(M::TABLE, &pk);
        if let Some(slot) = self.identity.get(&key, &self.entries) {
            return self.handle(slot);
        }
        self.next_generation = self.next_generation.wrapping_add(1);
        let slot = self.insert_entry(Entry {
            obj: Box::new(obj),
            key: Some(key.clone()),
            generation: self.next_generation,
            state: ObjectState::Persistent,
            // Clean as loaded: the snapshot is taken at the first mutable borrow.
            has_snapshot: false,
        });
        self.identity.insert(&key, slot, &self.entries);
        self.handle(slot)
    }

    /// [`Session::track`], giving a row the session already holds the relationships the
    /// loaders just loaded.
    pub(super) fn track_loaded<M: Model + Clone>(
        &mut self,
        mut obj: M,
        loaders: &[std::sync::Arc<dyn Loader<M>>],
    ) -> Handle<M> {
        if !loaders.is_empty() {
            let mut pk = Vec::new();
            obj.primary_key_values(&mut pk);
            let key = identity_key(M::TABLE, &pk);
            if let Some(slot) = self.identity.get(&key, &self.entries) {
                if let Some(e) = self.entries[slot].as_mut() {
                    if let Some(held) = (&mut *e.obj as &mut dyn Any).downcast_mut::<M>() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
