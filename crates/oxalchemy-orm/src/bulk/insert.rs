//! [`bulk_insert`]: many rows in multi-row INSERTs, chunked to the dialect's bind limit,
//! reading nothing back unless generated keys are asked for.

use std::marker::PhantomData;

use oxalchemy_core::dialect::bulk::{encode_binds, insert_rows_sql};
use oxalchemy_core::{Compiled, Value};
use oxalchemy_engine::{Connection, Error};

use super::exec::{finish, log};
use super::{
    drop_values, group_for, in_column_order, same_columns, BulkExec, Group, Mapping, Pairs,
};
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

    /// The rows as model structs, when they are (`Err` gives the rows back otherwise). A
    /// `Vec` of structs is kept as it is (collected in place) and converted a chunk at a
    /// time as it is sent, instead of into one vector of values for every row at once.
    #[doc(hidden)]
    fn into_models<I: Iterator<Item = Self>>(rows: I) -> Result<Vec<M>, I>
    where
        Self: Sized,
    {
        Err(rows)
    }
}

impl<M: Model> InsertRow<M> for M {
    fn insert_pairs(mut self, _: &mut Option<Pairs>, out: &mut Pairs) -> Result<(), Error> {
        self.apply_defaults();
        self.validate()?;
        // The row is dropped after: its text moves into the values instead of being copied.
        self.take_insert_values(out);
        Ok(())
    }

    fn into_models<I: Iterator<Item = Self>>(rows: I) -> Result<Vec<M>, I> {
        Ok(rows.collect())
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
        rows: crate::defaults::with_one_now(|| rows_of::<M, _>(rows.into_iter())),
        copy_threshold: Some(DEFAULT_COPY_THRESHOLD),
        _model: PhantomData,
    }
}

/// From how many rows (of one column set) [`bulk_insert`] sends them with binary COPY on
/// PostgreSQL instead of multi-row INSERTs, unless keys are asked for. Below it, COPY's
/// extra round trips (the column types, the COPY itself) cost more than they save.
pub const DEFAULT_COPY_THRESHOLD: usize = 1_000;

/// A prepared [`bulk_insert`]: structs as given (defaults applied, validated), mappings
/// grouped by the columns they set.
#[must_use = "a bulk insert does nothing until `.execute(…)` is awaited"]
pub struct BulkInsert<M> {
    rows: Result<Rows<M>, Error>,
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
            .field("rows", &self.rows.as_ref().map(Rows::len))
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
        let mut job = Job::<M>::new(self.rows?, key);
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

/// A call's rows: model structs as given, or rows converted into groups by column set.
pub(crate) enum Rows<M> {
    /// Structs, their defaults applied and validated; converted as they are sent.
    Models(Vec<M>),
    /// Converted rows (mappings), grouped by the columns they set.
    Groups(Vec<Group>, usize),
}

impl<M> Rows<M> {
    fn len(&self) -> usize {
        match self {
            Rows::Models(m) => m.len(),
            Rows::Groups(_, n) => *n,
        }
    }
}

/// Takes the rows of a call: structs kept as they are (defaults applied, validated),
/// anything else converted into value lists grouped by their column sets.
fn rows_of<M: Model, R: InsertRow<M>>(rows: impl Iterator<Item = R>) -> Result<Rows<M>, Error> {
    // Structs are sent as they are, their columns left out marked by bits of a `u64`: a
    // wider model's structs are converted here, as mappings are.
    let rows = if M::LAYOUT.columns > 64 {
        rows
    } else {
        match R::into_models(rows) {
            Ok(mut models) => {
                for m in &mut models {
                    m.apply_defaults();
                    m.validate()?;
                }
                return Ok(Rows::Models(models));
            }
            Err(rows) => rows,
        }
    };
    let mut groups = Vec::new();
    let mut last = 0;
    let mut defaults = None;
    let mut total = 0;
    let mut pairs = Vec::with_capacity(M::columns().len());
    let hint = rows.size_hint().0;
    for (i, row) in rows.enumerate() {
        pairs.clear();
        row.insert_pairs(&mut defaults, &mut pairs)?;
        let group = group_of(&mut groups, &mut last, &pairs);
        if i == 0 {
            // Most calls are one group: room for every row at once, not grown by copying.
            group.index.reserve(hint);
            group.values.reserve(hint.saturating_mul(group.width()));
        }
        group.push(i, pairs.drain(..).map(|(_, v)| v));
        total += 1;
    }
    Ok(Rows::Groups(groups, total))
}

/// The group for a row's `pairs`: rows almost always name the columns of the row before,
/// checked inline before [`group_for`]'s search.
fn group_of<'g>(
    groups: &'g mut Vec<Group>,
    last: &mut usize,
    pairs: &[(&'static str, Value)],
) -> &'g mut Group {
    if !groups
        .get(*last)
        .is_some_and(|g: &Group| same_columns(&g.columns, pairs))
    {
        group_for(groups, last, pairs.iter().map(|(c, _)| *c));
    }
    &mut groups[*last]
}

/// The rows of one call, ready to send.
pub(crate) struct Job<M> {
    rows: Rows<M>,
    /// The generated key column, when keys are asked for.
    key: Option<&'static str>,
    /// Groups of at least this many rows go by COPY on PostgreSQL (when no key is asked for).
    copy_threshold: Option<usize>,
}

impl<M: Model> Job<M> {
    pub(crate) fn new(rows: Rows<M>, key: Option<&'static str>) -> Self {
        Job {
            rows,
            key,
            copy_threshold: None,
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
        let total = self.rows.len();
        let mut sent = Sent {
            key: self.key,
            keys: vec![0i64; if self.key.is_some() { total } else { 0 }],
            inserted: 0,
            sql: None,
        };
        let copy_from = match self.copy_threshold {
            Some(n) if self.key.is_none() && super::copy::is_postgres(conn) => n,
            _ => usize::MAX,
        };
        // SQLite: a few dozen rows a statement; a server: as many as the bind limit allows.
        let max_rows = dialect.insert_rows_cap();
        let rows_per = |width: usize| match width {
            // A row of no columns is `DEFAULT VALUES`, one row per statement.
            0 => 1,
            n => (dialect.max_binds() / n).clamp(1, max_rows),
        };
        match self.rows {
            Rows::Models(models) if models.len() >= copy_from => {
                sent.inserted += super::copy::copy_models(conn, models, &mut log_to).await?;
            }
            Rows::Models(models) => {
                // A batch of structs fits one statement at the model's full width. Each
                // row's values are written straight into the batch's binds, and which
                // columns it leaves out (an autoincrement key at 0) is kept: nearly always
                // the same for every row, and then the batch is sent as written.
                let batch = rows_per(M::columns().len());
                let mut values = Vec::with_capacity(batch * M::columns().len());
                // Each row's columns left out.
                let mut omitted = Vec::with_capacity(batch);
                let mut index = Vec::with_capacity(batch);
                let mut shapes = Shapes::default();
                let mut groups: Vec<(u64, Group)> = Vec::new();
                // The structs are read in place (their text moved out) and dropped together
                // at the end, rather than each moved out of the vector first.
                let mut models = models;
                for (c, batch_rows) in models.chunks_mut(batch).enumerate() {
                    let first = c * batch;
                    values.clear();
                    omitted.clear();
                    for m in batch_rows.iter_mut() {
                        omitted.push(m.take_insert_row(&mut values));
                    }
                    let shape = omitted[0];
                    if omitted.iter().all(|o| *o == shape) {
                        index.clear();
                        index.extend(first..first + omitted.len());
                        let columns = shapes.columns::<M>(shape);
                        sent.group::<M>(conn, &mut log_to, columns, &index, &mut values)
                            .await?;
                        continue;
                    }
                    // Some rows give their integer key and some do not: each row's values
                    // move to the group of the columns it sets.
                    for (_, g) in &mut groups {
                        g.index.clear();
                        drop_values(g.values.drain(..));
                    }
                    let mut taken = values.drain(..);
                    for (r, &o) in omitted.iter().enumerate() {
                        let at = match groups.iter().position(|(s, _)| *s == o) {
                            Some(at) => at,
                            None => {
                                let columns = shapes.columns::<M>(o).to_vec();
                                groups.push((
                                    o,
                                    Group {
                                        columns,
                                        index: Vec::new(),
                                        values: Vec::new(),
                                    },
                                ));
                                groups.len() - 1
                            }
                        };
                        let g = &mut groups[at].1;
                        g.push(first + r, taken.by_ref().take(g.columns.len()));
                    }
                    drop(taken);
                    for (_, g) in &mut groups {
                        if !g.index.is_empty() {
                            sent.group::<M>(conn, &mut log_to, &g.columns, &g.index, &mut g.values)
                                .await?;
                        }
                    }
                }
            }
            Rows::Groups(groups, _) => {
                for group in groups {
                    if group.len() >= copy_from && !group.columns.is_empty() {
                        sent.inserted +=
                            super::copy::copy_group(conn, M::TABLE, group, &mut log_to).await?;
                        continue;
                    }
                    let width = group.width();
                    let per_chunk = rows_per(width);
                    // A chunk's values move out of the group into one reused buffer, are
                    // encoded there, bound, and dropped once sent, while they are still in
                    // the cache: the group's values are read once, not once per pass.
                    let mut values = group.values.into_iter();
                    let mut chunk: Vec<Value> =
                        Vec::with_capacity(per_chunk.min(group.index.len()) * width);
                    for index in group.index.chunks(per_chunk) {
                        chunk.clear();
                        chunk.extend(values.by_ref().take(index.len() * width));
                        sent.chunk::<M>(conn, &mut log_to, &group.columns, index, &mut chunk)
                            .await?;
                    }
                }
            }
        }
        Ok((sent.inserted, sent.keys))
    }
}

/// The INSERT columns of a model's rows by the columns they leave out
/// ([`Fields::take_insert_row`](crate::Fields::take_insert_row)'s bits): one or two per
/// call, each listed once.
#[derive(Default)]
struct Shapes(Vec<(u64, Vec<&'static str>)>);

impl Shapes {
    fn columns<M: Model>(&mut self, omitted: u64) -> &[&'static str] {
        let at = match self.0.iter().position(|(o, _)| *o == omitted) {
            Some(at) => at,
            None => {
                // Only models of at most 64 columns come here (see `rows_of`).
                let columns = M::columns()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| omitted & (1 << i) == 0)
                    .map(|(_, c)| *c)
                    .collect();
                self.0.push((omitted, columns));
                self.0.len() - 1
            }
        };
        &self.0[at].1
    }
}

/// What a [`Job`] has sent so far.
struct Sent {
    /// The generated key column, when keys are asked for.
    key: Option<&'static str>,
    /// The keys, by position in the input (when asked for).
    keys: Vec<i64>,
    inserted: u64,
    /// The last statement's columns and row count, and its SQL (plain, and with RETURNING
    /// when keys are generated): every full chunk of a group has the same, written once.
    sql: Option<(Vec<&'static str>, usize, String, String)>,
}

impl Sent {
    /// Sends the rows at input positions `index` with `columns`, whose values are `values`
    /// (left empty): one statement, or one per row when they set no column (`DEFAULT
    /// VALUES`).
    async fn group<M: Model>(
        &mut self,
        conn: &mut Connection,
        log_to: &mut Option<&mut Vec<String>>,
        columns: &[&'static str],
        index: &[usize],
        values: &mut Vec<Value>,
    ) -> Result<(), Error> {
        if !columns.is_empty() {
            return self.chunk::<M>(conn, log_to, columns, index, values).await;
        }
        for i in index {
            self.chunk::<M>(conn, log_to, &[], std::slice::from_ref(i), &mut Vec::new())
                .await?;
        }
        Ok(())
    }

    /// Sends one multi-row INSERT of the rows at input positions `index`, whose values
    /// (`columns.len()` each, not yet encoded) are `values`, left empty.
    async fn chunk<M: Model>(
        &mut self,
        conn: &mut Connection,
        log_to: &mut Option<&mut Vec<String>>,
        columns: &[&'static str],
        index: &[usize],
        values: &mut Vec<Value>,
    ) -> Result<(), Error> {
        let dialect = conn.dialect();
        let n = index.len();
        let given_key = self.key.and_then(|k| columns.iter().position(|c| *c == k));
        if let Some(at) = given_key {
            for (row, i) in values.chunks(columns.len()).zip(index) {
                self.keys[*i] = integer(&row[at]).ok_or_else(|| {
                    mapping(format!(
                        "bulk_insert::<{}>().returning_keys(): a row gives a non-integer key",
                        M::NAME
                    ))
                })?;
            }
        }
        encode_binds(dialect, values);
        let returning: &[&str] = match self.key {
            Some(k) if given_key.is_none() => &[k],
            _ => &[],
        };
        let cached = self
            .sql
            .as_ref()
            .is_some_and(|(c, rows, _, _)| *rows == n && c.as_slice() == columns);
        if !cached {
            let plain = insert_rows_sql(dialect, M::TABLE, columns, n, &[]);
            let with_returning = match returning {
                [] => String::new(),
                r => insert_rows_sql(dialect, M::TABLE, columns, n, r),
            };
            self.sql = Some((columns.to_vec(), n, plain, with_returning));
        }
        let Some((_, _, plain, with_returning)) = &self.sql else {
            return Ok(());
        };
        if returning.is_empty() {
            log(log_to, plain);
            self.inserted += conn.execute_write_sql(plain, values).await?;
            drop_values(values.drain(..));
            return Ok(());
        }
        let binds = std::mem::take(values);
        let generated =
            generated_keys::<M>(conn, (with_returning.clone(), plain.clone()), binds, n).await?;
        log(log_to, &generated.1);
        for (i, k) in index.iter().zip(generated.0) {
            self.keys[*i] = k;
        }
        self.inserted += n as u64;
        Ok(())
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
