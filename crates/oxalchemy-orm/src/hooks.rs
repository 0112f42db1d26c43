//! Model events: SQLAlchemy's mapper events `before_insert`, `after_insert`,
//! `before_update`, `after_update`, `before_delete` and `after_delete`, as a trait the model
//! implements ([`Hooks`]) and opts into with `#[model(hooks)]`. In a crate that depends
//! on `oxalchemy` (the derive writes `::oxalchemy` paths; `tests/cycles.rs` of the facade
//! compiles and runs this shape):
//!
//! ```ignore
//! use oxalchemy::orm::{HookResult, Hooks};
//! use oxalchemy::prelude::*;
//!
//! #[derive(Model, Clone, Debug, Default)]
//! #[model(hooks)]
//! struct Article {
//!     #[column(primary_key)]
//!     id: i64,
//!     title: String,
//!     slug: String,
//! }
//!
//! impl Hooks for Article {
//!     fn before_insert(&mut self) -> HookResult {
//!         if self.title.is_empty() {
//!             return Err("an article needs a title".into());
//!         }
//!         self.slug = self.title.to_lowercase().replace(' ', "-");
//!         Ok(())
//!     }
//! }
//! ```
//!
//! # When they run
//!
//! In one flush, in this order:
//!
//! 1. while the flush is planned, before any SQL, for each changed object in the order it
//!    joined the session: `before_insert` (new objects, after column defaults and before
//!    validation), `before_update` (held objects with changed columns, before `onupdate`
//!    values and validation), `before_delete` (deleted objects). The `before_*` hooks get the
//!    flush's copy of the object: what they change is written, and reaches the session's
//!    object only if the flush succeeds;
//! 2. the statements;
//! 3. after every statement, still inside the flush's SAVEPOINT: `after_insert` for each new
//!    object (generated key set) in the same order, then `after_update`, then `after_delete`.
//!
//! A hook that returns `Err` stops the flush: nothing of it is written (the SAVEPOINT is
//! rolled back), the session is exactly as before — pending objects stay pending — and the
//! error is [`Error::Hook`](oxalchemy_engine::Error::Hook), naming the model and the hook,
//! with the hook's error as its `source()`. Fix the cause and flush again.
//!
//! Hooks are synchronous and see only their object: no session or connection (no hidden
//! I/O). Work that must wait for the commit is queued with
//! [`Session::after_commit`](crate::Session::after_commit).
//!
//! # Session events
//!
//! Around the model hooks, the session's own listeners
//! ([`SessionEvents`](crate::SessionEvents), registered with
//! [`Session::events`](crate::Session::events) or on every session of a
//! [`SessionMaker`](crate::SessionMaker)), sync or async, with the whole session in hand.
//! One commit runs, in this order:
//!
//! 1. `before_flush` listeners (they may add, change or delete objects: the same flush
//!    writes that);
//! 2. the model `before_*` hooks, the statements, the model `after_*` hooks (above);
//! 3. `after_flush` listeners (the session shows the flushed state: keys set, new objects
//!    persistent);
//! 4. the COMMIT, then the closures queued with `after_commit`.
//!
//! `after_rollback` listeners run after a rollback. An error from `before_flush` or
//! `after_flush` also writes nothing of the flush and leaves the session as it was.
//!
//! # Writes that run no hooks
//!
//! Hooks are events of the session's unit of work. The writes that bypass it run none, as
//! in SQLAlchemy (whose `bulk_insert_mappings`, Core `insert()` and query-level
//! `update()`/`delete()` fire no mapper events): the session-less writes of single objects
//! ([`insert`](crate::insert), [`insert_many`](crate::insert_many),
//! [`update`](crate::update), [`delete`](crate::delete)), the bulk operations
//! ([`bulk_insert`](crate::bulk_insert), `bulk_update`, `bulk_delete`, `upsert`,
//! `copy_in`) — also when given a session —, query-level updates and deletes, and Core
//! statements. Derived columns that must hold for every write belong in a column
//! default / `onupdate`, a validator or the database (a trigger or generated column).

use std::any::Any;

use oxalchemy_engine::Error;

use crate::model::Model;

/// What a hook returns: `Ok(())`, or any error (`"text".into()` works), which stops the
/// flush.
pub type HookResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Per-model events the session calls at flush (SQLAlchemy's mapper events), each a no-op
/// unless overridden. Declare `#[model(hooks)]` on the model so the session calls them.
///
/// Order in one flush: while it is planned, before any SQL, each changed object's
/// `before_insert` / `before_update` / `before_delete` in the order the objects joined the
/// session (on the flush's copy: changes are written, and reach the session's object only
/// if the flush succeeds); then the statements; then, still inside the flush's SAVEPOINT,
/// every `after_insert` (generated key set), every `after_update`, every `after_delete`.
/// An `Err` from any of them stops the flush: nothing of it is written, the session is as
/// before (pending objects stay pending), and the error is
/// [`Error::Hook`](oxalchemy_engine::Error::Hook) naming the model and the hook, with the
/// hook's error as `source()`. Work that must wait for the COMMIT goes to
/// [`Session::after_commit`](crate::Session::after_commit).
pub trait Hooks: Model {
    /// Before the INSERT of a new object, on the flush's copy (defaults applied): derived
    /// columns, normalisation.
    fn before_insert(&mut self) -> HookResult {
        Ok(())
    }
    /// After the INSERT (the generated key is set), before the flush ends.
    fn after_insert(&self) -> HookResult {
        Ok(())
    }
    /// Before the UPDATE of a held object whose columns changed, on the flush's copy.
    fn before_update(&mut self) -> HookResult {
        Ok(())
    }
    /// After the UPDATE, before the flush ends.
    fn after_update(&self) -> HookResult {
        Ok(())
    }
    /// Before the DELETE of an object marked deleted.
    fn before_delete(&self) -> HookResult {
        Ok(())
    }
    /// After the DELETE, before the flush ends.
    fn after_delete(&self) -> HookResult {
        Ok(())
    }
}

/// A model's hooks with its type erased, made by `#[model(hooks)]`. Plumbing.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct HookFns {
    pub(crate) model: &'static str,
    pub(crate) before_insert: fn(&mut dyn Any) -> HookResult,
    pub(crate) after_insert: fn(&dyn Any) -> HookResult,
    pub(crate) before_update: fn(&mut dyn Any) -> HookResult,
    pub(crate) after_update: fn(&dyn Any) -> HookResult,
    pub(crate) before_delete: fn(&dyn Any) -> HookResult,
    pub(crate) after_delete: fn(&dyn Any) -> HookResult,
}

impl HookFns {
    /// The hooks of `M`.
    pub fn of<M: Hooks>() -> Self {
        HookFns {
            model: M::NAME,
            before_insert: |o| with_mut::<M>(o).map_or(Ok(()), M::before_insert),
            after_insert: |o| o.downcast_ref::<M>().map_or(Ok(()), M::after_insert),
            before_update: |o| with_mut::<M>(o).map_or(Ok(()), M::before_update),
            after_update: |o| o.downcast_ref::<M>().map_or(Ok(()), M::after_update),
            before_delete: |o| o.downcast_ref::<M>().map_or(Ok(()), M::before_delete),
            after_delete: |o| o.downcast_ref::<M>().map_or(Ok(()), M::after_delete),
        }
    }

    /// Runs one hook, turning its error into [`Error::Hook`].
    pub(crate) fn call<T>(
        &self,
        hook: &'static str,
        f: fn(T) -> HookResult,
        obj: T,
    ) -> Result<(), Error> {
        f(obj).map_err(|source| Error::Hook {
            model: self.model,
            hook,
            source,
        })
    }
}

fn with_mut<M: 'static>(o: &mut dyn Any) -> Option<&mut M> {
    o.downcast_mut::<M>()
}
