//! [`bulk_delete`]: many rows by primary key, `DELETE … WHERE key IN (…)` chunked to the
//! dialect's bind limit; a composite key is `(a = ? AND b = ?) OR …`, 500 keys a statement
//! (SQLite's parser nests an OR chain one level per term, up to 1,000).

use std::marker::PhantomData;

use oxalchemy_core::expr::{and_, col, or_, Ident};
use oxalchemy_core::{compile, Statement, ToValue, Value};
use oxalchemy_engine::{Connection, Error};

use super::exec::{finish, log};
use super::{BulkExec, Pairs};
use crate::errors::mapping;
use crate::model::Model;

/// A primary-key value [`bulk_delete`] takes: one value (`5i64`, `"ann"`, a `Uuid`) for a
/// one-column key, a tuple (`(user_id, group_id)`) for a composite one, in the order of
/// the model's key columns.
pub trait DeleteKey: Send {
    /// The key's values, in key-column order.
    fn key_values(self) -> Vec<Value>;
}

macro_rules! scalar_keys {
    ($($t:ty),*) => {$(
        impl DeleteKey for $t {
            fn key_values(self) -> Vec<Value> {
                vec![self.to_value()]
            }
        }
    )*};
}
scalar_keys!(i16, i32, i64, String, &str, uuid::Uuid);

impl DeleteKey for Value {
    fn key_values(self) -> Vec<Value> {
        vec![self]
    }
}

macro_rules! tuple_keys {
    ($($t:ident $v:ident),+) => {
        impl<$($t: ToValue + Send),+> DeleteKey for ($($t,)+) {
            fn key_values(self) -> Vec<Value> {
                let ($($v,)+) = self;
                vec![$($v.to_value()),+]
            }
        }
    };
}
tuple_keys!(A a, B b);
tuple_keys!(A a, B b, C c);
tuple_keys!(A a, B b, C c, D d);

/// Composite keys per statement (see the module docs).
const COMPOSITE_PER_STATEMENT: usize = 500;

/// Deletes the rows of `M` with these primary keys: values for a one-column key, tuples in
/// key-column order for a composite one ([`DeleteKey`]). Keys matching no row are skipped.
/// Run it with [`execute`](BulkDelete::execute); on a session, held objects of the deleted
/// rows are dropped from it.
pub fn bulk_delete<M: Model, K: DeleteKey>(keys: impl IntoIterator<Item = K>) -> BulkDelete<M> {
    BulkDelete {
        keys: keys.into_iter().map(DeleteKey::key_values).collect(),
        _model: PhantomData,
    }
}

/// A prepared [`bulk_delete`].
#[must_use = "a bulk delete does nothing until `.execute(…)` is awaited"]
pub struct BulkDelete<M> {
    keys: Vec<Vec<Value>>,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for BulkDelete<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkDelete")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl<M: Model + Clone> BulkDelete<M> {
    /// Runs the DELETEs; returns how many rows were deleted.
    pub async fn execute<'e>(self, ex: impl Into<BulkExec<'e>>) -> Result<u64, Error> {
        let key = M::primary_key_columns();
        if let Some(bad) = self.keys.iter().find(|k| k.len() != key.len()) {
            return Err(mapping(format!(
                "bulk_delete::<{}>: a key has {} values for the {} primary-key columns ({}); \
                 give a tuple in that order",
                M::NAME,
                bad.len(),
                key.len(),
                key.join(", ")
            )));
        }
        match ex.into() {
            BulkExec::Exec(ex) => {
                let mut held = None;
                let conn = ex.connection(&mut held).await?;
                let n = in_transaction::<M>(conn, key, &self.keys, None).await?;
                crate::cache::invalidate_tables(crate::cache::delete_tables::<M>());
                Ok(n)
            }
            BulkExec::Session(s) => {
                let (conn, log) = s.bulk_begin().await?;
                let n = in_transaction::<M>(conn, key, &self.keys, Some(log)).await?;
                s.wrote_tables(crate::cache::delete_tables::<M>());
                let keys: Vec<Pairs> = self
                    .keys
                    .into_iter()
                    .map(|v| key.iter().copied().zip(v).collect())
                    .collect();
                s.bulk_forget::<M>(&keys);
                Ok(n)
            }
        }
    }
}

async fn in_transaction<M: Model>(
    conn: &mut Connection,
    key: &'static [&'static str],
    keys: &[Vec<Value>],
    mut log_to: Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    let mut tx = conn.begin().await?;
    let dialect = tx.dialect();
    let per_chunk = match key {
        [_] => dialect.max_binds().max(1),
        _ => (dialect.max_binds() / key.len().max(1)).clamp(1, COMPOSITE_PER_STATEMENT),
    };
    let mut result = Ok(0);
    for chunk in keys.chunks(per_chunk) {
        let filter = match key {
            [one] => col(Ident::new_static(one)).in_(chunk.iter().map(|k| k[0].clone())),
            _ => or_(chunk.iter().map(|values| {
                and_(
                    key.iter()
                        .zip(values)
                        .map(|(c, v)| col(Ident::new_static(c)).eq(v.clone())),
                )
            })),
        };
        let stmt = Statement::Delete(
            oxalchemy_core::delete(oxalchemy_core::table(M::TABLE)).filter(filter),
        );
        let sent = match compile(dialect, &stmt) {
            Ok(c) => {
                log(&mut log_to, &c.sql);
                tx.execute_write(&c).await
            }
            Err(e) => Err(e.into()),
        };
        result = match (result, sent) {
            (Ok(total), Ok(n)) => Ok(total + n),
            (_, Err(e)) | (Err(e), _) => Err(e),
        };
        if result.is_err() {
            break;
        }
    }
    finish(tx, result).await
}
