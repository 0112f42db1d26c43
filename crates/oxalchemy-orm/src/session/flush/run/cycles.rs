//! Foreign-key cycles between rows of one flush, broken the way SQLAlchemy's `post_update`
//! does it, detected from the links and the table order (no attribute declares them):
//!
//! - **INSERT**: a new row linked to a new row that has no key yet when its INSERT runs
//!   (the parent's table comes later in the order — a cycle between tables — or the parent
//!   is the row itself, or a cycle between rows of one table) is inserted with that foreign
//!   key NULL, and an UPDATE sets it once every INSERT ran. Rows linked to new rows of
//!   their own table wait for them instead (one INSERT per level of a tree). A parent of
//!   another table with an explicit key counts as missing until its INSERT ran, so cycles
//!   of explicit keys between tables are broken the same way; new rows of one table with
//!   explicit keys go in one INSERT, parents first, and those whose foreign-key values
//!   (linked or set by hand) still point at rows after them — a cycle — are deferred
//!   ([`Run::defer_forward_refs`]). A row's deferred keys are set by one UPDATE, which
//!   bumps and checks its version column.
//! - **DELETE**: a deleted row whose foreign key points at a row deleted before it (the
//!   referenced table comes later in the order) gets that foreign key set to NULL first
//!   (checked against its version column, which is not bumped: the row goes next).
//!
//! Either needs the foreign key to be nullable; where it is not, the flush fails before any
//! SQL naming both models and the column. The table order breaks a cycle between tables at
//! a nullable foreign key where one exists (`MetaData::creation_order`).

use rustc_hash::FxHashMap;

use oxalchemy_core::schema::{Constraint, ForeignKey, Table};
use oxalchemy_core::Value;
use oxalchemy_engine::Error;

use super::{planned_key, run_checked, Run};
use crate::errors;
use crate::session::flush::order::self_foreign_keys;
use crate::session::flush::plan::{Plan, PlannedWrite, PostUpdate};
use crate::session::objects::describe_key;

impl Run<'_> {
    /// The rows of `table` to insert next, taken from `left`: those not waiting for a new
    /// row of the same table. Their links to rows without a key yet become post-updates.
    pub(super) fn next_wave(
        &mut self,
        table: &'static str,
        left: &mut Vec<usize>,
    ) -> Result<Vec<usize>, Error> {
        let plan = &*self.plan;
        if plan.links.is_empty() {
            return Ok(std::mem::take(left));
        }
        let waiting: rustc_hash::FxHashSet<usize> =
            left.iter().map(|&i| plan.inserts[i].slot).collect();
        // Child slot → (parent slot, column) of its links whose parent has no key yet.
        let mut unresolved: FxHashMap<usize, Vec<(usize, &'static str)>> = FxHashMap::default();
        // A parent whose row is not in yet: no key yet, or an explicit key of another
        // table whose INSERT has not run (a cycle of explicit keys between tables). Rows of
        // this table with explicit keys go in one INSERT, parents first, a cycle among
        // them broken by `defer_forward_refs`.
        let missing =
            |l: &crate::session::links::Link| match planned_key(plan, &self.inserted, l.parent) {
                None => true,
                Some(_) => plan
                    .insert_at
                    .get(&l.parent)
                    .is_some_and(|&p| !self.done[p] && plan.inserts[p].table != table),
            };
        for l in &plan.links {
            if waiting.contains(&l.child) && missing(l) {
                unresolved
                    .entry(l.child)
                    .or_default()
                    .push((l.parent, l.fk_column));
            }
        }
        if unresolved.is_empty() {
            return Ok(std::mem::take(left));
        }
        let blocked = |i: usize| {
            let slot = plan.inserts[i].slot;
            unresolved
                .get(&slot)
                .is_some_and(|ls| ls.iter().any(|&(p, _)| p != slot && waiting.contains(&p)))
        };
        let (mut ready, mut rest): (Vec<usize>, Vec<usize>) =
            left.iter().partition(|&&i| !blocked(i));
        if ready.is_empty() {
            // Every row waits for another of this table: a cycle between rows. The first
            // goes in now and gets its foreign keys after.
            ready = vec![rest.remove(0)];
        }
        *left = rest;
        let mut deferred = Vec::new();
        for &i in &ready {
            if let Some(ls) = unresolved.get(&plan.inserts[i].slot) {
                deferred.extend(ls.iter().map(|&(parent, fk_column)| PostUpdate {
                    insert: i,
                    parent,
                    fk_column,
                    by_value: None,
                }));
            }
        }
        if !deferred.is_empty() {
            self.defer(table, deferred)?;
        }
        Ok(ready)
    }

    /// Inserts the foreign keys of `deferred` as NULL, to be set by [`Run::post_updates`].
    fn defer(&mut self, table: &'static str, deferred: Vec<PostUpdate>) -> Result<(), Error> {
        let def = self.plan.table_def(table);
        for pu in &deferred {
            let nullable = def
                .columns
                .iter()
                .any(|c| c.name.as_str() == pu.fk_column && c.nullable);
            if !nullable {
                let parent = self
                    .plan
                    .insert_at
                    .get(&pu.parent)
                    .map(|&p| self.plan.ops(self.plan.inserts[p].table).model)
                    .unwrap_or("referenced");
                let model = self.plan.ops(table).model;
                return Err(errors::insert_cycle_not_null(model, pu.fk_column, parent));
            }
            for (c, v) in &mut self.plan.inserts[pu.insert].values {
                if *c == pu.fk_column {
                    *v = Value::Null;
                }
            }
        }
        self.plan.post_updates.extend(deferred);
        Ok(())
    }

    /// The UPDATEs that set the foreign keys inserted as NULL, now that every row has its
    /// key — one per row, all its deferred foreign keys together — and the planned objects
    /// get the keys too. A row with a version column has it bumped and checked, as any
    /// UPDATE of it (SQLAlchemy's post_update does the same): the object ends the flush
    /// with the version its row has.
    pub(super) async fn post_updates(&mut self) -> Result<(), Error> {
        if self.plan.post_updates.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.plan.post_updates);
        // Insert index → its UPDATE in `writes`.
        let mut write_of: FxHashMap<usize, usize> = FxHashMap::default();
        let mut writes: Vec<PlannedWrite> = Vec::with_capacity(pending.len());
        for pu in &pending {
            let table = self.plan.inserts[pu.insert].table;
            let ops = self.plan.ops(table);
            let value = match &pu.by_value {
                Some((value, _)) => value.clone(),
                None => match planned_key(self.plan, &self.inserted, pu.parent) {
                    Some(key) => Value::I64(key),
                    None => {
                        return Err(errors::mapping(format!(
                            "a new {} is linked through `{}` to an object this flush did not \
                             insert; add that object to the session. Nothing was written",
                            ops.model, pu.fk_column
                        )))
                    }
                },
            };
            let generated = self.inserted[pu.insert];
            let ins = &mut self.plan.inserts[pu.insert];
            // The copy the session takes after the flush gets the key (a reference by value
            // is already in the object: the values came from it).
            if let (Some(obj), Value::I64(key), None) = (ins.object.as_mut(), &value, &pu.by_value)
            {
                (ops.set_integer_column)(&mut **obj, pu.fk_column, *key);
            }
            if let Some(&w) = write_of.get(&pu.insert) {
                writes[w].set.push((pu.fk_column, value));
                continue;
            }
            let mut pk = match (&pu.by_value, ins.object.as_ref()) {
                (_, Some(obj)) => {
                    let mut pk = Vec::new();
                    (ops.pk_values)(&**obj, &mut pk);
                    pk
                }
                (Some((_, key)), None) => key.clone(),
                // A linked row always has a copy (the link sets its key); nothing to do
                // without one.
                (None, None) => continue,
            };
            if let (Some(column), Some(k)) = ((ops.generated_key)(), generated) {
                pk.retain(|(c, _)| *c != column);
                pk.push((column, Value::I64(k)));
            }
            write_of.insert(pu.insert, writes.len());
            writes.push(PlannedWrite {
                slot: ins.slot,
                table,
                set: vec![(pu.fk_column, value)],
                key: pk,
                object: None,
            });
        }
        for (&i, &w) in &write_of {
            let ops = self.plan.ops(self.plan.inserts[i].table);
            let Some(obj) = self.plan.inserts[i].object.as_mut() else {
                continue;
            };
            if let Some((column, v)) = (ops.version)(&**obj) {
                writes[w].set.push((column, Value::I64(v + 1)));
                writes[w].key.push((column, Value::I64(v)));
                (ops.set_version)(&mut **obj, v + 1);
            }
        }
        let refs: Vec<&PlannedWrite> = writes.iter().collect();
        run_checked(&refs, "UPDATE", self.conn, self.dialect, self.log).await
    }

    /// Rows of one table inserted together whose own foreign key (an explicit value, no
    /// link) points at a row after them in the order — a cycle between new rows of one
    /// table (`parent_first` keeps a cycle in input order): that key goes in as NULL and
    /// is set by [`Run::post_updates`]. Single-column foreign keys only.
    pub(super) fn defer_forward_refs(
        &mut self,
        table: &'static str,
        ordered: &[usize],
    ) -> Result<(), Error> {
        if ordered.len() < 2 {
            return Ok(());
        }
        let plan = &*self.plan;
        let def = plan.table_def(table);
        let fks: Vec<(String, String)> = self_foreign_keys(&def)
            .into_iter()
            .filter(|(c, r)| c.len() == 1 && r.len() == 1)
            .map(|(mut c, mut r)| (c.remove(0), r.remove(0)))
            .collect();
        if fks.is_empty() {
            return Ok(());
        }
        let get = |i: usize, col: &str| {
            plan.inserts[i]
                .values
                .iter()
                .find(|(c, _)| *c == col)
                .map(|(c, v)| (*c, v.clone()))
        };
        let pk_columns: Vec<&str> = def
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect();
        let mut deferred = Vec::new();
        for (at, &i) in ordered.iter().enumerate() {
            for (col, ref_col) in &fks {
                let Some((fk_column, value)) = get(i, col) else {
                    continue;
                };
                if value.is_null() {
                    continue;
                }
                let later = ordered[at + 1..]
                    .iter()
                    .copied()
                    .find(|&j| get(j, ref_col).is_some_and(|(_, v)| v == value));
                let Some(j) = later else { continue };
                let key = pk_columns.iter().filter_map(|c| get(i, c)).collect();
                deferred.push(PostUpdate {
                    insert: i,
                    parent: plan.inserts[j].slot,
                    fk_column,
                    by_value: Some((value, key)),
                });
            }
        }
        if !deferred.is_empty() {
            self.defer(table, deferred)?;
        }
        Ok(())
    }

    /// Sets to NULL the foreign keys of deleted rows that point at rows deleted before
    /// them (a cycle between tables), before any DELETE runs.
    pub(super) async fn unlink_deleted_cycles(
        &mut self,
        order: &[&'static str],
    ) -> Result<(), Error> {
        let plan = &*self.plan;
        if plan.deletes.is_empty() {
            return Ok(());
        }
        let pos = |t: &str| order.iter().position(|o| *o == t);
        let mut tables: Vec<&'static str> = Vec::new();
        for (_, w) in &plan.deletes {
            if !tables.contains(&w.table) {
                tables.push(w.table);
            }
        }
        let mut writes: Vec<PlannedWrite> = Vec::new();
        for &t in &tables {
            let Some(at) = pos(t) else { continue };
            let def = plan.table_def(t);
            for c in &def.constraints {
                let Constraint::ForeignKey(fk) = c else {
                    continue;
                };
                let referenced = fk.ref_table.as_str();
                let value = |row: &[(&'static str, Value)], col: &str| {
                    row.iter().find(|(c, _)| *c == col).map(|(_, v)| v.clone())
                };
                if referenced == t {
                    // A row that references itself (a tree's top pointing at itself as its
                    // root): MariaDB refuses to delete it while it does.
                    for (row, w) in plan.deletes.iter().filter(|(_, w)| w.table == t) {
                        let own: Option<Vec<Value>> = fk
                            .ref_columns
                            .iter()
                            .map(|c| value(row, c.as_str()))
                            .collect();
                        let points: Option<Vec<Value>> =
                            fk.columns.iter().map(|c| value(row, c.as_str())).collect();
                        if own.is_some() && own == points {
                            writes.push(null_out(plan, t, fk, row, w, &def)?);
                        }
                    }
                    continue;
                }
                if pos(referenced).is_none_or(|r| r <= at) {
                    continue;
                }
                // The referenced keys of the rows of `referenced` deleted in this flush.
                let gone: Vec<Vec<Value>> = plan
                    .deletes
                    .iter()
                    .filter(|(_, w)| w.table == referenced)
                    .filter_map(|(row, _)| {
                        fk.ref_columns
                            .iter()
                            .map(|rc| value(row, rc.as_str()))
                            .collect::<Option<Vec<Value>>>()
                    })
                    .collect();
                if gone.is_empty() {
                    continue;
                }
                for (row, w) in plan.deletes.iter().filter(|(_, w)| w.table == t) {
                    let Some(vals) = fk
                        .columns
                        .iter()
                        .map(|c| value(row, c.as_str()))
                        .collect::<Option<Vec<Value>>>()
                    else {
                        continue;
                    };
                    if vals.iter().any(Value::is_null) || !gone.contains(&vals) {
                        continue;
                    }
                    writes.push(null_out(plan, t, fk, row, w, &def)?);
                }
            }
        }
        let refs: Vec<&PlannedWrite> = writes.iter().collect();
        run_checked(&refs, "UPDATE", self.conn, self.dialect, self.log).await
    }
}

/// The UPDATE that sets foreign key `fk` of the deleted row `row` to NULL before the
/// DELETEs; an error naming both models when a column of it is NOT NULL.
fn null_out(
    plan: &Plan,
    t: &'static str,
    fk: &ForeignKey,
    row: &[(&'static str, Value)],
    w: &PlannedWrite,
    def: &Table,
) -> Result<PlannedWrite, Error> {
    let mut set = Vec::new();
    for col in &fk.columns {
        let nullable = def
            .columns
            .iter()
            .any(|c| c.name == *col && c.nullable && !c.primary_key);
        let name = row
            .iter()
            .find(|(c, _)| *c == col.as_str())
            .map(|(c, _)| *c);
        match (nullable, name) {
            (true, Some(name)) => set.push((name, Value::Null)),
            _ => {
                let referenced = fk.ref_table.as_str();
                let parent = if plan.tables.iter().any(|(n, _)| *n == referenced) {
                    plan.ops(referenced).model
                } else {
                    "row"
                };
                return Err(errors::delete_cycle_not_null(
                    plan.ops(t).model,
                    &describe_key(&w.key),
                    col.as_str(),
                    parent,
                ));
            }
        }
    }
    Ok(PlannedWrite {
        slot: w.slot,
        table: t,
        set,
        key: w.key.clone(),
        object: None,
    })
}
