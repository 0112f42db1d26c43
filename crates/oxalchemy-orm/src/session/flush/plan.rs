//! Step 1 of a flush: the [`Plan`]. Reads the object table and works out every INSERT,
//! UPDATE (changed columns only, version bumped), DELETE, cascade and association row —
//! on copies of the objects, so a default, onupdate value or validator that fails leaves
//! the session untouched. Nothing is sent to the database here.

use rustc_hash::{FxHashMap, FxHashSet};
use std::any::Any;

use oxalchemy_core::dialect::bulk::{delete_by_key_sql, update_by_key_sql};
use oxalchemy_core::schema::Table;
use oxalchemy_core::{Compiled, Value};
use oxalchemy_engine::Error;

use crate::loading::{association_column, foreign_key_to};
use crate::model::{RelationshipDef, RelationshipKind};
use crate::session::links::{leak_column, AssociationChange, Link};
use crate::session::objects::{integer_key, Entry, Obj, ObjectState, Ops, Pairs};
use crate::session::Session;

/// An INSERT of one new object.
pub(super) struct PlannedInsert {
    pub(super) slot: usize,
    pub(super) table: &'static str,
    pub(super) values: Pairs,
    /// The object as inserted (defaults applied), when the flush had to copy it; it gets
    /// the generated key.
    pub(super) object: Option<Obj>,
    /// The integer key the object was inserted with, when it set one itself.
    pub(super) explicit_key: Option<i64>,
}

/// An UPDATE (when `set` is non-empty) or DELETE (when it is empty) of one row by its key
/// (plus the version column, for optimistic concurrency). An UPDATE left with nothing to
/// set is never sent.
pub(super) struct PlannedWrite {
    pub(super) slot: usize,
    pub(super) table: &'static str,
    pub(super) set: Pairs,
    pub(super) key: Pairs,
    /// For an UPDATE of a held object: the object as it will be after the flush (onupdate,
    /// version + 1).
    pub(super) object: Option<Obj>,
}

impl PlannedWrite {
    pub(super) fn compile(&self, d: &dyn oxalchemy_core::Dialect) -> Compiled {
        let key: Vec<&str> = self.key.iter().map(|(c, _)| *c).collect();
        let sql = if self.set.is_empty() {
            delete_by_key_sql(d, self.table, &key)
        } else {
            let set: Vec<&str> = self.set.iter().map(|(c, _)| *c).collect();
            update_by_key_sql(d, self.table, &set, &key)
        };
        let binds = self
            .set
            .iter()
            .chain(&self.key)
            .map(|(_, v)| d.encode(v.clone()))
            .collect();
        Compiled { sql, binds }
    }
}

/// Everything one flush writes, worked out before anything is sent.
#[derive(Default)]
pub(super) struct Plan {
    /// Links whose parent is inserted by this flush: the child's key is set once known.
    pub(super) links: Vec<Link>,
    /// Association-row changes: (table, left slot, right slot, change).
    pub(super) associations: Vec<(&'static str, usize, usize, AssociationChange)>,
    /// Keys of held (already stored) objects that association rows need.
    pub(super) held_keys: FxHashMap<usize, Value>,
    /// `DELETE FROM table WHERE column = key` for cascades, run before row deletes.
    pub(super) cascades: Vec<(&'static str, Pairs)>,
    /// Held objects removed with their deleted parent by a cascade.
    pub(super) cascaded: Vec<usize>,
    /// Slot → index in `inserts` / `updates`.
    pub(super) insert_at: FxHashMap<usize, usize>,
    pub(super) update_at: FxHashMap<usize, usize>,
    pub(super) tables: Vec<(&'static str, Table)>,
    pub(super) ops: Vec<&'static Ops>,
    pub(super) inserts: Vec<PlannedInsert>,
    pub(super) updates: Vec<PlannedWrite>,
    /// Rows (key + column values, for self-referential ordering) and their DELETEs.
    pub(super) deletes: Vec<(Pairs, PlannedWrite)>,
    /// Deleted slot → the ranges of `cascades` and `cascaded` its DELETE added, so a row
    /// switch can take them back.
    pub(super) cascade_spans: FxHashMap<usize, CascadeSpan>,
    /// Row switches: (new object's slot, deleted object's slot). The new object's row is
    /// an UPDATE of the deleted one's.
    pub(super) switched: Vec<(usize, usize)>,
    /// The integer keys of the new objects of row switches, for their children's links.
    pub(super) switched_keys: FxHashMap<usize, i64>,
    /// Links of rows inserted before their parent had a key (a cycle): the foreign key is
    /// inserted as NULL and set by an UPDATE once every row is in (SQLAlchemy's
    /// post_update).
    pub(super) post_updates: Vec<PostUpdate>,
    /// Copies of deleted objects whose model has hooks, for `after_delete`.
    pub(super) deleted_hooked: Vec<(crate::HookFns, Obj)>,
}

/// A foreign key set after the INSERTs: see [`Plan::post_updates`].
#[derive(Clone, Debug)]
pub(super) struct PostUpdate {
    /// The child's index in [`Plan::inserts`].
    pub(super) insert: usize,
    /// The parent's slot.
    pub(super) parent: usize,
    pub(super) fk_column: &'static str,
    /// For a reference found in the row's own values (an explicit key, no link): the value
    /// to set, and the row's key as inserted (generated columns are filled in after).
    pub(super) by_value: Option<(Value, Pairs)>,
}

/// What one deleted object added to [`Plan::cascades`] and [`Plan::cascaded`].
#[derive(Clone)]
pub(super) struct CascadeSpan {
    pub(super) cascades: std::ops::Range<usize>,
    pub(super) cascaded: std::ops::Range<usize>,
}

impl Plan {
    pub(super) fn is_empty(&self) -> bool {
        self.inserts.is_empty()
            && self.updates.is_empty()
            && self.deletes.is_empty()
            && self.associations.is_empty()
    }
    pub(super) fn table(&mut self, ops: &'static Ops) {
        if !self.tables.iter().any(|(n, _)| *n == ops.table) {
            self.tables.push((ops.table, (ops.table_def)()));
            self.ops.push(ops);
        }
    }
    pub(super) fn ops(&self, table: &str) -> &'static Ops {
        let i = self
            .tables
            .iter()
            .position(|(n, _)| *n == table)
            .expect("every planned table was registered with its Ops");
        self.ops[i]
    }
    pub(super) fn table_def(&self, table: &str) -> Table {
        self.tables
            .iter()
            .find(|(n, _)| *n == table)
            .map(|(_, t)| t.clone())
            .expect("every planned table was registered with its definition")
    }
}

impl Session {
    /// Works out the flush on copies: defaults, onupdate values and validators are applied
    /// to clones, so a failure leaves every held object untouched.
    /// The clock is read once for the whole flush: every `default = now` / `onupdate = now`
    /// column it fills gets the same instant.
    pub(super) fn plan(&self) -> Result<Plan, Error> {
        crate::defaults::with_one_now(|| self.plan_now())
    }

    fn plan_now(&self) -> Result<Plan, Error> {
        let mut plan = Plan::default();
        self.plan_links(&mut plan);
        let relinked: FxHashSet<usize> = plan.links.iter().map(|l| l.child).collect();
        for (slot, e) in self.entries.iter().enumerate() {
            let Some(e) = e else { continue };
            match e.state {
                ObjectState::Pending => plan_insert(&mut plan, slot, e, relinked.contains(&slot))?,
                ObjectState::Persistent => {
                    let relinked = relinked.contains(&slot);
                    // Most held objects are clean: skip them before looking for a snapshot.
                    if e.has_snapshot() || relinked {
                        let snapshot = self.entries.snapshot(slot);
                        plan_update(&mut plan, slot, e, snapshot, relinked)?
                    }
                }
                ObjectState::Deleted => self.plan_delete(&mut plan, slot, e)?,
            }
        }
        self.plan_identities(&mut plan)?;
        plan.insert_at = plan
            .inserts
            .iter()
            .enumerate()
            .map(|(i, ins)| (ins.slot, i))
            .collect();
        plan.update_at = plan
            .updates
            .iter()
            .enumerate()
            .map(|(i, w)| (w.slot, i))
            .collect();
        Ok(plan)
    }

    /// The links whose parent this flush inserts, the association rows to write, and the
    /// keys of already-stored objects those rows need.
    fn plan_links(&self, plan: &mut Plan) {
        let held = |slot: usize| self.entries.get(slot).is_some_and(Option::is_some);
        let pending_parent = |slot: usize| {
            self.entries[slot]
                .as_ref()
                .is_some_and(|e| e.state == ObjectState::Pending)
        };
        plan.links = self
            .links
            .iter()
            .filter(|(_, link)| pending_parent(link.parent))
            .map(|(&(child, fk_column), link)| Link {
                child,
                parent: link.parent,
                fk_column,
            })
            .collect();
        plan.associations = self
            .associations
            .iter()
            .filter(|((_, l, r), _)| held(*l) && held(*r))
            .map(|(&(table, l, r), c)| (table, l, r, c.clone()))
            .collect();
        let key_of_held = |slot: usize| -> Option<Value> {
            let e = self.entries.get(slot)?.as_ref()?;
            if e.state == ObjectState::Pending {
                return None;
            }
            let mut pk = Vec::new();
            (e.ops().pk_values)(&*e.obj, &mut pk);
            (pk.len() == 1).then(|| pk.remove(0).1)
        };
        plan.held_keys = plan
            .associations
            .iter()
            .flat_map(|(_, l, r, _)| [*l, *r])
            .filter_map(|slot| key_of_held(slot).map(|k| (slot, k)))
            .collect();
    }

    /// The DELETE of a deleted object, after its cascades.
    fn plan_delete(&self, plan: &mut Plan, slot: usize, e: &Entry) -> Result<(), Error> {
        if let Some(h) = (e.ops().hooks)() {
            h.call("before_delete", h.before_delete, &*e.obj as &dyn Any)?;
            plan.deleted_hooked.push((h, (e.ops().clone)(&*e.obj)));
        }
        let mut key = Vec::new();
        (e.ops().pk_values)(&*e.obj, &mut key);
        let mut row = key.clone();
        (e.ops().update_values)(&*e.obj, &mut row);
        if let Some((vc, v)) = (e.ops().version)(&*e.obj) {
            key.push((vc, Value::I64(v)));
        }
        plan.table(e.ops());
        let (cascades, cascaded) = (plan.cascades.len(), plan.cascaded.len());
        self.plan_cascades(e, &key, plan)?;
        if plan.cascades.len() > cascades || plan.cascaded.len() > cascaded {
            let span = CascadeSpan {
                cascades: cascades..plan.cascades.len(),
                cascaded: cascaded..plan.cascaded.len(),
            };
            plan.cascade_spans.insert(slot, span);
        }
        plan.deletes.push((
            row,
            PlannedWrite {
                slot,
                table: e.ops().table,
                set: Vec::new(),
                key,
                object: None,
            },
        ));
        Ok(())
    }

    /// Statements that delete a deleted object's dependents: its association rows, and the
    /// rows of `cascade = "delete"` collections (unless `passive_deletes` leaves them to the
    /// database). Held children covered by a cascade leave the session with the parent.
    fn plan_cascades(&self, e: &Entry, key: &Pairs, plan: &mut Plan) -> Result<(), Error> {
        let parent_key = match key.first() {
            Some((_, v)) if key.len() == 1 || (e.ops().version)(&*e.obj).is_some() => v.clone(),
            _ => return Ok(()),
        };
        for def in (e.ops().relationships)() {
            match def.kind {
                RelationshipKind::ManyToMany => {
                    if let Some(secondary) = def.secondary {
                        plan.cascades.push((
                            secondary,
                            vec![(
                                leak_column(&association_column(e.ops().table)),
                                parent_key.clone(),
                            )],
                        ));
                    }
                }
                RelationshipKind::OneToMany if def.cascade_delete => {
                    self.plan_collection_cascade(def, e.ops().table, &parent_key, plan)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The `cascade = "delete"` of one collection: held children leave the session, and
    /// their rows are deleted by foreign key (unless `passive_deletes`).
    fn plan_collection_cascade(
        &self,
        def: &RelationshipDef,
        parent_table: &'static str,
        parent_key: &Value,
        plan: &mut Plan,
    ) -> Result<(), Error> {
        let child_table = (def.target_table)();
        let fk = foreign_key_to(def.foreign_key, &child_table, parent_table)?;
        let fk_static = child_table
            .columns
            .iter()
            .find(|c| c.name.as_str() == fk)
            .map(|_| leak_column(&fk))
            .unwrap_or("");
        for (slot, other) in self.entries.iter().enumerate() {
            let Some(other) = other else { continue };
            if other.ops().table != def.target {
                continue;
            }
            let mut values = Vec::new();
            (other.ops().insert_values)(&*other.obj, &mut values);
            if values.iter().any(|(c, v)| *c == fk && v == parent_key) {
                plan.cascaded.push(slot);
            }
        }
        if !def.passive_deletes {
            plan.cascades
                .push((def.target, vec![(fk_static, parent_key.clone())]));
        }
        Ok(())
    }
}

/// The INSERT of a pending object. It works on a copy only when the flush itself changes
/// the object (defaults, a foreign key from a link): the held one must stay as it was if
/// the flush fails.
fn plan_insert(plan: &mut Plan, slot: usize, e: &Entry, relinked: bool) -> Result<(), Error> {
    let work = if e.ops().has_defaults || relinked || (e.ops().hooks)().is_some() {
        let mut work = (e.ops().clone)(&*e.obj);
        (e.ops().apply_defaults)(&mut *work);
        if let Some(h) = (e.ops().hooks)() {
            h.call("before_insert", h.before_insert, &mut *work as &mut dyn Any)?;
        }
        Some(work)
    } else {
        None
    };
    let obj: &dyn Any = work.as_deref().unwrap_or(&*e.obj);
    (e.ops().validate)(obj)?;
    let mut values = Vec::new();
    (e.ops().insert_values)(obj, &mut values);
    let mut pk = Vec::new();
    (e.ops().pk_values)(obj, &mut pk);
    // A key left to the database is not known before the INSERT (its field holds 0).
    let generated = (e.ops().generated_key)().is_some_and(|g| !values.iter().any(|(c, _)| *c == g));
    plan.table(e.ops());
    plan.inserts.push(PlannedInsert {
        slot,
        table: e.ops().table,
        values,
        object: work,
        explicit_key: if generated { None } else { integer_key(&pk) },
    });
    Ok(())
}

/// The UPDATE of a persistent object whose columns changed since its snapshot (or whose
/// foreign key a link will set): only changed columns, onupdate values applied, the
/// version column bumped and checked.
fn plan_update(
    plan: &mut Plan,
    slot: usize,
    e: &Entry,
    snapshot: Option<&[Value]>,
    relinked: bool,
) -> Result<(), Error> {
    // No snapshot: never handed out mutably since load or flush, so unchanged.
    if snapshot.is_none() && !relinked {
        return Ok(());
    }
    let mut now = Vec::with_capacity(snapshot.map_or(0, <[Value]>::len));
    (e.ops().update_values)(&*e.obj, &mut now);
    let baseline: Vec<Value>;
    let snapshot: &[Value] = match snapshot {
        Some(s) => s,
        // Relinked but clean: its current values are its row's.
        None => {
            baseline = now.iter().map(|(_, v)| v.clone()).collect();
            &baseline
        }
    };
    if !relinked && now.iter().map(|(_, v)| v).eq(snapshot.iter()) {
        return Ok(());
    }
    let mut work = (e.ops().clone)(&*e.obj);
    if let Some(h) = (e.ops().hooks)() {
        h.call("before_update", h.before_update, &mut *work as &mut dyn Any)?;
    }
    (e.ops().apply_onupdate)(&mut *work);
    (e.ops().validate)(&*work)?;
    let mut after = Vec::with_capacity(now.len());
    (e.ops().update_values)(&*work, &mut after);
    let mut key = Vec::new();
    (e.ops().pk_values)(&*work, &mut key);
    let version = (e.ops().version)(&*work);
    let mut set: Pairs = after
        .into_iter()
        .zip(snapshot)
        .filter(|((c, v), old)| v != *old && version.map(|(vc, _)| vc) != Some(*c))
        .map(|(new, _)| new)
        .collect();
    if let Some((vc, v)) = version {
        set.push((vc, Value::I64(v + 1)));
        key.push((vc, Value::I64(v)));
        (e.ops().set_version)(&mut *work, v + 1);
    }
    plan.table(e.ops());
    plan.updates.push(PlannedWrite {
        slot,
        table: e.ops().table,
        set,
        key,
        object: Some(work),
    });
    Ok(())
}
