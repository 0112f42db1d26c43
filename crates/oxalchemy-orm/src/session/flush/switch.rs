//! Identities in a flush. A new object must not share its primary key with another new
//! object, nor with an object the session holds: either is an error naming the model and
//! key, found before any SQL is sent. The exception is a held object marked deleted: then
//! the new object's row becomes an UPDATE of the deleted one's (SQLAlchemy's "row switch"),
//! since INSERTs run before DELETEs and the INSERT would hit the old row's key.
//!
//! A row switch updates the row in place, so rows that reference it stay: the deleted
//! object's cascades (association rows, `cascade = "delete"` children) are not run.

use rustc_hash::FxHashSet;

use oxalchemy_core::Value;
use oxalchemy_engine::Error;

use super::plan::{Plan, PlannedInsert, PlannedWrite};
use crate::errors;
use crate::session::objects::{describe_key, identity_key, IdentityKey, ObjectState};
use crate::session::Session;

impl Session {
    /// Checks the keys of the planned INSERTs and turns each delete + add of one identity
    /// into an UPDATE.
    pub(super) fn plan_identities(&self, plan: &mut Plan) -> Result<(), Error> {
        let mut seen: FxHashSet<IdentityKey> = FxHashSet::default();
        // (index in `plan.inserts`, the deleted object's slot)
        let mut switches: Vec<(usize, usize)> = Vec::new();
        for (i, ins) in plan.inserts.iter().enumerate() {
            let Some(e) = self.entries[ins.slot].as_ref() else {
                continue;
            };
            // A key left to the database cannot collide (and costs nothing to check).
            if let Some(generated) = (e.ops().generated_key)() {
                if !ins.values.iter().any(|(c, _)| *c == generated) {
                    continue;
                }
            }
            let obj = ins.object.as_deref().unwrap_or(&*e.obj);
            let mut pk = Vec::new();
            (e.ops().pk_values)(obj, &mut pk);
            if pk.is_empty() {
                continue;
            }
            let key = identity_key(e.ops().table, &pk);
            if let Some(held) = self.identity.get(&key, &self.entries) {
                match self.entries.get(held).and_then(Option::as_ref) {
                    Some(h) if h.state == ObjectState::Deleted => switches.push((i, held)),
                    Some(_) => return Err(errors::already_held(e.ops().model, &describe_key(&pk))),
                    None => {}
                }
            }
            if !seen.insert(key) {
                return Err(errors::added_twice(e.ops().model, &describe_key(&pk)));
            }
        }
        if switches.is_empty() {
            return Ok(());
        }
        let mut dropped = Dropped::default();
        // Backwards, so the insert indexes still to visit stay valid.
        for &(i, old) in switches.iter().rev() {
            let ins = plan.inserts.remove(i);
            self.switch_row(plan, ins, old, &mut dropped);
        }
        dropped.apply(plan);
        Ok(())
    }

    /// The UPDATE that replaces the deleted object's row with the new object's values.
    fn switch_row(&self, plan: &mut Plan, ins: PlannedInsert, old: usize, dropped: &mut Dropped) {
        let (Some(new_e), Some(old_e)) =
            (self.entries[ins.slot].as_ref(), self.entries[old].as_ref())
        else {
            return;
        };
        plan.deletes.retain(|(_, w)| w.slot != old);
        if let Some(span) = plan.cascade_spans.remove(&old) {
            dropped.cascades.extend(span.cascades);
            dropped.cascaded.extend(span.cascaded);
        }
        let mut work = ins
            .object
            .unwrap_or_else(|| (new_e.ops().clone)(&*new_e.obj));
        let mut key = Vec::new();
        (new_e.ops().pk_values)(&*work, &mut key);
        let mut set = Vec::new();
        (new_e.ops().update_values)(&*work, &mut set);
        // The old row's version is the one to check; the new row continues it.
        if let Some((column, v)) = (old_e.ops().version)(&*old_e.obj) {
            set.retain(|(c, _)| *c != column);
            set.push((column, Value::I64(v + 1)));
            key.push((column, Value::I64(v)));
            (new_e.ops().set_version)(&mut *work, v + 1);
        }
        if let Some(k) = ins.explicit_key {
            plan.switched_keys.insert(ins.slot, k);
        }
        plan.updates.push(PlannedWrite {
            slot: ins.slot,
            table: ins.table,
            set,
            key,
            object: Some(work),
        });
        plan.switched.push((ins.slot, old));
    }
}

/// Indexes of `Plan::cascades` / `Plan::cascaded` that row switches took back, removed at
/// the end so the other deleted objects' spans stay valid meanwhile.
#[derive(Default)]
struct Dropped {
    cascades: FxHashSet<usize>,
    cascaded: FxHashSet<usize>,
}

impl Dropped {
    fn apply(self, plan: &mut Plan) {
        let mut i = 0;
        plan.cascades.retain(|_| {
            i += 1;
            !self.cascades.contains(&(i - 1))
        });
        let mut i = 0;
        plan.cascaded.retain(|_| {
            i += 1;
            !self.cascaded.contains(&(i - 1))
        });
    }
}
