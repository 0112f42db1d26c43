//! Relationship fields. They hold what was loaded, never load by themselves: reading one that
//! was not loaded is an error naming the loader option to add (no silent N+1). They are
//! `Serialize`/`Deserialize` as their loaded value (`relation_serde.rs`).

use oxalchemy_engine::Error;

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
#[derive(Debug, Clone)]
pub struct Many<T> {
    loaded: Option<Vec<T>>,
    field: Option<&'static str>,
}

impl<T: PartialEq> PartialEq for Many<T> {
    fn eq(&self, other: &Self) -> bool {
        self.loaded == other.loaded
    }
}

impl<T> Default for Many<T> {
    fn default() -> Self {
        Many {
            loaded: None,
            field: None,
        }
    }
}

impl<T> Many<T> {
    /// A loaded collection.
    pub fn loaded(items: Vec<T>) -> Self {
        Many {
            loaded: Some(items),
            field: None,
        }
    }
    /// An unloaded collection that names its field (`User::posts`) when read: what
    /// `#[derive(Model)]` builds for a row read from the database.
    #[doc(hidden)]
    pub fn unloaded_field(field: &'static str) -> Self {
        Many {
            loaded: None,
            field: Some(field),
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
        self.loaded.as_deref().ok_or(NotLoaded {
            relationship: self.field.unwrap_or(std::any::type_name::<T>()),
        })
    }
    /// Sets the collection's items; it counts as loaded from then on.
    pub fn set(&mut self, items: Vec<T>) {
        self.loaded = Some(items);
    }
    /// Appends `other`'s loaded items (both become loaded).
    pub(crate) fn absorb(&mut self, other: &mut Many<T>) {
        let extra = other.loaded.take().unwrap_or_default();
        self.loaded.get_or_insert_with(Vec::new).extend(extra);
    }
}

/// A many-to-one reference (`author: One<User>`). Equal when the loaded values are, like
/// [`Many`].
#[derive(Debug, Clone)]
pub struct One<T> {
    loaded: Option<Option<Box<T>>>,
    field: Option<&'static str>,
}

impl<T: PartialEq> PartialEq for One<T> {
    fn eq(&self, other: &Self) -> bool {
        self.loaded == other.loaded
    }
}

impl<T> Default for One<T> {
    fn default() -> Self {
        One {
            loaded: None,
            field: None,
        }
    }
}

impl<T> One<T> {
    /// A loaded reference (`None` for a NULL foreign key).
    pub fn loaded(item: Option<T>) -> Self {
        One {
            loaded: Some(item.map(Box::new)),
            field: None,
        }
    }
    /// An unloaded reference that names its field (`Post::author`) when read, like
    /// [`Many::unloaded_field`].
    #[doc(hidden)]
    pub fn unloaded_field(field: &'static str) -> Self {
        One {
            loaded: None,
            field: Some(field),
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
        match &self.loaded {
            Some(v) => Ok(v.as_deref()),
            None => Err(NotLoaded {
                relationship: self.field.unwrap_or(std::any::type_name::<T>()),
            }),
        }
    }
    /// Sets the referenced object; it counts as loaded from then on.
    pub fn set(&mut self, item: Option<T>) {
        self.loaded = Some(item.map(Box::new));
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
