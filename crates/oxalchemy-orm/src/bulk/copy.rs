//! [`copy_in`] / [`copy_in_stream`]: model rows loaded with PostgreSQL's binary COPY,
//! streamed from an iterator or an async stream without holding them all; on other
//! databases the same call sends multi-row INSERTs a chunk at a time. [`bulk_insert`]
//! (crate::bulk_insert) uses [`copy_group`] for large groups on PostgreSQL.

use std::marker::PhantomData;

use futures_util::{Stream, StreamExt};
use oxalchemy_core::Value;
use oxalchemy_engine::{Connection, Error};

use super::exec::{finish, log};
use super::insert::{InsertRow, Job, Rows};
use super::{same_columns, BulkExec, Group, Pairs};
use crate::model::Model;

/// Rows converted and sent per step on databases without COPY (bounds the memory held).
const CHUNK: usize = 10_000;

/// How often the progress callback is called by default (rows).
const PROGRESS_EVERY: u64 = 10_000;

/// Loads rows of `M` (structs or [`Mapping`](crate::Mapping)s) with PostgreSQL's binary
/// `COPY … FROM STDIN`, the fastest way in, in the order given: rows are converted and
/// encoded one at a time as the iterator yields them, so a load of any size holds one row at a time (plus a 4 kB
/// send buffer). Defaults are applied as [`bulk_insert`](crate::bulk_insert) applies them
/// (one `now` for the whole call); nothing is read back. On SQLite the same call sends
/// multi-row INSERTs of 10,000 rows at a time. All or nothing: one transaction (a SAVEPOINT
/// inside an open one). For rows that arrive asynchronously use [`copy_in_stream`].
///
/// ```no_run
/// # use oxalchemy_orm::{copy_in, Mapping, Model};
/// # async fn f<User: Model + Default + Clone>(db: &oxalchemy_engine::Database,
/// #     name: oxalchemy_orm::TypedColumn<User, String>) -> Result<(), oxalchemy_engine::Error> {
/// let rows = (0..1_000_000).map(|i| Mapping::new().set(name, format!("user{i}")));
/// let loaded = copy_in::<User>(rows)
///     .progress(|done| eprintln!("{done} rows"))
///     .execute(db)
///     .await?;
/// # let _ = loaded; Ok(()) }
/// ```
pub fn copy_in<M: Model>(
    rows: impl IntoIterator<Item = impl InsertRow<M>, IntoIter: Send>,
) -> CopyRows<'static, M, impl Stream<Item = impl InsertRow<M>> + Send> {
    copy_in_stream(futures_util::stream::iter(rows))
}

/// [`copy_in`] from an async [`Stream`] of rows (read from a file, a channel, another
/// database …): each row is sent as it arrives.
pub fn copy_in_stream<M: Model>(
    rows: impl Stream<Item = impl InsertRow<M>> + Send,
) -> CopyRows<'static, M, impl Stream<Item = impl InsertRow<M>> + Send> {
    CopyRows {
        rows,
        progress: None,
        every: PROGRESS_EVERY,
        _model: PhantomData,
    }
}

/// A prepared [`copy_in`] / [`copy_in_stream`].
#[must_use = "a COPY does nothing until `.execute(…)` is awaited"]
pub struct CopyRows<'p, M, S> {
    rows: S,
    progress: Option<Box<dyn FnMut(u64) + Send + 'p>>,
    every: u64,
    _model: PhantomData<fn() -> M>,
}

impl<M, S> std::fmt::Debug for CopyRows<'_, M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyRows")
            .field("progress", &self.progress.is_some())
            .field("every", &self.every)
            .finish()
    }
}

impl<'p, M, S> CopyRows<'p, M, S>
where
    M: Model,
    S: Stream + Send,
    S::Item: InsertRow<M>,
{
    /// Calls `f` with the number of rows sent so far, every 10,000 rows (see
    /// [`progress_every`](Self::progress_every)) and once at the end.
    pub fn progress<'q>(self, f: impl FnMut(u64) + Send + 'q) -> CopyRows<'q, M, S> {
        CopyRows {
            rows: self.rows,
            progress: Some(Box::new(f)),
            every: self.every,
            _model: PhantomData,
        }
    }

    /// How many rows between two progress calls (at least 1).
    pub fn progress_every(mut self, rows: u64) -> Self {
        self.every = rows.max(1);
        self
    }

    /// Sends every row; returns how many were stored.
    pub async fn execute<'e>(self, ex: impl Into<BulkExec<'e>>) -> Result<u64, Error> {
        match ex.into() {
            BulkExec::Exec(ex) => {
                let mut held = None;
                let conn = ex.connection(&mut held).await?;
                let n = self.in_transaction(conn, None).await?;
                crate::cache::invalidate_tables([M::TABLE]);
                Ok(n)
            }
            BulkExec::Session(s) => {
                let (conn, log) = s.bulk_begin().await?;
                let n = self.in_transaction(conn, Some(log)).await?;
                s.wrote_tables(std::iter::once(M::TABLE));
                Ok(n)
            }
        }
    }

    async fn in_transaction(
        self,
        conn: &mut Connection,
        log: Option<&mut Vec<String>>,
    ) -> Result<u64, Error> {
        let mut tx = conn.begin().await?;
        let result = self.send(&mut tx, log).await;
        finish(tx, result).await
    }

    async fn send(
        mut self,
        conn: &mut Connection,
        log_to: Option<&mut Vec<String>>,
    ) -> Result<u64, Error> {
        let now = crate::defaults::one_instant();
        let mut progress = Progress {
            f: self.progress.take(),
            every: self.every,
            next: self.every,
        };
        let mut defaults = None;
        let rows = std::pin::pin!(self.rows.fuse().map(move |row| {
            let mut pairs = Vec::with_capacity(M::columns().len());
            crate::defaults::with_now(now, || row.insert_pairs(&mut defaults, &mut pairs))
                .map(|()| pairs)
        }));
        let sent = if is_postgres(conn) {
            copy_rows(conn, M::TABLE, rows, &mut progress, log_to).await?
        } else {
            insert_chunks::<M>(conn, rows, &mut progress, log_to).await?
        };
        progress.end(sent);
        Ok(sent)
    }
}

/// Calls the user's progress callback every `every` rows.
pub(crate) struct Progress<'p> {
    pub(crate) f: Option<Box<dyn FnMut(u64) + Send + 'p>>,
    pub(crate) every: u64,
    pub(crate) next: u64,
}

impl Progress<'_> {
    fn row(&mut self, done: u64) {
        if done >= self.next {
            self.next = done + self.every;
            if let Some(f) = &mut self.f {
                f(done);
            }
        }
    }

    fn end(&mut self, done: u64) {
        if let Some(f) = &mut self.f {
            f(done);
        }
    }
}

pub(crate) fn is_postgres(conn: &Connection) -> bool {
    cfg!(feature = "postgres") && conn.dialect().name() == "postgresql"
}

/// COPYs converted rows in order; a row naming other columns than the one before ends the
/// COPY and starts another for its columns.
async fn copy_rows(
    conn: &mut Connection,
    table: &'static str,
    mut rows: impl Stream<Item = Result<Vec<(&'static str, Value)>, Error>> + Unpin,
    progress: &mut Progress<'_>,
    mut log_to: Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    let mut done = 0u64;
    let mut pending = rows.next().await.transpose()?;
    let mut values = Vec::new();
    while let Some(first) = pending.take() {
        let columns: Vec<&'static str> = first.iter().map(|(c, _)| *c).collect();
        if columns.is_empty() {
            // No column to COPY: the row is all defaults.
            log(&mut log_to, "INSERT … DEFAULT VALUES");
            conn.execute(oxalchemy_core::insert(oxalchemy_core::table(table)))
                .await?;
            done += 1;
            progress.row(done);
            pending = rows.next().await.transpose()?;
            continue;
        }
        log(
            &mut log_to,
            &format!("COPY {table} FROM STDIN (FORMAT binary)"),
        );
        let mut copy = start_copy(conn, table, &columns).await?;
        values.clear();
        values.extend(first.into_iter().map(|(_, v)| v));
        copy_write(&mut copy, &values).await?;
        done += 1;
        progress.row(done);
        while let Some(row) = rows.next().await.transpose()? {
            if !row.iter().map(|(c, _)| *c).eq(columns.iter().copied()) {
                pending = Some(row);
                break;
            }
            values.clear();
            values.extend(row.into_iter().map(|(_, v)| v));
            copy_write(&mut copy, &values).await?;
            done += 1;
            progress.row(done);
        }
        copy_finish(copy).await?;
    }
    Ok(done)
}

/// One group of [`bulk_insert`](crate::bulk_insert)'s rows by COPY; returns how many were
/// stored.
pub(crate) async fn copy_group(
    conn: &mut Connection,
    table: &'static str,
    group: Group,
    log_to: &mut Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    log(log_to, &format!("COPY {table} FROM STDIN (FORMAT binary)"));
    let mut copy = start_copy(conn, table, &group.columns).await?;
    for values in group.values.chunks(group.width().max(1)) {
        copy_write(&mut copy, values).await?;
    }
    copy_finish(copy).await
}

/// [`bulk_insert`](crate::bulk_insert)'s structs by COPY, each converted as it is sent (a
/// struct giving other columns than the one before, e.g. its own integer key, ends the
/// COPY and starts another); returns how many were stored.
pub(crate) async fn copy_models<M: Model>(
    conn: &mut Connection,
    models: Vec<M>,
    log_to: &mut Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    let mut rows = models.into_iter();
    let mut next = |pairs: &mut Pairs| {
        pairs.clear();
        rows.next()
            .map(|mut m| m.take_insert_values(pairs))
            .is_some()
    };
    let mut pairs = Vec::with_capacity(M::columns().len());
    let mut done = 0u64;
    let mut more = next(&mut pairs);
    while more {
        let columns: Vec<&'static str> = pairs.iter().map(|(c, _)| *c).collect();
        if columns.is_empty() {
            // No column to COPY: the row is all defaults.
            log(log_to, "INSERT … DEFAULT VALUES");
            conn.execute(oxalchemy_core::insert(oxalchemy_core::table(M::TABLE)))
                .await?;
            done += 1;
            more = next(&mut pairs);
            continue;
        }
        log(
            log_to,
            &format!("COPY {} FROM STDIN (FORMAT binary)", M::TABLE),
        );
        let mut copy = start_copy(conn, M::TABLE, &columns).await?;
        loop {
            // Encoded from the pairs as they are: no move of the values into a slice.
            copy_write_pairs(&mut copy, &pairs).await?;
            more = next(&mut pairs);
            if !more || !same_columns(&columns, &pairs) {
                break;
            }
        }
        done += copy_finish(copy).await?;
    }
    Ok(done)
}

#[cfg(feature = "postgres")]
type Copy<'c> = oxalchemy_engine::CopyIn<'c>;
#[cfg(not(feature = "postgres"))]
type Copy<'c> = std::marker::PhantomData<&'c mut Connection>;

#[cfg(feature = "postgres")]
async fn start_copy<'c>(
    conn: &'c mut Connection,
    table: &str,
    columns: &[&str],
) -> Result<Copy<'c>, Error> {
    conn.copy_in(table, columns).await
}

#[cfg(feature = "postgres")]
async fn copy_write(copy: &mut Copy<'_>, values: &[Value]) -> Result<(), Error> {
    copy.write(values).await
}

#[cfg(feature = "postgres")]
async fn copy_write_pairs(copy: &mut Copy<'_>, pairs: &Pairs) -> Result<(), Error> {
    copy.write_values(pairs.iter().map(|(_, v)| v)).await
}

#[cfg(feature = "postgres")]
async fn copy_finish(copy: Copy<'_>) -> Result<u64, Error> {
    copy.finish().await
}

#[cfg(not(feature = "postgres"))]
async fn start_copy<'c>(_: &'c mut Connection, _: &str, _: &[&str]) -> Result<Copy<'c>, Error> {
    unreachable!("is_postgres is false without the postgres feature")
}

#[cfg(not(feature = "postgres"))]
async fn copy_write(_: &mut Copy<'_>, _: &[Value]) -> Result<(), Error> {
    Ok(())
}

#[cfg(not(feature = "postgres"))]
async fn copy_write_pairs(_: &mut Copy<'_>, _: &Pairs) -> Result<(), Error> {
    Ok(())
}

#[cfg(not(feature = "postgres"))]
async fn copy_finish(_: Copy<'_>) -> Result<u64, Error> {
    Ok(0)
}

/// Without COPY: [`bulk_insert`](crate::bulk_insert)'s multi-row INSERTs, `CHUNK` rows at
/// a time.
async fn insert_chunks<M: Model>(
    conn: &mut Connection,
    mut rows: impl Stream<Item = Result<Vec<(&'static str, Value)>, Error>> + Unpin,
    progress: &mut Progress<'_>,
    mut log_to: Option<&mut Vec<String>>,
) -> Result<u64, Error> {
    let mut done = 0u64;
    loop {
        let mut groups: Vec<Group> = Vec::new();
        let mut n = 0;
        while n < CHUNK {
            let Some(pairs) = rows.next().await.transpose()? else {
                break;
            };
            // Only runs of rows naming the same columns share a group: rows are stored in
            // the order given, as COPY stores them.
            let same = groups
                .last()
                .is_some_and(|g| g.columns.iter().copied().eq(pairs.iter().map(|(c, _)| *c)));
            if !same {
                groups.push(Group {
                    columns: pairs.iter().map(|(c, _)| *c).collect(),
                    index: Vec::new(),
                    values: Vec::new(),
                });
            }
            if let Some(g) = groups.last_mut() {
                g.push(n, pairs.into_iter().map(|(_, v)| v));
            }
            n += 1;
        }
        if n == 0 {
            return Ok(done);
        }
        let job = Job::<M>::new(Rows::Groups(groups, n), None);
        done += job.send(conn, log_to.as_deref_mut()).await?.0;
        progress.row(done);
    }
}
