//! Eager loading: loader options fill the `Many<T>` / `One<T>` fields of the objects a
//! query returns; nothing is ever loaded implicitly.
//!
//! * `selectin`: [`selectinload`] — one IN query per relationship and level, chunked to the
//!   bind limit.
//! * `joined`: [`joinedload`] — a LEFT OUTER JOIN in the main query — and
//!   [`contains_eager`], which fills the relationship from a join the query already has.
//! * `comparators`: relationship expressions — `any`, `has` and the join path of
//!   `join_related`.
//! * `resolve`: which columns a relationship goes through (foreign keys, association
//!   columns), shared with the session.
//! * this file: the [`Loader`] trait every option implements, and helpers they share.

mod comparators;
mod joined;
mod resolve;
mod selectin;

use std::future::Future;
use std::pin::Pin;

use oxalchemy_core::expr::Ident;
use oxalchemy_core::{Expr, Select, Value};
use oxalchemy_engine::{Connection, Error, Row};

pub(crate) use crate::errors::no_relationship;
use crate::errors::unsupported;
use crate::model::{Model, RelationshipDef};
use crate::relation::RelationshipSlot;

pub use self::joined::{contains_eager, joinedload, JoinedLoad};
pub(crate) use self::resolve::{association_column, foreign_key_to, one_to_many_fk};
pub use self::selectin::{selectinload, SelectIn};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A loader option for parents of type `M`: what [`Query::options`](crate::Query::options)
/// takes — [`selectinload`], [`joinedload`], [`contains_eager`].
///
/// The methods are plumbing the queries call (hidden from the docs, not a stable API);
/// the trait itself is public because `#[derive(Model)]` names it for relationships
/// declared eager. Implement it only through the options above.
pub trait Loader<M>: Send + Sync {
    /// Loads the relationship for `parents` (which were loaded without it), logging every
    /// statement it runs.
    #[doc(hidden)]
    fn load<'a>(
        &'a self,
        conn: &'a mut Connection,
        parents: &'a mut [M],
        log: &'a mut Vec<String>,
    ) -> BoxFuture<'a, ()>;

    /// For a joined loader: how it extends the main query and decodes its columns.
    #[doc(hidden)]
    fn joined(&self) -> Option<&dyn JoinedLoader<M>> {
        None
    }

    /// Moves what this loader loaded from `from` into `to` (a session keeps its own object
    /// for a row it already holds, and gives it the freshly loaded relationship).
    #[doc(hidden)]
    fn transfer(&self, from: &mut M, to: &mut M);
}

fn transfer_slot<M, T>(slot: RelationshipSlot<M, T>, from: &mut M, to: &mut M) {
    match slot {
        RelationshipSlot::Many(f) => *f(to) = std::mem::take(f(from)),
        RelationshipSlot::One(f) => *f(to) = std::mem::take(f(from)),
    }
}

/// The part of a loader that rides on the main query (joinedload). Plumbing between
/// [`Loader::joined`] and the query, public only because that hidden method returns it.
#[doc(hidden)]
pub trait JoinedLoader<M>: Send + Sync {
    /// Adds the join and the target's columns to the main SELECT.
    fn extend(&self, select: Select, alias: &str) -> Result<Select, Error>;
    /// Reads the target's columns, starting at `*idx`, into `parent`.
    fn decode(&self, row: &Row<'_>, idx: &mut usize, parent: &mut M) -> Result<(), Error>;
    /// Whether the join repeats parent rows (a collection), so rows are grouped by parent.
    fn repeats_parents(&self) -> bool {
        false
    }
    /// Reads the target's columns of a row that repeats `parent` (its first row was read
    /// with [`JoinedLoader::decode`]): a collection's item is appended, a single object
    /// was already set.
    fn decode_repeated(&self, row: &Row<'_>, idx: &mut usize, parent: &mut M) -> Result<(), Error>;
}

/// The rows of `c`, a query with a joined collection: one parent per primary key, in
/// first-seen order, as hand-written grouping does. A repeated parent's columns are not
/// decoded again; its row's items are appended to the parent read first.
pub(crate) async fn read_grouped<M: Model>(
    conn: &mut Connection,
    c: &oxalchemy_core::Compiled,
    joined: &[&dyn JoinedLoader<M>],
) -> Result<Vec<M>, Error> {
    // `extend_collection` refused a collection join without a single-column key.
    let key_at = M::LAYOUT.key_at();
    let width = M::LAYOUT.columns;
    let mut parents: Vec<M> = Vec::new();
    // Keys are rows' primary-key values, which may come from untrusted input: foldhash is
    // seeded per map (no fixed collisions to aim at), as the identity map's.
    let mut seen: std::collections::HashMap<KeyValue, usize, foldhash::fast::RandomState> =
        std::collections::HashMap::default();
    conn.query_map_read(c, |row| {
        let key: Value = row.get(key_at)?;
        let key = key_value(&key).unwrap_or_else(|| KeyValue::Other(format!("{key:?}")));
        match seen.get(&key) {
            Some(&i) => {
                let mut idx = width;
                for j in joined {
                    j.decode_repeated(row, &mut idx, &mut parents[i])?;
                }
            }
            None => {
                let mut idx = 0;
                let mut m = M::read(row, &mut idx)?;
                for j in joined {
                    j.decode(row, &mut idx, &mut m)?;
                }
                seen.insert(key, parents.len());
                parents.push(m);
            }
        }
        Ok(())
    })
    .await?;
    Ok(parents)
}

/// A hash map for grouping loaded rows by key: FxHash, because grouping thousands of rows
/// is hot and the keys come from our own database rows, so SipHash's flood resistance buys
/// nothing here.
type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// A hashable form of a key value (integers of every width compare equal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyValue {
    Int(i64),
    Text(String),
    Other(String),
}

fn key_value(v: &Value) -> Option<KeyValue> {
    Some(match v {
        Value::Null => return None,
        Value::I16(n) => KeyValue::Int(i64::from(*n)),
        Value::I32(n) => KeyValue::Int(i64::from(*n)),
        Value::I64(n) => KeyValue::Int(*n),
        Value::Text(s) => KeyValue::Text(s.clone()),
        other => KeyValue::Other(format!("{other:?}")),
    })
}

/// The single key column of `T`, which loading and joining along `def` need.
fn single_column_key<T: Model>(def: &RelationshipDef) -> Result<&'static str, Error> {
    match T::primary_key_columns() {
        [one] => Ok(*one),
        _ => Err(unsupported(def, "the target needs a single-column key")),
    }
}

/// The single-column primary key of `obj`; `pk` is scratch space reused between calls.
fn single_key<M: Model>(
    obj: &M,
    def: &RelationshipDef,
    pk: &mut Vec<(&'static str, Value)>,
) -> Result<Value, Error> {
    pk.clear();
    obj.primary_key_values(pk);
    match pk.as_mut_slice() {
        [(_, v)] => Ok(std::mem::replace(v, Value::Null)),
        _ => Err(unsupported(
            def,
            "eager loading needs a single-column primary key",
        )),
    }
}

fn column_value<M: Model>(obj: &M, column: &str) -> Value {
    let mut values = Vec::new();
    obj.insert_values(&mut values);
    obj.primary_key_values(&mut values);
    values
        .into_iter()
        .find(|(c, _)| *c == column)
        .map(|(_, v)| v)
        .unwrap_or(Value::Null)
}

fn qualified(table: &str, column: &str) -> Expr {
    Expr::Column {
        table: Some(Ident::from(table.to_owned())),
        name: Ident::from(column.to_owned()),
    }
}

fn model_columns<T: Model>(table: &str) -> impl Iterator<Item = Expr> + '_ {
    T::columns().iter().map(move |c| qualified(table, c))
}

/// Loads a relationship for objects already in hand: the explicit, on-demand load.
pub async fn load<M: Model>(
    conn: &mut Connection,
    objects: &mut [M],
    loader: impl Loader<M>,
) -> Result<(), Error> {
    let mut log = Vec::new();
    loader.load(conn, objects, &mut log).await
}
