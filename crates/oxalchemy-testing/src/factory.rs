//! Factories (factory_boy's model): a [`Factory`] impl per model gives its defaults —
//! sequences (`user{n}`), values drawn from a seeded generator, lazy attributes computed
//! from other fields, and sub-factories that create the parent an object needs and link it.
//! [`Factories`] holds the state (sequence counters, the seeded generator), so a test that
//! starts from the same seed builds the same objects.
//!
//! Traits (factory_boy's named variants) are plain functions on the factory
//! (`fn suspended(u: &mut User)`), applied with [`Build::with`] like any other override:
//! named, type-checked, composable.
//!
//! Everything is added to the session first and written by one flush, so a batch of 1000 is
//! a few multi-row INSERTs in foreign-key order, parents first.

use std::any::TypeId;
use std::collections::HashMap;
use std::ops::Range;

use oxalchemy_engine::Error;
use oxalchemy_orm::{Handle, Model, Relationship, Session};

/// How to make test objects of one model.
///
/// ```no_run
/// use oxalchemy::orm::{Many, One};
/// use oxalchemy::prelude::*;
/// use oxalchemy_testing::{Factories, Factory, FactoryCtx, SubFactories};
///
/// #[derive(Model, Clone, Debug, Default)]
/// #[model(table = "users")]
/// struct User {
///     #[column(primary_key)] id: i64,
///     username: String,
///     email: String,
///     karma: i32,
///     #[relationship(back_populates = "author")] posts: Many<Post>,
/// }
///
/// #[derive(Model, Clone, Debug, Default)]
/// #[model(table = "posts")]
/// struct Post {
///     #[column(primary_key)] id: i64,
///     title: String,
///     #[column(foreign_key = "users.id")] author_id: i64,
///     #[relationship(back_populates = "posts")] author: One<User>,
/// }
///
/// impl Factory for User {
///     fn defaults(f: &mut FactoryCtx<'_>) -> Self {
///         User { username: format!("user{}", f.n()), karma: f.int(0..100) as i32, ..Default::default() }
///     }
///     // A lazy attribute: from the username, unless the call set an email.
///     fn lazy(&mut self, _f: &mut FactoryCtx<'_>) {
///         if self.email.is_empty() {
///             self.email = format!("{}@example.com", self.username);
///         }
///     }
/// }
///
/// // A trait: a named variant.
/// fn trusted(u: &mut User) {
///     u.karma = 1000;
/// }
///
/// impl Factory for Post {
///     fn defaults(f: &mut FactoryCtx<'_>) -> Self {
///         Post { title: format!("post {}", f.n()), ..Default::default() }
///     }
///     // A sub-factory: every post gets an author, created by User's factory.
///     fn sub_factories(subs: &mut SubFactories<Self>) {
///         subs.parent(Post::author);
///     }
/// }
///
/// async fn demo(s: &mut Session) -> Result<(), Error> {
///     let mut factories = Factories::new(42);
///     let ann = factories.of::<User>().with(trusted).with(|u| u.username = "ann".into()).create(s).await?;
///     assert_eq!(s[ann].email, "ann@example.com");
///     let _posts = factories.of::<Post>().parent(Post::author, ann).create_batch(s, 3).await?;
///     let unsaved: User = factories.build();
///     assert_eq!(unsaved.id, 0);
///     Ok(())
/// }
/// ```
pub trait Factory: Model + Clone + 'static {
    /// A new object's values; `f.n()` is this model's sequence number (1, 2, …) in the
    /// [`Factories`], and `f` draws seeded values.
    fn defaults(f: &mut FactoryCtx<'_>) -> Self;

    /// Attributes computed from other fields, after the call's overrides and traits (fill a
    /// field only while it is still unset, so an override of it wins).
    fn lazy(&mut self, _f: &mut FactoryCtx<'_>) {}

    /// The parents every created object gets (`subs.parent(Post::author)`), each made by
    /// its model's factory unless the call gives one ([`Build::parent`]).
    fn sub_factories(_subs: &mut SubFactories<Self>) {}
}

/// The factories' state: sequence counters per model and the seeded generator.
#[derive(Debug)]
pub struct Factories {
    rng: SplitMix64,
    sequences: HashMap<TypeId, u64>,
}

impl Factories {
    /// Factories whose random values all follow from `seed`, sequences starting at 1.
    pub fn new(seed: u64) -> Self {
        Factories {
            rng: SplitMix64(seed),
            sequences: HashMap::new(),
        }
    }

    /// A call building or creating `M`s, to add overrides, traits and parents to.
    pub fn of<M: Factory>(&mut self) -> Build<'_, M> {
        Build {
            factories: self,
            overrides: Vec::new(),
            parents: Vec::new(),
        }
    }

    /// One `M` with its defaults, not added to any session.
    pub fn build<M: Factory>(&mut self) -> M {
        self.of::<M>().build()
    }

    /// One `M` with its defaults (and its parents), added to `session` and flushed.
    pub async fn create<M: Factory>(&mut self, session: &mut Session) -> Result<Handle<M>, Error> {
        self.of::<M>().create(session).await
    }

    /// Defaults, then the overrides in order, then the lazy attributes.
    fn make<M: Factory>(&mut self, overrides: &[Override<M>]) -> M {
        let n = self.sequences.entry(TypeId::of::<M>()).or_insert(0);
        *n += 1;
        let mut ctx = FactoryCtx {
            n: *n,
            rng: &mut self.rng,
        };
        let mut obj = M::defaults(&mut ctx);
        for apply in overrides {
            apply(&mut obj);
        }
        obj.lazy(&mut ctx);
        obj
    }

    /// Makes an `M`, adds it, and gives it its parents (given or made); no flush.
    fn add<M: Factory>(
        &mut self,
        session: &mut Session,
        overrides: &[Override<M>],
        given: &[GivenParent<M>],
        subs: &SubFactories<M>,
    ) -> Result<Handle<M>, Error> {
        let obj = self.make(overrides);
        let handle = session.add(obj);
        for sub in &subs.list {
            match given.iter().find(|g| g.relationship == sub.relationship) {
                Some(given) => (given.link)(session, handle)?,
                None => (sub.create)(self, session, handle)?,
            }
        }
        Ok(handle)
    }
}

/// What a factory's `defaults` and `lazy` get: the sequence number and seeded values.
#[derive(Debug)]
pub struct FactoryCtx<'a> {
    n: u64,
    rng: &'a mut SplitMix64,
}

impl FactoryCtx<'_> {
    /// This object's sequence number for its model: 1, 2, … (`format!("user{}", f.n())`).
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The next seeded 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next()
    }

    /// A seeded integer in `range` (`range.start` when it is empty).
    pub fn int(&mut self, range: Range<i64>) -> i64 {
        let width = range.end.saturating_sub(range.start);
        if width <= 0 {
            return range.start;
        }
        range.start + (self.rng.next() % width as u64) as i64
    }

    /// Fake data from the `fake` crate's fakers, drawn from the factories' seeded generator
    /// (so the same seed gives the same names): `f.fake(fake::faker::name::en::Name())`.
    /// Feature `fake`.
    #[cfg(feature = "fake")]
    pub fn fake<T, F>(&mut self, faker: F) -> T
    where
        F: fake::Fake,
        T: fake::Dummy<F>,
    {
        faker.fake_with_rng(&mut *self.rng)
    }

    /// A seeded choice among `items`.
    ///
    /// # Panics
    /// When `items` is empty.
    pub fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        assert!(
            !items.is_empty(),
            "FactoryCtx::pick needs at least one item"
        );
        &items[(self.rng.next() % items.len() as u64) as usize]
    }
}

/// An override or trait: a change applied to each object of a call.
type Override<M> = Box<dyn Fn(&mut M)>;

/// A parent the call gives for one relationship, instead of its sub-factory making one.
struct GivenParent<M> {
    relationship: &'static str,
    link: LinkParent<M>,
}

/// Links a child to a parent the call gave.
type LinkParent<M> = Box<dyn Fn(&mut Session, Handle<M>) -> Result<(), Error>>;

/// The sub-factories of a model, declared by [`Factory::sub_factories`].
pub struct SubFactories<M> {
    list: Vec<SubFactory<M>>,
}

/// Makes the parent of one relationship with its own factory, and links it.
struct SubFactory<M> {
    relationship: &'static str,
    create: MakeParent<M>,
}

type MakeParent<M> = Box<dyn Fn(&mut Factories, &mut Session, Handle<M>) -> Result<(), Error>>;

impl<M: Factory> SubFactories<M> {
    /// Every created `M` gets a new `T` from `T`'s factory (with its own sub-factories),
    /// linked through `relationship`.
    pub fn parent<T: Factory>(&mut self, relationship: Relationship<M, T>) {
        self.list.push(SubFactory {
            relationship: relationship.name(),
            create: Box::new(move |factories, session, child| {
                let mut subs = SubFactories { list: Vec::new() };
                T::sub_factories(&mut subs);
                let parent = factories.add::<T>(session, &[], &[], &subs)?;
                session.link(child, relationship, parent)
            }),
        });
    }

    fn of_model() -> Self {
        let mut subs = SubFactories { list: Vec::new() };
        M::sub_factories(&mut subs);
        subs
    }
}

impl<M> std::fmt::Debug for SubFactories<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.list.iter().map(|s| s.relationship).collect();
        f.debug_struct("SubFactories")
            .field("parents", &names)
            .finish()
    }
}

/// One factory call: overrides and traits, given parents, then `build` or `create`.
pub struct Build<'f, M: Factory> {
    factories: &'f mut Factories,
    overrides: Vec<Override<M>>,
    parents: Vec<GivenParent<M>>,
}

impl<M: Factory> std::fmt::Debug for Build<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Build")
            .field("model", &std::any::type_name::<M>())
            .field("overrides", &self.overrides.len())
            .finish_non_exhaustive()
    }
}

impl<M: Factory> Build<'_, M> {
    /// Applies `change` to each object after its defaults: an override
    /// (`|u| u.username = "ann".into()`) or a trait (`suspended`). Lazy attributes are
    /// computed after all of them.
    pub fn with(mut self, change: impl Fn(&mut M) + 'static) -> Self {
        self.overrides.push(Box::new(change));
        self
    }

    /// Links each created object to `parent` through `relationship`, instead of the
    /// sub-factory making a new parent per object.
    pub fn parent<T: Model>(mut self, relationship: Relationship<M, T>, parent: Handle<T>) -> Self {
        self.parents.push(GivenParent {
            relationship: relationship.name(),
            link: Box::new(move |session, child| session.link(child, relationship, parent)),
        });
        self
    }

    /// One object, not added to any session (sub-factories do not run: they link parents
    /// in a session).
    pub fn build(self) -> M {
        self.factories.make(&self.overrides)
    }

    /// `n` objects, not added to any session.
    pub fn build_batch(self, n: usize) -> Vec<M> {
        (0..n)
            .map(|_| self.factories.make(&self.overrides))
            .collect()
    }

    /// One object with its parents, added to `session` and flushed.
    pub async fn create(self, session: &mut Session) -> Result<Handle<M>, Error> {
        let subs = SubFactories::<M>::of_model();
        let handle = self
            .factories
            .add(session, &self.overrides, &self.parents, &subs)?;
        session.flush().await?;
        Ok(handle)
    }

    /// `n` objects with their parents, added to `session` and written by one flush.
    pub async fn create_batch(
        self,
        session: &mut Session,
        n: usize,
    ) -> Result<Vec<Handle<M>>, Error> {
        let subs = SubFactories::<M>::of_model();
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            handles.push(
                self.factories
                    .add(session, &self.overrides, &self.parents, &subs)?,
            );
        }
        session.flush().await?;
        Ok(handles)
    }
}

/// SplitMix64: a tiny, well-known seeded generator; plenty for test data, and it keeps a
/// random-number crate out of the test kit (with feature `fake` it also drives `fake`'s
/// fakers, through `rand`'s traits).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(feature = "fake")]
impl fake::rand::TryRng for SplitMix64 {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.next() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}
