//! The per-test rollback fixture (the guide's §5 fixture, SQLAlchemy's "join a session into
//! an external transaction" recipe): one connection, an outer `BEGIN`, every session and
//! connection of the test inside it, and an outer `ROLLBACK` at the end that discards
//! everything — even what the code under test committed, because a [`TestTransaction`]'s
//! sessions are [joined](oxalchemy_orm::Session::joined): their `commit` is a
//! `RELEASE SAVEPOINT`, their `rollback` a `ROLLBACK TO SAVEPOINT`.
//!
//! The test has one connection, so one user at a time holds it: a session from its first
//! statement until its commit, rollback or close (or drop), a [`JoinedConnection`] until it
//! is dropped. Asking for it while it is held is an error that says so, never a deadlock.

use std::borrow::{Borrow, BorrowMut};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use oxalchemy_engine::{Connection, Database, Error, OwnedTransaction};
use oxalchemy_orm::{Session, SessionExt};

/// An outer transaction a test's sessions and connections run inside, rolled back at the
/// end of the test so that nothing the test did stays in the database.
///
/// It implements [`SessionExt`]: code under test written against `impl SessionExt` (or
/// handed a `&mut Session`) runs unchanged, `session_scope`, `commit`, `rollback` and
/// `begin_nested` included.
///
/// The guide's §5 fixtures and model tests, in Rust (`oxalchemy::testing` is this crate
/// with the facade's `testing` feature):
///
/// ```no_run
/// use oxalchemy::orm::{Many, One};
/// use oxalchemy::prelude::*;
/// use oxalchemy_testing::TestTransaction;
///
/// #[derive(Model, Clone, Debug, Default)]
/// #[model(table = "users")]
/// struct User {
///     #[column(primary_key)]
///     id: i64,
///     username: String,
///     #[relationship(back_populates = "author")]
///     posts: Many<Post>,
/// }
///
/// #[derive(Model, Clone, Debug, Default)]
/// #[model(table = "posts")]
/// struct Post {
///     #[column(primary_key)]
///     id: i64,
///     title: String,
///     #[column(foreign_key = "users.id")]
///     author_id: i64,
///     #[relationship(back_populates = "posts")]
///     author: One<User>,
/// }
///
/// // `engine` and `tables`: once per test process in a real suite.
/// async fn engine_with_tables() -> Database {
///     let db = Database::connect("sqlite::memory:").await.unwrap();
///     let registry = oxalchemy::orm::Registry::new().model::<User>().model::<Post>();
///     db.create_all(&registry.metadata()).await.unwrap();
///     db
/// }
///
/// #[tokio::test]
/// async fn test_user_creation() {
///     let db = engine_with_tables().await;
///     // `session`: connection, BEGIN, a session bound to it …
///     let outer = TestTransaction::begin(&db).await.unwrap();
///     let mut session = outer.session();
///
///     let user = session.add(User { username: "test_user".into(), ..Default::default() });
///     session.commit().await.unwrap(); // a RELEASE SAVEPOINT inside the test's transaction
///     assert!(session[user].id > 0);
///     let fetched = session.get::<User>(session[user].id).await.unwrap().unwrap();
///     assert_eq!(session[fetched].username, "test_user");
///
///     // … and the teardown: close, then roll back everything the test did.
///     session.close().await.unwrap();
///     outer.rollback().await.unwrap();
/// }
/// ```
///
/// Code under test written against `impl SessionExt` gets joined sessions from the fixture:
/// its `session_scope`, `commit`, `rollback` and `begin_nested` all stay inside the test's
/// transaction.
#[derive(Debug)]
pub struct TestTransaction {
    db: Database,
    slot: Arc<Mutex<Slot>>,
}

/// A test's connection, inside its [`TestTransaction`]: derefs to [`Connection`], so code
/// under test can run statements and `begin()` (a SAVEPOINT here) on it. Given back to the
/// test transaction when dropped.
pub struct JoinedConnection {
    slot: Arc<Mutex<Slot>>,
    /// `Some` for the connection's whole life; taken only by `drop` to give it back.
    tx: Option<Box<OwnedTransaction>>,
}

/// Where the test's one connection is.
#[derive(Debug)]
enum Slot {
    /// With the test transaction, ready to lend (boxed: the other states carry nothing).
    Free(Box<OwnedTransaction>),
    /// Lent to a session's transaction or a [`JoinedConnection`].
    Lent,
    /// Rolled back: nothing more can run in it.
    Finished,
}

impl TestTransaction {
    /// Takes a connection from `db`'s pool and opens the outer transaction on it.
    pub async fn begin(db: &Database) -> Result<TestTransaction, Error> {
        let outer = db.connection().await?.begin_owned().await?;
        Ok(TestTransaction {
            db: db.clone(),
            slot: Arc::new(Mutex::new(Slot::Free(Box::new(outer)))),
        })
    }

    /// The database the test transaction's connection came from.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The test's connection, for code under test that takes a [`Connection`]: its
    /// `begin()` is a SAVEPOINT inside the outer transaction. Fails while a session or
    /// another [`JoinedConnection`] of this test holds the connection.
    pub fn connection(&self) -> Result<JoinedConnection, Error> {
        checkout(&self.slot)
    }

    /// Rolls the outer transaction back: nothing the test did stays. Sessions must have
    /// ended their transactions (committed, rolled back, closed or dropped) first; a
    /// session that still holds the connection makes this fail with a message saying so.
    /// Dropping the test transaction without calling this also rolls back, once its last
    /// session is gone.
    pub async fn rollback(self) -> Result<(), Error> {
        // The lock is released at the end of this statement, before the ROLLBACK is awaited.
        let taken = std::mem::replace(&mut *lock(&self.slot), Slot::Finished);
        match taken {
            Slot::Free(outer) => outer.rollback().await,
            Slot::Lent => {
                *lock(&self.slot) = Slot::Lent;
                Err(Error::Mapping {
                    message: in_use_message("roll back the test transaction"),
                })
            }
            Slot::Finished => Err(Error::TransactionFinished),
        }
    }
}

impl SessionExt for TestTransaction {
    /// A session joined to the test transaction: its transactions are SAVEPOINTs in it.
    fn session(&self) -> Session {
        let slot = Arc::clone(&self.slot);
        Session::joined(&self.db, move || checkout(&slot))
    }
}

/// Lends the test's connection, or says who has it.
fn checkout(slot: &Arc<Mutex<Slot>>) -> Result<JoinedConnection, Error> {
    let mut guard = lock(slot);
    match std::mem::replace(&mut *guard, Slot::Lent) {
        Slot::Free(tx) => Ok(JoinedConnection {
            slot: Arc::clone(slot),
            tx: Some(tx),
        }),
        Slot::Lent => Err(Error::Mapping {
            message: in_use_message("use it"),
        }),
        Slot::Finished => {
            *guard = Slot::Finished;
            Err(Error::TransactionFinished)
        }
    }
}

fn in_use_message(what: &str) -> String {
    format!(
        "cannot {what}: the test transaction's one connection is held by a session (from its \
         first statement until its commit, rollback or close) or by a JoinedConnection (until \
         it is dropped); end that session's transaction or drop the connection first"
    )
}

/// The slot's lock; a panic elsewhere while it was held leaves a slot that is still valid
/// (every write is a single assignment), so poisoning is ignored.
fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

impl JoinedConnection {
    fn tx(&self) -> &OwnedTransaction {
        self.tx
            .as_ref()
            .expect("a JoinedConnection holds its transaction until dropped")
    }

    fn tx_mut(&mut self) -> &mut OwnedTransaction {
        self.tx
            .as_mut()
            .expect("a JoinedConnection holds its transaction until dropped")
    }
}

impl std::fmt::Debug for JoinedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinedConnection")
            .field("tx", &self.tx)
            .finish()
    }
}

impl Deref for JoinedConnection {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.tx()
    }
}

impl DerefMut for JoinedConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        self.tx_mut()
    }
}

impl Borrow<Connection> for JoinedConnection {
    fn borrow(&self) -> &Connection {
        self.tx()
    }
}

impl BorrowMut<Connection> for JoinedConnection {
    fn borrow_mut(&mut self) -> &mut Connection {
        self.tx_mut()
    }
}

impl Drop for JoinedConnection {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            *lock(&self.slot) = Slot::Free(tx);
        }
    }
}
