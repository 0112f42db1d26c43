//! Relationships between objects the session holds: many-to-one links (the child's foreign
//! key is set at flush, after the parent's insert when the parent is new), many-to-many
//! association rows to insert or delete, and the lookups `parent` / `children` that see
//! both linked and loaded objects.

use oxalchemy_engine::Error;

use super::objects::{identity_key, integer_key, Handle, ObjectState, Ops};
use super::Session;
use crate::errors::{mapping, missing_secondary, no_relationship};
use crate::loading::{association_column, foreign_key_to, one_to_many_fk};
use crate::model::{Model, RelationshipDef, RelationshipKind};
use crate::relation::Relationship;

/// An association row to write at the next flush.
#[derive(Clone, Debug)]
pub(super) struct AssociationChange {
    pub(super) write: AssociationWrite,
    pub(super) left_column: String,
    pub(super) right_column: String,
}

/// What the flush does with an association row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AssociationWrite {
    /// `link`: the row is inserted.
    Insert,
    /// `unlink`: the row is deleted.
    Delete,
    /// `unlink`, then `link` again before a flush: the row is deleted, then inserted, which
    /// leaves exactly one row whether or not the database had it.
    Replace,
}

/// The key of an association row in [`Session`]'s pending changes, and its columns: the
/// same whichever side names the link (`link(a, Article::labels, x)` and
/// `link(x, Label::articles, a)` are one row), so the two sides are put in the order of
/// their table names.
fn association_key(
    secondary: &'static str,
    from: (usize, &'static str),
    to: (usize, &'static str),
) -> ((&'static str, usize, usize), String, String) {
    let (left, right) = if from.1 <= to.1 {
        (from, to)
    } else {
        (to, from)
    };
    (
        (secondary, left.0, right.0),
        association_column(left.1),
        association_column(right.1),
    )
}

/// Where a child's link points: the parent's slot, and the relationship fields on both
/// sides that show it (the child's `One`, the parent's `Many`), when declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LinkTo {
    pub(super) parent: usize,
    pub(super) child_rel: Option<&'static str>,
    pub(super) parent_rel: Option<&'static str>,
}

/// A child object's foreign key pointing at a parent object held by the same session.
#[derive(Clone, Debug)]
pub(super) struct Link {
    pub(super) child: usize,
    pub(super) parent: usize,
    pub(super) fk_column: &'static str,
}

/// `name` as the `'static` column name the child model declares.
pub(super) fn static_column<M: Model>(name: &str) -> Result<&'static str, Error> {
    M::columns()
        .iter()
        .copied()
        .find(|c| *c == name)
        .ok_or_else(|| {
            mapping(format!(
                "{} has no column `{name}`, which its relationship names as the foreign key",
                M::NAME
            ))
        })
}

/// A column name as `&'static str` for cascade statements (column names are few and
/// fixed, so each is interned once).
pub(super) fn leak_column(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| Mutex::new(HashSet::new()));
    let mut set = match names.lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(n) = set.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(n);
    n
}

impl Session {
    /// The declaration of `rel`, once both objects are known to be held.
    fn held_pair<A: Model, B: Model>(
        &self,
        from: Handle<A>,
        rel: Relationship<A, B>,
        to: Handle<B>,
    ) -> Result<&'static RelationshipDef, Error> {
        if self.entry(from).is_none() || self.entry(to).is_none() {
            return Err(Error::NotFound);
        }
        rel.def().ok_or_else(|| no_relationship::<A>(rel.name()))
    }

    /// Links two objects through a many-to-one relationship or its one-to-many side:
    /// `s.link(post, Post::author, user)` or `s.link(user, User::posts, post)`. At flush the
    /// child's foreign key is set to the parent's key — after the parent is inserted when it
    /// is new — and both sides agree at once ([`Session::parent`], [`Session::children`],
    /// and the relationship fields of both objects when declared with `back_populates`).
    pub fn link<A: Model, B: Model>(
        &mut self,
        from: Handle<A>,
        rel: Relationship<A, B>,
        to: Handle<B>,
    ) -> Result<(), Error> {
        let def = self.held_pair(from, rel, to)?;
        let from_ops = self.entries[from.slot()].as_ref().map(|e| e.ops());
        let to_ops = self.entries[to.slot()].as_ref().map(|e| e.ops());
        let (Some(from_ops), Some(to_ops)) = (from_ops, to_ops) else {
            return Err(Error::NotFound);
        };
        self.link_slots(from.slot(), from_ops, def, to.slot(), to_ops)
    }

    /// [`Session::link`] with the types erased: what the cascade of assigned values calls.
    pub(super) fn link_slots(
        &mut self,
        from: usize,
        from_ops: &'static Ops,
        def: &'static RelationshipDef,
        to: usize,
        to_ops: &'static Ops,
    ) -> Result<(), Error> {
        match def.kind {
            RelationshipKind::ManyToOne => {
                let fk = self.fk_column(from_ops, def, to_ops)?;
                let link = LinkTo {
                    parent: to,
                    child_rel: Some(def.name),
                    parent_rel: def.back_populates,
                };
                self.set_link(from, fk, link);
            }
            RelationshipKind::OneToMany => {
                let fk = self.fk_column(from_ops, def, to_ops)?;
                let link = LinkTo {
                    parent: from,
                    child_rel: def.back_populates,
                    parent_rel: Some(def.name),
                };
                self.set_link(to, fk, link);
            }
            RelationshipKind::ManyToMany => {
                let secondary = def.secondary.ok_or_else(|| missing_secondary(def))?;
                let (key, left_column, right_column) =
                    association_key(secondary, (from, from_ops.table), (to, to_ops.table));
                let write = match self.associations.get(&key).map(|c| c.write) {
                    // Linked already: the collections show it once.
                    Some(AssociationWrite::Insert | AssociationWrite::Replace) => return Ok(()),
                    // Unlinked, then linked again: the row may or may not be stored.
                    Some(AssociationWrite::Delete) => AssociationWrite::Replace,
                    None => AssociationWrite::Insert,
                };
                let change = AssociationChange {
                    write,
                    left_column,
                    right_column,
                };
                self.associations.insert(key, change);
                self.set_many_to_many(secondary, (from, def.name), (to, def.back_populates));
            }
        }
        Ok(())
    }

    /// The child's foreign-key column of a many-to-one relationship (`from` is the child) or
    /// a one-to-many one (`to` is the child), worked out once per relationship.
    fn fk_column(
        &mut self,
        from_ops: &'static Ops,
        def: &'static RelationshipDef,
        to_ops: &'static Ops,
    ) -> Result<&'static str, Error> {
        if let Some(&fk) = self.fk_cache.get(&(from_ops.table, def.name)) {
            return Ok(fk);
        }
        let (child, parent) = match def.kind {
            RelationshipKind::OneToMany => (to_ops, from_ops),
            _ => (from_ops, to_ops),
        };
        let declared = match def.kind {
            RelationshipKind::OneToMany => def.foreign_key.or_else(|| {
                def.back_populates.and_then(|back| {
                    (to_ops.relationships)()
                        .iter()
                        .find(|r| r.name == back)
                        .and_then(|r| r.foreign_key)
                })
            }),
            _ => def.foreign_key,
        };
        let name = foreign_key_to(declared, &(child.table_def)(), parent.table)?;
        let fk = (child.columns)()
            .iter()
            .copied()
            .find(|c| *c == name)
            .ok_or_else(|| {
                mapping(format!(
                    "{} has no column `{name}`, which its relationship names as the foreign key",
                    child.model
                ))
            })?;
        self.fk_cache.insert((from_ops.table, def.name), fk);
        // The other side of a `back_populates` pair goes through the same column.
        if let Some(back) = def.back_populates {
            self.fk_cache.entry((to_ops.table, back)).or_insert(fk);
        }
        Ok(fk)
    }

    /// Undoes a relationship between two objects. Many-to-many: the association row is
    /// deleted at flush. One-to-many with `cascade = "…, delete-orphan"`: the child is
    /// deleted at flush. Otherwise set the child's foreign key yourself.
    pub fn unlink<A: Model, B: Model>(
        &mut self,
        from: Handle<A>,
        rel: Relationship<A, B>,
        to: Handle<B>,
    ) -> Result<(), Error> {
        let def = self.held_pair(from, rel, to)?;
        match def.kind {
            RelationshipKind::ManyToMany => {
                let secondary = def.secondary.ok_or_else(|| missing_secondary(def))?;
                let (key, left_column, right_column) =
                    association_key(secondary, (from.slot(), A::TABLE), (to.slot(), B::TABLE));
                self.unset_many_to_many((from.slot(), def.name), (to.slot(), def.back_populates));
                match self.associations.get(&key).map(|c| c.write) {
                    // Linked and unlinked before any flush: nothing to write.
                    Some(AssociationWrite::Insert) => {
                        self.associations.remove(&key);
                    }
                    _ => {
                        self.associations.insert(
                            key,
                            AssociationChange {
                                write: AssociationWrite::Delete,
                                left_column,
                                right_column,
                            },
                        );
                    }
                }
                Ok(())
            }
            RelationshipKind::OneToMany if def.delete_orphan => {
                self.unlink_child(to.slot());
                self.delete(to);
                Ok(())
            }
            _ => Err(mapping(format!(
                "{}.{}: unlinking here would leave a row without its parent; set the foreign \
                 key (or delete the child), or declare cascade = \"delete-orphan\"",
                A::NAME,
                rel.name()
            ))),
        }
    }

    /// The parent of a many-to-one relationship, if the session holds it: a linked object,
    /// or the held object whose key the child's foreign key names.
    pub fn parent<A: Model, B: Model>(
        &self,
        child: Handle<A>,
        rel: Relationship<A, B>,
    ) -> Option<Handle<B>> {
        let e = self.entry(child)?;
        let def = rel.def()?;
        let fk = foreign_key_to(def.foreign_key, &A::table(), B::TABLE).ok()?;
        let fk = static_column::<A>(&fk).ok()?;
        if let Some(link) = self.links.get(&(child.slot(), fk)) {
            return Some(self.handle(link.parent)).filter(|h| self.entry::<B>(*h).is_some());
        }
        let mut values = Vec::new();
        (e.ops().insert_values)(&*e.obj, &mut values);
        let (_, v) = values.into_iter().find(|(c, _)| *c == fk)?;
        let key = identity_key(B::TABLE, &[("", v)]);
        self.identity
            .get(&key, &self.entries)
            .map(|slot| self.handle(slot))
    }

    /// The children of a one-to-many relationship that the session holds: objects linked
    /// to `parent`, or whose foreign key names its key.
    pub fn children<A: Model, B: Model>(
        &self,
        parent: Handle<A>,
        rel: Relationship<A, B>,
    ) -> Vec<Handle<B>> {
        let (Some(pe), Some(def)) = (self.entry(parent), rel.def()) else {
            return Vec::new();
        };
        let Some(fk) = one_to_many_fk::<A, B>(def)
            .ok()
            .and_then(|fk| static_column::<B>(&fk).ok())
        else {
            return Vec::new();
        };
        let mut pk = Vec::new();
        (pe.ops().pk_values)(&*pe.obj, &mut pk);
        let parent_key = integer_key(&pk).filter(|_| pe.state != ObjectState::Pending);
        let mut out = Vec::new();
        for (slot, e) in self.entries.iter().enumerate() {
            let Some(e) = e else { continue };
            if !(&*e.obj as &dyn std::any::Any).is::<B>() || e.state == ObjectState::Deleted {
                continue;
            }
            let link = self.links.get(&(slot, fk));
            let belongs = match link {
                Some(l) => l.parent == parent.slot(),
                None => parent_key.is_some_and(|k| {
                    let mut values = Vec::new();
                    (e.ops().insert_values)(&*e.obj, &mut values);
                    values
                        .iter()
                        .any(|(c, v)| *c == fk && integer_key(&[("", v.clone())]) == Some(k))
                }),
            };
            if belongs {
                out.push(self.handle(slot));
            }
        }
        out
    }

    /// Sets the foreign key of every child linked to a parent that already has its row
    /// (and so its key); children of new parents are set during the flush itself.
    pub(super) fn sync_links_to_persistent_parents(&mut self) {
        let entries = &self.entries;
        self.links.retain(|(child, _), link| {
            entries.get(*child).is_some_and(Option::is_some)
                && entries.get(link.parent).is_some_and(Option::is_some)
        });
        let links: Vec<((usize, &'static str), usize)> =
            self.links.iter().map(|(k, v)| (*k, v.parent)).collect();
        for ((child, fk_column), parent) in links {
            let key = match &self.entries[parent] {
                Some(p) if p.state == ObjectState::Persistent => {
                    let mut pk = Vec::new();
                    (p.ops().pk_values)(&*p.obj, &mut pk);
                    integer_key(&pk)
                }
                _ => None,
            };
            if let (Some(key), true) = (key, self.entries[child].is_some()) {
                // A clean child needs its baseline before its foreign key changes.
                let fresh = self.entries.before_mut(child);
                if let Some(c) = self.entries[child].as_mut() {
                    (c.ops().set_integer_column)(&mut *c.obj, fk_column, key);
                }
                if fresh {
                    self.entries.drop_snapshot_if_clean(child);
                }
            }
        }
    }
}
