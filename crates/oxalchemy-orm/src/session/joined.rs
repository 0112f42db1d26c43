//! Sessions that join a transaction someone else opened (SQLAlchemy's
//! `join_transaction_mode="create_savepoint"`): the session takes its connection from a
//! caller-given checkout instead of the pool, so its transaction is a SAVEPOINT inside the
//! caller's. Its `commit` releases that SAVEPOINT and its `rollback` rolls back to it, and the
//! caller's outer rollback still discards everything — the per-test rollback fixture.
//!
//! The session does not know how the connection is shared: the checkout closure decides
//! (`oxalchemy-testing`'s `TestTransaction` hands out its one connection to one user at a
//! time).

use std::borrow::{Borrow, BorrowMut};
use std::future::Future;
use std::sync::Arc;

use oxalchemy_engine::{Connection, Database, Error, TransactionGuard};

use super::Session;

/// The session's transaction: a guard over its own pooled connection, or over a connection
/// checked out of a joined transaction.
pub(super) type SessionTx = TransactionGuard<SessionConn>;

/// Where a joined session gets its connection from, once per transaction it opens.
pub(super) type Checkout = Arc<dyn Fn() -> Result<JoinedConn, Error> + Send + Sync>;

/// A connection held by a joined session's open transaction.
pub(super) type JoinedConn = Box<dyn BorrowMut<Connection> + Send>;

/// The connection a session's transaction runs on.
#[allow(
    clippy::large_enum_variant,
    reason = "Own is the usual variant; boxing it would cost an allocation per session"
)]
pub(super) enum SessionConn {
    /// A connection of the session's own, from the pool (the usual case).
    Own(Connection),
    /// A connection lent by the transaction the session joined; given back when the
    /// session's transaction ends (the holder's drop decides what that means).
    Joined(JoinedConn),
}

impl Borrow<Connection> for SessionConn {
    fn borrow(&self) -> &Connection {
        match self {
            SessionConn::Own(c) => c,
            SessionConn::Joined(c) => (**c).borrow(),
        }
    }
}

impl BorrowMut<Connection> for SessionConn {
    fn borrow_mut(&mut self) -> &mut Connection {
        match self {
            SessionConn::Own(c) => c,
            SessionConn::Joined(c) => (**c).borrow_mut(),
        }
    }
}

impl Session {
    /// A session that runs on a connection `checkout` lends it instead of one from `db`'s
    /// pool: the building block of the rollback test fixture (SQLAlchemy's
    /// `join_transaction_mode="create_savepoint"`).
    ///
    /// `checkout` is called at the session's first statement after each commit or rollback;
    /// the holder it returns is kept until that transaction ends, then dropped. When the
    /// lent connection is inside a transaction — the fixture's outer `BEGIN` — the session's
    /// transaction is a SAVEPOINT in it: [`Session::commit`] releases the SAVEPOINT,
    /// [`Session::rollback`] and dropping the session roll back to it, and
    /// [`Session::begin_nested`] nests further SAVEPOINTs, so the outer rollback discards
    /// everything the session did. On a connection outside any transaction the session's
    /// transactions are ordinary ones.
    ///
    /// `db` gives the dialect and the settings and must be the database the connection
    /// came from. Most tests use `oxalchemy_testing::TestTransaction`, which calls this.
    pub fn joined<C, F>(db: &Database, checkout: F) -> Session
    where
        F: Fn() -> Result<C, Error> + Send + Sync + 'static,
        C: BorrowMut<Connection> + Send + 'static,
    {
        let mut s = Session::new(db);
        s.checkout = Some(Arc::new(move || {
            checkout().map(|c| Box::new(c) as JoinedConn)
        }));
        s
    }

    /// Whether this session runs on a lent connection ([`Session::joined`]).
    pub fn is_joined(&self) -> bool {
        self.checkout.is_some()
    }

    /// Opens the session's transaction: on a pooled connection, or — joined — on the lent
    /// one, where it is a SAVEPOINT when the lender is inside a transaction.
    ///
    /// The future holds no borrow of the session: a `Session` is `Send` but not `Sync`, so a
    /// future holding `&Session` across an `.await` would not be `Send`.
    pub(super) fn open_transaction(
        &self,
    ) -> impl Future<Output = Result<SessionTx, Error>> + Send + 'static {
        let db = self.db.clone();
        let checkout = self.checkout.clone();
        // Boxed: a checkout may connect (TLS, authentication), whose futures nest deep, and
        // every session future that may open the transaction (each query, flush and
        // commit, and the caller's own futures around them) would otherwise carry that
        // depth into rustc's layout computation, which stops at 128 levels. One allocation
        // per transaction.
        Box::pin(async move {
            let conn = match checkout {
                None => SessionConn::Own(db.connection().await?),
                Some(checkout) => SessionConn::Joined(checkout()?),
            };
            TransactionGuard::begin_in(conn).await
        })
    }
}
