//! [`bulk_update`]: many rows by primary key, grouped by the columns each row sets; one
//! statement text per group, reused for every row of it (prepared once: rusqlite's statement
//! cache on SQLite, the connection's cache on PostgreSQL, where the group's statements are
//! pipelined in one round trip per batch).

use std::marker::PhantomData;

use oxalchemy_core::dialect::bulk::{bound_as_is, encode_binds, update_by_key_sql};
use oxalchemy_core::Value;
use oxalchemy_engine::{Connection, Error};

use super::exec::{finish, log};
use super::{
    drop_values, group_for, in_column_order, names as is_one_of, same_name, BulkExec, Group,
    Mapping, Pairs, Places,
};
use crate::errors::mapping;
use crate::model::Model;

/// Statements sent in one pipeline (bounds the memory of a very large call).
const PIPELINE: usize = 1000;

/// A row [`bulk_update`] accepts: a model struct (every non-key column set, after its
/// onupdate values and validators, as [`update`](crate::update) does) or a [`Mapping`]
/// carrying the primary key and the columns to set.
pub trait UpdateRow<M: Model>: Send + Sized {
    /// Splits the row into its key and the columns to set; returns the model's version
    /// column, if it has one. `cache` keeps, for the whole call, what the model's
    /// `#[column(onupdate = …)]`s fill and where the columns rows name go.
    #[doc(hidden)]
    fn update_pairs(
        self,
        cache: &mut UpdateCache,
        key: &mut Vec<(&'static str, Value)>,
        set: &mut Vec<(&'static str, Value)>,
    ) -> Result<Option<&'static str>, Error>;

    /// Adds the row, at position `i` of the input, to its group in `cache`.
    #[doc(hidden)]
    fn add_row(self, i: usize, cache: &mut UpdateCache) -> Result<(), Error> {
        add_split(self, i, cache)
    }
}

/// Adds a row to its group by splitting it into its key and set columns
/// ([`UpdateRow::update_pairs`]): a struct, or a mapping carrying the version column.
fn add_split<M: Model>(
    row: impl UpdateRow<M>,
    i: usize,
    cache: &mut UpdateCache,
) -> Result<(), Error> {
    let (mut key, mut set) = (
        std::mem::take(&mut cache.key),
        std::mem::take(&mut cache.set),
    );
    key.clear();
    set.clear();
    let result = row
        .update_pairs(cache, &mut key, &mut set)
        .and_then(|version| cache.push_pairs::<M>(i, version, &mut key, &mut set));
    (cache.key, cache.set) = (key, set);
    result
}

/// What a [`bulk_update`] call keeps while it groups its rows. Plumbing.
#[doc(hidden)]
#[derive(Default)]
pub struct UpdateCache {
    /// What the model's onupdate values fill, and its version column (made at the first
    /// mapping).
    onupdate: Option<(Pairs, Option<&'static str>)>,
    /// Where the columns the mappings name go in the model's column order.
    places: Places,
    /// The last shape of mapping seen (see [`Shape`]).
    shape: Option<Shape>,
    /// The rows so far, grouped by the columns they set.
    groups: Vec<Group>,
    /// The group the last row went to.
    last: usize,
    /// How many rows the input said it has.
    hint: usize,
    /// A row's key and set columns, kept to reuse their room.
    key: Pairs,
    set: Pairs,
}

impl std::fmt::Debug for UpdateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateCache")
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

/// Where a mapping's columns go, worked out once for the call: a call's mappings are
/// nearly always built by one piece of code, naming the same columns in the same order
/// (the same name pointers), so every row after the first of a shape is moved into its
/// group value by value, without splitting, sorting or comparing names.
#[derive(Debug)]
struct Shape {
    /// The mapping's column names, as given.
    names: Vec<&'static str>,
    /// Where each value of the group's row comes from, in bind order.
    plan: Vec<Source>,
    /// The group these rows go to.
    group: usize,
}

/// Where one bound value of a planned row comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The mapping's value at this position.
    Pair(usize),
    /// The model's onupdate value at this position (a column the mapping leaves out).
    Filled(usize),
}

impl Shape {
    /// Whether a mapping names exactly these columns in this order (by pointer: a mapping
    /// from other code is planned anew, never mistaken for this one).
    #[inline]
    fn fits(&self, pairs: &Pairs) -> bool {
        self.names.len() == pairs.len()
            && self
                .names
                .iter()
                .zip(pairs)
                .all(|(a, (b, _))| std::ptr::eq::<str>(*a, *b))
    }
}

impl UpdateCache {
    /// The group for rows with these columns, reserving room for every row of the call
    /// when this is the first row (most calls are one group: not grown by copying).
    fn group(
        &mut self,
        i: usize,
        columns: impl Iterator<Item = &'static str> + Clone,
    ) -> (usize, &mut Group) {
        let hint = self.hint;
        let group = group_for(&mut self.groups, &mut self.last, columns);
        if i == 0 {
            group.index.reserve(hint);
            group.values.reserve(hint.saturating_mul(group.width()));
        }
        (self.last, group)
    }

    /// Adds a row given as its key and set columns (in column order), with the version
    /// column the row's model has.
    fn push_pairs<M: Model>(
        &mut self,
        i: usize,
        version: Option<&'static str>,
        key: &mut Pairs,
        set: &mut Pairs,
    ) -> Result<(), Error> {
        // A row carrying its version: matched only at that version, which it increments.
        if let Some(v) = version {
            if let Some(at) = set.iter().position(|(c, _)| *c == v) {
                let current = set[at].1.clone();
                let Some(n) = integer(&current) else {
                    return Err(mapping(format!(
                        "bulk_update::<{}>: the version column `{v}` must be an integer",
                        M::NAME
                    )));
                };
                set[at].1 = Value::I64(n + 1);
                key.push((v, current));
            }
        }
        if set.is_empty() {
            return Err(sets_nothing::<M>());
        }
        let columns = set.iter().chain(key.iter()).map(|(c, _)| *c);
        let (_, group) = self.group(i, columns);
        group.index.push(i);
        group.values.reserve(set.len() + key.len());
        for (_, v) in set.drain(..).chain(key.drain(..)) {
            group.values.push(v);
        }
        Ok(())
    }

    /// Plans the shape of a mapping naming `names` (see [`Shape`]) and makes it the one
    /// remembered; none is for a mapping carrying the version column, whose values are
    /// rewritten (it goes the way of a struct).
    fn plan<M: Model + Default>(
        &mut self,
        i: usize,
        names: impl Iterator<Item = &'static str> + Clone,
    ) -> Result<(), Error> {
        self.shape = None;
        let (filled, version) = onupdate::<M>(&mut self.onupdate);
        let version = *version;
        if version.is_some_and(|v| names.clone().any(|c| same_name(c, v))) {
            return Ok(());
        }
        let pk = M::primary_key_columns();
        let (mut key, mut set) = (Vec::new(), Vec::new());
        for (j, c) in names.clone().enumerate() {
            if is_one_of(pk, c) {
                key.push((c, Source::Pair(j)));
            } else {
                set.push((c, Source::Pair(j)));
            }
        }
        if let Some(missing) = pk
            .iter()
            .find(|c| !key.iter().any(|(k, _)| same_name(k, c)))
        {
            return Err(no_key::<M>(missing));
        }
        for (k, (c, _)) in filled.iter().enumerate() {
            if !set.iter().any(|(s, _)| same_name(s, c)) && Some(*c) != version {
                set.push((c, Source::Filled(k)));
            }
        }
        if set.is_empty() {
            return Err(sets_nothing::<M>());
        }
        in_column_order(&mut key, pk);
        self.places.sort(&mut set, M::columns());
        let columns = set.iter().chain(&key).map(|(c, _)| *c);
        let (group, _) = self.group(i, columns);
        self.shape = Some(Shape {
            names: names.collect(),
            plan: set.iter().chain(&key).map(|(_, s)| *s).collect(),
            group,
        });
        Ok(())
    }
}

/// The error for a row that sets nothing.
fn sets_nothing<M: Model>() -> Error {
    mapping(format!(
        "bulk_update::<{}>: a row sets no column besides its key; leave it out",
        M::NAME
    ))
}

/// The error for a mapping without a primary-key column.
fn no_key<M: Model>(missing: &str) -> Error {
    mapping(format!(
        "bulk_update::<{}>: a mapping has no value for the primary-key column \
         `{missing}`; every row must say which row it updates",
        M::NAME
    ))
}

impl<M: Model> UpdateRow<M> for M {
    fn update_pairs(
        mut self,
        _: &mut UpdateCache,
        key: &mut Pairs,
        set: &mut Pairs,
    ) -> Result<Option<&'static str>, Error> {
        self.apply_onupdate();
        self.validate()?;
        self.primary_key_values(key);
        self.update_values(set);
        Ok(self.version().map(|(c, _)| c))
    }
}

/// The values `M`'s `#[column(onupdate = …)]`s set: what a [`Mapping`] leaving those
/// columns out gets. Taken by column, not by comparing with the type's zero value, so an
/// `onupdate` that sets the zero value (`onupdate = false`) is still applied.
fn onupdate_of<M: Model + Default>() -> Pairs {
    let mut columns = Vec::new();
    M::onupdate_columns(&mut columns);
    if columns.is_empty() {
        return Vec::new();
    }
    let mut m = M::default();
    m.apply_onupdate();
    let mut values = Vec::with_capacity(M::columns().len());
    m.update_values(&mut values);
    values.retain(|(c, _)| columns.contains(c));
    values
}

impl<M: Model + Default> UpdateRow<M> for Mapping<M> {
    fn update_pairs(
        self,
        cache: &mut UpdateCache,
        key: &mut Pairs,
        set: &mut Pairs,
    ) -> Result<Option<&'static str>, Error> {
        let (filled, version) = onupdate::<M>(&mut cache.onupdate);
        let pk = M::primary_key_columns();
        for (c, v) in self.pairs {
            if is_one_of(pk, c) {
                key.push((c, v));
            } else {
                set.push((c, v));
            }
        }
        if let Some(missing) = pk
            .iter()
            .find(|c| !key.iter().any(|(k, _)| same_name(k, c)))
        {
            return Err(no_key::<M>(missing));
        }
        for (c, v) in filled.iter() {
            if !set.iter().any(|(s, _)| same_name(s, c)) && Some(*c) != *version {
                set.push((c, v.clone()));
            }
        }
        in_column_order(key, pk);
        cache.places.sort(set, M::columns());
        Ok(*version)
    }

    fn add_row(mut self, i: usize, cache: &mut UpdateCache) -> Result<(), Error> {
        if !cache.shape.as_ref().is_some_and(|s| s.fits(&self.pairs)) {
            cache.plan::<M>(i, self.pairs.iter().map(|(c, _)| *c))?;
        }
        if let UpdateCache {
            shape: Some(shape),
            groups,
            onupdate,
            ..
        } = cache
        {
            let filled = onupdate.as_ref().map_or(&[][..], |(f, _)| f.as_slice());
            let group = &mut groups[shape.group];
            group.index.push(i);
            group.values.reserve(shape.plan.len());
            for source in &shape.plan {
                group.values.push(match *source {
                    Source::Pair(j) => std::mem::replace(&mut self.pairs[j].1, Value::Null),
                    Source::Filled(k) => filled[k].1.clone(),
                });
            }
            // Every value was moved out (a NULL left in its place): nothing to drop.
            drop_values(self.pairs.into_iter().map(|(_, v)| v));
            return Ok(());
        }
        // A mapping carrying the version column: split and checked as a struct is.
        add_split(self, i, cache)
    }
}

/// The model's onupdate values and version column, made at the call's first mapping.
fn onupdate<'c, M: Model + Default>(
    cache: &'c mut Option<(Pairs, Option<&'static str>)>,
) -> &'c mut (Pairs, Option<&'static str>) {
    cache.get_or_insert_with(|| {
        let version = M::default().version().map(|(c, _)| c);
        (onupdate_of::<M>(), version)
    })
}

/// Updates many rows of `M` by primary key: each row is a [`Mapping`] (key + columns to
/// set; onupdate values fill the columns it leaves out) or a struct (every column). Rows
/// setting the same columns share one statement text. Every row must match exactly one
/// row (else [`Error::StaleData`], and nothing of the call is kept); a row carrying the
/// `#[column(version)]` value updates only the row at that version and increments it.
/// Run it with [`execute`](BulkUpdate::execute); on a session, held objects of the updated
/// rows are re-read.
pub fn bulk_update<M: Model>(rows: impl IntoIterator<Item = impl UpdateRow<M>>) -> BulkUpdate<M> {
    BulkUpdate {
        rows: crate::defaults::with_one_now(|| group_rows::<M>(rows)),
        _model: PhantomData,
    }
}

/// A prepared [`bulk_update`]: rows grouped by the columns they set.
#[must_use = "a bulk update does nothing until `.execute(…)` is awaited"]
pub struct BulkUpdate<M> {
    rows: Result<Vec<Group>, Error>,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for BulkUpdate<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkUpdate")
            .field(
                "groups",
                &self.rows.as_ref().map(|g| {
                    g.iter()
                        .map(|g| (g.columns.clone(), g.len()))
                        .collect::<Vec<_>>()
                }),
            )
            .finish()
    }
}

impl<M: Model + Clone> BulkUpdate<M> {
    /// Runs the UPDATEs; returns how many rows were updated.
    pub async fn execute<'e>(self, ex: impl Into<BulkExec<'e>>) -> Result<u64, Error> {
        let groups = self.rows?;
        match ex.into() {
            BulkExec::Exec(ex) => {
                let mut held = None;
                let conn = ex.connection(&mut held).await?;
                let (n, _) = in_transaction::<M>(conn, groups, None).await?;
                crate::cache::invalidate_tables([M::TABLE]);
                Ok(n)
            }
            BulkExec::Session(s) => {
                let (conn, log) = s.bulk_begin().await?;
                let (n, keys) = in_transaction::<M>(conn, groups, Some(log)).await?;
                s.wrote_tables(std::iter::once(M::TABLE));
                s.bulk_refresh::<M>(&keys).await?;
                Ok(n)
            }
        }
    }
}

fn group_rows<M: Model>(
    rows: impl IntoIterator<Item = impl UpdateRow<M>>,
) -> Result<Vec<Group>, Error> {
    let rows = rows.into_iter();
    let mut cache = UpdateCache {
        hint: rows.size_hint().0,
        ..UpdateCache::default()
    };
    for (i, row) in rows.enumerate() {
        row.add_row(i, &mut cache)?;
    }
    Ok(cache.groups)
}

/// Returns the number of rows updated and, on a session (when `log` is given), their keys.
async fn in_transaction<M: Model>(
    conn: &mut Connection,
    groups: Vec<Group>,
    log: Option<&mut Vec<String>>,
) -> Result<(u64, Vec<Pairs>), Error> {
    let mut tx = conn.begin().await?;
    let result = send::<M>(&mut tx, groups, log).await;
    finish(tx, result).await
}

/// Sends every group's statements; returns how many rows were updated and, on a session
/// (`log_to` given, which re-reads the objects it holds), the keys of the updated rows.
async fn send<M: Model>(
    conn: &mut Connection,
    groups: Vec<Group>,
    mut log_to: Option<&mut Vec<String>>,
) -> Result<(u64, Vec<Pairs>), Error> {
    let dialect = conn.dialect();
    let pk = M::primary_key_columns();
    let want_keys = log_to.is_some();
    let (mut updated, mut keys) = (0u64, Vec::new());
    for mut group in groups {
        let width = group.width();
        let rows = group.len();
        // The set columns come first; the key (and version) columns after them.
        let split = group
            .columns
            .iter()
            .position(|c| pk.contains(c))
            .unwrap_or(width);
        let (set, key) = group.columns.split_at(split);
        let sql = update_by_key_sql(dialect, M::TABLE, set, key);
        log(&mut log_to, &sql);
        let mut copied: Vec<Value> = Vec::new();
        let mut first = 0;
        while first < rows {
            let n = PIPELINE.min(rows - first);
            let values = &mut group.values[first * width..(first + n) * width];
            first += n;
            // A row's values are already in bind order (set columns, then key). The set
            // values are encoded in place (nothing reads them after); the key values name
            // the row in a StaleData error and in the session's refresh, so they must stay
            // as given: when encoding would change one, the batch's binds are a copy.
            let mut keys_as_is = true;
            for row in values.chunks_mut(width) {
                let (set_values, key_values) = row.split_at_mut(split);
                encode_binds(dialect, set_values);
                keys_as_is &= key_values.iter().all(bound_as_is);
            }
            let binds: &[Value] = if keys_as_is {
                values
            } else {
                copied.clear();
                copied.extend(values.iter().cloned());
                encode_binds(dialect, &mut copied);
                &copied
            };
            let counts = conn.execute_rows_write(&sql, binds, width).await?;
            for (r, row) in values.chunks(width).enumerate() {
                let key_values = &row[split..];
                let matched = counts.get(r).copied().unwrap_or(0);
                if matched != 1 {
                    return Err(Error::StaleData {
                        operation: "UPDATE",
                        table: M::TABLE,
                        key: describe(key, key_values),
                        matched,
                    });
                }
                updated += 1;
                if want_keys {
                    // The version column (when checked) is part of the WHERE, not of the key.
                    keys.push(
                        key.iter()
                            .zip(key_values)
                            .filter(|(c, _)| pk.contains(c))
                            .map(|(c, v)| (*c, v.clone()))
                            .collect(),
                    );
                }
            }
        }
        drop_values(group.values);
    }
    Ok((updated, keys))
}

/// `id=5` / `a=1, b=2`, for messages.
fn describe(columns: &[&'static str], values: &[Value]) -> String {
    columns
        .iter()
        .zip(values)
        .map(|(c, v)| format!("{c}={v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An integer version value, of any width.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::I16(n) => Some(i64::from(*n)),
        Value::I32(n) => Some(i64::from(*n)),
        Value::I64(n) => Some(*n),
        _ => None,
    }
}
