//! Relationship fields. They hold what was loaded, never load by themselves: reading one that
//! was not loaded is an error naming the loader option to add (no silent N+1).

/// Raised when a relationship that was not loaded is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("relationship `{relationship}` was not loaded; add a loader option (selectinload / joinedload) to the query, or load it explicitly")]
pub struct NotLoaded {
    pub relationship: &'static str,
}

/// A one-to-many or many-to-many collection (`posts: Many<Post>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Many<T> {
    loaded: Option<Vec<T>>,
}

impl<T> Default for Many<T> {
    fn default() -> Self {
        Many { loaded: None }
    }
}

impl<T> Many<T> {
    /// A loaded collection.
    pub fn loaded(items: Vec<T>) -> Self {
        Many {
            loaded: Some(items),
        }
    }
    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some()
    }
    /// The loaded items, or [`NotLoaded`].
    pub fn get(&self) -> Result<&[T], NotLoaded> {
        self.loaded.as_deref().ok_or(NotLoaded {
            relationship: std::any::type_name::<T>(),
        })
    }
    pub fn set(&mut self, items: Vec<T>) {
        self.loaded = Some(items);
    }
}

/// A many-to-one reference (`author: One<User>`).
#[derive(Debug, Clone, PartialEq)]
pub struct One<T> {
    loaded: Option<Option<Box<T>>>,
}

impl<T> Default for One<T> {
    fn default() -> Self {
        One { loaded: None }
    }
}

impl<T> One<T> {
    pub fn loaded(item: Option<T>) -> Self {
        One {
            loaded: Some(item.map(Box::new)),
        }
    }
    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some()
    }
    /// The referenced object (`None` for a NULL foreign key), or [`NotLoaded`].
    pub fn get(&self) -> Result<Option<&T>, NotLoaded> {
        match &self.loaded {
            Some(v) => Ok(v.as_deref()),
            None => Err(NotLoaded {
                relationship: std::any::type_name::<T>(),
            }),
        }
    }
    pub fn set(&mut self, item: Option<T>) {
        self.loaded = Some(item.map(Box::new));
    }
}
