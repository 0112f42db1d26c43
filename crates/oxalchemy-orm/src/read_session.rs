//! [`ReadSession`]: a session that reads from a replica until it writes, then reads and
//! writes on the primary until it ends (read-your-writes).

use oxalchemy_engine::{Database, Error};

use crate::session::{Session, SessionExt};

/// A read session: [`reads`](ReadSession::reads) is a [`Session`] on a replica
/// ([`Database::replica`]); the first [`writes`](ReadSession::writes) opens a session on the
/// primary, and from then on `reads` is that session too, so what this session wrote is
/// what it reads, however far the replica lags. Made by [`ReadSessionExt::read_session`].
///
/// ```no_run
/// # async fn demo(db: oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
/// use oxalchemy_orm::ReadSessionExt;
/// let mut rs = db.read_session();
/// let _n = rs.reads().execute(oxalchemy_core::text("SELECT 1")).await?; // on a replica
/// rs.writes().execute(oxalchemy_core::text("UPDATE t SET x = 1")).await?; // on the primary
/// let _m = rs.reads().execute(oxalchemy_core::text("SELECT 1")).await?; // primary from now on
/// rs.commit().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ReadSession {
    primary: Database,
    reader: Session,
    writer: Option<Session>,
}

impl ReadSession {
    /// The session to read with: the replica's until this session wrote, then the primary's.
    pub fn reads(&mut self) -> &mut Session {
        match &mut self.writer {
            Some(w) => w,
            None => &mut self.reader,
        }
    }

    /// The session to write with: on the primary (opened on first use). Reads go to it from
    /// now on.
    pub fn writes(&mut self) -> &mut Session {
        let primary = &self.primary;
        self.writer.get_or_insert_with(|| primary.session())
    }

    /// Whether [`writes`](Self::writes) was called, so reads go to the primary.
    pub fn has_written(&self) -> bool {
        self.writer.is_some()
    }

    /// Commits what was written (flush included) and ends the read transaction.
    pub async fn commit(mut self) -> Result<(), Error> {
        if let Some(w) = &mut self.writer {
            w.commit().await?;
        }
        self.reader.rollback().await
    }

    /// Discards what was written and ends both transactions.
    pub async fn rollback(mut self) -> Result<(), Error> {
        let written = match &mut self.writer {
            Some(w) => w.rollback().await,
            None => Ok(()),
        };
        self.reader.rollback().await?;
        written
    }
}

/// [`read_session`](ReadSessionExt::read_session) on a [`Database`].
pub trait ReadSessionExt {
    /// A [`ReadSession`]: reads on a replica (or the primary when no replica is usable)
    /// until it writes, then on the primary.
    fn read_session(&self) -> ReadSession;
}

impl ReadSessionExt for Database {
    fn read_session(&self) -> ReadSession {
        ReadSession {
            primary: self.clone(),
            reader: self.replica().session(),
            writer: None,
        }
    }
}
