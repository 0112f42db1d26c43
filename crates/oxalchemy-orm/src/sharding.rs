//! Models over a [`ShardedDatabase`]: writes routed by the shard chooser, `get` by
//! (shard, key), and queries run on the shards the query chooser names — concurrently —
//! with the results merged and the query's ORDER BY, OFFSET and LIMIT applied after the
//! merge, so `order_by(x).limit(10)` over two shards is the first 10 of both together.

use std::cmp::Ordering;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use oxalchemy_core::{Expr, Nulls, Statement, Value};
use oxalchemy_engine::{Error, FromRow, Row, ShardedDatabase};

use crate::model::{Fields, Model};
use crate::query::Query;

/// An object read from or written to a shard, with the shard's name: its identity is
/// [`ShardKey`] (shard, table, primary key), since two shards may hold the same key.
/// Derefs to the object.
#[derive(Debug, Clone, PartialEq)]
pub struct Sharded<M> {
    /// The shard the row lives on.
    pub shard: Arc<str>,
    /// The object.
    pub value: M,
}

impl<M> Deref for Sharded<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.value
    }
}

impl<M> DerefMut for Sharded<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.value
    }
}

/// The identity of a row across shards: shard, table and primary-key values.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardKey {
    /// The shard's name.
    pub shard: Arc<str>,
    /// The model's table.
    pub table: &'static str,
    /// The primary-key values, in key-column order.
    pub key: Vec<Value>,
}

impl<M: Model> Sharded<M> {
    /// This object's identity across shards.
    pub fn identity_key(&self) -> ShardKey {
        let mut pk = Vec::new();
        self.value.primary_key_values(&mut pk);
        ShardKey {
            shard: self.shard.clone(),
            table: M::TABLE,
            key: pk.into_iter().map(|(_, v)| v).collect(),
        }
    }
}

/// Model reads and writes on a [`ShardedDatabase`].
pub trait ShardedQueryExt {
    /// Inserts `obj` on the shard its type's shard chooser picks (defaults, validators and
    /// generated keys as [`crate::insert`]); returns it with its shard.
    fn insert<M: Model + Clone + Send + 'static>(
        &self,
        obj: M,
    ) -> impl std::future::Future<Output = Result<Sharded<M>, Error>> + Send;

    /// The row of `M` with primary key `key` on shard `shard`, if any.
    fn get<M: Model + Clone + Send + 'static>(
        &self,
        shard: &str,
        key: impl Into<Value> + Send,
    ) -> impl std::future::Future<Output = Result<Option<Sharded<M>>, Error>> + Send;

    /// Every row `query` matches on the shards the query chooser names (all, without one),
    /// queried concurrently and merged: ordered by the query's ORDER BY (ties in shard
    /// order), then its OFFSET and LIMIT applied to the merged rows. Loader options are not
    /// applied (load relationships per shard with [`crate::load`]).
    fn all<M: Model + Clone + Send + 'static>(
        &self,
        query: Query<M>,
    ) -> impl std::future::Future<Output = Result<Vec<Sharded<M>>, Error>> + Send;

    /// [`all`](Self::all) on the named shards only, whatever the query chooser says.
    fn all_on<M: Model + Clone + Send + 'static>(
        &self,
        shards: &[&str],
        query: Query<M>,
    ) -> impl std::future::Future<Output = Result<Vec<Sharded<M>>, Error>> + Send;
}

impl ShardedQueryExt for ShardedDatabase {
    async fn insert<M: Model + Clone + Send + 'static>(
        &self,
        mut obj: M,
    ) -> Result<Sharded<M>, Error> {
        let (name, db) = self.shard_for(&obj)?;
        crate::insert(db, &mut obj).await?;
        Ok(Sharded {
            shard: name.clone(),
            value: obj,
        })
    }

    async fn get<M: Model + Clone + Send + 'static>(
        &self,
        shard: &str,
        key: impl Into<Value> + Send,
    ) -> Result<Option<Sharded<M>>, Error> {
        let (name, db) = self.entry(shard)?;
        let columns = M::primary_key_columns();
        let [column] = columns else {
            return Err(Error::Mapping {
                message: format!(
                    "{} has a composite primary key ({}); query it with a filter on each key \
                     column and all_on(&[shard], …)",
                    M::TABLE,
                    columns.join(", ")
                ),
            });
        };
        let cond = oxalchemy_core::table(M::TABLE)
            .col(*column)
            .eq(Expr::Bind(key.into()));
        let row = crate::query::<M>().filter(cond).one_or_none(db).await?;
        Ok(row.map(|value| Sharded {
            shard: name.clone(),
            value,
        }))
    }

    async fn all<M: Model + Clone + Send + 'static>(
        &self,
        query: Query<M>,
    ) -> Result<Vec<Sharded<M>>, Error> {
        let shards = self.shards_for_query(M::TABLE, &query.statement())?;
        fan_out(shards, query).await
    }

    async fn all_on<M: Model + Clone + Send + 'static>(
        &self,
        shards: &[&str],
        query: Query<M>,
    ) -> Result<Vec<Sharded<M>>, Error> {
        let shards = shards
            .iter()
            .map(|s| self.entry(s))
            .collect::<Result<Vec<_>, _>>()?;
        fan_out(shards, query).await
    }
}

/// A model row followed by the values of the query's ORDER BY expressions (appended to the
/// select list so that the merge can compare rows of different shards).
struct Keyed<M> {
    value: M,
    keys: Vec<Value>,
}

impl<M: Fields> FromRow for Keyed<M> {
    fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        let mut idx = 0;
        let value = M::read(row, &mut idx)?;
        let keys = (idx..row.len())
            .map(|i| row.get::<Value>(i))
            .collect::<Result<_, _>>()?;
        Ok(Keyed { value, keys })
    }
}

async fn fan_out<M: Model + Clone + Send + 'static>(
    shards: Vec<(&Arc<str>, &oxalchemy_engine::Database)>,
    query: Query<M>,
) -> Result<Vec<Sharded<M>>, Error> {
    let mut select = query.into_select();
    let order = std::mem::take(&mut select.order_by);
    let (offset, limit) = (select.offset.take(), select.limit.take());
    // Each shard sorts and cuts what it sends: no shard needs to send more than offset +
    // limit rows for the merged result to be right.
    select.limit = limit.map(|l| l + offset.unwrap_or(0));
    for o in &order {
        select.columns.push(o.expr.clone());
    }
    select.order_by = order.clone();
    let runs = shards.into_iter().map(|(name, db)| {
        let stmt = Statement::Select(select.clone());
        async move {
            let rows: Vec<Keyed<M>> = db.query(stmt).await?;
            Ok::<_, Error>((name.clone(), rows))
        }
    });
    let per_shard = try_join_all(runs.collect()).await?;
    let mut merged: Vec<(usize, Arc<str>, Keyed<M>)> = per_shard
        .into_iter()
        .enumerate()
        .flat_map(|(i, (name, rows))| rows.into_iter().map(move |r| (i, name.clone(), r)))
        .collect();
    // Stable, so equal keys keep shard order, then each shard's own order.
    merged.sort_by(|a, b| {
        for (k, o) in order.iter().enumerate() {
            let ord = compare(&a.2.keys[k], &b.2.keys[k], o.desc, o.nulls);
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.0.cmp(&b.0)
    });
    let skip = usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let take = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    Ok(merged
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|(_, shard, k)| Sharded {
            shard,
            value: k.value,
        })
        .collect())
}

/// Runs `futs` concurrently (on this task, polled together) and returns their outputs in
/// order, or the first error.
async fn try_join_all<T, F: Future<Output = Result<T, Error>>>(
    futs: Vec<F>,
) -> Result<Vec<T>, Error> {
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futs.iter_mut().zip(out.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            match f.as_mut().poll(cx) {
                Poll::Ready(Ok(v)) => *slot = Some(v),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => pending = true,
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    })
    .await?;
    Ok(out.into_iter().flatten().collect())
}

/// Orders two ORDER BY values as the databases do: NULLs last ascending and first
/// descending unless `nulls` says otherwise (PostgreSQL's default; set `nulls` explicitly to
/// get the same order from SQLite shards).
fn compare(a: &Value, b: &Value, desc: bool, nulls: Option<Nulls>) -> Ordering {
    let nulls_first = match nulls {
        Some(Nulls::First) => true,
        Some(Nulls::Last) => false,
        None => desc,
    };
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (_, Value::Null) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        _ => {
            let ord = compare_values(a, b);
            if desc {
                ord.reverse()
            } else {
                ord
            }
        }
    }
}

/// Two non-NULL values of one column, compared by their type (integers of any width and
/// floats as numbers; text, bytes, dates, times, UUIDs, decimals by their order).
fn compare_values(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    fn num(v: &Value) -> Option<f64> {
        match v {
            I16(n) => Some(f64::from(*n)),
            I32(n) => Some(f64::from(*n)),
            // Only when the other side is not an I64 (those compare exactly above).
            I64(n) => Some(*n as f64),
            F32(n) => Some(f64::from(*n)),
            F64(n) => Some(*n),
            Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
    match (a, b) {
        (I64(x), I64(y)) => x.cmp(y),
        (Text(x), Text(y)) => x.cmp(y),
        (Bytes(x), Bytes(y)) => x.cmp(y),
        (Uuid(x), Uuid(y)) => x.cmp(y),
        (Date(x), Date(y)) => x.cmp(y),
        (Time(x), Time(y)) => x.cmp(y),
        (DateTime(x), DateTime(y)) => x.cmp(y),
        (DateTimeTz(x), DateTimeTz(y)) => x.cmp(y),
        (Decimal(x), Decimal(y)) => x.cmp(y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            // Different kinds (a SQLite shard returning text for a PostgreSQL timestamp):
            // compare their text forms, which sort like the values for ISO dates and times.
            _ => format!("{a:?}").cmp(&format!("{b:?}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_by_type_and_nulls_follow_postgresql() {
        assert_eq!(
            compare_values(&Value::I64(2), &Value::I32(10)),
            Ordering::Less
        );
        assert_eq!(
            compare_values(&Value::I32(10), &Value::I64(2)),
            Ordering::Greater
        );
        assert_eq!(
            compare_values(&Value::F64(2.5), &Value::I64(2)),
            Ordering::Greater
        );
        assert_eq!(
            compare_values(&Value::Text("b".into()), &Value::Text("a".into())),
            Ordering::Greater
        );
        assert_eq!(
            compare(&Value::Null, &Value::I64(1), false, None),
            Ordering::Greater
        );
        assert_eq!(
            compare(&Value::Null, &Value::I64(1), true, None),
            Ordering::Less
        );
        assert_eq!(
            compare(&Value::Null, &Value::I64(1), false, Some(Nulls::First)),
            Ordering::Less
        );
        assert_eq!(
            compare(&Value::I64(1), &Value::I64(2), true, None),
            Ordering::Greater
        );
    }
}
