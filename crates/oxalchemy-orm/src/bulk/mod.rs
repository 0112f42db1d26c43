//! Bulk writes of many rows without loading them: [`bulk_insert`], [`bulk_update`],
//! [`bulk_delete`] (the guide's `bulk_insert_mappings` / `bulk_update_mappings`).
//!
//! Rows are model structs or [`Mapping`]s (some columns of a model, typed by its column
//! constants). Every call runs inside one transaction — a SAVEPOINT when the executor is
//! already in one — so a failure in the middle leaves nothing written. The executor is
//! chosen at `.execute(…)`: a `&Database`, a `&mut Connection` / transaction (the same rule
//! as [`Query`](crate::Query)'s terminals), or a `&mut Session`, which flushes its pending
//! work first, runs in its transaction, and afterwards re-reads the objects it holds for
//! updated rows and drops those for deleted rows.
//!
//! Layout: `mapping.rs` ([`Mapping`]), `exec.rs` ([`BulkExec`], the savepoint around each
//! call), one file per operation (`insert.rs`, `update.rs`, `delete.rs`).

mod copy;
mod delete;
mod exec;
mod insert;
mod mapping;
mod update;
mod upsert;

pub(crate) use copy::is_postgres;
pub use copy::{copy_in, copy_in_stream, CopyRows};
pub use delete::{bulk_delete, BulkDelete, DeleteKey};
pub use exec::BulkExec;
pub use insert::{bulk_insert, BulkInsert, BulkInsertKeys, InsertRow, DEFAULT_COPY_THRESHOLD};
pub use mapping::Mapping;
pub use update::{bulk_update, BulkUpdate, UpdateCache, UpdateRow};
pub use upsert::{upsert, Columns, Upsert};

use oxalchemy_core::Value;

/// Column/value pairs, in the model's column order once normalised.
pub(crate) type Pairs = Vec<(&'static str, Value)>;

/// Rows sharing one set of columns (a multi-row INSERT, or one UPDATE statement shape),
/// with each row's position in the caller's input. The values are held one row after
/// another in one vector (`columns.len()` per row): one allocation per group, not per row,
/// and a chunk of rows is a slice that binds as it is.
pub(crate) struct Group {
    pub(crate) columns: Vec<&'static str>,
    /// Each row's position in the caller's input (also the row count: a row of no columns
    /// has no values).
    pub(crate) index: Vec<usize>,
    /// The rows' values, row after row.
    pub(crate) values: Vec<Value>,
}

impl Group {
    /// The values of each row.
    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Adds the row at position `i` of the input.
    #[inline]
    pub(crate) fn push(&mut self, i: usize, values: impl IntoIterator<Item = Value>) {
        self.index.push(i);
        self.values.extend(values);
    }

    /// Each row's values, as its own vector (for callers building statement trees).
    pub(crate) fn into_rows(self) -> impl Iterator<Item = Vec<Value>> {
        let width = self.width();
        let mut values = self.values.into_iter();
        self.index
            .into_iter()
            .map(move |_| values.by_ref().take(width).collect())
    }
}

/// The group of rows with these columns (made if new). Most calls have one or two groups,
/// so a linear search, checking the last group used first, beats hashing every row's
/// columns.
pub(crate) fn group_for<'g>(
    groups: &'g mut Vec<Group>,
    last: &mut usize,
    columns: impl Iterator<Item = &'static str> + Clone,
) -> &'g mut Group {
    // Names are `&'static str`s from the model's code: the same name is almost always the
    // same pointer, checked before the text.
    let same = |g: &Group| {
        let mut given = columns.clone();
        g.columns.iter().all(|a| {
            given
                .next()
                .is_some_and(|b| (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || *a == b)
        }) && given.next().is_none()
    };
    let at = if groups.get(*last).is_some_and(same) {
        *last
    } else if let Some(i) = groups.iter().position(same) {
        i
    } else {
        groups.push(Group {
            columns: columns.clone().collect(),
            index: Vec::new(),
            values: Vec::new(),
        });
        groups.len() - 1
    };
    *last = at;
    &mut groups[at]
}

/// Whether `pairs` name exactly `columns`, in order. Names are `&'static str`s from the
/// model's code: the same name is almost always the same pointer, checked before the text.
pub(crate) fn same_columns(columns: &[&'static str], pairs: &[(&'static str, Value)]) -> bool {
    if columns.len() != pairs.len() {
        return false;
    }
    // Pointers alone first: a loop without a call in it, the answer for nearly every row.
    columns
        .iter()
        .zip(pairs)
        .all(|(a, (b, _))| std::ptr::eq::<str>(*a, *b))
        || columns.iter().zip(pairs).all(|(a, (b, _))| a == b)
}

/// Whether two column names are the same: by pointer first (names are `&'static str`s
/// from the model's code, so the same name is almost always the same pointer), then by text.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// Whether `columns` has the column `c` ([`same_name`]).
#[inline]
pub(crate) fn names(columns: &[&'static str], c: &str) -> bool {
    columns.iter().any(|x| std::ptr::eq(*x, c)) || columns.contains(&c)
}

/// Drops values a bulk call is done with, cheaply: the general drop of a `Value` (a call, a
/// jump over every kind) cost ~30 instructions a value under callgrind, a sixth of what a
/// row's values cost beyond the raw driver's. Numbers and NULL own nothing and are
/// forgotten, text and bytes are freed inline, the other kinds are dropped as usual.
pub(crate) fn drop_values(values: impl IntoIterator<Item = Value>) {
    for mut v in values {
        match &mut v {
            Value::Text(s) => drop(std::mem::take(s)),
            Value::Bytes(b) => drop(std::mem::take(b)),
            Value::Null
            | Value::Bool(_)
            | Value::I16(_)
            | Value::I32(_)
            | Value::I64(_)
            | Value::F32(_)
            | Value::F64(_) => {}
            _ => {
                drop(v);
                continue;
            }
        }
        // Owns nothing now (its text or bytes taken, or never any).
        std::mem::forget(v);
    }
}

/// Sorts pairs into the model's column order (so rows naming the same columns in any order
/// share a statement). Paired with values, or with where values will come from
/// (`bulk_update` plans a row shape once for a call).
pub(crate) fn in_column_order<T>(pairs: &mut [(&'static str, T)], columns: &[&'static str]) {
    sort_by_place(pairs, |c| {
        columns
            .iter()
            .position(|x| same_name(x, c))
            .unwrap_or(usize::MAX)
    });
}

/// The places in a model's column order of the column names a call's rows have named, by
/// the names' pointers: a call's rows name their columns from the same few places in the
/// caller's code, so after the first row each place is found without comparing text (the
/// pointers of the model's own names are not those of the column constants').
#[derive(Debug, Default)]
pub(crate) struct Places(Vec<(&'static str, usize)>);

impl Places {
    /// [`in_column_order`], each name's place looked up here first.
    pub(crate) fn sort<T>(&mut self, pairs: &mut [(&'static str, T)], columns: &[&'static str]) {
        sort_by_place(pairs, |c| {
            if let Some((_, at)) = self.0.iter().find(|(n, _)| std::ptr::eq(*n, c)) {
                return *at;
            }
            let at = columns
                .iter()
                .position(|x| same_name(x, c))
                .unwrap_or(usize::MAX);
            self.0.push((c, at));
            at
        });
    }
}

/// Sorts pairs by `place` of their names, finding each place once. A row has a few pairs:
/// their places stay on the stack, moved with them by an insertion sort (stable, so a
/// column given twice keeps its order), and a row already in order is not moved.
fn sort_by_place<T>(pairs: &mut [(&'static str, T)], mut place: impl FnMut(&'static str) -> usize) {
    if pairs.len() < 2 {
        return;
    }
    let mut places = [0usize; 16];
    if pairs.len() > places.len() {
        pairs.sort_by_cached_key(|(c, _)| place(c));
        return;
    }
    for (p, (c, _)) in places.iter_mut().zip(pairs.iter()) {
        *p = place(c);
    }
    for i in 1..pairs.len() {
        let mut j = i;
        while j > 0 && places[j - 1] > places[j] {
            places.swap(j - 1, j);
            pairs.swap(j - 1, j);
            j -= 1;
        }
    }
}
