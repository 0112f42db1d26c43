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

/// Where a loaded row goes: an index into the distinct keys the IN list was built from.
/// [`NO_SLOT`] marks a row whose key matches none of them (a NULL key, say), then dropped.
type Slot = u32;
const NO_SLOT: Slot = Slot::MAX;

/// The distinct keys of an IN list and, for each, its slot (its position in `keys`).
#[derive(Default)]
struct KeySlots {
    keys: Vec<Value>,
    slots: FxMap<KeyValue, Slot>,
}

impl KeySlots {
    /// The slot of `v`, adding it as a new key if it is not there yet; `None` for NULL.
    fn insert(&mut self, v: &Value) -> Option<Slot> {
        let k = key_value(v)?;
        let next = self.keys.len() as Slot;
        let slot = *self.slots.entry(k).or_insert(next);
        if slot == next {
            self.keys.push(v.clone());
        }
        Some(slot)
    }
}

/// Runs `select … WHERE <key_column> IN (keys)` in chunks under the bind limit, decoding
/// each row's model and the slot of its key (see [`KeySlots`]). `key_at: None`: the key is
/// column 0 and the model starts at column 1; `Some(i)`: the model starts at column 0 and
/// its column `i` is the key.
async fn keyed_rows<T: Model>(
    conn: &mut Connection,
    log: &mut Vec<String>,
    base: &Select,
    key_column: Expr,
    keys: &KeySlots,
    key_at: Option<usize>,
) -> Result<(Vec<Slot>, Vec<T>), Error> {
    let mut row_slots = Vec::new();
    let mut objects: Vec<T> = Vec::new();
    let chunk = conn.dialect().max_binds().saturating_sub(16).max(1);
    let (key_col, first) = match key_at {
        Some(i) => (i, 0),
        None => (0, 1),
    };
    for part in keys.keys.chunks(chunk) {
        let stmt = base
            .clone()
            .filter(key_column.clone().in_(part.iter().cloned()));
        let c = conn.compile(&stmt.into())?;
        log.push(c.sql.clone());
        // The objects are what the engine collects (sized to the result where the driver
        // knows it); each row's key is looked up as it is read, leaving only its slot.
        let read = conn
            .query_map_read(&c, |row| {
                let key = into_key_value(row.get::<Value>(key_col)?);
                row_slots.push(
                    key.and_then(|k| keys.slots.get(&k).copied())
                        .unwrap_or(NO_SLOT),
                );
                let mut idx = first;
                T::read(row, &mut idx)
            })
            .await?;
        if objects.is_empty() {
            objects = read;
        } else {
            objects.extend(read);
        }
    }
    Ok((row_slots, objects))
}

/// [`key_value`] of a value owned: a text key is moved, not copied, and an integer needs
/// no drop afterwards (this runs once per loaded row).
#[inline]
fn into_key_value(v: Value) -> Option<KeyValue> {
    Some(match v {
        Value::Null => return None,
        Value::I16(n) => KeyValue::Int(i64::from(n)),
        Value::I32(n) => KeyValue::Int(i64::from(n)),
        Value::I64(n) => KeyValue::Int(n),
        Value::Text(s) => KeyValue::Text(s),
        other => return key_value(&other),
    })
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
        let mut keys = KeySlots::default();
        let refs: Vec<Option<Slot>> = parents
            .iter()
            .map(|p| keys.insert(&column_value(p, &fk)))
            .collect();
        let (row_slots, mut targets): (Vec<Slot>, Vec<T>) = if keys.keys.is_empty() {
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
            keyed_rows(conn, log, &base, key_column, &keys, at).await?
        };
        for l in &self.nested {
            l.load(conn, &mut targets, log).await?;
        }
        let mut by_slot: Vec<Option<T>> = Vec::new();
        by_slot.resize_with(keys.keys.len(), || None);
        for (slot, target) in row_slots.into_iter().zip(targets) {
            if let Some(place) = by_slot.get_mut(slot as usize) {
                *place = Some(target);
            }
        }
        let RelationshipSlot::One(slot) = self.rel.slot() else {
            return Err(unsupported(
                def,
                "a many-to-one relationship needs a One<T> field",
            ));
        };
        for (p, r) in parents.iter_mut().zip(refs) {
            let target = r.and_then(|s| by_slot[s as usize].clone());
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
        let mut keys = KeySlots::default();
        let mut pk = Vec::new();
        let parent_slots: Vec<Option<Slot>> = parents
            .iter()
            .map(|p| Ok(keys.insert(&single_key(p, def, &mut pk)?)))
            .collect::<Result<_, Error>>()?;
        let (base, key_column, key_at) = collection_query::<M, T>(def)?;
        let (row_slots, mut children): (Vec<Slot>, Vec<T>) =
            keyed_rows(conn, log, &base, key_column, &keys, key_at).await?;
        for l in &self.nested {
            l.load(conn, &mut children, log).await?;
        }
        // Each key's children, in row order, in a vector of the size it ends up with.
        let mut counts = vec![0usize; keys.keys.len()];
        for &s in &row_slots {
            if let Some(n) = counts.get_mut(s as usize) {
                *n += 1;
            }
        }
        let mut groups: Vec<Vec<T>> = counts.iter().map(|&n| Vec::with_capacity(n)).collect();
        for (s, child) in row_slots.into_iter().zip(children) {
            if let Some(g) = groups.get_mut(s as usize) {
                g.push(child);
            }
        }
        let RelationshipSlot::Many(slot) = self.rel.slot() else {
            return Err(unsupported(
                def,
                "a collection relationship needs a Many<T> field",
            ));
        };
        // The same parent may appear twice (e.g. joined targets): each but the last gets a
        // copy, the last the group itself.
        let mut remaining = vec![0usize; keys.keys.len()];
        for s in parent_slots.iter().flatten() {
            remaining[*s as usize] += 1;
        }
        for (p, s) in parents.iter_mut().zip(parent_slots) {
            let items = match s {
                Some(s) => {
                    let (s, left) = (s as usize, &mut remaining[s as usize]);
                    *left -= 1;
                    if *left == 0 {
                        std::mem::take(&mut groups[s])
                    } else {
                        groups[s].clone()
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
