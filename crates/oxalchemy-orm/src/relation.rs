//! Relationship fields. They hold what was loaded, never load by themselves: reading one that
//! was not loaded is an error naming the loader option to add (no silent N+1). They are
//! `Serialize`/`Deserialize` as their loaded value (`relation_serde.rs`).
//!
//! They are also how objects are related before they are stored: a value or a [`Handle`]
//! assigned into a field (`author: user.into()`, `posts: vec![p1, p2].into()`) is
//! *assigned*, and the session adds and links it when the object is added or flushed
//! (save-update cascade). What a loader fills is not assigned: it only mirrors the rows.

use oxalchemy_engine::Error;

use crate::session::Handle;

/// A handle's (slot, generation), without its model type: what a relationship field keeps
/// of a [`Handle`] assigned into it until the session links it.
pub(crate) type RawHandle = (u32, u32);

/// A value behind a trait object. Relationship fields keep what they hold this way so that
/// their `Send` and `Sync` are written in their type instead of derived from the target's:
/// with `Option<Vec<T>>` inside, proving `User: Sync` (which `Model` requires) meant proving
/// `Post: Sync`, then every model `Post` links to, and so on through the whole model graph —
/// a chain of ~22 models linked both ways overflowed rustc's recursion limit (E0275). The
/// price is that a relationship's target must be `Send + Sync + 'static` to be stored, which
/// every model is.
trait Held<V>: Send + Sync {
    fn get(&self) -> &V;
    fn get_mut(&mut self) -> &mut V;
    fn into_inner(self: Box<Self>) -> V;
}

impl<V: Send + Sync> Held<V> for V {
    fn get(&self) -> &V {
        self
    }
    fn get_mut(&mut self) -> &mut V {
        self
    }
    fn into_inner(self: Box<Self>) -> V {
        *self
    }
}

/// One boxed value whose auto traits do not depend on `V` (see [`Held`]).
struct Payload<V>(Box<dyn Held<V> + Send + Sync>);

impl<V: Send + Sync + 'static> Payload<V> {
    fn new(v: V) -> Self {
        Payload(Box::new(v))
    }
}

impl<V> Payload<V> {
    // Spelled out: `Box<dyn Held<V>>` is itself a `Held<Box<…>>` through the blanket impl.
    fn get(&self) -> &V {
        Held::<V>::get(&*self.0)
    }
    fn get_mut(&mut self) -> &mut V {
        Held::<V>::get_mut(&mut *self.0)
    }
    fn into_inner(self) -> V {
        Held::<V>::into_inner(self.0)
    }
}

/// Raised when a relationship that was not loaded is read: oxalchemy never loads one
/// behind your back (no silent N+1), so the message names the loader option to add.
///
/// `?` converts it into [`oxalchemy_engine::Error`] (as [`Error::NotLoaded`], keeping this
/// error as its `source()`), so a function returning the crate's error can read
/// relationships with `?`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("relationship `{relationship}` was not loaded, and oxalchemy never loads one behind your back: add `.options(selectinload(…))` (or joinedload) to the query, or call `orm::load` explicitly")]
#[non_exhaustive]
pub struct NotLoaded {
    /// The field that was read (`User::posts`) when the object came from a query; the
    /// related type (`blog::Post`) for a field built by `Default`, which cannot know its name.
    pub relationship: &'static str,
}

impl From<NotLoaded> for Error {
    fn from(e: NotLoaded) -> Self {
        Error::NotLoaded {
            relationship: e.relationship,
            source: Box::new(e),
        }
    }
}

/// A one-to-many or many-to-many collection (`posts: Many<Post>`).
///
/// Two collections are equal when their loaded values are: the field name an unloaded one
/// carries for its error message is not part of the value.
pub struct Many<T> {
    /// The items (a `Vec<T>`), boxed so that the field's `Send`/`Sync` do not depend on
    /// `T`'s (see [`Held`]).
    loaded: Option<Payload<Vec<T>>>,
    field: Option<&'static str>,
    /// Set by the public setters: the session adds and links these items (cascade).
    assigned: bool,
    /// Handles assigned into the collection, linked when the owner is added or flushed.
    handles: Vec<RawHandle>,
}

impl<T: PartialEq> PartialEq for Many<T> {
    fn eq(&self, other: &Self) -> bool {
        self.items() == other.items()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Many<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Many")
            .field("loaded", &self.items())
            .field("field", &self.field)
            .field("assigned", &self.assigned)
            .field("handles", &self.handles)
            .finish()
    }
}

impl<T: Clone + Send + Sync + 'static> Clone for Many<T> {
    fn clone(&self) -> Self {
        Many {
            loaded: self.items().map(|items| Payload::new(items.clone())),
            field: self.field,
            assigned: self.assigned,
            handles: self.handles.clone(),
        }
    }
}

impl<T> Default for Many<T> {
    fn default() -> Self {
        Many {
            loaded: None,
            field: None,
            assigned: false,
            handles: Vec::new(),
        }
    }
}

impl<T: Send + Sync + 'static> From<Vec<T>> for Many<T> {
    /// New related objects: added and linked with the object that holds them
    /// (`User { posts: vec![p1, p2].into(), .. }`).
    fn from(items: Vec<T>) -> Self {
        Many::loaded(items)
    }
}

impl<T> From<Vec<Handle<T>>> for Many<T> {
    /// Objects the session already holds, linked when the owner is added or flushed.
    fn from(handles: Vec<Handle<T>>) -> Self {
        Many {
            loaded: None,
            field: None,
            assigned: true,
            handles: handles.into_iter().map(Handle::raw).collect(),
        }
    }
}

impl<T: Send + Sync + 'static> Many<T> {
    /// A loaded collection. Assigned into an object added to a session, its items are
    /// added and linked too (save-update cascade).
    pub fn loaded(items: Vec<T>) -> Self {
        Many {
            loaded: Some(Payload::new(items)),
            field: None,
            assigned: true,
            handles: Vec::new(),
        }
    }
    /// A collection as a loader or the session filled it: mirrors rows, nothing to cascade.
    pub(crate) fn fetched(items: Vec<T>) -> Self {
        Many {
            loaded: Some(Payload::new(items)),
            field: None,
            assigned: false,
            handles: Vec::new(),
        }
    }
    /// Sets the collection's items; it counts as loaded from then on. In an object held
    /// by a session, new items are added and linked at the next flush.
    pub fn set(&mut self, items: Vec<T>) {
        self.loaded = Some(Payload::new(items));
        self.assigned = true;
    }
    /// Appends an item read from the database (the collection becomes loaded).
    pub(crate) fn push_fetched(&mut self, item: T) {
        match &mut self.loaded {
            Some(items) => items.get_mut().push(item),
            None => self.loaded = Some(Payload::new(vec![item])),
        }
    }
}

impl<T> Many<T> {
    fn items(&self) -> Option<&Vec<T>> {
        self.loaded.as_ref().map(Payload::get)
    }
    /// An unloaded collection that names its field (`User::posts`) when read: what
    /// `#[derive(Model)]` builds for a row read from the database.
    #[doc(hidden)]
    pub fn unloaded_field(field: &'static str) -> Self {
        Many {
            loaded: None,
            field: Some(field),
            assigned: false,
            handles: Vec::new(),
        }
    }
    /// Whether the collection was loaded (by a loader option, `load` or `set`).
    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some()
    }
    /// Whether the collection was not loaded: for
    /// `#[serde(default, skip_serializing_if = "Many::is_not_loaded")]`, since serializing an
    /// unloaded relationship is an error.
    pub fn is_not_loaded(&self) -> bool {
        self.loaded.is_none()
    }
    /// The loaded items, or [`NotLoaded`].
    pub fn get(&self) -> Result<&[T], NotLoaded> {
        self.items().map(Vec::as_slice).ok_or(NotLoaded {
            relationship: self.field.unwrap_or(std::any::type_name::<T>()),
        })
    }
    /// Takes what was assigned (items and handles) for the session's cascade, leaving the
    /// collection unloaded; `None` when nothing was assigned.
    pub(crate) fn take_assigned(&mut self) -> Option<(Vec<T>, Vec<RawHandle>)> {
        if !self.assigned {
            return None;
        }
        self.assigned = false;
        Some((
            self.loaded
                .take()
                .map(Payload::into_inner)
                .unwrap_or_default(),
            std::mem::take(&mut self.handles),
        ))
    }
    /// The loaded items, mutably, for the session's sync.
    pub(crate) fn items_mut(&mut self) -> Option<&mut Vec<T>> {
        self.loaded.as_mut().map(Payload::get_mut)
    }
}

/// A many-to-one reference (`author: One<User>`). Equal when the loaded values are, like
/// [`Many`].
pub struct One<T> {
    /// The object (`None` for a NULL foreign key), boxed so that the field's `Send`/`Sync`
    /// do not depend on `T`'s (see [`Held`]).
    loaded: Option<Option<Payload<T>>>,
    field: Option<&'static str>,
    /// Set by the public setters: the session adds and links the value (cascade).
    assigned: bool,
    /// A handle assigned into the field, linked when the owner is added or flushed.
    handle: Option<RawHandle>,
}

impl<T: PartialEq> PartialEq for One<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for One<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("One")
            .field("loaded", &self.value())
            .field("field", &self.field)
            .field("assigned", &self.assigned)
            .field("handle", &self.handle)
            .finish()
    }
}

impl<T: Clone + Send + Sync + 'static> Clone for One<T> {
    fn clone(&self) -> Self {
        One {
            loaded: self.value().map(|v| v.map(|v| Payload::new(v.clone()))),
            field: self.field,
            assigned: self.assigned,
            handle: self.handle,
        }
    }
}

impl<T> Default for One<T> {
    fn default() -> Self {
        One {
            loaded: None,
            field: None,
            assigned: false,
            handle: None,
        }
    }
}

impl<T: Send + Sync + 'static> From<T> for One<T> {
    /// A related object: added (if new) and linked with the object that holds it
    /// (`Post { author: user.into(), .. }`).
    fn from(item: T) -> Self {
        One::loaded(Some(item))
    }
}

impl<T> From<Handle<T>> for One<T> {
    /// An object the session already holds, linked when the owner is added or flushed.
    fn from(h: Handle<T>) -> Self {
        One {
            loaded: None,
            field: None,
            assigned: true,
            handle: Some(h.raw()),
        }
    }
}

impl<T: Send + Sync + 'static> One<T> {
    /// A loaded reference (`None` for a NULL foreign key). Assigned into an object added to
    /// a session, the referenced object is added and linked too (save-update cascade).
    pub fn loaded(item: Option<T>) -> Self {
        One {
            loaded: Some(item.map(Payload::new)),
            field: None,
            assigned: true,
            handle: None,
        }
    }
    /// A reference as a loader or the session filled it: nothing to cascade.
    pub(crate) fn fetched(item: Option<T>) -> Self {
        One {
            loaded: Some(item.map(Payload::new)),
            field: None,
            assigned: false,
            handle: None,
        }
    }
    /// Sets the referenced object; it counts as loaded from then on. In an object held by a
    /// session, a new object is added and linked at the next flush.
    pub fn set(&mut self, item: Option<T>) {
        self.loaded = Some(item.map(Payload::new));
        self.assigned = true;
        self.handle = None;
    }
}

impl<T> One<T> {
    fn value(&self) -> Option<Option<&T>> {
        self.loaded.as_ref().map(|v| v.as_ref().map(Payload::get))
    }
    /// An unloaded reference that names its field (`Post::author`) when read, like
    /// [`Many::unloaded_field`].
    #[doc(hidden)]
    pub fn unloaded_field(field: &'static str) -> Self {
        One {
            loaded: None,
            field: Some(field),
            assigned: false,
            handle: None,
        }
    }
    /// Whether the reference was loaded (by a loader option, `load` or `set`).
    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some()
    }
    /// Whether the reference was not loaded: for
    /// `#[serde(default, skip_serializing_if = "One::is_not_loaded")]`, since serializing an
    /// unloaded relationship is an error.
    pub fn is_not_loaded(&self) -> bool {
        self.loaded.is_none()
    }
    /// The referenced object (`None` for a NULL foreign key), or [`NotLoaded`].
    pub fn get(&self) -> Result<Option<&T>, NotLoaded> {
        match self.value() {
            Some(v) => Ok(v),
            None => Err(NotLoaded {
                relationship: self.field.unwrap_or(std::any::type_name::<T>()),
            }),
        }
    }
    /// Takes what was assigned for the session's cascade, leaving the field unloaded:
    /// `Some(Err(handle))`, `Some(Ok(Some(value)))`, `Some(Ok(None))` for an assigned
    /// `None`, or `None` when nothing was assigned.
    #[allow(clippy::type_complexity, reason = "one private call site")]
    pub(crate) fn take_assigned(&mut self) -> Option<Result<Option<T>, RawHandle>> {
        if !self.assigned {
            return None;
        }
        self.assigned = false;
        if let Some(h) = self.handle.take() {
            self.loaded = None;
            return Some(Err(h));
        }
        Some(Ok(self.loaded.take().flatten().map(Payload::into_inner)))
    }
}

/// Where a relationship's loaded value lives in the struct: the accessor
/// `#[derive(Model)]` writes for each relationship field. Plumbing between the generated
/// constants and the loaders; not a stable API.
#[doc(hidden)]
pub enum RelationshipSlot<M, T> {
    /// A collection field (`Many<T>`).
    Many(fn(&mut M) -> &mut Many<T>),
    /// A reference field (`One<T>`).
    One(fn(&mut M) -> &mut One<T>),
}

impl<M, T> Clone for RelationshipSlot<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for RelationshipSlot<M, T> {}

/// A model's relationship as a typed constant (`Post::author: Relationship<Post, User>`),
/// generated by `#[derive(Model)]` for every relationship field. Used to link objects in a
/// session and to name loader options (`selectinload(User::posts)`).
pub struct Relationship<M, T> {
    name: &'static str,
    slot: RelationshipSlot<M, T>,
}

impl<M, T> Clone for Relationship<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Relationship<M, T> {}

impl<M, T> std::fmt::Debug for Relationship<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Relationship({})", self.name)
    }
}

impl<M, T> Relationship<M, T> {
    #[doc(hidden)]
    pub const fn new(name: &'static str, slot: RelationshipSlot<M, T>) -> Self {
        Relationship { name, slot }
    }
    /// The relationship field's name (`"posts"`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The field accessor the loaders fill.
    pub(crate) fn slot(&self) -> RelationshipSlot<M, T> {
        self.slot
    }
}

impl<M: crate::Model, T> Relationship<M, T> {
    /// The declaration this constant names.
    pub fn def(&self) -> Option<&'static crate::RelationshipDef> {
        M::relationships().iter().find(|r| r.name == self.name)
    }
}
