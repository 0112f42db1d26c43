//! `Query::stream`: the matching rows as an async [`Stream`] of models, with bounded memory.
//!
//! On PostgreSQL the query runs once and rows are decoded as they arrive (the driver stops
//! reading the socket while the consumer is busy, so the server waits instead of the result
//! piling up). On SQLite, whose statements cannot be held across an `.await`, the query
//! is run in chunks of [`STREAM_CHUNK`] rows: by primary key (`WHERE key > last ORDER BY
//! key LIMIT n`) when the query has no ORDER BY / LIMIT / OFFSET and the model a one-column
//! key, else by LIMIT / OFFSET. Chunks are separate statements: run the stream inside a
//! transaction for one snapshot.

use std::collections::VecDeque;

use futures_util::Stream;
use oxalchemy_core::query::Select;
use oxalchemy_core::{compile, Value};
use oxalchemy_engine::{Connection, Database, Error};

use crate::model::Model;
use crate::query::{Exec, Query, Unbound};

/// Rows per statement when SQLite streams in chunks.
pub const STREAM_CHUNK: u64 = 1_000;

impl<M: Model> Query<M, Unbound> {
    /// The matching rows as a [`Stream`] of models, holding a bounded number of rows in
    /// memory whatever the result's size (for a `Vec` of everything use
    /// [`all`](Self::all)). The stream holds its connection (checked out of the pool for a
    /// `&Database`) until it ends or is dropped; dropping it early is fine (the connection
    /// is reset before reuse). Loader options are not applied, as in
    /// [`for_each_batch`](Self::for_each_batch).
    ///
    /// ```no_run
    /// # use oxalchemy_orm::{query, Model};
    /// # async fn f<User: Model>(db: &oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
    /// use futures_util::TryStreamExt;
    /// let mut users = std::pin::pin!(query::<User>().stream(db));
    /// while let Some(user) = users.try_next().await? {
    ///     # let _ = user;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream<'e>(
        self,
        ex: impl Into<Exec<'e>>,
    ) -> impl Stream<Item = Result<M, Error>> + Send + 'e {
        self.rows(ex, false)
    }

    /// [`stream`](Self::stream), read through PostgreSQL's binary COPY when `copy` is set.
    pub(crate) fn rows<'e>(
        self,
        ex: impl Into<Exec<'e>>,
        copy: bool,
    ) -> impl Stream<Item = Result<M, Error>> + Send + 'e {
        let state = State::<'e, M> {
            conn: match ex.into() {
                Exec::Database(db) => Conn::Pool(db),
                Exec::Connection(c) => Conn::Borrowed(c),
            },
            select: self.into_select(),
            mode: Mode::Start,
            copy,
        };
        futures_util::stream::unfold(state, |mut st| async move {
            let item = st.next().await?;
            Some((item, st))
        })
    }
}

enum Conn<'e> {
    Pool(&'e Database),
    Owned(Box<Connection>),
    Borrowed(&'e mut Connection),
}

enum Mode<M> {
    Start,
    #[cfg(feature = "postgres")]
    Rows(oxalchemy_engine::PgRowStream),
    #[cfg(feature = "postgres")]
    Copy(oxalchemy_engine::PgCopyOut),
    Chunks(Chunks<M>),
    Done,
}

struct Chunks<M> {
    buf: VecDeque<M>,
    /// The key column when chunks go by key, and the last key handed out.
    by_key: Option<(&'static str, Option<Value>)>,
    /// Rows handed out so far (the OFFSET of the next chunk).
    done: u64,
    /// The query's own LIMIT / OFFSET, kept when chunking by offset.
    limit: Option<u64>,
    offset: u64,
    /// The last chunk came back short: nothing more to read.
    exhausted: bool,
}

struct State<'e, M> {
    conn: Conn<'e>,
    select: Select,
    mode: Mode<M>,
    /// Read through PostgreSQL's binary `COPY (SELECT …) TO STDOUT` when the query has no
    /// bound values ([`Query::copy_out`](crate::Query::copy_out)).
    copy: bool,
}

impl<M: Model> State<'_, M> {
    async fn connection(&mut self) -> Result<&mut Connection, Error> {
        if let Conn::Pool(db) = self.conn {
            self.conn = Conn::Owned(Box::new(db.connection().await?));
        }
        match &mut self.conn {
            Conn::Owned(c) => Ok(c),
            Conn::Borrowed(c) => Ok(c),
            Conn::Pool(_) => unreachable!("checked out just above"),
        }
    }

    /// The next item; `None` once the stream has ended (after an error, too).
    async fn next(&mut self) -> Option<Result<M, Error>> {
        let item = self.step().await;
        match item {
            Some(Err(_)) => {
                self.mode = Mode::Done;
                item
            }
            other => other,
        }
    }

    async fn step(&mut self) -> Option<Result<M, Error>> {
        loop {
            match &mut self.mode {
                Mode::Done => return None,
                Mode::Start => {
                    if let Err(e) = self.start().await {
                        return Some(Err(e));
                    }
                }
                #[cfg(feature = "postgres")]
                Mode::Rows(rows) => {
                    let item = rows.next(|r| M::from_row(r)).await;
                    let conn = match self.connection().await {
                        Ok(c) => c,
                        Err(e) => return Some(Err(e)),
                    };
                    return match item {
                        Some(Ok(m)) => Some(Ok(m)),
                        Some(Err(e)) => Some(conn.stream_done(Err(e))),
                        None => {
                            let end = conn.stream_done(Ok(())).err().map(Err);
                            self.mode = Mode::Done;
                            end
                        }
                    };
                }
                #[cfg(feature = "postgres")]
                Mode::Copy(rows) => {
                    let item = rows.next(|r| M::from_row(r)).await;
                    let conn = match self.connection().await {
                        Ok(c) => c,
                        Err(e) => return Some(Err(e)),
                    };
                    return match item {
                        Some(Ok(m)) => Some(Ok(m)),
                        Some(Err(e)) => Some(conn.stream_done(Err(e))),
                        None => {
                            let end = conn.stream_done(Ok(())).err().map(Err);
                            self.mode = Mode::Done;
                            end
                        }
                    };
                }
                Mode::Chunks(c) => {
                    if let Some(m) = c.buf.pop_front() {
                        if let Some((_, last)) = &mut c.by_key {
                            let mut key = Vec::with_capacity(1);
                            m.primary_key_values(&mut key);
                            *last = key.pop().map(|(_, v)| v);
                        }
                        c.done += 1;
                        return Some(Ok(m));
                    }
                    if c.exhausted {
                        self.mode = Mode::Done;
                        return None;
                    }
                    if let Err(e) = self.fetch_chunk().await {
                        return Some(Err(e));
                    }
                }
            }
        }
    }

    async fn start(&mut self) -> Result<(), Error> {
        let select = self.select.clone();
        let copy = self.copy;
        let conn = self.connection().await?;
        let c = compile(conn.dialect(), &select.into())?;
        // COPY takes no parameters: a query with bound values is read with the SELECT below.
        #[cfg(feature = "postgres")]
        if copy && c.binds.is_empty() {
            if let Some(rows) = conn.pg_copy_out(&c).await? {
                self.mode = Mode::Copy(rows);
                return Ok(());
            }
        }
        #[cfg(feature = "postgres")]
        if let Some(rows) = conn.pg_row_stream(&c).await? {
            self.mode = Mode::Rows(rows);
            return Ok(());
        }
        // Read only by the PostgreSQL paths above, which some builds leave out.
        let _ = (c, copy);
        let s = &self.select;
        let plain = s.order_by.is_empty()
            && s.limit.is_none()
            && s.offset.is_none()
            && s.compound.is_empty()
            && s.group_by.is_empty()
            && !s.distinct;
        let by_key = match M::primary_key_columns() {
            [key] if plain => Some((*key, None)),
            _ => None,
        };
        self.mode = Mode::Chunks(Chunks {
            buf: VecDeque::new(),
            by_key,
            done: 0,
            limit: s.limit,
            offset: s.offset.unwrap_or(0),
            exhausted: false,
        });
        Ok(())
    }

    async fn fetch_chunk(&mut self) -> Result<(), Error> {
        let Mode::Chunks(c) = &self.mode else {
            return Ok(());
        };
        let mut select = self.select.clone();
        let want = match c.limit {
            Some(limit) => STREAM_CHUNK.min(limit.saturating_sub(c.done)),
            None => STREAM_CHUNK,
        };
        match &c.by_key {
            Some((key, last)) => {
                let column = oxalchemy_core::table(M::TABLE).col(*key);
                if let Some(last) = last {
                    select = select.filter(column.clone().gt(last.clone()));
                }
                select = select.order_by(column.asc());
            }
            None => select.offset = Some(c.offset + c.done),
        }
        select.limit = Some(want);
        let conn = self.connection().await?;
        let compiled = compile(conn.dialect(), &select.into())?;
        let rows: Vec<M> = if want == 0 {
            Vec::new()
        } else {
            conn.query_read(&compiled).await?
        };
        if let Mode::Chunks(c) = &mut self.mode {
            c.exhausted = (rows.len() as u64) < STREAM_CHUNK || want < STREAM_CHUNK;
            c.buf.extend(rows);
        }
        Ok(())
    }
}
