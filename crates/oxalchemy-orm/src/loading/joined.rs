//! `joinedload` and `contains_eager`: the related rows ride on the main query. The first
//! adds a LEFT OUTER JOIN to an alias of the target's table; the second reads the target's
//! columns from a join the query already has. A joined collection repeats its parent once
//! per child; the query merges those rows back into one parent each.

use std::collections::HashMap;
use std::sync::Arc;

use oxalchemy_core::expr::Ident;
use oxalchemy_core::query::{FromItem, Join, JoinKind};
use oxalchemy_core::Select;
use oxalchemy_engine::{Connection, Error, Row};

use super::{
    association_column, foreign_key_to, key_value, model_columns, no_relationship, one_to_many_fk,
    qualified, selectinload, single_column_key, transfer_slot, unsupported, BoxFuture,
    JoinedLoader, KeyValue, Loader,
};
use crate::errors::missing_secondary;
use crate::model::{Model, RelationshipDef, RelationshipKind};
use crate::relation::{Many, One, Relationship, RelationshipSlot};

/// `joinedload(Post::author)`: the target rides on the main query through a LEFT OUTER JOIN
/// (a collection, one-to-many or many-to-many, repeats its parent once per child; the
/// query merges those rows).
pub struct JoinedLoad<M, T> {
    rel: Relationship<M, T>,
    nested: Vec<Arc<dyn Loader<T>>>,
    /// Where the target's columns come from.
    source: JoinSource,
}

/// Where a joined loader reads the target's columns from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JoinSource {
    /// `joinedload`: its own LEFT OUTER JOIN to an alias of the target's table.
    OwnJoin,
    /// `contains_eager`: a join the query already has, by the target's table name.
    QueryJoin,
}

/// Loads a relationship in the same statement (SQLAlchemy's `joinedload`): many-to-one,
/// one-to-many and many-to-many.
pub fn joinedload<M: Model, T: Model + Clone>(rel: Relationship<M, T>) -> JoinedLoad<M, T> {
    JoinedLoad {
        rel,
        nested: Vec::new(),
        source: JoinSource::OwnJoin,
    }
}

/// Fills a many-to-one relationship from a join the query already has
/// (`.join(table("users"), Post::author_id.eq(User::id))`): SQLAlchemy's `contains_eager`.
/// The target's columns are selected from its table name.
pub fn contains_eager<M: Model, T: Model + Clone>(rel: Relationship<M, T>) -> JoinedLoad<M, T> {
    JoinedLoad {
        rel,
        nested: Vec::new(),
        source: JoinSource::QueryJoin,
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
        let def = self
            .rel
            .def()
            .ok_or_else(|| no_relationship::<M>(self.rel.name()))?;
        let collection = matches!(
            def.kind,
            RelationshipKind::OneToMany | RelationshipKind::ManyToMany
        );
        if collection && self.source == JoinSource::OwnJoin {
            return self.extend_collection(def, select, alias);
        }
        if def.kind != RelationshipKind::ManyToOne {
            return Err(unsupported(
                def,
                "contains_eager fills many-to-one relationships; use joinedload or selectinload \
                 for a collection",
            ));
        }
        let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
        let target_key = single_column_key::<T>(def)?;
        if self.source == JoinSource::QueryJoin {
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
        let target = T::read_present(row, idx)?;
        match self.rel.slot() {
            RelationshipSlot::One(slot) => *slot(parent) = One::fetched(target),
            RelationshipSlot::Many(slot) => {
                *slot(parent) = Many::fetched(target.into_iter().collect())
            }
        }
        Ok(())
    }

    fn repeats_parents(&self) -> bool {
        matches!(self.rel.slot(), RelationshipSlot::Many(_))
    }

    fn decode_repeated(&self, row: &Row<'_>, idx: &mut usize, parent: &mut M) -> Result<(), Error> {
        match self.rel.slot() {
            RelationshipSlot::Many(slot) => {
                if let Some(target) = T::read_present(row, idx)? {
                    slot(parent).push_fetched(target);
                }
            }
            // The parent's first row set it; a repeated row carries the same object.
            RelationshipSlot::One(_) => *idx += T::LAYOUT.columns,
        }
        Ok(())
    }
}

impl<M: Model, T: Model + Clone> JoinedLoad<M, T> {
    /// `LEFT OUTER JOIN` of a collection (through an alias of the association table for
    /// a many-to-many one). A LIMIT/OFFSET applies to parents, so the parent query becomes
    /// a subquery named like the parent's table (as SQLAlchemy does).
    fn extend_collection(
        &self,
        def: &RelationshipDef,
        mut select: Select,
        alias: &str,
    ) -> Result<Select, Error> {
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
        let target =
            FromItem::Table(oxalchemy_core::table(T::TABLE).alias(Ident::from(alias.to_owned())));
        if def.kind == RelationshipKind::ManyToMany {
            let secondary = def.secondary.ok_or_else(|| missing_secondary(def))?;
            let link = format!("{alias}_secondary");
            let target_key = single_column_key::<T>(def)?;
            select.joins.push(Join {
                kind: JoinKind::Left,
                target: FromItem::Table(
                    oxalchemy_core::table(secondary).alias(Ident::from(link.clone())),
                ),
                on: qualified(&link, &association_column(M::TABLE)).eq(qualified(M::TABLE, pk)),
            });
            select.joins.push(Join {
                kind: JoinKind::Left,
                target,
                on: qualified(alias, target_key)
                    .eq(qualified(&link, &association_column(T::TABLE))),
            });
            return Ok(select);
        }
        let fk = one_to_many_fk::<M, T>(def)?;
        select.joins.push(Join {
            kind: JoinKind::Left,
            target,
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
                        *slot(p) = One::fetched(Some(t.clone()));
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
