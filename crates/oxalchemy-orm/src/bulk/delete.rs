//! [`bulk_delete`]: many rows by primary key, `DELETE … WHERE key IN (…)` chunked to the
//! dialect's bind limit.

use std::marker::PhantomData;

use oxalchemy_core::expr::{col, Ident};
use oxalchemy_core::{compile, Statement, ToValue, Value};
use oxalchemy_engine::{Connection, Error};

use super::exec::{finish, log};
use super::{BulkExec, Pairs};
use crate::errors::mapping;
use crate::model::Model;

/// Deletes the rows of `M` with these primary-key values (a model with a one-column key).
/// Keys matching no row are skipped. Run it with [`execute`](BulkDelete::execute); on a
/// session, held objects of the deleted rows are dropped from it.
pub fn bulk_delete<M: Model, K: ToValue>(keys: impl IntoIterator<Item = K>) -> BulkDelete<M> {
    BulkDelete {
        keys: keys.into_iter().map(|k| k.to_value()).collect(),
        _model: PhantomData,
    }
}

/// A prepared [`bulk_delete`].
#[must_use = "a bulk delete does nothing until `.execute(…)` is awaited"]
pub struct BulkDelete<M> {
    keys: Vec<Value>,
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
        let [key] = M::primary_key_columns() else {
            return Err(mapping(format!(
                "bulk_delete::<{}>: the model's primary key has {} columns; bulk_delete takes \
                 one-column keys (delete by query with a filter instead)",
                M::NAME,
                M::primary_key_columns().len()
            )));
        };
        match ex.into() {
            BulkExec::Exec(ex) => {
                let mut held = None;
                let conn = ex.connection(&mut held).await?;
                let n = in_transaction::<M>(conn, key, &self.keys, None).await?;
                crate::cache::invalidate_tables([M::TABLE]);
                Ok(n)
            }
            BulkExec::Session(s) => {
                let (conn, log) = s.bulk_begin().await?;
                let n = in_transaction::<M>(conn, key, &self.keys, Some(log)).await?;
                s.wrote_tables(std::iter::once(M::TABLE));
                let keys: Vec<Pairs> = self.keys.into_iter().map(|v| vec![(*key, v)]).collect();
                s.bulk_forget::<M>(&keys);
                Ok(n)
            }
        }
    }
}

async fn in_transaction<M: Model>(
    conn: &mut Connection,
    key: &'static str,
    keys: &[Value],
    mut log_to: Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    let mut tx = conn.begin().await?;
    let dialect = tx.dialect();
    let per_chunk = dialect.max_binds().max(1);
    let mut result = Ok(0);
    for chunk in keys.chunks(per_chunk) {
        let stmt = Statement::Delete(
            oxalchemy_core::delete(oxalchemy_core::table(M::TABLE))
                .filter(col(Ident::new_static(key)).in_(chunk.iter().cloned())),
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
