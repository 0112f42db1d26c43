//! [`bulk_insert`]: many rows in multi-row INSERTs, chunked to the dialect's bind limit,
//! reading nothing back unless generated keys are asked for.

use std::marker::PhantomData;

use oxalchemy_core::dialect::bulk::insert_rows_sql;
use oxalchemy_core::{Compiled, Value};
use oxalchemy_engine::{Connection, Error};

use super::exec::{finish, log};
use super::{group_for, in_column_order, BulkExec, Group, Mapping, Pairs};
use crate::errors::mapping;
use crate::model::Model;

/// A row [`bulk_insert`] accepts: a model struct (its defaults and validators applied, as
/// [`insert`](crate::insert) does) or a [`Mapping`] of some of its columns (defaults
/// applied to the columns it leaves out, the rest left to the database).
pub trait InsertRow<M>: Send {
    /// The row's columns and values. `defaults` caches, for the whole call, what the
    /// model's `#[column(default = …)]`s fill.
    #[doc(hidden)]
    fn insert_pairs(
        self,
        defaults: &mut Option<Vec<(&'static str, Value)>>,
        out: &mut Vec<(&'static str, Value)>,
    ) -> Result<(), Error>;
}

impl<M: Model> InsertRow<M> for M {
    fn insert_pairs(mut self, _: &mut Option<Pairs>, out: &mut Pairs) -> Result<(), Error> {
        self.apply_defaults();
        self.validate()?;
        // The row is dropped after: its text moves into the values instead of being copied.
        self.take_insert_values(out);
        Ok(())
    }
}

impl<M: Model + Default> InsertRow<M> for Mapping<M> {
    fn insert_pairs(self, defaults: &mut Option<Pairs>, out: &mut Pairs) -> Result<(), Error> {
        let defaults = defaults.get_or_insert_with(defaults_of::<M>);
        out.extend(self.pairs);
        for (c, v) in defaults.iter() {
            if !out.iter().any(|(oc, _)| oc == c) {
                out.push((c, v.clone()));
            }
        }
        in_column_order(out, M::columns());
        Ok(())
    }
}

/// The values `M`'s `#[column(default = …)]`s (and its version column) give a new row: what
/// a [`Mapping`] leaving those columns out gets. Taken by column, not by comparing with the
/// type's zero value, so a default that *is* the zero value (`default = 0`) is still
/// filled and wins over a server default.
fn defaults_of<M: Model + Default>() -> Pairs {
    let mut columns = Vec::new();
    M::default_columns(&mut columns);
    if columns.is_empty() {
        return Vec::new();
    }
    let mut m = M::default();
    m.apply_defaults();
    let mut values = Vec::with_capacity(M::columns().len());
    m.insert_values(&mut values);
    values.retain(|(c, _)| columns.contains(c));
    values
}

/// Inserts many rows of `M`: structs or [`Mapping`]s, mixed freely. Rows naming the same
/// columns share multi-row INSERTs, chunked to the dialect's bind limit; every
/// `default = now` of the call gets the same instant. Nothing is read back: call
/// [`returning_keys`](BulkInsert::returning_keys) for the generated keys. Run it with
/// [`execute`](BulkInsert::execute) on a `&Database`, a `&mut Connection` or a
/// `&mut Session`; it is all or nothing (a SAVEPOINT inside an open transaction).
///
/// ```no_run
/// # use oxalchemy_orm::{bulk_insert, Mapping, Model};
/// # async fn f<User: Model + Default + Clone>(db: &oxalchemy_engine::Database,
/// #     name: oxalchemy_orm::TypedColumn<User, String>) -> Result<(), oxalchemy_engine::Error> {
/// let rows = (0..1000).map(|i| Mapping::new().set(name, format!("user{i}")));
/// let inserted = bulk_insert::<User>(rows).execute(db).await?;
/// # let _ = inserted; Ok(()) }
/// ```
pub fn bulk_insert<M: Model>(rows: impl IntoIterator<Item = impl InsertRow<M>>) -> BulkInsert<M> {
    BulkInsert {
        rows: crate::defaults::with_one_now(|| group_rows::<M>(rows)),
        copy_threshold: Some(DEFAULT_COPY_THRESHOLD),
        _model: PhantomData,
    }
}

/// From how many rows (of one column set) [`bulk_insert`] sends them with binary COPY on
/// PostgreSQL instead of multi-row INSERTs, unless keys are asked for. Below it, COPY's
/// extra round trips (the column types, the COPY itself) cost more than they save.
pub const DEFAULT_COPY_THRESHOLD: usize = 1_000;

/// A prepared [`bulk_insert`]: rows grouped by the columns they set.
#[must_use = "a bulk insert does nothing until `.execute(…)` is awaited"]
pub struct BulkInsert<M> {
    rows: Result<(Vec<Group>, usize), Error>,
    copy_threshold: Option<usize>,
    _model: PhantomData<fn() -> M>,
}

/// A [`bulk_insert`] that reads back the generated keys (in the order of the rows given).
#[must_use = "a bulk insert does nothing until `.execute(…)` is awaited"]
pub struct BulkInsertKeys<M> {
    insert: BulkInsert<M>,
}

impl<M> std::fmt::Debug for BulkInsert<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkInsert")
            .field("rows", &self.rows.as_ref().map(|(_, n)| *n))
            .finish()
    }
}

impl<M> std::fmt::Debug for BulkInsertKeys<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.insert.fmt(f)
    }
}

impl<M: Model + Clone> BulkInsert<M> {
    /// Also read back each row's generated key (RETURNING on PostgreSQL; consecutive rowids
    /// on SQLite). `M` needs a generated integer key.
    pub fn returning_keys(self) -> BulkInsertKeys<M> {
        BulkInsertKeys { insert: self }
    }

    /// On PostgreSQL, send groups of at least `rows` rows (rows naming the same columns)
    /// with binary COPY (default [`DEFAULT_COPY_THRESHOLD`]); `None` never uses COPY.
    /// [`returning_keys`](Self::returning_keys) always uses INSERT … RETURNING.
    pub fn copy_threshold(mut self, rows: Option<usize>) -> Self {
        self.copy_threshold = rows;
        self
    }

    /// Runs the INSERTs; returns how many rows were inserted.
    pub async fn execute<'e>(self, ex: impl Into<BulkExec<'e>>) -> Result<u64, Error> {
        Ok(self.run(ex.into(), None).await?.0)
    }

    async fn run(
        self,
        ex: BulkExec<'_>,
        key: Option<&'static str>,
    ) -> Result<(u64, Vec<i64>), Error> {
        let (groups, total) = self.rows?;
        let mut job = Job::<M>::new(groups, total, key);
        job.copy_threshold = self.copy_threshold;
        match ex {
            BulkExec::Exec(ex) => {
                let mut held = None;
                let done = job
                    .in_transaction(ex.connection(&mut held).await?, None)
                    .await?;
                crate::cache::invalidate_tables([M::TABLE]);
                Ok(done)
            }
            BulkExec::Session(s) => {
                let (conn, log) = s.bulk_begin().await?;
                let done = job.in_transaction(conn, Some(log)).await?;
                s.wrote_tables(std::iter::once(M::TABLE));
                Ok(done)
            }
        }
    }
}

impl<M: Model + Clone> BulkInsertKeys<M> {
    /// Runs the INSERTs; returns the generated keys, in the order the rows were given.
    pub async fn execute<'e>(self, ex: impl Into<BulkExec<'e>>) -> Result<Vec<i64>, Error> {
        let Some(key) = M::generated_key_column() else {
            return Err(mapping(format!(
                "bulk_insert::<{}>().returning_keys(): the model has no database-generated \
                 integer key to return; drop returning_keys() and read the rows back with a query",
                M::NAME
            )));
        };
        Ok(self.insert.run(ex.into(), Some(key)).await?.1)
    }
}

/// Turns the rows into value lists grouped by their column sets.
fn group_rows<M: Model>(
    rows: impl IntoIterator<Item = impl InsertRow<M>>,
) -> Result<(Vec<Group>, usize), Error> {
    let mut groups = Vec::new();
    let mut last = 0;
    let mut defaults = None;
    let mut total = 0;
    let mut pairs = Vec::with_capacity(M::columns().len());
    let rows = rows.into_iter();
    let hint = rows.size_hint().0;
    for (i, row) in rows.enumerate() {
        pairs.clear();
        row.insert_pairs(&mut defaults, &mut pairs)?;
        let group = group_for(&mut groups, &mut last, pairs.iter().map(|(c, _)| *c));
        if i == 0 {
            // Most calls are one group: room for every row at once, not grown by copying.
            group.index.reserve(hint);
            group.values.reserve(hint.saturating_mul(group.width()));
        }
        group.push(i, pairs.drain(..).map(|(_, v)| v));
        total += 1;
    }
    Ok((groups, total))
}

/// The rows of one call, ready to send.
pub(crate) struct Job<M> {
    groups: Vec<Group>,
    total: usize,
    /// The generated key column, when keys are asked for.
    key: Option<&'static str>,
    /// Groups of at least this many rows go by COPY on PostgreSQL (when no key is asked for).
    copy_threshold: Option<usize>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Job<M> {
    pub(crate) fn new(groups: Vec<Group>, total: usize, key: Option<&'static str>) -> Self {
        Job {
            groups,
            total,
            key,
            copy_threshold: None,
            _model: PhantomData,
        }
    }

    async fn in_transaction(
        self,
        conn: &mut Connection,
        log: Option<&mut Vec<String>>,
    ) -> Result<(u64, Vec<i64>), Error> {
        let mut tx = conn.begin().await?;
        let result = self.send(&mut tx, log).await;
        finish(tx, result).await
    }

    pub(crate) async fn send(
        self,
        conn: &mut Connection,
        mut log_to: Option<&mut Vec<String>>,
    ) -> Result<(u64, Vec<i64>), Error> {
        let dialect = conn.dialect();
        let mut keys = vec![0i64; if self.key.is_some() { self.total } else { 0 }];
        let mut inserted = 0u64;
        let copy_from = match self.copy_threshold {
            Some(n) if self.key.is_none() && super::copy::is_postgres(conn) => n,
            _ => usize::MAX,
        };
        for mut group in self.groups {
            if group.len() >= copy_from && !group.columns.is_empty() {
                inserted += super::copy::copy_group(conn, M::TABLE, group, &mut log_to).await?;
                continue;
            }
            let width = group.width();
            // A row of no columns is `DEFAULT VALUES`, one row per statement.
            let per_chunk = match width {
                0 => 1,
                n => (dialect.max_binds() / n).max(1),
            };
            let given_key = self
                .key
                .and_then(|k| group.columns.iter().position(|c| *c == k));
            let returning: &[&str] = match self.key {
                Some(k) if given_key.is_none() => &[k],
                _ => &[],
            };
            if let Some(at) = given_key {
                for (row, i) in group.values.chunks(width).zip(&group.index) {
                    keys[*i] = integer(&row[at]).ok_or_else(|| {
                        mapping(format!(
                            "bulk_insert::<{}>().returning_keys(): a row gives a non-integer \
                             key",
                            M::NAME
                        ))
                    })?;
                }
            }
            // Encoded once, in place: each chunk then binds as a slice of the group's values.
            for v in &mut group.values {
                *v = dialect.encode(std::mem::replace(v, Value::Null));
            }
            // Every full chunk has the same SQL: written once. (The RETURNING form only when
            // keys are generated.)
            let sql_for = |n: usize| {
                let plain = insert_rows_sql(dialect, M::TABLE, &group.columns, n, &[]);
                let returning = match returning {
                    [] => String::new(),
                    r => insert_rows_sql(dialect, M::TABLE, &group.columns, n, r),
                };
                (returning, plain)
            };
            let mut full_sql: Option<(String, String)> = None;
            let rows = group.len();
            let mut start = 0;
            while start < rows {
                let n = per_chunk.min(rows - start);
                let (first, end) = (start, start + n);
                start = end;
                let last_sql;
                let (sql, plain) = if n == per_chunk {
                    &*full_sql.get_or_insert_with(|| sql_for(n))
                } else {
                    last_sql = sql_for(n);
                    &last_sql
                };
                let values = &mut group.values[first * width..end * width];
                if self.key.is_none() || given_key.is_some() {
                    log(&mut log_to, plain);
                    inserted += conn.execute_write_sql(plain, values).await?;
                    continue;
                }
                let binds = values
                    .iter_mut()
                    .map(|v| std::mem::replace(v, Value::Null))
                    .collect();
                let generated =
                    generated_keys::<M>(conn, (sql.clone(), plain.clone()), binds, n).await?;
                log(&mut log_to, &generated.1);
                for (i, k) in group.index[first..end].iter().zip(generated.0) {
                    keys[*i] = k;
                }
                inserted += n as u64;
            }
        }
        Ok((inserted, keys))
    }
}

/// Runs one chunk and reads its generated keys: consecutive rowids on SQLite (RETURNING
/// costs it a temporary table), RETURNING elsewhere. Returns the keys and the SQL run.
async fn generated_keys<M: Model>(
    conn: &mut Connection,
    (returning, plain): (String, String),
    binds: Vec<Value>,
    n: usize,
) -> Result<(Vec<i64>, String), Error> {
    let plain = Compiled { sql: plain, binds };
    if let Some(keys) = conn.insert_returning_rowids(&plain, M::TABLE, n).await? {
        return Ok((keys, plain.sql));
    }
    let c = Compiled {
        sql: returning,
        binds: plain.binds,
    };
    let rows: Vec<(i64,)> = conn.query_write(&c).await?;
    if rows.len() != n {
        return Err(Error::InsertRowCount {
            table: M::TABLE.to_owned(),
            sent: n,
            returned: rows.len(),
        });
    }
    Ok((rows.into_iter().map(|(k,)| k).collect(), c.sql))
}

/// An integer key value, of any width.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::I16(n) => Some(i64::from(*n)),
        Value::I32(n) => Some(i64::from(*n)),
        Value::I64(n) => Some(*n),
        _ => None,
    }
}
