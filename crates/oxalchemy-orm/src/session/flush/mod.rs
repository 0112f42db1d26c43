//! The unit of work's flush, in three steps:
//!
//! 1. [`plan`]: work out every statement from the object table — on copies, so defaults,
//!    onupdate values and validators that fail leave the held objects untouched;
//! 2. [`run`]: send the statements inside a SAVEPOINT, in foreign-key order ([`order`]),
//!    writing generated keys into the planned copies;
//! 3. `apply` (here): only after every statement succeeded, make the result visible in the
//!    session (keys, snapshots, states, identity map).
//!
//! A failure in step 1 or 2 leaves the session exactly as it was.

mod order;
mod plan;
mod run;
mod switch;

use oxalchemy_engine::Error;

use self::plan::Plan;
use super::objects::{identity_key, ObjectState};
use super::Session;

impl Session {
    /// Writes every pending change: INSERTs of new objects (multi-row per table, keys read
    /// back), UPDATEs of changed columns, DELETEs — in foreign-key order, inside a
    /// SAVEPOINT. If any statement fails, the database keeps nothing of the flush and the
    /// session is exactly as before (pending objects stay pending).
    ///
    /// With `before_flush` / `after_flush` listeners ([`Session::events`]) and something to
    /// write, the listeners run around the statements inside one more SAVEPOINT, and an
    /// error from one of them also writes nothing.
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.not_while_flushing("flush")?;
        self.undo_abandoned_flush().await?;
        // Boxed: a flush's futures nest deep (plan, pipelines, the engine's round trips),
        // and every future awaiting a flush (a commit, each query's autoflush, the caller's
        // own) would otherwise carry that depth into rustc's layout computation, which
        // stops at 128 levels: a caller a few async functions deep would not compile. One
        // allocation per flush that has something to write.
        if self.flush_needs_listeners() {
            return Box::pin(self.flush_with_listeners()).await;
        }
        self.flush_statements().await
    }

    /// The flush itself: plan, statements, apply.
    pub(super) async fn flush_statements(&mut self) -> Result<(), Error> {
        self.cascade_held();
        if let Some(err) = self.refused_error() {
            return Err(err);
        }
        self.sync_links_to_persistent_parents();
        let mut plan = self.plan()?;
        if plan.is_empty() {
            self.sync_after_flush();
            return Ok(());
        }
        let mut tx = match self.tx.take() {
            Some(tx) => tx,
            None => self.open_transaction().await?,
        };
        // A span around the flush's statements (their spans nest under it).
        let span = tracing::info_span!(target: "oxalchemy::orm", "oxalchemy.flush");
        let result = Box::pin(tracing::Instrument::instrument(
            run::run_plan(&mut plan, &mut tx, self.db.dialect(), &mut self.log),
            span,
        ))
        .await;
        self.tx = Some(tx);
        self.trim_log();
        let inserted = result?;
        self.wrote_tables(
            plan.tables
                .iter()
                .map(|(t, _)| *t)
                .chain(plan.associations.iter().map(|a| a.0))
                .chain(plan.cascades.iter().map(|c| c.0)),
        );
        let removed: Vec<usize> = (plan.deletes.iter().map(|(_, d)| d.slot))
            .chain(plan.cascaded.iter().copied())
            .collect();
        self.unlist_removed(removed.into_iter());
        self.apply(plan, inserted);
        self.pending_keys = None;
        self.sync_after_flush();
        Ok(())
    }

    /// Makes a successful flush visible in the session.
    fn apply(&mut self, plan: Plan, inserted: Vec<Option<i64>>) {
        self.associations.clear();
        for slot in &plan.cascaded {
            if let Some(e) = self.entries.take(*slot) {
                if let Some(key) = e.key {
                    self.identity.remove_slot(&key, *slot);
                }
            }
        }
        for (ins, key) in plan.inserts.into_iter().zip(inserted) {
            let Some(e) = self.entries[ins.slot].as_mut() else {
                continue;
            };
            // The object as inserted: the planned copy, or the held object itself.
            if let Some(row) = ins.object {
                e.obj = row;
            }
            let ops = e.ops();
            if let Some(key) = key {
                (ops.set_generated_key)(&mut *e.obj, key);
            }
            let mut pk = Vec::new();
            (ops.pk_values)(&*e.obj, &mut pk);
            // A pending object has no snapshot: it starts clean.
            let key = identity_key(ops.table, &pk);
            e.state = ObjectState::Persistent;
            e.key = Some(key.clone());
            self.identity.insert(&key, ins.slot, &self.entries);
        }
        for upd in plan.updates {
            let Some(e) = self.entries[upd.slot].as_mut() else {
                continue;
            };
            if let Some(obj) = upd.object {
                // As written: clean until handed out mutably again.
                e.obj = obj;
                self.entries.drop_snapshot(upd.slot);
            }
        }
        // Row switches: the new object now owns the deleted object's row and identity.
        for (new, old) in plan.switched {
            if let Some(gone) = self.entries.take(old) {
                if let Some(key) = gone.key {
                    self.identity.remove_slot(&key, old);
                }
            }
            if let Some(e) = self.entries[new].as_mut() {
                let mut pk = Vec::new();
                (e.ops().pk_values)(&*e.obj, &mut pk);
                let key = identity_key(e.ops().table, &pk);
                e.state = ObjectState::Persistent;
                e.key = Some(key.clone());
                self.identity.insert(&key, new, &self.entries);
            }
        }
        for (_, del) in plan.deletes {
            if let Some(e) = self.entries.take(del.slot) {
                if let Some(key) = e.key {
                    self.identity.remove_slot(&key, del.slot);
                }
            }
        }
        self.entries.prune_snapshots();
    }
}
