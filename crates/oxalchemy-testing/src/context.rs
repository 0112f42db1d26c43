//! What a test body gets from [`TestCase::run`](crate::TestCase::run): the database, and
//! sessions and connections isolated the way the case asked.

use std::ops::{Deref, DerefMut};

use oxalchemy_engine::{Connection, Database, Error};
use oxalchemy_orm::{Session, SessionExt};

use crate::case::Backend;
use crate::rollback::{JoinedConnection, TestTransaction};

/// One running test's database: sessions and connections from [`TestContext::session`] and
/// [`TestContext::connection`] run inside the test's rollback fixture (by default) or
/// straight on a fresh database (`fresh`).
///
/// It implements [`SessionExt`], so code under test that takes `&impl SessionExt` (and uses
/// `session_scope`) can be handed the context itself.
#[derive(Debug)]
pub struct TestContext {
    pub(crate) db: Database,
    pub(crate) outer: Option<TestTransaction>,
    pub(crate) backend: Backend,
}

impl TestContext {
    /// The backend this case runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The test's database. With the rollback fixture its pool's connections are *outside*
    /// the test's transaction (they do not see its rows, and what they commit stays until
    /// the database is dropped): use it for what must be outside, such as counting committed
    /// rows from a second connection.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The rollback fixture the test runs in; `None` for a `fresh` case.
    pub fn test_transaction(&self) -> Option<&TestTransaction> {
        self.outer.as_ref()
    }

    /// A connection for code under test that takes a [`Connection`]: the rollback fixture's
    /// one connection (its `begin()` is a SAVEPOINT), or a pooled one in a `fresh` case.
    pub async fn connection(&self) -> Result<TestConnection, Error> {
        Ok(TestConnection(match &self.outer {
            Some(outer) => Pooled::Joined(outer.connection()?),
            None => Pooled::Own(Box::new(self.db.connection().await?)),
        }))
    }
}

impl SessionExt for TestContext {
    /// A session joined to the rollback fixture, or a plain session of a `fresh` database.
    fn session(&self) -> Session {
        match &self.outer {
            Some(outer) => outer.session(),
            None => self.db.session(),
        }
    }
}

/// A connection of a test ([`TestContext::connection`]); derefs to [`Connection`].
#[derive(Debug)]
pub struct TestConnection(Pooled);

#[derive(Debug)]
enum Pooled {
    Joined(JoinedConnection),
    // Boxed: a pooled connection is much larger than a joined handle.
    Own(Box<Connection>),
}

impl Deref for TestConnection {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match &self.0 {
            Pooled::Joined(c) => c,
            Pooled::Own(c) => c,
        }
    }
}

impl DerefMut for TestConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        match &mut self.0 {
            Pooled::Joined(c) => c,
            Pooled::Own(c) => c,
        }
    }
}
