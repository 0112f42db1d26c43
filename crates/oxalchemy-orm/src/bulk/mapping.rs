//! [`Mapping`]: some columns of one model row, set through the model's column constants so
//! a value of the wrong type or a column of another model does not compile.

use std::fmt;
use std::marker::PhantomData;

use oxalchemy_core::{ToValue, Value};

use super::Pairs;
use crate::column::TypedColumn;
use crate::model::Model;

/// Some columns of a row of `M` (the guide's dict in `bulk_insert_mappings(User, [...])`):
/// `Mapping::new().set(User::username, "ann").set(User::email, "ann@example.com")`.
///
/// In [`bulk_insert`](crate::bulk_insert), columns left out get their
/// `#[column(default = …)]` (the same `now` for every row of the call), and otherwise the
/// database's server default or NULL. In [`bulk_update`](crate::bulk_update) the primary
/// key's columns say which row, every other column is set, and columns left out get their
/// `#[column(onupdate = …)]`; a mapping that carries the `#[column(version)]` column is only
/// applied to the row at that version, and bumps it. Validators are not run on mappings
/// (there is no whole object to validate), as SQLAlchemy's bulk methods skip them.
pub struct Mapping<M> {
    pub(crate) pairs: Pairs,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Mapping<M> {
    /// An empty mapping, with room for a few columns (what its first `set` would allocate
    /// anyway, without the growth path).
    pub fn new() -> Self {
        Mapping {
            pairs: Vec::with_capacity(4),
            _model: PhantomData,
        }
    }

    /// Sets `column` to `value` (replacing an earlier value for it).
    #[inline]
    pub fn set<T: ToValue>(mut self, column: TypedColumn<M, T>, value: impl Into<T>) -> Self {
        let value = value.into().to_value();
        let name = column.name();
        // Another column's name nearly always differs in length or first letter: checked
        // before the text, which a mapping of many columns compares once per pair.
        let same = |c: &str| {
            c.len() == name.len() && c.as_bytes().first() == name.as_bytes().first() && c == name
        };
        match self.pairs.iter_mut().find(|(c, _)| same(c)) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((name, value)),
        }
        self
    }

    /// The value set for the column named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.pairs.iter().find(|(c, _)| *c == name).map(|(_, v)| v)
    }

    /// How many columns are set.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether no column is set.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

impl<M: Model> Default for Mapping<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> Clone for Mapping<M> {
    fn clone(&self) -> Self {
        Mapping {
            pairs: self.pairs.clone(),
            _model: PhantomData,
        }
    }
}

impl<M: Model> fmt::Debug for Mapping<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapping")
            .field("model", &M::NAME)
            .field("values", &self.pairs)
            .finish()
    }
}
