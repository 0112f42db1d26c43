//! The process-local query result cache: `query::<M>()….cache(ttl).all(&db)` (and
//! [`cached`] for Core selects), the guide's "Caching Strategies".
//!
//! Entries are keyed by the `Database` (its [`instance_id`](Database::instance_id)), the
//! compiled SQL and its bound values, and live for their `ttl` (moka, bounded to
//! [`PROCESS_CACHE_CAPACITY`] entries). Each entry remembers the
//! *generation* of every table its query reads (FROM, JOINs, subqueries in FROM, and the
//! tables of the model's relationships); a write by this process bumps the generations of
//! the tables it wrote — a session's at flush (query-level `update` / `delete` included)
//! and again at commit, the bulk calls (`bulk_*`, `copy_in`, `upsert`) and
//! `orm::insert` / `insert_many` / `update` / `delete` when they finish — so the next read
//! misses and goes to the database. A delete also invalidates the tables of the model's
//! relationships, whose rows `ON DELETE CASCADE` / `SET NULL` may change. A write through
//! `orm::insert` & co. on a connection inside a transaction invalidates when it runs, not
//! at that transaction's commit: a cached read made from another connection in between
//! may keep the rows as they were until the next write of the table or its ttl (a
//! session's writes are invalidated again at commit, so they do not have this gap). Other processes' writes (other servers, `psql`, a migration run
//! elsewhere) are **not** seen: their changes show up when the entry's ttl runs out. So are
//! writes this process makes through raw SQL or Core statements: call
//! [`invalidate_tables`] after them.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use oxalchemy_core::query::{FromItem, Select};
use oxalchemy_core::{compile, Statement};
use oxalchemy_engine::{Database, Error, FromRow};

use crate::model::Model;
use crate::query::Query;

/// The most entries the cache holds; the least useful are evicted beyond it.
pub const PROCESS_CACHE_CAPACITY: u64 = 10_000;

#[derive(Clone)]
struct Entry {
    rows: Arc<dyn Any + Send + Sync>,
    /// The tables read, with their generations when the query ran.
    tables: Arc<[(String, u64)]>,
    ttl: Duration,
}

struct ByTtl;

impl moka::Expiry<String, Entry> for ByTtl {
    fn expire_after_create(&self, _: &String, e: &Entry, _: Instant) -> Option<Duration> {
        Some(e.ttl)
    }
}

struct ProcessCache {
    entries: moka::sync::Cache<String, Entry>,
    generations: RwLock<HashMap<String, u64>>,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
}

fn cache() -> &'static ProcessCache {
    static CACHE: OnceLock<ProcessCache> = OnceLock::new();
    CACHE.get_or_init(|| ProcessCache {
        entries: moka::sync::Cache::builder()
            .max_capacity(PROCESS_CACHE_CAPACITY)
            .expire_after(ByTtl)
            .build(),
        generations: RwLock::new(HashMap::new()),
        hits: AtomicU64::new(0),
        misses: AtomicU64::new(0),
        invalidations: AtomicU64::new(0),
    })
}

impl ProcessCache {
    fn generation(&self, table: &str) -> u64 {
        let map = self.generations.read().unwrap_or_else(|p| p.into_inner());
        map.get(table).copied().unwrap_or(0)
    }
}

/// Counters of the process-local cache since the process started (or
/// [`clear_process_cache`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ProcessCacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads that went to the database (nothing cached, expired, or invalidated).
    pub misses: u64,
    /// Table writes by this process that invalidated cached reads of the table.
    pub invalidations: u64,
    /// Entries held now (approximate: expired ones leave lazily).
    pub entries: u64,
}

/// Hit / miss counters of the process-local query cache.
pub fn process_cache_stats() -> ProcessCacheStats {
    let c = cache();
    ProcessCacheStats {
        hits: c.hits.load(Ordering::Relaxed),
        misses: c.misses.load(Ordering::Relaxed),
        invalidations: c.invalidations.load(Ordering::Relaxed),
        entries: c.entries.entry_count(),
    }
}

/// Empties the process-local cache and resets its counters.
pub fn clear_process_cache() {
    let c = cache();
    c.entries.invalidate_all();
    c.hits.store(0, Ordering::Relaxed);
    c.misses.store(0, Ordering::Relaxed);
    c.invalidations.store(0, Ordering::Relaxed);
}

/// Makes every cached read of these tables a miss: for writes the ORM does not see (raw
/// SQL, Core statements, `Connection::copy_in`). The ORM's session and bulk writes call
/// it themselves.
pub fn invalidate_tables<'t>(tables: impl IntoIterator<Item = &'t str>) {
    let c = cache();
    let mut map = c.generations.write().unwrap_or_else(|p| p.into_inner());
    for t in tables {
        *map.entry(t.to_owned()).or_insert(0) += 1;
        c.invalidations.fetch_add(1, Ordering::Relaxed);
    }
}

/// The tables a DELETE of `M`'s rows may change: its own, and its relationships' (their rows
/// may go with it by `ON DELETE CASCADE` or `SET NULL`, or be association rows), so cached
/// reads of those are invalidated too. Over-invalidating costs one extra read; missing a
/// table would serve deleted rows.
pub(crate) fn delete_tables<M: Model>() -> impl Iterator<Item = &'static str> + Clone {
    std::iter::once(M::TABLE).chain(
        M::relationships()
            .iter()
            .flat_map(|r| std::iter::once(r.target).chain(r.secondary)),
    )
}

/// The tables a select reads: FROM and JOIN items, recursively through subqueries and CTEs
/// and UNION members.
fn tables_of(s: &Select, out: &mut Vec<String>) {
    let item = |f: &FromItem, out: &mut Vec<String>| match f {
        FromItem::Table(t) => out.push(t.name.as_str().to_owned()),
        FromItem::Subquery { query, .. } => tables_of(query, out),
    };
    for f in &s.from {
        item(f, out);
    }
    for j in &s.joins {
        item(&j.target, out);
    }
    for cte in &s.ctes {
        tables_of(&cte.query, out);
    }
    for (_, member) in &s.compound {
        tables_of(member, out);
    }
}

/// Runs `load` unless a live entry for (`db`, `select`) exists; caches what it returns.
async fn through_cache<T, F>(
    db: &Database,
    select: &Select,
    mut tables: Vec<String>,
    ttl: Duration,
    load: F,
) -> Result<Vec<T>, Error>
where
    T: Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<Vec<T>, Error>>,
{
    let c = cache();
    let compiled = compile(db.dialect(), &Statement::Select(select.clone()))?;
    let key = format!(
        "{}\0{}\0{:?}",
        db.instance_id(),
        compiled.sql,
        compiled.binds
    );
    if let Some(e) = c.entries.get(&key) {
        let fresh = e.tables.iter().all(|(t, g)| c.generation(t) == *g);
        if let (true, Some(rows)) = (fresh, e.rows.downcast_ref::<Vec<T>>()) {
            c.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(rows.clone());
        }
        c.entries.invalidate(&key);
    }
    c.misses.fetch_add(1, Ordering::Relaxed);
    tables.sort();
    tables.dedup();
    // Generations read before the query: a write that lands while it runs leaves the entry
    // already stale.
    let tables: Arc<[(String, u64)]> = tables
        .into_iter()
        .map(|t| {
            let g = c.generation(&t);
            (t, g)
        })
        .collect();
    let rows = load.await?;
    c.entries.insert(
        key,
        Entry {
            rows: Arc::new(rows.clone()),
            tables,
            ttl,
        },
    );
    Ok(rows)
}

/// A model query whose result is kept in the process-local cache for `ttl`
/// ([`Query::cache`]).
#[must_use = "a cached query does nothing until `.all(…)` is awaited"]
pub struct CachedQuery<M> {
    query: Query<M>,
    ttl: Duration,
}

impl<M> std::fmt::Debug for CachedQuery<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedQuery")
            .field("query", &self.query)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl<M: Model + Clone> Query<M> {
    /// Keeps this query's result in the **process-local** cache for `ttl`: the same query
    /// (same SQL and values, same database) within `ttl` is answered from memory. Writes by
    /// this process's sessions and bulk calls to the tables it reads invalidate it; writes
    /// by other processes, and this process's raw SQL or Core writes (call
    /// [`invalidate_tables`](crate::invalidate_tables) after those), are not seen until
    /// `ttl` runs out. Statistics: [`process_cache_stats`](crate::process_cache_stats). Run it with
    /// [`all`](CachedQuery::all) on a `&Database` (a connection may be inside a transaction
    /// whose own writes the cache must not mix with).
    pub fn cache(self, ttl: Duration) -> CachedQuery<M> {
        CachedQuery { query: self, ttl }
    }
}

impl<M: Model + Clone> CachedQuery<M> {
    /// Every matching row, from the cache when a live entry exists.
    pub async fn all(self, db: &Database) -> Result<Vec<M>, Error> {
        let select = self.query.statement();
        let mut tables = Vec::new();
        tables_of(&select, &mut tables);
        // Loaded relationships are cached with the rows: their tables invalidate too.
        for r in M::relationships() {
            tables.push(r.target.to_owned());
            tables.extend(r.secondary.map(str::to_owned));
        }
        // Boxed: keeps the cached call's future as small as an uncached one.
        through_cache(db, &select, tables, self.ttl, Box::pin(self.query.all(db))).await
    }
}

/// A Core select (column tuples, DTOs) whose rows are kept in the process-local cache for
/// `ttl`: `cached::<(String, i64)>(select(…), ttl).all(&db)`. Same rules as
/// [`Query::cache`].
pub fn cached<T>(select: Select, ttl: Duration) -> CachedSelect<T> {
    CachedSelect {
        select,
        ttl,
        _rows: std::marker::PhantomData,
    }
}

/// A Core select made by [`cached`].
#[must_use = "a cached query does nothing until `.all(…)` is awaited"]
pub struct CachedSelect<T> {
    select: Select,
    ttl: Duration,
    _rows: std::marker::PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for CachedSelect<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSelect")
            .field("select", &self.select)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl<T: FromRow + Clone + Send + Sync + 'static> CachedSelect<T> {
    /// Every row, from the cache when a live entry exists.
    pub async fn all(self, db: &Database) -> Result<Vec<T>, Error> {
        let mut tables = Vec::new();
        tables_of(&self.select, &mut tables);
        let load = Box::pin(db.query::<T>(Statement::Select(self.select.clone())));
        through_cache(db, &self.select, tables, self.ttl, load).await
    }
}
