//! What [`Session::add_all`] takes: objects of one model (an array, a `Vec`, a mapped
//! iterator), or a tuple of objects of different models and handles — SQLAlchemy's
//! `session.add_all([user, post])`, typed.

use super::objects::Handle;
use super::Session;
use crate::model::Model;

/// One element of a tuple given to [`Session::add_all`]: a new object (added) or a
/// [`Handle`] to one the session holds (kept as it is, like adding an object twice in
/// SQLAlchemy).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be added to a session",
    label = "not a model (with `Clone`) nor a `Handle`",
    note = "add_all takes objects of `#[derive(Model, Clone)]` structs or handles from `Session::add`"
)]
pub trait AddOne {
    /// The model of the object.
    type Model;
    /// Adds the object (or keeps the handle) and returns its handle.
    fn add_one(self, s: &mut Session) -> Handle<Self::Model>;
}

impl<M: Model + Clone> AddOne for M {
    type Model = M;
    fn add_one(self, s: &mut Session) -> Handle<M> {
        s.add(self)
    }
}

impl<M: Model> AddOne for Handle<M> {
    type Model = M;
    fn add_one(self, _s: &mut Session) -> Handle<M> {
        self
    }
}

/// What [`Session::add_all`] takes, and the handles it gives back.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be given to `Session::add_all`",
    label = "not a collection of models nor a tuple of models and handles",
    note = "pass an array, a Vec or a `.map(…)` of one model, or a tuple `(user, post)` of different models (handles allowed); for another iterator, `.map(|x| x)` it or call `add` in a loop"
)]
pub trait AddAll {
    /// `Vec<Handle<M>>` for objects of one model; a tuple of handles for a tuple.
    type Handles;
    /// Adds every object.
    fn add_to(self, s: &mut Session) -> Self::Handles;
}

fn add_iter<M: Model + Clone>(s: &mut Session, objs: impl Iterator<Item = M>) -> Vec<Handle<M>> {
    s.entries.reserve(objs.size_hint().0);
    let ops = super::objects::ops::<M>();
    objs.map(|o| s.add_with(o, ops)).collect()
}

impl<M: Model + Clone> AddAll for Vec<M> {
    type Handles = Vec<Handle<M>>;
    fn add_to(self, s: &mut Session) -> Self::Handles {
        add_iter(s, self.into_iter())
    }
}

impl<M: Model + Clone, const N: usize> AddAll for [M; N] {
    type Handles = Vec<Handle<M>>;
    fn add_to(self, s: &mut Session) -> Self::Handles {
        add_iter(s, self.into_iter())
    }
}

impl<I: Iterator, F: FnMut(I::Item) -> M, M: Model + Clone> AddAll for std::iter::Map<I, F> {
    type Handles = Vec<Handle<M>>;
    fn add_to(self, s: &mut Session) -> Self::Handles {
        add_iter(s, self)
    }
}

macro_rules! tuples {
    ($(($($t:ident),+))*) => {$(
        impl<$($t: AddOne),+> AddAll for ($($t,)+) {
            type Handles = ($(Handle<$t::Model>,)+);
            #[allow(non_snake_case, reason = "one binding per tuple element, named by its type")]
            fn add_to(self, s: &mut Session) -> Self::Handles {
                let ($($t,)+) = self;
                ($($t.add_one(s),)+)
            }
        }
    )*};
}

tuples! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}
