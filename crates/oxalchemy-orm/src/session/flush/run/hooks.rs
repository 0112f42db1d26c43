//! The `after_*` model hooks, run once every statement of the flush succeeded and before
//! its SAVEPOINT is released, so an error from one still writes nothing (see
//! `crate::hooks` for the order).

use std::any::Any;

use oxalchemy_engine::Error;

use super::Run;

impl Run<'_> {
    /// `after_insert` for each new object (with its generated key), then `after_update`,
    /// then `after_delete`, each in plan order.
    pub(super) fn after_hooks(&mut self) -> Result<(), Error> {
        for (i, ins) in self.plan.inserts.iter_mut().enumerate() {
            let ops = match self.plan.tables.iter().position(|(t, _)| *t == ins.table) {
                Some(p) => self.plan.ops[p],
                None => continue,
            };
            let (Some(h), Some(obj)) = ((ops.hooks)(), ins.object.as_mut()) else {
                continue;
            };
            if let Some(key) = self.inserted[i] {
                (ops.set_generated_key)(&mut **obj, key);
            }
            h.call("after_insert", h.after_insert, &**obj as &dyn Any)?;
        }
        for w in &self.plan.updates {
            let Some(h) = (self.plan.ops(w.table).hooks)() else {
                continue;
            };
            if let Some(obj) = &w.object {
                h.call("after_update", h.after_update, &**obj as &dyn Any)?;
            }
        }
        for (h, obj) in &self.plan.deleted_hooked {
            h.call("after_delete", h.after_delete, &**obj as &dyn Any)?;
        }
        Ok(())
    }
}
