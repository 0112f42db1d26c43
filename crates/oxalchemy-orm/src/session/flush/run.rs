//! Step 2 of a flush: sends the [`Plan`]'s statements inside a SAVEPOINT — INSERTs
//! (referenced tables first, multi-row per table, generated keys read back), UPDATEs,
//! association rows and cascades, then DELETEs (dependent tables first) — and writes the
//! generated keys of new parents into their children's planned rows as it goes. The
//! session itself is not touched: the caller applies the result only when every statement
//! succeeded.

mod cycles;
mod hooks;

use std::collections::HashSet;

use oxalchemy_core::dialect::bulk::{delete_by_key_sql, insert_rows_sql};
use oxalchemy_core::{Compiled, Dialect, Value};
use oxalchemy_engine::{Connection, Error, Transaction};

use super::order::{parent_first, self_foreign_keys, table_order};
use super::plan::{Plan, PlannedWrite};
use crate::session::joined::SessionTx;
use crate::session::links::AssociationWrite;
use crate::session::objects::{describe_key, Pairs};

/// How the statement log records a multi-row INSERT of `rows` rows: its first row's
/// placeholders and a trailing comment with the row count, e.g.
/// `INSERT INTO "users" ("name") VALUES (?) -- 10922 rows`. The full text grows by a
/// dozen bytes per row, and the log is kept for the session's life: logged whole, a
/// flush of 100,000 new objects kept 1.3 MB of placeholders (`benches/session_memory.rs`).
fn logged_insert(
    dialect: &dyn Dialect,
    table: &str,
    columns: &[&str],
    rows: usize,
    returning: &[&str],
) -> String {
    use std::fmt::Write;
    let mut sql = insert_rows_sql(dialect, table, columns, 1, returning);
    // Writing into a String cannot fail.
    let _ = write!(sql, " -- {rows} rows");
    sql
}

/// Runs the planned statements inside a SAVEPOINT; returns the generated key (if any) of
/// each planned insert, in plan order. Nothing in the session changes here.
pub(super) async fn run_plan(
    plan: &mut Plan,
    tx: &mut SessionTx,
    dialect: &'static dyn Dialect,
    log: &mut Vec<String>,
) -> Result<Vec<Option<i64>>, Error> {
    let mut sp: Transaction<'_> = tx.savepoint().await?;
    let mut run = Run {
        inserted: vec![None; plan.inserts.len()],
        done: vec![false; plan.inserts.len()],
        plan,
        conn: &mut sp,
        dialect,
        log,
    };
    match run.statements().await {
        Ok(()) => {
            let inserted = std::mem::take(&mut run.inserted);
            sp.commit().await?;
            Ok(inserted)
        }
        Err(e) => {
            // The flush's own error is what matters; the rollback is best effort (the
            // enclosing transaction rolls back on drop if even this fails).
            let _ = sp.rollback().await;
            Err(e)
        }
    }
}

/// One flush in flight: the plan, where its statements go and what they returned so far.
struct Run<'a> {
    plan: &'a mut Plan,
    conn: &'a mut Connection,
    dialect: &'static dyn Dialect,
    /// The session's statement log.
    log: &'a mut Vec<String>,
    /// The generated key of each planned insert, once its INSERT ran.
    inserted: Vec<Option<i64>>,
    /// Whether each planned insert's INSERT ran (its row exists for foreign keys).
    done: Vec<bool>,
}

/// A run of consecutive planned inserts into one table that set the same columns: one
/// multi-row INSERT.
struct InsertBatch<'b> {
    table: &'static str,
    /// Indexes into `plan.inserts`.
    rows: &'b [usize],
    columns: Vec<&'static str>,
    /// The generated key column to read back, if the rows leave it to the database.
    returning: Vec<&'static str>,
}

impl Run<'_> {
    async fn statements(&mut self) -> Result<(), Error> {
        let order = table_order(&self.plan.tables);
        // INSERTs, referenced tables first.
        for table in &order {
            self.insert_table(table).await?;
        }
        // Foreign keys of rows inserted before the row they reference (cycles).
        self.post_updates().await?;
        // UPDATEs of changed columns, pipelined on PostgreSQL.
        self.sync_planned_updates();
        let plan = &*self.plan;
        // A relinked object whose key turned out unchanged has nothing to write.
        let updates: Vec<&PlannedWrite> =
            plan.updates.iter().filter(|w| !w.set.is_empty()).collect();
        run_checked(&updates, "UPDATE", self.conn, self.dialect, self.log).await?;
        // Foreign keys between rows deleted together in a cycle are set to NULL first.
        self.unlink_deleted_cycles(&order).await?;
        // Association rows (both sides now have keys), then cascades.
        self.association_and_cascade_writes().await?;
        // DELETEs, dependent tables (and child rows) first.
        self.deletes(&order).await?;
        // `after_*` hooks, still inside the SAVEPOINT.
        self.after_hooks()
    }

    /// The INSERTs of one table's new rows, parents before children within the table:
    /// rows linked to new rows of the same table wait for their keys (see
    /// [`Run::next_wave`]).
    async fn insert_table(&mut self, table: &'static str) -> Result<(), Error> {
        let plan = &*self.plan;
        let mut left: Vec<usize> = (0..plan.inserts.len())
            .filter(|&i| plan.inserts[i].table == table)
            .collect();
        while !left.is_empty() {
            self.sync_planned_children(table);
            let wave = self.next_wave(table, &mut left)?;
            self.insert_rows(table, wave).await?;
        }
        Ok(())
    }

    /// One multi-row INSERT per run of rows that set the same columns.
    async fn insert_rows(&mut self, table: &'static str, idx: Vec<usize>) -> Result<(), Error> {
        let plan = &*self.plan;
        let self_fks = self_foreign_keys(&plan.table_def(table));
        let rows: Vec<&Pairs> = idx.iter().map(|&i| &plan.inserts[i].values).collect();
        let ordered: Vec<usize> = parent_first(&rows, &self_fks)
            .into_iter()
            .map(|k| idx[k])
            .collect();
        // Rows of this wave pointing (by explicit key values) at rows after them: a cycle
        // between new rows of one table, whose keys go in NULL and are set after.
        self.defer_forward_refs(table, &ordered)?;
        let plan = &*self.plan;
        let generated_key = (plan.ops(table).generated_key)();
        // Consecutive rows that set the same columns share one multi-row INSERT.
        let mut start = 0;
        while start < ordered.len() {
            let plan = &*self.plan;
            let columns: Vec<&'static str> = plan.inserts[ordered[start]]
                .values
                .iter()
                .map(|(c, _)| *c)
                .collect();
            // Only a key the database generates is read back (SQLAlchemy's default;
            // `refresh` re-reads a whole row).
            let returning: Vec<&'static str> = generated_key
                .filter(|k| !columns.contains(k))
                .into_iter()
                .collect();
            let mut max_rows = (self.dialect.max_binds() / columns.len().max(1))
                .clamp(1, self.dialect.insert_rows_cap());
            if !returning.is_empty() {
                // MySQL without RETURNING under interleaved AUTO_INCREMENT locking: one row
                // per INSERT, each key from LAST_INSERT_ID().
                max_rows = max_rows.min(self.conn.rows_per_keyed_insert());
            }
            let mut end = start + 1;
            while end < ordered.len()
                && end - start < max_rows
                && plan.inserts[ordered[end]]
                    .values
                    .iter()
                    .map(|(c, _)| *c)
                    .eq(columns.iter().copied())
            {
                end += 1;
            }
            let batch = InsertBatch {
                table,
                rows: &ordered[start..end],
                columns,
                returning,
            };
            self.insert_batch(batch).await?;
            start = end;
        }
        Ok(())
    }

    /// One multi-row INSERT; generated keys go into `self.inserted`.
    async fn insert_batch(&mut self, batch: InsertBatch<'_>) -> Result<(), Error> {
        let n = batch.rows.len();
        let dialect = self.dialect;
        let sql = insert_rows_sql(dialect, batch.table, &batch.columns, n, &batch.returning);
        let mut binds = Vec::with_capacity(n * batch.columns.len());
        for &i in batch.rows {
            self.done[i] = true;
            binds.extend(
                std::mem::take(&mut self.plan.inserts[i].values)
                    .into_iter()
                    .map(|(_, v)| dialect.encode(v)),
            );
        }
        let mut c = Compiled { sql, binds };
        self.log.push(if n == 1 {
            c.sql.clone()
        } else {
            logged_insert(dialect, batch.table, &batch.columns, n, &batch.returning)
        });
        if batch.returning.is_empty() {
            self.conn.execute_write(&c).await?;
            return Ok(());
        }
        // SQLite: the same INSERT without RETURNING, keys from the rowids.
        let plain = Compiled {
            sql: insert_rows_sql(dialect, batch.table, &batch.columns, n, &[]),
            binds: std::mem::take(&mut c.binds),
        };
        let keys: Vec<i64> = match self
            .conn
            .insert_returning_rowids(&plain, batch.table, n)
            .await?
        {
            Some(keys) => keys,
            None => {
                c.binds = plain.binds;
                let keys: Vec<(i64,)> = self.conn.query_write(&c).await?;
                keys.into_iter().map(|(k,)| k).collect()
            }
        };
        if keys.len() != n {
            return Err(Error::InsertRowCount {
                table: batch.table.to_owned(),
                sent: n,
                returned: keys.len(),
            });
        }
        for (&i, key) in batch.rows.iter().zip(keys) {
            self.inserted[i] = Some(key);
        }
        Ok(())
    }

    /// Association-row INSERTs/DELETEs and cascade DELETEs, sent as one pipeline.
    async fn association_and_cascade_writes(&mut self) -> Result<(), Error> {
        let plan = &*self.plan;
        let dialect = self.dialect;
        let mut writes = Vec::new();
        for (table, left, right, change) in &plan.associations {
            let key_of = |slot: usize| -> Option<Value> {
                plan.held_keys
                    .get(&slot)
                    .cloned()
                    .or_else(|| planned_key(plan, &self.inserted, slot).map(Value::I64))
            };
            let (Some(l), Some(r)) = (key_of(*left), key_of(*right)) else {
                continue;
            };
            let cols = [change.left_column.as_str(), change.right_column.as_str()];
            let mut write = |sql| {
                writes.push(Compiled {
                    sql,
                    binds: vec![dialect.encode(l.clone()), dialect.encode(r.clone())],
                })
            };
            match change.write {
                AssociationWrite::Insert => write(insert_rows_sql(dialect, table, &cols, 1, &[])),
                AssociationWrite::Delete => write(delete_by_key_sql(dialect, table, &cols)),
                AssociationWrite::Replace => {
                    write(delete_by_key_sql(dialect, table, &cols));
                    write(insert_rows_sql(dialect, table, &cols, 1, &[]));
                }
            }
        }
        for (table, key) in &plan.cascades {
            let cols: Vec<&str> = key.iter().map(|(c, _)| *c).collect();
            writes.push(Compiled {
                sql: delete_by_key_sql(dialect, table, &cols),
                binds: key.iter().map(|(_, v)| dialect.encode(v.clone())).collect(),
            });
        }
        if !writes.is_empty() {
            self.log.extend(writes.iter().map(|c| c.sql.clone()));
            self.conn.execute_many_compiled(&writes).await?;
        }
        Ok(())
    }

    /// The row DELETEs, dependent tables (and child rows) first; rows a cascade removed
    /// already are not deleted again.
    async fn deletes(&mut self, order: &[&'static str]) -> Result<(), Error> {
        let plan = &*self.plan;
        let cascaded: HashSet<usize> = plan.cascaded.iter().copied().collect();
        let mut deletes: Vec<&PlannedWrite> = Vec::new();
        for table in order.iter().rev() {
            let idx: Vec<usize> = (0..plan.deletes.len())
                .filter(|&i| plan.deletes[i].1.table == *table)
                .collect();
            let self_fks = self_foreign_keys(&plan.table_def(table));
            let rows: Vec<&Pairs> = idx.iter().map(|&i| &plan.deletes[i].0).collect();
            let mut ordered = parent_first(&rows, &self_fks);
            ordered.reverse();
            deletes.extend(
                ordered
                    .into_iter()
                    .map(|k| &plan.deletes[idx[k]].1)
                    .filter(|w| !cascaded.contains(&w.slot)),
            );
        }
        run_checked(&deletes, "DELETE", self.conn, self.dialect, self.log).await
    }

    /// Sets the foreign keys of `table`'s new rows whose parents were inserted earlier in
    /// this flush, and recomputes their values.
    fn sync_planned_children(&mut self, table: &str) {
        let plan = &mut *self.plan;
        for l in plan.links.clone() {
            let Some(&i) = plan.insert_at.get(&l.child) else {
                continue;
            };
            if plan.inserts[i].table != table {
                continue;
            }
            let Some(key) = planned_key(plan, &self.inserted, l.parent) else {
                continue;
            };
            let ops = plan.ops(table);
            if let Some(obj) = plan.inserts[i].object.as_mut() {
                if (ops.set_integer_column)(&mut **obj, l.fk_column, key) {
                    let mut values = Vec::new();
                    (ops.insert_values)(&**obj, &mut values);
                    plan.inserts[i].values = values;
                }
            }
        }
    }

    /// Sets the foreign keys of persistent children of parents inserted by this flush.
    fn sync_planned_updates(&mut self) {
        let plan = &mut *self.plan;
        for l in plan.links.clone() {
            let Some(key) = planned_key(plan, &self.inserted, l.parent) else {
                continue;
            };
            let Some(&u) = plan.update_at.get(&l.child) else {
                continue;
            };
            let set_column = plan.ops(plan.updates[u].table).set_integer_column;
            let w = &mut plan.updates[u];
            if let Some(obj) = w.object.as_mut() {
                if set_column(&mut **obj, l.fk_column, key) {
                    w.set.retain(|(c, _)| *c != l.fk_column);
                    w.set.push((l.fk_column, Value::I64(key)));
                }
            }
        }
    }
}

/// The key of a parent inserted by this flush (generated, or written explicitly), or of
/// the new object of a row switch.
fn planned_key(plan: &Plan, inserted: &[Option<i64>], parent: usize) -> Option<i64> {
    if let Some(&key) = plan.switched_keys.get(&parent) {
        return Some(key);
    }
    let i = *plan.insert_at.get(&parent)?;
    inserted[i].or(plan.inserts[i].explicit_key)
}

/// Runs statements that must each match exactly one row (optimistic concurrency).
async fn run_checked(
    writes: &[&PlannedWrite],
    operation: &'static str,
    conn: &mut Connection,
    dialect: &'static dyn Dialect,
    log: &mut Vec<String>,
) -> Result<(), Error> {
    if writes.is_empty() {
        return Ok(());
    }
    let compiled: Vec<Compiled> = writes.iter().map(|w| w.compile(dialect)).collect();
    log.extend(compiled.iter().map(|c| c.sql.clone()));
    let counts = conn.execute_many_compiled(&compiled).await?;
    for (w, n) in writes.iter().zip(counts) {
        if n != 1 {
            return Err(Error::StaleData {
                operation,
                table: w.table,
                key: describe_key(&w.key),
                matched: n,
            });
        }
    }
    Ok(())
}
