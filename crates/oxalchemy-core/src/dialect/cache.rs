//! The compiled-statement cache, as SQLAlchemy's: a statement is compiled once per *shape*
//! and later statements of the same shape only have their values bound again.
//!
//! A statement's shape is everything the compiler's output depends on except the values
//! of its literals: node kinds, names, operators, LIMIT/OFFSET counts, and of each literal
//! only its type (which decides the casts PostgreSQL needs) and whether it is NULL. The
//! shape is written as a byte string (`Shape`), one walk over the tree that is much
//! cheaper than compiling it; names given as `&'static str` (every model's table and column
//! names) are written as their address, not copied. The literals met on the walk, in walk
//! order, are the values a cached [`PreparedSql`] fills its slots with.
//!
//! On a miss the statement is compiled with each bind's origin tracked (the address of the
//! tree's value it copies), which maps every bind to one of the walk's values or marks it
//! as fixed by the shape (LIMIT counts, LIKE escapes). A bind whose origin the walk did not
//! see would make a cached entry wrong for other values, so such statements are compiled
//! every time instead of cached (none are today; a test walks every statement kind).
//!
//! SELECT and `text()` statements are cached: they are what runs in loops. INSERT, UPDATE,
//! DELETE and DDL compile directly (the ORM's flush has its own SQL builders).

use std::sync::Arc;

use hashlink::LruCache;

use super::compiler::{compile, compile_tracked, BindSource, CompileError, Compiled, PreparedSql};
use super::Dialect;
use crate::query::{Select, SelectHead, Statement};
use crate::value::Value;

/// How many statement shapes a cache keeps by default (SQLAlchemy's `query_cache_size`).
pub const DEFAULT_CAPACITY: usize = 500;

/// What a [`StatementCache`] has done: hits (compiled from a kept shape, values bound
/// again), misses (compiled and kept), and its size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Statements whose shape was cached: no compilation.
    pub hits: u64,
    /// Statements compiled because their shape was not cached (then kept).
    pub misses: u64,
    /// Shapes held now.
    pub size: usize,
    /// The most shapes held; the least recently used is dropped beyond it. 0: caching off.
    pub capacity: usize,
}

/// An LRU cache of compiled statements keyed by statement shape (see the module docs).
pub struct StatementCache {
    entries: LruCache<Box<[u8]>, PreparedSql, foldhash::fast::RandomState>,
    capacity: usize,
    hits: u64,
    misses: u64,
    /// The key being built, reused between lookups.
    scratch: Vec<u8>,
    /// The walk's values, reused between lookups (always empty between them).
    values: Vec<&'static Value>,
}

impl std::fmt::Debug for StatementCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementCache")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Default for StatementCache {
    fn default() -> Self {
        StatementCache::new(DEFAULT_CAPACITY)
    }
}

impl StatementCache {
    /// A cache of at most `capacity` shapes; 0 turns caching off (every statement compiles).
    pub fn new(capacity: usize) -> Self {
        StatementCache {
            entries: LruCache::with_hasher(capacity.max(1), foldhash::fast::RandomState::default()),
            capacity,
            hits: 0,
            misses: 0,
            scratch: Vec::with_capacity(256),
            values: Vec::new(),
        }
    }

    /// Its hit/miss counts and size.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits,
            misses: self.misses,
            size: self.entries.len(),
            capacity: self.capacity,
        }
    }

    /// Drops every cached shape (the counts stay).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Compiles `stmt` for `dialect`, from the cached shape when there is one: the same
    /// result as [`compile`], cheaper.
    pub fn compile(
        &mut self,
        dialect: &dyn Dialect,
        stmt: &Statement,
    ) -> Result<Compiled, CompileError> {
        let (sql, binds) = self.compile_shared(dialect, stmt)?;
        Ok(Compiled {
            sql: sql.as_ref().to_owned(),
            binds,
        })
    }

    /// As [`Self::compile`], with the SQL shared with the cache rather than copied: what
    /// a connection runs, so a cache hit copies no text.
    pub fn compile_shared(
        &mut self,
        dialect: &dyn Dialect,
        stmt: &Statement,
    ) -> Result<(Arc<str>, Vec<Value>), CompileError> {
        let uncached = |c: Compiled| (Arc::<str>::from(c.sql), c.binds);
        if self.capacity == 0 {
            return compile(dialect, stmt).map(uncached);
        }
        let mut shape = self.shape(dialect);
        let cacheable = shape.statement(stmt);
        let mut binds = Vec::new();
        let sql = self.lookup_shape(
            dialect,
            shape,
            cacheable,
            Source::Statement(stmt),
            &mut binds,
        )?;
        Ok((sql, binds))
    }

    /// [`Self::compile_shared`] for a SELECT held by reference (a model query's own tree):
    /// a hit neither moves nor clones it; only a miss, which compiles, copies it into a
    /// [`Statement`].
    pub fn compile_shared_select(
        &mut self,
        dialect: &dyn Dialect,
        select: &Select,
    ) -> Result<(Arc<str>, Vec<Value>), CompileError> {
        let mut binds = Vec::new();
        let sql = self.compile_shared_select_into(dialect, select, &mut binds)?;
        Ok((sql, binds))
    }

    /// [`Self::compile_shared_select`] with the binds written into `binds` (cleared
    /// first): a connection passes the same buffer for every statement, so a cache hit
    /// allocates nothing for them.
    pub fn compile_shared_select_into(
        &mut self,
        dialect: &dyn Dialect,
        select: &Select,
        binds: &mut Vec<Value>,
    ) -> Result<Arc<str>, CompileError> {
        binds.clear();
        if self.capacity == 0 {
            let c = compile(dialect, &Statement::Select(select.clone()))?;
            *binds = c.binds;
            return Ok(Arc::<str>::from(c.sql));
        }
        let mut shape = self.shape(dialect);
        // The key `Shape::statement` writes for `Statement::Select`: one entry either way.
        shape.tag(1);
        let cacheable = shape.select(select);
        self.lookup_shape(dialect, shape, cacheable, Source::Select(select), binds)
    }

    /// [`Self::compile_shared_select_into`] for a model query kept as its [`SelectHead`]
    /// and the rest of its SELECT (`select`, whose own columns and FROM items follow the
    /// head's): the head is written into the key as the addresses of its names, not walked
    /// column by column, and a hit builds nothing. Only a miss writes the whole statement
    /// ([`SelectHead::complete`]) to compile it.
    pub fn compile_shared_headed_select_into(
        &mut self,
        dialect: &dyn Dialect,
        head: &SelectHead,
        select: &Select,
        binds: &mut Vec<Value>,
    ) -> Result<Arc<str>, CompileError> {
        binds.clear();
        if self.capacity == 0 {
            let full = Statement::Select(head.complete(select.clone()));
            let c = compile(dialect, &full)?;
            *binds = c.binds;
            return Ok(Arc::<str>::from(c.sql));
        }
        let mut shape = self.shape(dialect);
        // Tag 3: a headed SELECT (1 and 2 are `Shape::statement`'s), so its keys never
        // meet a plain statement's.
        shape.tag(3);
        shape.head(head);
        let cacheable = shape.select(select);
        self.lookup_shape(
            dialect,
            shape,
            cacheable,
            Source::Headed(head, select),
            binds,
        )
    }

    /// An empty shape for `dialect`, in the buffers kept from the last lookup.
    fn shape<'a>(&mut self, dialect: &dyn Dialect) -> Shape<'a> {
        let mut shape = Shape {
            key: std::mem::take(&mut self.scratch),
            // `Vec<&'static Value>` is a `Vec<&'a Value>`: the buffer is reused.
            values: std::mem::take(&mut self.values),
            last_table: None,
        };
        shape.key.clear();
        shape.str(dialect.name());
        shape
    }

    /// Keeps a shape's buffers for the next lookup.
    fn recycle(&mut self, key: Vec<u8>, mut values: Vec<&Value>) {
        self.scratch = key;
        values.clear();
        // Empty, so the map never runs; collected in place, it keeps the allocation
        // under the `'static` lifetime the field needs.
        self.values = values.into_iter().map(|_| unreachable!()).collect();
    }

    fn lookup_shape(
        &mut self,
        dialect: &dyn Dialect,
        shape: Shape<'_>,
        cacheable: bool,
        stmt: Source<'_>,
        binds: &mut Vec<Value>,
    ) -> Result<Arc<str>, CompileError> {
        let Shape { key, values, .. } = shape;
        if !cacheable {
            self.recycle(key, values);
            let c = stmt.with(&[], |stmt, _| compile(dialect, stmt))?;
            *binds = c.binds;
            return Ok(Arc::<str>::from(c.sql));
        }
        if let Some(entry) = self.entries.get(&key[..]) {
            self.hits += 1;
            let sql = entry.fill_shared_into(dialect, |i| values[i].clone(), binds);
            self.recycle(key, values);
            return Ok(sql);
        }
        self.misses += 1;
        let walked = values.len();
        let result = stmt.with(&values, |stmt, values| -> Result<_, CompileError> {
            let tracked = compile_tracked(dialect, stmt, true)?;
            // A hit fills the slots from the lookup's own walk, so a statement completed
            // for compiling (a headed SELECT) must have met the same values in the same
            // order: a head holds no values, so it does, and else it is not kept.
            if values.len() != walked {
                return Ok((tracked.sql.into(), tracked.binds, None));
            }
            if !tracked.params.is_empty() {
                return Err(CompileError::UnpreparedParam);
            }
            let mut sources = Vec::with_capacity(tracked.binds.len());
            for (v, origin) in tracked.binds.iter().zip(&tracked.origins) {
                match origin {
                    None => sources.push(BindSource::Const(v.clone())),
                    Some(p) => match values.iter().position(|w| std::ptr::eq(*w, *p)) {
                        Some(i) => sources.push(BindSource::Param(i)),
                        // Not seen by the walk: this shape cannot be reused safely.
                        None => return Ok((tracked.sql.into(), tracked.binds, None)),
                    },
                }
            }
            let entry = PreparedSql::new(tracked.sql, sources, values.len());
            Ok((entry.shared_sql(), tracked.binds, Some(entry)))
        });
        let (sql, compiled_binds, entry) = match result {
            Ok(r) => r,
            Err(e) => {
                self.recycle(key, values);
                return Err(e);
            }
        };
        if let Some(entry) = entry {
            self.entries.insert(key.clone().into_boxed_slice(), entry);
        }
        self.recycle(key, values);
        *binds = compiled_binds;
        Ok(sql)
    }
}

/// The statement a lookup compiles on a miss: the caller's, or a SELECT held by
/// reference, wrapped (cloned) into a [`Statement`] only when it must be compiled.
#[derive(Clone, Copy)]
enum Source<'s> {
    Statement(&'s Statement),
    Select(&'s Select),
    /// A model query's head and the rest of its SELECT, completed only to compile.
    Headed(&'s SelectHead, &'s Select),
}

impl Source<'_> {
    /// Calls `f` with the statement and its walk's values (`values`, or for a clone, the
    /// clone's own: a bind's origin is matched to them by address).
    fn with<R>(self, values: &[&Value], f: impl FnOnce(&Statement, &[&Value]) -> R) -> R {
        match self {
            Source::Statement(s) => f(s, values),
            Source::Select(s) => Self::walked(&Statement::Select(s.clone()), f),
            Source::Headed(head, s) => {
                Self::walked(&Statement::Select(head.complete(s.clone())), f)
            }
        }
    }

    /// Calls `f` with `stmt`, a statement made to be compiled, and the values of its own
    /// walk.
    fn walked<R>(stmt: &Statement, f: impl FnOnce(&Statement, &[&Value]) -> R) -> R {
        let mut shape = Shape {
            key: Vec::new(),
            values: Vec::new(),
            last_table: None,
        };
        shape.statement(stmt);
        f(stmt, &shape.values)
    }
}

mod shape;

use shape::Shape;

#[cfg(test)]
mod tests;
