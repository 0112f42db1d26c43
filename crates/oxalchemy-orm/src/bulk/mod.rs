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
pub use update::{bulk_update, BulkUpdate, UpdateRow};
pub use upsert::{upsert, Columns, Upsert};

use oxalchemy_core::Value;

/// Column/value pairs, in the model's column order once normalised.
pub(crate) type Pairs = Vec<(&'static str, Value)>;

/// Rows sharing one set of columns (a multi-row INSERT, or one UPDATE statement shape),
/// with each row's position in the caller's input.
pub(crate) struct Group {
    pub(crate) columns: Vec<&'static str>,
    pub(crate) rows: Vec<(usize, Vec<Value>)>,
}

/// The group of rows with these columns (made if new). Most calls have one or two groups,
/// so a linear search, checking the last group used first, beats hashing every row's
/// columns.
pub(crate) fn group_for<'g>(
    groups: &'g mut Vec<Group>,
    last: &mut usize,
    columns: impl Iterator<Item = &'static str> + Clone,
) -> &'g mut Group {
    let same = |g: &Group| g.columns.iter().copied().eq(columns.clone());
    let at = if groups.get(*last).is_some_and(same) {
        *last
    } else if let Some(i) = groups.iter().position(same) {
        i
    } else {
        groups.push(Group {
            columns: columns.clone().collect(),
            rows: Vec::new(),
        });
        groups.len() - 1
    };
    *last = at;
    &mut groups[at]
}

/// Sorts pairs into the model's column order (so rows naming the same columns in any order
/// share a statement).
pub(crate) fn in_column_order(pairs: &mut Pairs, columns: &[&'static str]) {
    pairs.sort_by_key(|(c, _)| columns.iter().position(|x| x == c).unwrap_or(usize::MAX));
}
