//! `selectinload`: after the main query, one `SELECT … WHERE key IN (…)` per relationship
//! and level (chunked under the dialect's bind limit), grouped back onto the parents by key.

use std::sync::Arc;

use oxalchemy_core::query::{select, FromItem, Join, JoinKind};
use oxalchemy_core::{Expr, Select, Value};
use oxalchemy_engine::{Connection, Error};

use super::{
    association_column, column_value, foreign_key_to, key_value, model_columns, no_relationship,
    one_to_many_fk, qualified, single_column_key, single_key, transfer_slot, unsupported,
    BoxFuture, FxMap, KeyValue, Loader,
};
use crate::errors::missing_secondary;
use crate::model::{Model, RelationshipDef, RelationshipKind};
use crate::relation::{Many, One, Relationship, RelationshipSlot};

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
        let c = conn.compile(&stmt.into())?;
        log.push(c.sql.clone());
        // Decoded straight into the two vectors (no tuple, no unzip).
        conn.query_map_read(&c, |row| {
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
        let def = self
            .rel
            .def()
            .ok_or_else(|| no_relationship::<M>(self.rel.name()))?;
        if parents.is_empty() {
            return Ok(());
        }
        match def.kind {
            RelationshipKind::ManyToOne => self.load_parents(def, conn, parents, log).await,
            RelationshipKind::OneToMany | RelationshipKind::ManyToMany => {
                self.load_collections(def, conn, parents, log).await
            }
        }
    }

    /// Many-to-one: one IN query over the distinct foreign-key values.
    async fn load_parents(
        &self,
        def: &RelationshipDef,
        conn: &mut Connection,
        parents: &mut [M],
        log: &mut Vec<String>,
    ) -> Result<(), Error> {
        let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
        let target_key = single_column_key::<T>(def)?;
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
        let (row_keys, mut targets): (Vec<Value>, Vec<T>) = if keys.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            // When the key is one of the target's own columns, read it there.
            let at = T::columns().iter().position(|c| *c == target_key);
            let base = match at {
                Some(_) => select(model_columns::<T>(T::TABLE)),
                None => select(
                    std::iter::once(qualified(T::TABLE, target_key))
                        .chain(model_columns::<T>(T::TABLE)),
                ),
            }
            .from(oxalchemy_core::table(T::TABLE));
            let key_column = qualified(T::TABLE, target_key);
            keyed_rows(conn, log, &base, key_column, keys, at).await?
        };
        for l in &self.nested {
            l.load(conn, &mut targets, log).await?;
        }
        let by_key: FxMap<KeyValue, T> =
            row_keys.iter().filter_map(key_value).zip(targets).collect();
        let RelationshipSlot::One(slot) = self.rel.slot() else {
            return Err(unsupported(
                def,
                "a many-to-one relationship needs a One<T> field",
            ));
        };
        for (p, r) in parents.iter_mut().zip(&refs) {
            let target = key_value(r).and_then(|k| by_key.get(&k).cloned());
            *slot(p) = One::fetched(target);
        }
        Ok(())
    }

    /// One-to-many and many-to-many: one IN query over the parents' keys, grouped back by
    /// key.
    async fn load_collections(
        &self,
        def: &RelationshipDef,
        conn: &mut Connection,
        parents: &mut [M],
        log: &mut Vec<String>,
    ) -> Result<(), Error> {
        let keys: Vec<Value> = parents
            .iter()
            .map(|p| single_key(p, def))
            .collect::<Result<_, _>>()?;
        let (base, key_column, key_at) = collection_query::<M, T>(def)?;
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
            *slot(p) = Many::fetched(items);
        }
        Ok(())
    }
}

/// The SELECT of a collection's rows, the column holding each row's parent key, and where
/// that key sits in the row (see [`keyed_rows`]).
fn collection_query<M: Model, T: Model>(
    def: &RelationshipDef,
) -> Result<(Select, Expr, Option<usize>), Error> {
    let (base, key_column, key_at) = if def.kind == RelationshipKind::OneToMany {
        let fk = one_to_many_fk::<M, T>(def)?;
        // The foreign key is one of the child's own columns: read the key there.
        let at = T::columns().iter().position(|c| *c == fk);
        let base = match at {
            Some(_) => select(model_columns::<T>(T::TABLE)),
            None => select(
                std::iter::once(qualified(T::TABLE, &fk)).chain(model_columns::<T>(T::TABLE)),
            ),
        }
        .from(oxalchemy_core::table(T::TABLE));
        (base, qualified(T::TABLE, &fk), at)
    } else {
        let secondary = def.secondary.ok_or_else(|| missing_secondary(def))?;
        let local = association_column(M::TABLE);
        let remote = association_column(T::TABLE);
        let target_key = single_column_key::<T>(def)?;
        let mut base = select(
            std::iter::once(qualified(secondary, &local)).chain(model_columns::<T>(T::TABLE)),
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
    Ok((base, key_column, key_at))
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
