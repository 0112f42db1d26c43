//! What the soak tests share (PostgreSQL on its own cluster, SQLite on a file): the row
//! expectations, a replayable random generator, and the timed step helpers.
#![allow(
    dead_code,
    reason = "each soak binary uses a different part of this module"
)]

use std::future::Future;
use std::time::Duration;

use oxalchemy::{text, Error};

/// What a soak step's row must be at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Its commit (or autocommitted INSERT) returned `Ok`.
    Present,
    /// It was never committed (rolled back or dropped before COMMIT was sent).
    Absent,
    /// Its COMMIT or INSERT was cut off or failed: either outcome is allowed.
    Unknown,
}

/// A small deterministic generator (xorshift), so a failing soak run can be replayed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The INSERT of one soak row.
pub(crate) fn insert(id: i64) -> oxalchemy::core::Statement {
    text("INSERT INTO soak (id) VALUES (:id)")
        .bind("id", id)
        .into()
}

/// Runs `f` for at most `limit`; `None` when the limit cut it off.
pub(crate) async fn timed(
    limit: Duration,
    f: impl Future<Output = Result<(), Error>>,
) -> Option<Result<(), Error>> {
    tokio::time::timeout(limit, f).await.ok()
}

/// A row's expectation from how its commit (or autocommitted INSERT) ended: `None` when it
/// was cut off.
pub(crate) fn outcome(r: Option<Result<(), Error>>) -> Expect {
    match r {
        Some(Ok(())) => Expect::Present,
        _ => Expect::Unknown,
    }
}
