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
use crate::expr::{Expr, Ident, OrderBy, TableRef, TextSql};
use crate::query::{FromItem, Select, SelectHead, Statement};
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

/// A statement's shape as bytes, and the literals met on the way. Every node starts with a
/// tag and every list with its length, so two different shapes never write the same bytes.
struct Shape<'a> {
    key: Vec<u8>,
    values: Vec<&'a Value>,
    /// The `&'static str` table qualifying the last column written, if it had one. A column
    /// qualified by the same table (a model's columns, and its filters) is written as tag
    /// 24 and its name, without the table's ten bytes again: the key is hashed and compared
    /// on every lookup, so its length is much of a lookup's cost. Tag 24 means "the table
    /// of the column before", which the bytes before it spell, so two statements that
    /// render differently still never write the same key.
    last_table: Option<&'static str>,
}

impl<'a> Shape<'a> {
    #[inline]
    fn tag(&mut self, t: u8) {
        self.key.push(t);
    }

    /// A count or size: one byte below 255 (list lengths and names nearly always are),
    /// else 255 and eight bytes. Prefix-free, so no two numbers share an encoding; short
    /// keys are what make a lookup cheap (the key is hashed and compared on every call).
    #[inline]
    fn num(&mut self, n: u64) {
        match u8::try_from(n) {
            Ok(b) if b < u8::MAX => self.key.push(b),
            _ => {
                self.key.push(u8::MAX);
                self.key.extend_from_slice(&n.to_le_bytes());
            }
        }
    }

    /// A full-width number (an address, a LIMIT count).
    #[inline]
    fn wide(&mut self, n: u64) {
        self.key.extend_from_slice(&n.to_le_bytes());
    }

    #[inline]
    fn str(&mut self, s: &str) {
        self.num(s.len() as u64);
        self.key.extend_from_slice(s.as_bytes());
    }

    /// A [`SelectHead`]: its names' addresses and lengths, which fix its text.
    fn head(&mut self, head: &SelectHead) {
        self.wide(head.table.as_ptr() as usize as u64);
        self.num(head.table.len() as u64);
        self.wide(head.columns.as_ptr() as usize as u64);
        self.num(head.columns.len() as u64);
    }

    #[inline]
    fn flag(&mut self, b: bool) {
        self.tag(u8::from(b));
    }

    /// A `&'static str` name by address and length (its text can never change), any other
    /// by its text.
    #[inline]
    fn ident(&mut self, i: &Ident) {
        match i.as_static() {
            // The usual case (a model's names) written in one copy: the same bytes as
            // `tag(1)`, `wide(address)`, `num(len)`.
            Some(s) if s.len() < usize::from(u8::MAX) => {
                let mut bytes = [1u8; 10];
                bytes[1..9].copy_from_slice(&(s.as_ptr() as usize as u64).to_le_bytes());
                bytes[9] = s.len() as u8;
                self.key.extend_from_slice(&bytes);
            }
            Some(s) => {
                self.tag(1);
                self.wide(s.as_ptr() as usize as u64);
                self.num(s.len() as u64);
            }
            None => {
                self.tag(2);
                self.str(i.as_str());
            }
        }
    }

    #[inline]
    fn opt_ident(&mut self, i: Option<&Ident>) {
        match i {
            Some(i) => self.ident(i),
            None => self.tag(0),
        }
    }

    /// A literal: only its type goes in the key (casts depend on it), its value is kept.
    #[inline]
    fn value(&mut self, v: &'a Value) {
        self.value_type(v);
        self.values.push(v);
    }

    fn value_type(&mut self, v: &Value) {
        let t = match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::I16(_) => 2,
            Value::I32(_) => 3,
            Value::I64(_) => 4,
            Value::F32(_) => 5,
            Value::F64(_) => 6,
            Value::Text(_) => 7,
            Value::Bytes(_) => 8,
            Value::Json(_) => 9,
            Value::Uuid(_) => 10,
            Value::Date(_) => 11,
            Value::Time(_) => 12,
            Value::DateTime(_) => 13,
            Value::DateTimeTz(_) => 14,
            Value::Decimal(_) => 15,
            Value::Numeric(_) => 16,
            Value::Inet { .. } => 17,
            Value::Array(items) => {
                // An array is cast after its first non-NULL element's type.
                self.tag(18);
                match items.iter().find(|v| !v.is_null()) {
                    Some(first) => self.value_type(first),
                    None => self.tag(0),
                }
                return;
            }
        };
        self.tag(t);
    }

    /// Whether the statement is of a kind the cache keeps.
    fn statement(&mut self, s: &'a Statement) -> bool {
        match s {
            Statement::Select(s) => {
                self.tag(1);
                self.select(s)
            }
            Statement::Text(t) => {
                self.tag(2);
                self.text(t);
                true
            }
            _ => false,
        }
    }

    fn text(&mut self, t: &'a TextSql) {
        self.str(&t.sql);
        self.num(t.binds.len() as u64);
        for (name, v) in &t.binds {
            self.str(name);
            self.value(v);
        }
    }

    fn table(&mut self, t: &TableRef) {
        self.opt_ident(t.schema.as_ref());
        self.ident(&t.name);
        self.opt_ident(t.alias.as_ref());
    }

    fn source(&mut self, f: &'a FromItem) -> bool {
        match f {
            FromItem::Table(t) => {
                self.tag(1);
                self.table(t);
                true
            }
            FromItem::Subquery { query, alias } => {
                self.tag(2);
                self.ident(alias);
                self.select(query)
            }
        }
    }

    fn select(&mut self, s: &'a Select) -> bool {
        // Destructured, not read field by field: a field added to `Select` must be added to
        // the shape (or the cache would hand one statement's SQL to another), and this makes
        // forgetting it a compile error.
        let Select {
            ctes,
            recursive,
            distinct,
            columns,
            from,
            joins,
            where_,
            group_by,
            having,
            compound,
            order_by,
            limit,
            offset,
        } = s;
        // Which parts are there, as one 16-bit mask: most of a model query's parts are
        // empty, and writing a tag or a zero length for each cost more than the rest of
        // its key. A part the mask names is written after it, each self-delimiting, so the
        // key stays prefix-free.
        let parts = [
            !ctes.is_empty(),
            *recursive,
            *distinct,
            !columns.is_empty(),
            !from.is_empty(),
            !joins.is_empty(),
            where_.is_some(),
            !group_by.is_empty(),
            having.is_some(),
            !compound.is_empty(),
            !order_by.is_empty(),
            limit.is_some(),
            offset.is_some(),
        ];
        let mask = parts
            .iter()
            .enumerate()
            .fold(0u16, |m, (bit, on)| m | (u16::from(*on) << bit));
        self.key.extend_from_slice(&mask.to_le_bytes());
        if !ctes.is_empty() {
            self.num(ctes.len() as u64);
            for cte in ctes {
                self.ident(&cte.name);
                self.num(cte.columns.len() as u64);
                for c in &cte.columns {
                    self.ident(c);
                }
                if !self.select(&cte.query) {
                    return false;
                }
            }
        }
        if !columns.is_empty() && !self.exprs(columns) {
            return false;
        }
        if !from.is_empty() {
            self.num(from.len() as u64);
            for f in from {
                if !self.source(f) {
                    return false;
                }
            }
        }
        if !joins.is_empty() {
            self.num(joins.len() as u64);
            for j in joins {
                self.tag(j.kind as u8);
                if !self.source(&j.target) || !self.expr(&j.on) {
                    return false;
                }
            }
        }
        if let Some(w) = where_ {
            if !self.expr(w) {
                return false;
            }
        }
        if !group_by.is_empty() && !self.exprs(group_by) {
            return false;
        }
        if let Some(h) = having {
            if !self.expr(h) {
                return false;
            }
        }
        if !compound.is_empty() {
            self.num(compound.len() as u64);
            for (op, member) in compound {
                self.tag(*op as u8);
                if !self.select(member) {
                    return false;
                }
            }
        }
        if !order_by.is_empty() {
            self.num(order_by.len() as u64);
            for o in order_by {
                if !self.order_item(o) {
                    return false;
                }
            }
        }
        if let Some(n) = limit {
            self.wide(*n);
        }
        if let Some(n) = offset {
            self.wide(*n);
        }
        true
    }

    fn order_item(&mut self, o: &'a OrderBy) -> bool {
        self.flag(o.desc);
        self.tag(match o.nulls {
            None => 0,
            Some(crate::expr::Nulls::First) => 1,
            Some(crate::expr::Nulls::Last) => 2,
        });
        self.expr(&o.expr)
    }

    fn exprs(&mut self, es: &'a [Expr]) -> bool {
        self.num(es.len() as u64);
        es.iter().all(|e| self.expr(e))
    }

    fn opt_expr(&mut self, e: Option<&'a Expr>) -> bool {
        match e {
            Some(e) => {
                self.tag(1);
                self.expr(e)
            }
            None => {
                self.tag(0);
                true
            }
        }
    }

    fn expr(&mut self, e: &'a Expr) -> bool {
        match e {
            Expr::Column { table, name } => {
                let table_static = table.as_ref().and_then(Ident::as_static);
                match (table_static, self.last_table) {
                    // Fat-pointer equality: the same address and length, so the same text.
                    (Some(t), Some(last)) if std::ptr::eq(t, last) => self.tag(24),
                    _ => {
                        self.tag(1);
                        self.opt_ident(table.as_ref());
                    }
                }
                self.ident(name);
                self.last_table = table_static;
            }
            Expr::Star(t) => {
                self.tag(2);
                self.opt_ident(t.as_ref());
            }
            Expr::Bind(v) => {
                self.tag(3);
                self.value(v);
            }
            Expr::Excluded(name) => {
                self.tag(4);
                self.ident(name);
            }
            Expr::Binary { op, operands } => {
                self.tag(5);
                self.tag(*op as u8);
                let [left, right] = &**operands;
                return self.expr(left) && self.expr(right);
            }
            Expr::Neg(x) => {
                self.tag(6);
                return self.expr(x);
            }
            Expr::Not(x) => {
                self.tag(7);
                return self.expr(x);
            }
            Expr::And(items) => {
                self.tag(8);
                return self.exprs(items);
            }
            Expr::Or(items) => {
                self.tag(9);
                return self.exprs(items);
            }
            Expr::IsNull { expr, negated } => {
                self.tag(10);
                self.flag(*negated);
                return self.expr(expr);
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                self.tag(11);
                self.flag(*negated);
                return self.expr(expr) && self.exprs(list);
            }
            Expr::InSubquery {
                expr,
                query,
                negated,
            } => {
                self.tag(12);
                self.flag(*negated);
                return self.expr(expr) && self.select(query);
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                self.tag(13);
                self.flag(*negated);
                return self.expr(expr) && self.expr(low) && self.expr(high);
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                case_insensitive,
                negated,
            } => {
                self.tag(14);
                self.num(escape.map_or(u64::MAX, u64::from));
                self.flag(*case_insensitive);
                self.flag(*negated);
                return self.expr(expr) && self.expr(pattern);
            }
            Expr::Func {
                func,
                args,
                distinct,
            } => {
                self.tag(15);
                self.tag(*func as u8);
                self.flag(*distinct);
                return self.exprs(args);
            }
            Expr::CountStar => self.tag(16),
            Expr::Label { expr, name } => {
                self.tag(17);
                self.ident(name);
                return self.expr(expr);
            }
            Expr::Case { whens, else_ } => {
                self.tag(18);
                self.num(whens.len() as u64);
                for (when, then) in whens {
                    if !self.expr(when) || !self.expr(then) {
                        return false;
                    }
                }
                return self.opt_expr(else_.as_deref());
            }
            Expr::Cast { expr, ty } => {
                self.tag(19);
                // Rare enough that formatting the type is fine.
                self.str(&format!("{ty:?}"));
                return self.expr(expr);
            }
            Expr::Subquery(q) => {
                self.tag(20);
                return self.select(q);
            }
            Expr::Exists { query, negated } => {
                self.tag(21);
                self.flag(*negated);
                return self.select(query);
            }
            Expr::Text(t) => {
                self.tag(22);
                self.text(t);
            }
            Expr::Nested(x) => {
                self.tag(23);
                return self.expr(x);
            }
            // A prepared statement's placeholder: compiling it as a plain statement fails.
            Expr::Param => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests;
