//! Collections kept in step: after `link`, a cascade, `unlink` or a flush, the relationship
//! fields of held objects show the session's links on both sides of a `back_populates`
//! pair — the child's `One` holds a copy of its parent, the parent's `Many` copies of its
//! children — with no query.
//!
//! The fields hold copies (Rust values, not references), taken without their own
//! relationship fields so copies never nest. A link updates the two fields at once; a flush
//! refreshes the copies of the links made since the previous one (keys and foreign keys
//! are known only then). Every parent keeps an index of its linked children ([`Group`]),
//! so the refresh costs one copy per linked object: linear, however many parents.
//!
//! A parent's collection that was loaded from the database keeps what was loaded and gets
//! the session's children appended; one that was not loaded stays unloaded (the session
//! does not know the other rows) unless the parent is new, when its links are all of it.

use std::mem;

use super::cascade::{Fill, Remove};
use super::links::LinkTo;
use super::objects::{Obj, ObjectState};
use super::Session;
use crate::model::RelationshipKind;

/// The children linked to one parent through one collection field.
#[derive(Clone, Debug, Default)]
pub(super) struct Group {
    /// The children's slots, in link order.
    children: Vec<usize>,
    /// The foreign-key column the children's links go through.
    fk: &'static str,
    /// How many items at the end of the parent's collection the session put there.
    appended: usize,
    /// The parent was new when first linked: the session knows its whole collection.
    complete: bool,
    /// A many-to-many collection: `children` is the list of linked objects itself (there
    /// is no foreign key to check; `fk` is the association table).
    many_to_many: bool,
}

impl Session {
    /// Records `child`'s link (through `fk`) and shows it in both objects' fields.
    pub(super) fn set_link(&mut self, child: usize, fk: &'static str, link: LinkTo) {
        let old = self.links.insert((child, fk), link);
        if old == Some(link) {
            return;
        }
        if let Some(LinkTo {
            parent,
            parent_rel: Some(rel),
            ..
        }) = old
        {
            if let Some(g) = self.groups.get_mut(&(parent, rel)) {
                g.children.retain(|c| *c != child);
            }
            self.dirty_groups.insert((parent, rel));
        }
        self.dirty_links.push((child, fk));
        if let Some(rel) = link.child_rel {
            let copy = self.copy_of(link.parent);
            self.fill(child, rel, copy.into_iter().collect(), 0, true);
        }
        if let Some(rel) = link.parent_rel {
            let complete = self.entries[link.parent]
                .as_ref()
                .is_some_and(|e| e.state == ObjectState::Pending);
            let g = self
                .groups
                .entry((link.parent, rel))
                .or_insert_with(|| Group {
                    fk,
                    complete,
                    ..Group::default()
                });
            g.children.push(child);
            let complete = g.complete;
            if let Some(copy) = self.copy_of(child) {
                if self
                    .fill(link.parent, rel, vec![copy], 0, complete)
                    .is_some()
                {
                    if let Some(g) = self.groups.get_mut(&(link.parent, rel)) {
                        g.appended += 1;
                    }
                }
            }
        }
    }

    /// Shows a many-to-many link in both collections: `from`'s field `rel` gets a copy of
    /// `to`, and `to`'s field `back` (its `back_populates`) a copy of `from`.
    pub(super) fn set_many_to_many(
        &mut self,
        secondary: &'static str,
        (from, rel): (usize, &'static str),
        (to, back): (usize, Option<&'static str>),
    ) {
        self.add_partner(secondary, from, rel, to);
        if let Some(back) = back {
            self.add_partner(secondary, to, back, from);
        }
    }

    /// Removes a many-to-many link from both collections, the copy loaded from the database
    /// included.
    pub(super) fn unset_many_to_many(
        &mut self,
        (from, rel): (usize, &'static str),
        (to, back): (usize, Option<&'static str>),
    ) {
        self.drop_partner(from, rel, to);
        if let Some(back) = back {
            self.drop_partner(to, back, from);
        }
    }

    /// Appends `item` to `owner`'s many-to-many collection `rel`.
    fn add_partner(
        &mut self,
        secondary: &'static str,
        owner: usize,
        rel: &'static str,
        item: usize,
    ) {
        let complete = self.entries[owner]
            .as_ref()
            .is_some_and(|e| e.state == ObjectState::Pending);
        let g = self.groups.entry((owner, rel)).or_insert_with(|| Group {
            fk: secondary,
            complete,
            many_to_many: true,
            ..Group::default()
        });
        g.children.push(item);
        let complete = g.complete;
        if let Some(copy) = self.copy_of(item) {
            if self.fill(owner, rel, vec![copy], 0, complete).is_some() {
                if let Some(g) = self.groups.get_mut(&(owner, rel)) {
                    g.appended += 1;
                }
            }
        }
        // The copy is refreshed after the flush, which gives a new item its key.
        self.dirty_groups.insert((owner, rel));
    }

    /// Takes `item` out of `owner`'s many-to-many collection `rel`: out of the session's
    /// part, and out of the part loaded from the database (matched by primary key).
    fn drop_partner(&mut self, owner: usize, rel: &'static str, item: usize) {
        if let Some(g) = self.groups.get_mut(&(owner, rel)) {
            g.children.retain(|c| *c != item);
        }
        let Some(ie) = self.entries.get(item).and_then(Option::as_ref) else {
            return;
        };
        let mut key = Vec::new();
        (ie.ops().pk_values)(&*ie.obj, &mut key);
        let remove = Remove {
            pk_values: ie.ops().pk_values,
            key,
        };
        let appended = self.groups.get(&(owner, rel)).map_or(0, |g| g.appended);
        let copies: Vec<Obj> = self
            .groups
            .get(&(owner, rel))
            .map(|g| g.children.clone())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| self.copy_of(c))
            .collect();
        let n = copies.len();
        let Some(e) = self.entries.get_mut(owner).and_then(Option::as_mut) else {
            return;
        };
        let mut fill = Fill {
            items: copies,
            drop_tail: appended,
            complete: false,
            filled: false,
            kept: 0,
            remove: Some(remove),
        };
        (e.ops().fill_relationship)(&mut *e.obj, rel, &mut fill);
        if fill.filled {
            if let Some(g) = self.groups.get_mut(&(owner, rel)) {
                g.appended = n;
            }
        }
    }

    /// Forgets every link of `child` (it was unlinked as an orphan); its parents'
    /// collections are rebuilt without it.
    pub(super) fn unlink_child(&mut self, child: usize) {
        let mut gone = Vec::new();
        self.links.retain(|(c, _), link| {
            if *c == child {
                gone.push(*link);
            }
            *c != child
        });
        for link in gone {
            if let Some(rel) = link.parent_rel {
                if let Some(g) = self.groups.get_mut(&(link.parent, rel)) {
                    g.children.retain(|c| *c != child);
                }
                self.rebuild_group(link.parent, rel);
            }
        }
    }

    /// After a flush: refreshes the copies of the links made since the previous flush (and
    /// the collections they are in), now that keys and foreign keys are known.
    pub(super) fn sync_after_flush(&mut self) {
        for key in mem::take(&mut self.dirty_links) {
            let Some(link) = self.links.get(&key).copied() else {
                continue;
            };
            if let Some(rel) = link.child_rel {
                if let Some(copy) = self.copy_of(link.parent) {
                    self.fill(key.0, rel, vec![copy], 0, true);
                }
            }
            if let Some(rel) = link.parent_rel {
                self.dirty_groups.insert((link.parent, rel));
            }
        }
        for (parent, rel) in mem::take(&mut self.dirty_groups) {
            self.rebuild_group(parent, rel);
        }
    }

    /// Marks the collections holding objects this flush deletes, so they are rebuilt
    /// without them.
    pub(super) fn unlist_removed(&mut self, slots: impl Iterator<Item = usize>) {
        for slot in slots {
            let Some(e) = self.entries.get(slot).and_then(Option::as_ref) else {
                continue;
            };
            let table = e.ops().table;
            for def in (e.ops().relationships)() {
                if def.kind == RelationshipKind::ManyToMany {
                    // Its partners' collections (the other side) are rebuilt without it.
                    if let (Some(back), Some(g)) =
                        (def.back_populates, self.groups.get(&(slot, def.name)))
                    {
                        for &p in &g.children {
                            self.dirty_groups.insert((p, back));
                        }
                    }
                    continue;
                }
                if def.kind != RelationshipKind::ManyToOne {
                    continue;
                }
                let Some(&fk) = self.fk_cache.get(&(table, def.name)) else {
                    continue;
                };
                if let Some(LinkTo {
                    parent,
                    parent_rel: Some(rel),
                    ..
                }) = self.links.get(&(slot, fk)).copied()
                {
                    self.dirty_groups.insert((parent, rel));
                }
            }
        }
    }

    /// Rewrites one parent's collection from its group: the children still held and still
    /// linked to it, copied as they are now.
    fn rebuild_group(&mut self, parent: usize, rel: &'static str) {
        let Some(mut g) = self.groups.remove(&(parent, rel)) else {
            return;
        };
        if self.entries.get(parent).is_none_or(Option::is_none) {
            return;
        }
        g.children.retain(|&c| {
            self.entries
                .get(c)
                .is_some_and(|e| e.as_ref().is_some_and(|e| e.state != ObjectState::Deleted))
                && (g.many_to_many || self.links.get(&(c, g.fk)).map(|l| l.parent) == Some(parent))
        });
        let copies: Vec<Obj> = g.children.iter().filter_map(|&c| self.copy_of(c)).collect();
        let n = copies.len();
        if self
            .fill(parent, rel, copies, g.appended, g.complete)
            .is_some()
        {
            g.appended = n;
        }
        self.groups.insert((parent, rel), g);
    }

    /// A copy of a held object without its relationship fields.
    fn copy_of(&mut self, slot: usize) -> Option<Obj> {
        let e = self.entries.get_mut(slot)?.as_mut()?;
        Some((e.ops().shallow_clone)(&mut *e.obj))
    }

    /// Writes `items` into relationship field `rel` of the object in `slot`; `Some(kept)`
    /// when the field was written.
    fn fill(
        &mut self,
        slot: usize,
        rel: &str,
        items: Vec<Obj>,
        drop_tail: usize,
        complete: bool,
    ) -> Option<usize> {
        let e = self.entries.get_mut(slot)?.as_mut()?;
        let mut fill = Fill {
            items,
            drop_tail,
            complete,
            filled: false,
            kept: 0,
            remove: None,
        };
        (e.ops().fill_relationship)(&mut *e.obj, rel, &mut fill);
        fill.filled.then_some(fill.kept)
    }
}
