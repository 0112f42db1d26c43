//! Eager loading: `selectinload` (one IN query per relationship and level, chunked to the
//! bind limit) and `joinedload` (a LEFT OUTER JOIN in the main query, many-to-one). Loader
//! options fill the `Many<T>` / `One<T>` fields of the objects a query returns; nothing is
//! ever loaded implicitly.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use oxalchemy_core::expr::Ident;
use oxalchemy_core::query::{select, FromItem, Join, JoinKind};
use oxalchemy_core::schema::{Constraint, Table};
use oxalchemy_core::{compile, Expr, Select, Value};
use oxalchemy_engine::{Connection, Error, Row};

use crate::model::{Model, RelationshipDef, RelationshipKind};
use crate::relation::{Many, One, Relationship, RelationshipSlot};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A loader option for parents of type `M`.
pub trait Loader<M>: Send + Sync {
    /// Loads the relationship for `parents` (which were loaded without it), logging every
    /// statement it runs.
    fn load<'a>(
        &'a self,
        conn: &'a mut Connection,
        parents: &'a mut [M],
        log: &'a mut Vec<String>,
    ) -> BoxFuture<'a, ()>;

    /// For a joined loader: how it extends the main query and decodes its columns.
    fn joined(&self) -> Option<&dyn JoinedLoader<M>> {
        None
    }

    /// Moves what this loader loaded from `from` into `to` (a session keeps its own object
    /// for a row it already holds, and gives it the freshly loaded relationship).
    fn transfer(&self, from: &mut M, to: &mut M);
}

fn transfer_slot<M, T>(slot: RelationshipSlot<M, T>, from: &mut M, to: &mut M) {
    match slot {
        RelationshipSlot::Many(f) => *f(to) = std::mem::take(f(from)),
        RelationshipSlot::One(f) => *f(to) = std::mem::take(f(from)),
    }
}

/// The part of a loader that rides on the main query (joinedload).
pub trait JoinedLoader<M>: Send + Sync {
    /// Adds the join and the target's columns to the main SELECT.
    fn extend(&self, select: Select, alias: &str) -> Result<Select, Error>;
    /// Reads the target's columns, starting at `*idx`, into `parent`.
    fn decode(&self, row: &Row<'_>, idx: &mut usize, parent: &mut M) -> Result<(), Error>;
    /// Whether the join repeats parent rows (a collection), so parents must be merged.
    fn repeats_parents(&self) -> bool {
        false
    }
    /// Moves what `from` (a repeated parent row) loaded into `into` (its first row).
    fn merge(&self, _from: &mut M, _into: &mut M) {}
}

/// FxHash (rustc's hasher): grouping thousands of loaded rows by key is hot, and the keys
/// come from our own database rows, so SipHash's flood resistance buys nothing here.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// A hashable form of a key value (integers of every width compare equal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyValue {
    Int(i64),
    Text(String),
    Other(String),
}

fn key_value(v: &Value) -> Option<KeyValue> {
    Some(match v {
        Value::Null => return None,
        Value::I16(n) => KeyValue::Int(i64::from(*n)),
        Value::I32(n) => KeyValue::Int(i64::from(*n)),
        Value::I64(n) => KeyValue::Int(*n),
        Value::Text(s) => KeyValue::Text(s.clone()),
        other => KeyValue::Other(format!("{other:?}")),
    })
}

fn unsupported(def: &RelationshipDef, what: &str) -> Error {
    Error::Database {
        code: None,
        message: format!("relationship `{}`: {what}", def.name),
    }
}

/// The single-column foreign key of `child` that references `parent_table`.
pub(crate) fn foreign_key_to(
    declared: Option<&'static str>,
    child: &Table,
    parent_table: &str,
) -> Result<String, Error> {
    if let Some(c) = declared {
        return Ok(c.to_owned());
    }
    let found: Vec<String> = child
        .constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::ForeignKey(fk)
                if fk.ref_table.as_str() == parent_table && fk.columns.len() == 1 =>
            {
                Some(fk.columns[0].to_string())
            }
            _ => None,
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::Database {
            code: None,
            message: format!(
                "`{}` has no foreign key to `{parent_table}`; declare #[column(foreign_key = \"{parent_table}.id\")]",
                child.name
            ),
        }),
        _ => Err(Error::Database {
            code: None,
            message: format!(
                "`{}` has several foreign keys to `{parent_table}`; name one with #[relationship(foreign_key = \"…\")]",
                child.name
            ),
        }),
    }
}

/// The one-to-many foreign key on the child side: declared on the relationship, on its
/// `back_populates` partner, or the single FK from child to parent.
pub(crate) fn one_to_many_fk<M: Model, T: Model>(def: &RelationshipDef) -> Result<String, Error> {
    let declared = def.foreign_key.or_else(|| {
        def.back_populates.and_then(|back| {
            T::relationships()
                .iter()
                .find(|r| r.name == back)
                .and_then(|r| r.foreign_key)
        })
    });
    foreign_key_to(declared, &T::table(), M::TABLE)
}

/// `posts` → `post_id`, `categories` → `category_id`: the association-table column naming
/// the guide uses (`post_tags.post_id`, `post_tags.tag_id`).
pub(crate) fn association_column(table: &str) -> String {
    let singular = if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = table.strip_suffix('s') {
        stem.to_owned()
    } else {
        table.to_owned()
    };
    format!("{singular}_id")
}

fn single_key<M: Model>(obj: &M, def: &RelationshipDef) -> Result<Value, Error> {
    let mut pk = Vec::new();
    obj.primary_key_values(&mut pk);
    match pk.as_slice() {
        [(_, v)] => Ok(v.clone()),
        _ => Err(unsupported(
            def,
            "eager loading needs a single-column primary key",
        )),
    }
}

fn column_value<M: Model>(obj: &M, column: &str) -> Value {
    let mut values = Vec::new();
    obj.insert_values(&mut values);
    obj.primary_key_values(&mut values);
    values
        .into_iter()
        .find(|(c, _)| *c == column)
        .map(|(_, v)| v)
        .unwrap_or(Value::Null)
}

fn qualified(table: &str, column: &str) -> Expr {
    Expr::Column {
        table: Some(Ident::from(table.to_owned())),
        name: Ident::from(column.to_owned()),
    }
}

/// Runs `select … WHERE <key_column> IN (keys)` in chunks under the bind limit, decoding
/// each row's key and model. `key_at: None`: the key is column 0 and the model starts at
/// column 1; `Some(i)`: the model starts at column 0 and its column `i` is the key.
async fn keyed_rows<T: Model>(
    conn: &mut Connection,
    log: &mut Vec<String>,
    base: &Select,
    key_column: Expr,
    keys: Vec<Value>,
    key_at: Option<usize>,
) -> Result<(Vec<Value>, Vec<T>), Error> {
    let mut row_keys = Vec::new();
    let mut objects = Vec::new();
    let chunk = conn.dialect().max_binds().saturating_sub(16).max(1);
    for part in keys.chunks(chunk) {
        let stmt = base
            .clone()
            .filter(key_column.clone().in_(part.iter().cloned()));
        let c = compile(conn.dialect(), &stmt.into())?;
        log.push(c.sql.clone());
        // Decoded straight into the two vectors (no tuple, no unzip).
        conn.query_map(&c, false, |row| {
            let (key_col, mut idx) = match key_at {
                Some(i) => (i, 0),
                None => (0, 1),
            };
            row_keys.push(row.get::<Value>(key_col)?);
            objects.push(T::read(row, &mut idx)?);
            Ok(())
        })
        .await?;
    }
    Ok((row_keys, objects))
}

fn model_columns<T: Model>(table: &str) -> impl Iterator<Item = Expr> + '_ {
    T::columns().iter().map(move |c| qualified(table, c))
}

/// `selectinload(User::posts)`: one `SELECT … WHERE fk IN (…)` for the relationship; chain
/// `.selectinload(Post::tags)` for the next level.
pub struct SelectIn<M, T> {
    rel: Relationship<M, T>,
    nested: Vec<Arc<dyn Loader<T>>>,
}

/// Loads a relationship with one IN query per level (SQLAlchemy's `selectinload`).
pub fn selectinload<M: Model, T: Model + Clone>(rel: Relationship<M, T>) -> SelectIn<M, T> {
    SelectIn {
        rel,
        nested: Vec::new(),
    }
}

impl<M: Model, T: Model + Clone> SelectIn<M, T> {
    /// Loads `rel` of the loaded `T`s too (the next level).
    pub fn selectinload<U: Model + Clone>(mut self, rel: Relationship<T, U>) -> Self {
        self.nested.push(Arc::new(selectinload(rel)));
        self
    }
    /// Any loader for the next level, e.g. a nested chain built separately.
    pub fn then(mut self, loader: impl Loader<T> + 'static) -> Self {
        self.nested.push(Arc::new(loader));
        self
    }

    async fn run(
        &self,
        conn: &mut Connection,
        parents: &mut [M],
        log: &mut Vec<String>,
    ) -> Result<(), Error> {
        let def = self.rel.def().ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no relationship `{}`", M::NAME, self.rel.name()),
        })?;
        if parents.is_empty() {
            return Ok(());
        }
        match def.kind {
            RelationshipKind::ManyToOne => {
                let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
                let target_key = match T::primary_key_columns() {
                    [one] => *one,
                    _ => return Err(unsupported(def, "the target needs a single-column key")),
                };
                let refs: Vec<Value> = parents.iter().map(|p| column_value(p, &fk)).collect();
                let mut seen: FxMap<KeyValue, ()> = FxMap::default();
                let mut keys = Vec::new();
                for v in &refs {
                    if let Some(k) = key_value(v) {
                        if seen.insert(k, ()).is_none() {
                            keys.push(v.clone());
                        }
                    }
                }
                let base = select(
                    std::iter::once(qualified(T::TABLE, target_key))
                        .chain(model_columns::<T>(T::TABLE)),
                )
                .from(oxalchemy_core::table(T::TABLE));
                let (row_keys, mut targets): (Vec<Value>, Vec<T>) = if keys.is_empty() {
                    (Vec::new(), Vec::new())
                } else {
                    let at = T::columns().iter().position(|c| *c == target_key);
                    let base = match at {
                        Some(_) => select(model_columns::<T>(T::TABLE))
                            .from(oxalchemy_core::table(T::TABLE)),
                        None => base,
                    };
                    keyed_rows(conn, log, &base, qualified(T::TABLE, target_key), keys, at).await?
                };
                for l in &self.nested {
                    l.load(conn, &mut targets, log).await?;
                }
                let by_key: HashMap<KeyValue, T> =
                    row_keys.iter().filter_map(key_value).zip(targets).collect();
                let RelationshipSlot::One(slot) = self.rel.slot() else {
                    return Err(unsupported(
                        def,
                        "a many-to-one relationship needs a One<T> field",
                    ));
                };
                for (p, r) in parents.iter_mut().zip(&refs) {
                    let target = key_value(r).and_then(|k| by_key.get(&k).cloned());
                    *slot(p) = One::loaded(target);
                }
            }
            RelationshipKind::OneToMany | RelationshipKind::ManyToMany => {
                let keys: Vec<Value> = parents
                    .iter()
                    .map(|p| single_key(p, def))
                    .collect::<Result<_, _>>()?;
                let (base, key_column, key_at) = if def.kind == RelationshipKind::OneToMany {
                    let fk = one_to_many_fk::<M, T>(def)?;
                    // The foreign key is one of the child's own columns: read the key there.
                    let at = T::columns().iter().position(|c| *c == fk);
                    let base = match at {
                        Some(_) => select(model_columns::<T>(T::TABLE)),
                        None => select(
                            std::iter::once(qualified(T::TABLE, &fk))
                                .chain(model_columns::<T>(T::TABLE)),
                        ),
                    }
                    .from(oxalchemy_core::table(T::TABLE));
                    (base, qualified(T::TABLE, &fk), at)
                } else {
                    let secondary = def
                        .secondary
                        .ok_or_else(|| unsupported(def, "many-to-many needs `secondary`"))?;
                    let local = association_column(M::TABLE);
                    let remote = association_column(T::TABLE);
                    let target_key = match T::primary_key_columns() {
                        [one] => *one,
                        _ => return Err(unsupported(def, "the target needs a single-column key")),
                    };
                    let mut base = select(
                        std::iter::once(qualified(secondary, &local))
                            .chain(model_columns::<T>(T::TABLE)),
                    )
                    .from(oxalchemy_core::table(T::TABLE));
                    base.joins.push(Join {
                        kind: JoinKind::Inner,
                        target: FromItem::Table(oxalchemy_core::table(secondary)),
                        on: qualified(secondary, &remote).eq(qualified(T::TABLE, target_key)),
                    });
                    (base, qualified(secondary, &local), None)
                };
                // Collections keep the database's order unless the relationship declares one.
                let base = match def.order_by {
                    Some(col) => base.order_by(qualified(T::TABLE, col).asc()),
                    None => base,
                };
                let (row_keys, mut children): (Vec<Value>, Vec<T>) =
                    keyed_rows(conn, log, &base, key_column, keys.clone(), key_at).await?;
                for l in &self.nested {
                    l.load(conn, &mut children, log).await?;
                }
                let mut groups: FxMap<KeyValue, Vec<T>> = FxMap::default();
                for (k, child) in row_keys.iter().zip(children) {
                    if let Some(k) = key_value(k) {
                        groups.entry(k).or_default().push(child);
                    }
                }
                let RelationshipSlot::Many(slot) = self.rel.slot() else {
                    return Err(unsupported(
                        def,
                        "a collection relationship needs a Many<T> field",
                    ));
                };
                // The same parent may appear twice (e.g. joined targets): then it gets a copy.
                let mut remaining: FxMap<KeyValue, usize> = FxMap::default();
                for k in keys.iter().filter_map(key_value) {
                    *remaining.entry(k).or_default() += 1;
                }
                for (p, k) in parents.iter_mut().zip(&keys) {
                    let items = match key_value(k) {
                        Some(k) => {
                            let left = remaining.get_mut(&k).map(|n| {
                                *n -= 1;
                                *n
                            });
                            if left == Some(0) {
                                groups.remove(&k).unwrap_or_default()
                            } else {
                                groups.get(&k).cloned().unwrap_or_default()
                            }
                        }
                        None => Vec::new(),
                    };
                    *slot(p) = Many::loaded(items);
                }
            }
        }
        Ok(())
    }
}

impl<M: Model, T: Model + Clone> Loader<M> for SelectIn<M, T> {
    fn load<'a>(
        &'a self,
        conn: &'a mut Connection,
        parents: &'a mut [M],
        log: &'a mut Vec<String>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.run(conn, parents, log))
    }

    fn transfer(&self, from: &mut M, to: &mut M) {
        transfer_slot(self.rel.slot(), from, to);
    }
}

/// `joinedload(Post::author)`: the target rides on the main query through a LEFT OUTER JOIN
/// (many-to-one; use `selectinload` for collections, which a JOIN would multiply).
pub struct JoinedLoad<M, T> {
    rel: Relationship<M, T>,
    nested: Vec<Arc<dyn Loader<T>>>,
    /// false for `contains_eager`: the query already joins the target's table.
    adds_join: bool,
}

/// Loads a many-to-one relationship in the same statement (SQLAlchemy's `joinedload`).
pub fn joinedload<M: Model, T: Model + Clone>(rel: Relationship<M, T>) -> JoinedLoad<M, T> {
    JoinedLoad {
        rel,
        nested: Vec::new(),
        adds_join: true,
    }
}

/// Fills a many-to-one relationship from a join the query already has
/// (`.join(table("users"), Post::author_id.eq(User::id))`): SQLAlchemy's `contains_eager`.
/// The target's columns are selected from its table name.
pub fn contains_eager<M: Model, T: Model + Clone>(rel: Relationship<M, T>) -> JoinedLoad<M, T> {
    JoinedLoad {
        rel,
        nested: Vec::new(),
        adds_join: false,
    }
}

impl<M: Model, T: Model + Clone> JoinedLoad<M, T> {
    /// Loads `rel` of the joined `T`s with a follow-up IN query.
    pub fn selectinload<U: Model + Clone>(mut self, rel: Relationship<T, U>) -> Self {
        self.nested.push(Arc::new(selectinload(rel)));
        self
    }
}

impl<M: Model, T: Model + Clone> JoinedLoader<M> for JoinedLoad<M, T> {
    fn extend(&self, mut select: Select, alias: &str) -> Result<Select, Error> {
        let def = self.rel.def().ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no relationship `{}`", M::NAME, self.rel.name()),
        })?;
        if def.kind == RelationshipKind::OneToMany && self.adds_join {
            return self.extend_collection(def, select, alias);
        }
        if def.kind != RelationshipKind::ManyToOne {
            return Err(unsupported(
                def,
                "joinedload supports many-to-one and one-to-many relationships; use selectinload here",
            ));
        }
        let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
        let target_key = match T::primary_key_columns() {
            [one] => *one,
            _ => return Err(unsupported(def, "the target needs a single-column key")),
        };
        if !self.adds_join {
            select.columns.extend(model_columns::<T>(T::TABLE));
            return Ok(select);
        }
        select.columns.extend(model_columns::<T>(alias));
        select.joins.push(Join {
            kind: JoinKind::Left,
            target: FromItem::Table(
                oxalchemy_core::table(T::TABLE).alias(Ident::from(alias.to_owned())),
            ),
            on: qualified(alias, target_key).eq(qualified(M::TABLE, &fk)),
        });
        Ok(select)
    }

    fn decode(&self, row: &Row<'_>, idx: &mut usize, parent: &mut M) -> Result<(), Error> {
        let width = T::columns().len();
        let key_offset = T::columns()
            .iter()
            .position(|c| Some(*c) == T::primary_key_columns().first().copied())
            .unwrap_or(0);
        // A NULL key means the LEFT JOIN found nothing.
        let key: Value = row.get(*idx + key_offset)?;
        let target = if key.is_null() {
            *idx += width;
            None
        } else {
            Some(T::read(row, idx)?)
        };
        match self.rel.slot() {
            RelationshipSlot::One(slot) => *slot(parent) = One::loaded(target),
            RelationshipSlot::Many(slot) => {
                *slot(parent) = Many::loaded(target.into_iter().collect())
            }
        }
        Ok(())
    }

    fn repeats_parents(&self) -> bool {
        matches!(self.rel.slot(), RelationshipSlot::Many(_))
    }

    fn merge(&self, from: &mut M, into: &mut M) {
        if let RelationshipSlot::Many(slot) = self.rel.slot() {
            slot(into).absorb(slot(from));
        }
    }
}

impl<M: Model, T: Model + Clone> JoinedLoad<M, T> {
    /// `LEFT OUTER JOIN` of a collection. A LIMIT/OFFSET applies to parents, so the parent
    /// query becomes a subquery named like the parent's table (as SQLAlchemy does).
    fn extend_collection(
        &self,
        def: &RelationshipDef,
        mut select: Select,
        alias: &str,
    ) -> Result<Select, Error> {
        let fk = one_to_many_fk::<M, T>(def)?;
        let pk = match M::primary_key_columns() {
            [one] => *one,
            _ => {
                return Err(unsupported(
                    def,
                    "joinedload needs a single-column primary key",
                ))
            }
        };
        if select.limit.is_some() || select.offset.is_some() {
            if select.columns.len() != M::columns().len() || !select.joins.is_empty() {
                return Err(unsupported(
                    def,
                    "a limited query with other joins cannot joinedload a collection; use selectinload",
                ));
            }
            let order = select.order_by.clone();
            let mut outer = oxalchemy_core::select(model_columns::<M>(M::TABLE))
                .from_subquery(select, Ident::new_static(M::TABLE));
            outer.order_by = order;
            select = outer;
        }
        select.columns.extend(model_columns::<T>(alias));
        select.joins.push(Join {
            kind: JoinKind::Left,
            target: FromItem::Table(
                oxalchemy_core::table(T::TABLE).alias(Ident::from(alias.to_owned())),
            ),
            on: qualified(alias, &fk).eq(qualified(M::TABLE, pk)),
        });
        Ok(select)
    }
}

impl<M: Model, T: Model + Clone> Loader<M> for JoinedLoad<M, T> {
    fn load<'a>(
        &'a self,
        conn: &'a mut Connection,
        parents: &'a mut [M],
        log: &'a mut Vec<String>,
    ) -> BoxFuture<'a, ()> {
        // The join filled the field; nested loaders run on the joined targets.
        Box::pin(async move {
            if self.nested.is_empty() {
                return Ok(());
            }
            let RelationshipSlot::One(slot) = self.rel.slot() else {
                return Ok(());
            };
            let mut targets: Vec<T> = parents
                .iter_mut()
                .filter_map(|p| slot(p).get().ok().flatten().cloned())
                .collect();
            for l in &self.nested {
                l.load(conn, &mut targets, log).await?;
            }
            let mut by_key: HashMap<KeyValue, T> = HashMap::new();
            for t in targets {
                let mut pk = Vec::new();
                t.primary_key_values(&mut pk);
                if let Some(k) = pk.first().and_then(|(_, v)| key_value(v)) {
                    by_key.insert(k, t);
                }
            }
            for p in parents.iter_mut() {
                let current = slot(p).get().ok().flatten().map(|t| {
                    let mut pk = Vec::new();
                    t.primary_key_values(&mut pk);
                    pk.first().and_then(|(_, v)| key_value(v))
                });
                if let Some(Some(k)) = current {
                    if let Some(t) = by_key.get(&k) {
                        *slot(p) = One::loaded(Some(t.clone()));
                    }
                }
            }
            Ok(())
        })
    }

    fn joined(&self) -> Option<&dyn JoinedLoader<M>> {
        Some(self)
    }

    fn transfer(&self, from: &mut M, to: &mut M) {
        transfer_slot(self.rel.slot(), from, to);
    }
}

/// Loads a relationship for objects already in hand: the explicit, on-demand load.
pub async fn load<M: Model>(
    conn: &mut Connection,
    objects: &mut [M],
    loader: impl Loader<M>,
) -> Result<(), Error> {
    let mut log = Vec::new();
    loader.load(conn, objects, &mut log).await
}

impl<M: Model, T: Model> Relationship<M, T> {
    /// `EXISTS` a related `T` matching `cond` (SQLAlchemy's `User.posts.any(…)`), for
    /// one-to-many and many-to-many relationships.
    pub fn any(&self, cond: Expr) -> Result<Expr, Error> {
        let def = self.def().ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no relationship `{}`", M::NAME, self.name()),
        })?;
        let parent_key = match M::primary_key_columns() {
            [one] => *one,
            _ => return Err(unsupported(def, "any() needs a single-column primary key")),
        };
        let sub = match def.kind {
            RelationshipKind::OneToMany => {
                let fk = one_to_many_fk::<M, T>(def)?;
                select([Expr::Bind(Value::I64(1))])
                    .from(oxalchemy_core::table(T::TABLE))
                    .filter(qualified(T::TABLE, &fk).eq(qualified(M::TABLE, parent_key)))
                    .filter(cond)
            }
            RelationshipKind::ManyToMany => {
                let secondary = def
                    .secondary
                    .ok_or_else(|| unsupported(def, "many-to-many needs `secondary`"))?;
                let target_key = match T::primary_key_columns() {
                    [one] => *one,
                    _ => return Err(unsupported(def, "the target needs a single-column key")),
                };
                select([Expr::Bind(Value::I64(1))])
                    .from(oxalchemy_core::table(secondary))
                    .join(
                        oxalchemy_core::table(T::TABLE),
                        qualified(T::TABLE, target_key)
                            .eq(qualified(secondary, &association_column(T::TABLE))),
                    )
                    .filter(
                        qualified(secondary, &association_column(M::TABLE))
                            .eq(qualified(M::TABLE, parent_key)),
                    )
                    .filter(cond)
            }
            RelationshipKind::ManyToOne => {
                return Err(unsupported(def, "use has() for a many-to-one relationship"))
            }
        };
        Ok(oxalchemy_core::exists(sub))
    }

    /// `EXISTS` the related parent matching `cond` (SQLAlchemy's `Post.author.has(…)`), for
    /// many-to-one relationships.
    pub fn has(&self, cond: Expr) -> Result<Expr, Error> {
        let def = self.def().ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no relationship `{}`", M::NAME, self.name()),
        })?;
        if def.kind != RelationshipKind::ManyToOne {
            return Err(unsupported(def, "use any() for a collection relationship"));
        }
        let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
        let target_key = match T::primary_key_columns() {
            [one] => *one,
            _ => return Err(unsupported(def, "the target needs a single-column key")),
        };
        Ok(oxalchemy_core::exists(
            select([Expr::Bind(Value::I64(1))])
                .from(oxalchemy_core::table(T::TABLE))
                .filter(qualified(T::TABLE, target_key).eq(qualified(M::TABLE, &fk)))
                .filter(cond),
        ))
    }
}

impl<M: Model, T: Model> Relationship<M, T> {
    /// The joins that go from `M` to `T` along this relationship (two for many-to-many,
    /// through the association table).
    pub fn join_path(&self) -> Result<Vec<(FromItem, Expr)>, Error> {
        let def = self.def().ok_or_else(|| Error::Database {
            code: None,
            message: format!("{} has no relationship `{}`", M::NAME, self.name()),
        })?;
        let key_of = |cols: &'static [&'static str], what: &str| match cols {
            [one] => Ok(*one),
            _ => Err(unsupported(
                def,
                &format!("joining needs a single-column key on {what}"),
            )),
        };
        Ok(match def.kind {
            RelationshipKind::ManyToOne => {
                let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
                let pk = key_of(T::primary_key_columns(), T::NAME)?;
                vec![(
                    FromItem::Table(oxalchemy_core::table(T::TABLE)),
                    qualified(T::TABLE, pk).eq(qualified(M::TABLE, &fk)),
                )]
            }
            RelationshipKind::OneToMany => {
                let fk = one_to_many_fk::<M, T>(def)?;
                let pk = key_of(M::primary_key_columns(), M::NAME)?;
                vec![(
                    FromItem::Table(oxalchemy_core::table(T::TABLE)),
                    qualified(T::TABLE, &fk).eq(qualified(M::TABLE, pk)),
                )]
            }
            RelationshipKind::ManyToMany => {
                let secondary = def
                    .secondary
                    .ok_or_else(|| unsupported(def, "many-to-many needs `secondary`"))?;
                let mpk = key_of(M::primary_key_columns(), M::NAME)?;
                let tpk = key_of(T::primary_key_columns(), T::NAME)?;
                vec![
                    (
                        FromItem::Table(oxalchemy_core::table(secondary)),
                        qualified(secondary, &association_column(M::TABLE))
                            .eq(qualified(M::TABLE, mpk)),
                    ),
                    (
                        FromItem::Table(oxalchemy_core::table(T::TABLE)),
                        qualified(T::TABLE, tpk)
                            .eq(qualified(secondary, &association_column(T::TABLE))),
                    ),
                ]
            }
        })
    }
}
