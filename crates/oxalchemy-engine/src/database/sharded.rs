//! [`ShardedDatabase`]: horizontal sharding (SQLAlchemy's `horizontal_shard`): named shards,
//! each a [`Database`] with its own pool, a shard chooser per written type, and a query
//! chooser that names the shards a query must visit.
//!
//! This is the routing table; reading models across shards (fan-out with the merge, ordering
//! and limit applied after it, identity keys with the shard) is the ORM's `ShardedQueryExt`,
//! and running migrations on every shard is the migrate crate's `Runner::run_sharded`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use oxalchemy_core::query::Select;

use super::Database;
use crate::error::{Error, Result};

type WriteChooser = Arc<dyn Fn(&dyn Any) -> String + Send + Sync>;
type QueryChooser = Arc<dyn Fn(&str, &Select) -> Vec<String> + Send + Sync>;

/// Several databases holding one logical schema, rows split between them by a key (a tenant,
/// a region). Cheap to clone (shards are shared).
///
/// ```no_run
/// # async fn demo() -> Result<(), oxalchemy_engine::Error> {
/// use oxalchemy_engine::{Database, ShardedDatabase};
/// struct Order { tenant: String }
/// let sharded = ShardedDatabase::new()
///     .shard("eu", Database::connect("postgresql://app@eu-db/app").await?)
///     .shard("us", Database::connect("postgresql://app@us-db/app").await?)
///     // Where a new Order is written: from the object.
///     .shard_chooser(|o: &Order| if o.tenant.starts_with("eu-") { "eu".into() } else { "us".into() });
/// let (name, db) = sharded.shard_for(&Order { tenant: "eu-7".into() })?;
/// assert_eq!(&**name, "eu");
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct ShardedDatabase {
    shards: Vec<(Arc<str>, Database)>,
    writers: HashMap<TypeId, WriteChooser>,
    query_chooser: Option<QueryChooser>,
}

impl std::fmt::Debug for ShardedDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.shards.iter().map(|(n, db)| (n, db.url())))
            .finish()
    }
}

impl ShardedDatabase {
    /// No shards yet; add them with [`shard`](Self::shard).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds shard `name` (replacing one of the same name). Shards keep the order they were
    /// added in: fan-out visits them in it, and it breaks ties when merging.
    pub fn shard(mut self, name: impl Into<String>, db: Database) -> Self {
        let name: Arc<str> = name.into().into();
        match self.shards.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = db,
            None => self.shards.push((name, db)),
        }
        self
    }

    /// How new objects of type `T` pick their shard: `f` returns the shard's name (from a
    /// tenant id, a region, a hash of the key). A type with no chooser cannot be written
    /// through the sharded database unless there is exactly one shard.
    pub fn shard_chooser<T: 'static>(
        mut self,
        f: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> Self {
        let chooser: WriteChooser = Arc::new(move |any: &dyn Any| match any.downcast_ref::<T>() {
            Some(t) => f(t),
            // Keyed by T's TypeId, so only a T reaches this closure.
            None => String::new(),
        });
        self.writers.insert(TypeId::of::<T>(), chooser);
        self
    }

    /// Which shards a query must visit: `f` gets the queried table's name and the SELECT (its
    /// WHERE, to spot a tenant id) and returns shard names; an empty list means every shard
    /// (fan-out). Without a query chooser every query fans out.
    pub fn query_chooser(
        mut self,
        f: impl Fn(&str, &Select) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.query_chooser = Some(Arc::new(f));
        self
    }

    /// The shard named `name`, or [`Error::Mapping`] naming the shards there are.
    pub fn database(&self, name: &str) -> Result<&Database> {
        self.entry(name).map(|(_, db)| db)
    }

    /// The shard's name (shared) and database.
    pub fn entry(&self, name: &str) -> Result<(&Arc<str>, &Database)> {
        self.shards
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(n, db)| (n, db))
            .ok_or_else(|| Error::Mapping {
                message: format!(
                    "no shard named `{name}`; the shards are {}",
                    self.names().collect::<Vec<_>>().join(", ")
                ),
            })
    }

    /// The shards' names, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.shards.iter().map(|(n, _)| &**n)
    }

    /// Every shard, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Database)> {
        self.shards.iter().map(|(n, db)| (n, db))
    }

    /// How many shards there are.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Whether there are no shards.
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The shard a new `obj` is written to, by its type's
    /// [`shard_chooser`](Self::shard_chooser) (or the only shard).
    pub fn shard_for<T: 'static>(&self, obj: &T) -> Result<(&Arc<str>, &Database)> {
        match self.writers.get(&TypeId::of::<T>()) {
            Some(chooser) => self.entry(&chooser(obj)),
            None if self.shards.len() == 1 => Ok((&self.shards[0].0, &self.shards[0].1)),
            None => Err(Error::Mapping {
                message: format!(
                    "no shard chooser for {}: add .shard_chooser(|obj: &{0}| …) to the \
                     ShardedDatabase so writes know their shard",
                    std::any::type_name::<T>()
                ),
            }),
        }
    }

    /// The shards a query on `table` visits, by the [`query_chooser`](Self::query_chooser):
    /// the named ones, or all of them.
    pub fn shards_for_query(
        &self,
        table: &str,
        select: &Select,
    ) -> Result<Vec<(&Arc<str>, &Database)>> {
        let names = self
            .query_chooser
            .as_ref()
            .map(|f| f(table, select))
            .unwrap_or_default();
        if names.is_empty() {
            return Ok(self.iter().collect());
        }
        names.iter().map(|n| self.entry(n)).collect()
    }
}
