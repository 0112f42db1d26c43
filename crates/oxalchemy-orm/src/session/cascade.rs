//! Save-update cascade: relationship values and handles assigned into an object's `One` /
//! `Many` fields (`Post { author: user.into(), .. }`) are added (when new) and linked when
//! the object is added, and again at every flush for fields assigned since. Objects the
//! session already holds are matched by identity, not added twice. A value the session
//! cannot honour (a stale handle, a relationship without a foreign key to follow) is
//! remembered and fails the next flush with a message naming the field: nothing assigned
//! is silently dropped.
//!
//! The generated code calls [`take_one`] / [`take_many`] (what was assigned, type-erased)
//! and [`fill_one`] / [`fill_many`] (the session writing copies back, `sync.rs`).

use std::any::{Any, TypeId};

use oxalchemy_engine::Error;

use super::objects::{identity_key, IdentityKey, Obj, ObjectState, Ops};
use super::Session;
use crate::errors::mapping;
use crate::model::Model;
use crate::relation::{Many, One, RawHandle};

/// What an object's relationship fields had assigned, collected by
/// [`Model::take_assigned`]. Plumbing between the derive and the session.
#[doc(hidden)]
pub struct Assigned {
    /// Whether the object is being added (its unassigned collections start empty).
    new: bool,
    rels: Vec<AssignedRel>,
}

/// One field's assignment.
struct AssignedRel {
    name: &'static str,
    items: Vec<Item>,
    /// `One::from(None)` / `set(None)`.
    none: bool,
}

/// One assigned object.
enum Item {
    /// A value: added unless the session holds its identity.
    Value(Obj, &'static Ops),
    /// A handle: must name an object the session holds, of the field's type.
    Handle(RawHandle, TypeId),
}

/// Takes what was assigned into a `One` field (generated code calls this).
pub fn take_one<T: Model + Clone>(field: &mut One<T>, name: &'static str, out: &mut Assigned) {
    let Some(taken) = field.take_assigned() else {
        return;
    };
    let mut rel = AssignedRel {
        name,
        items: Vec::new(),
        none: false,
    };
    match taken {
        Ok(Some(v)) => rel
            .items
            .push(Item::Value(Box::new(v), super::objects::ops::<T>())),
        Ok(None) => rel.none = true,
        Err(h) => rel.items.push(Item::Handle(h, TypeId::of::<T>())),
    }
    out.rels.push(rel);
}

/// Takes what was assigned into a `Many` field (generated code calls this). A new object's
/// collection that was not assigned starts loaded and empty: everything in it will come
/// from the session's links.
pub fn take_many<T: Model + Clone>(field: &mut Many<T>, name: &'static str, out: &mut Assigned) {
    let Some((values, handles)) = field.take_assigned() else {
        if out.new && field.is_not_loaded() {
            *field = Many::fetched(Vec::new());
        }
        return;
    };
    if out.new {
        *field = Many::fetched(Vec::new());
    }
    let ops = super::objects::ops::<T>();
    let mut items: Vec<Item> = Vec::with_capacity(values.len() + handles.len());
    items.extend(values.into_iter().map(|v| Item::Value(Box::new(v), ops)));
    items.extend(
        handles
            .into_iter()
            .map(|h| Item::Handle(h, TypeId::of::<T>())),
    );
    out.rels.push(AssignedRel {
        name,
        items,
        none: false,
    });
}

/// Copies of held objects for one relationship field, written by the session.
#[doc(hidden)]
pub struct Fill {
    pub(super) items: Vec<Obj>,
    /// How many items at the end of the collection the session put there earlier (they
    /// are replaced).
    pub(super) drop_tail: usize,
    /// Whether the session knows the whole collection (its owner is new), so an unloaded
    /// collection becomes loaded.
    pub(super) complete: bool,
    /// Set when the field was written.
    pub(super) filled: bool,
    /// The items kept from before (loaded from the database), for the caller's count.
    pub(super) kept: usize,
    /// An object to take out of the items kept from before (a many-to-many `unlink`).
    pub(super) remove: Option<Remove>,
}

/// The object a [`Fill`] takes out of a collection's loaded items: the one with this key.
pub(super) struct Remove {
    pub(super) pk_values: fn(&dyn std::any::Any, &mut super::objects::Pairs),
    pub(super) key: super::objects::Pairs,
}

impl Remove {
    /// Whether `item` is the object to remove.
    fn matches(&self, item: &dyn std::any::Any) -> bool {
        let mut key = Vec::new();
        (self.pk_values)(item, &mut key);
        key == self.key
    }
}

/// Writes the session's copy into a `One` field (generated code calls this).
pub fn fill_one<T: Send + Sync + 'static>(field: &mut One<T>, fill: &mut Fill) {
    let item = fill
        .items
        .pop()
        .and_then(|o| {
            (o as Box<dyn std::any::Any + Send + Sync>)
                .downcast::<T>()
                .ok()
        })
        .map(|b| *b);
    *field = One::fetched(item);
    fill.filled = true;
}

/// Writes the session's copies into a `Many` field (generated code calls this): the items
/// the session wrote before are replaced, items loaded from the database stay. An unloaded
/// collection is left alone unless the session knows all of it.
pub fn fill_many<T: Send + Sync + 'static>(field: &mut Many<T>, fill: &mut Fill) {
    let new = fill
        .items
        .drain(..)
        .filter_map(|o| {
            (o as Box<dyn std::any::Any + Send + Sync>)
                .downcast::<T>()
                .ok()
        })
        .map(|b| *b);
    match field.items_mut() {
        Some(items) => {
            let keep = items.len().saturating_sub(fill.drop_tail);
            items.truncate(keep);
            if let Some(remove) = &fill.remove {
                items.retain(|item| !remove.matches(item));
            }
            fill.kept = items.len();
            items.extend(new);
        }
        None if fill.complete => {
            *field = Many::fetched(new.collect());
        }
        None => return,
    }
    fill.filled = true;
}

/// Whether a key names a row by itself: not an integer key still at 0 that the database
/// will generate.
fn explicit_key(ops: &Ops, pk: &[(&'static str, oxalchemy_core::Value)]) -> bool {
    (ops.generated_key)().is_none_or(|_| super::objects::integer_key(pk) != Some(0))
}

impl Session {
    /// Adds and links what was assigned into the relationship fields of the object in
    /// `slot` (`new`: it is being added now).
    pub(super) fn cascade(&mut self, slot: usize, new: bool) {
        let Some(e) = self.entries[slot].as_mut() else {
            return;
        };
        let ops = e.ops();
        let mut out = Assigned {
            new,
            rels: Vec::new(),
        };
        (ops.take_assigned)(&mut *e.obj, &mut out);
        for rel in out.rels {
            self.refused.remove(&(slot, rel.name));
            let Some(def) = (ops.relationships)().iter().find(|d| d.name == rel.name) else {
                continue;
            };
            if rel.none && !new {
                self.refuse(
                    slot,
                    ops,
                    rel.name,
                    "assigning None cannot unlink a stored object; set the foreign-key column \
                     to None (or delete the child) instead"
                        .into(),
                );
            }
            for item in rel.items {
                let target = match item {
                    Item::Value(obj, tops) => (self.hold_value(obj, tops), tops),
                    Item::Handle(raw, type_id) => match self.raw_slot(raw, type_id) {
                        Some(found) => found,
                        None => {
                            self.refuse(
                                slot,
                                ops,
                                rel.name,
                                "the handle assigned into it names no object this session \
                                 holds (expunged, deleted, rolled back, or from another \
                                 session); assign the object itself or a handle from this \
                                 session"
                                    .into(),
                            );
                            continue;
                        }
                    },
                };
                if let Err(err) = self.link_slots(slot, ops, def, target.0, target.1) {
                    self.refuse(slot, ops, rel.name, err.to_string());
                }
            }
        }
    }

    /// Cascades every held object's fields assigned since they were added or last flushed.
    pub(super) fn cascade_held(&mut self) {
        // The objects to cascade are picked first (none, when no model has relationships),
        // as the loop over slots did: objects the cascade adds are not visited.
        let slots: Vec<usize> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.as_ref()
                    .is_some_and(|e| e.state != ObjectState::Deleted && e.ops().has_relationships())
            })
            .map(|(slot, _)| slot)
            .collect();
        for slot in slots {
            self.cascade(slot, false);
        }
    }

    /// Remembers a relationship value that cannot be honoured: the next flush fails with
    /// this message (until the field is assigned again or the object leaves the session).
    fn refuse(&mut self, slot: usize, ops: &Ops, rel: &'static str, why: String) {
        self.refused.insert(
            (slot, rel),
            format!("{}::{rel} cannot be honoured: {why}", ops.model),
        );
    }

    /// The error of a relationship value that could not be honoured, if any is still held.
    pub(super) fn refused_error(&mut self) -> Option<Error> {
        let entries = &self.entries;
        self.refused
            .retain(|(slot, _), _| entries.get(*slot).is_some_and(Option::is_some));
        let mut msgs: Vec<&String> = self.refused.values().collect();
        msgs.sort();
        msgs.first().map(|m| mapping((*m).clone()))
    }

    /// The slot of an assigned value: a held object with the same identity, else the value
    /// added as new.
    fn hold_value(&mut self, obj: Obj, ops: &'static Ops) -> usize {
        let mut pk = Vec::new();
        (ops.pk_values)(&*obj, &mut pk);
        if explicit_key(ops, &pk) {
            let key = identity_key(ops.table, &pk);
            let held = self.identity.get(&key, &self.entries).filter(|&s| {
                self.entries[s]
                    .as_ref()
                    .is_some_and(|e| e.state != ObjectState::Deleted)
            });
            if let Some(found) = held.or_else(|| self.pending_with_key(&key)) {
                return found;
            }
        }
        self.hold_new(obj, ops)
    }

    /// The held object a raw handle names, if it has type `type_id`.
    fn raw_slot(
        &self,
        (slot, generation): RawHandle,
        type_id: TypeId,
    ) -> Option<(usize, &'static Ops)> {
        let e = self.entries.get(slot as usize)?.as_ref()?;
        let obj: &dyn Any = &*e.obj;
        (e.generation == generation && obj.type_id() == type_id).then_some((slot as usize, e.ops()))
    }

    /// A pending object with this (explicit) identity. The index is built on first use and
    /// kept up to date by `note_pending_key` until the next flush.
    fn pending_with_key(&mut self, key: &IdentityKey) -> Option<usize> {
        if self.pending_keys.is_none() {
            let mut index = rustc_hash::FxHashMap::default();
            for (slot, e) in self.entries.iter().enumerate() {
                let Some(e) = e else { continue };
                if e.state != ObjectState::Pending {
                    continue;
                }
                let mut pk = Vec::new();
                (e.ops().pk_values)(&*e.obj, &mut pk);
                if explicit_key(e.ops(), &pk) {
                    index
                        .entry(identity_key(e.ops().table, &pk))
                        .or_insert(slot);
                }
            }
            self.pending_keys = Some(index);
        }
        let slot = *self.pending_keys.as_ref()?.get(key)?;
        self.entries[slot]
            .as_ref()
            .is_some_and(|e| e.state == ObjectState::Pending)
            .then_some(slot)
    }

    /// Keeps the pending-identity index (when built) up to date with a new object.
    pub(super) fn note_pending_key(&mut self, slot: usize) {
        let Some(index) = self.pending_keys.as_mut() else {
            return;
        };
        let Some(e) = self.entries[slot].as_ref() else {
            return;
        };
        let mut pk = Vec::new();
        (e.ops().pk_values)(&*e.obj, &mut pk);
        if explicit_key(e.ops(), &pk) {
            index
                .entry(identity_key(e.ops().table, &pk))
                .or_insert(slot);
        }
    }
}
