//! Read replicas: [`Database::replica`] and [`Database::read_connection`] send plain reads to
//! a replica (PostgreSQL streaming standbys, each its own pool), writes stay on the primary.
//!
//! A background task probes every replica each `replica_check_interval`: a replica that
//! fails (its checkout or probe) is taken out and probed again after a backoff that doubles
//! per failure (up to 30 s); with `max_replica_staleness`, a replica whose replay lag
//! (`now() - pg_last_xact_replay_timestamp()` while WAL it received is not replayed yet) is
//! over the bound is skipped. Reads with no usable replica go to the primary. Picking a
//! replica is a few atomic loads (round robin), so routing costs nothing next to a query.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use oxalchemy_core::text;

use super::{Database, PoolStatus};
use crate::connection::Connection;
use crate::error::{Error, Result};

/// How replicas are checked and chosen; set through [`ConnectOptions`](super::ConnectOptions).
#[derive(Debug, Clone)]
pub(crate) struct ReplicaSettings {
    pub(crate) check_interval: Duration,
    pub(crate) max_staleness: Option<Duration>,
    pub(crate) retry_backoff: Duration,
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        ReplicaSettings {
            check_interval: Duration::from_secs(1),
            max_staleness: None,
            retry_backoff: Duration::from_millis(500),
        }
    }
}

/// The longest a failed replica waits before it is probed again.
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(30);

/// The primary's replicas and what is known about each.
pub(crate) struct ReplicaSet {
    replicas: Vec<Replica>,
    settings: ReplicaSettings,
    /// Round-robin position.
    next: AtomicUsize,
    /// Reads that found no usable replica and went to the primary.
    fallbacks: AtomicU64,
}

struct Replica {
    db: Database,
    health: Mutex<Health>,
    /// Reads routed here.
    reads: AtomicU64,
}

#[derive(Debug, Clone, Default)]
struct Health {
    /// Failures in a row; 0 when healthy.
    failures: u32,
    /// Taken out until then.
    down_until: Option<Instant>,
    /// Last measured replay lag (PostgreSQL), and whether it is over the bound.
    lag: Option<Duration>,
    stale: bool,
    last_error: Option<String>,
}

/// What is known about one replica: [`Database::replica_status`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReplicaStatus {
    /// The replica's URL, password hidden.
    pub url: String,
    /// Whether reads go to it now (not taken out, not too stale).
    pub usable: bool,
    /// Failed checkouts or probes in a row (0 when healthy).
    pub failures: u32,
    /// The replay lag last measured (PostgreSQL standbys), if any.
    pub lag: Option<Duration>,
    /// Whether the lag is over `max_replica_staleness`.
    pub stale: bool,
    /// The last failure's message, while it is taken out.
    pub last_error: Option<String>,
    /// Reads routed to it so far.
    pub reads: u64,
    /// Its pool's counters.
    pub pool: PoolStatus,
}

impl ReplicaSet {
    pub(crate) fn new(replicas: Vec<Database>, settings: ReplicaSettings) -> Arc<Self> {
        let set = Arc::new(ReplicaSet {
            replicas: replicas
                .into_iter()
                .map(|db| Replica {
                    db,
                    health: Mutex::new(Health::default()),
                    reads: AtomicU64::new(0),
                })
                .collect(),
            settings,
            next: AtomicUsize::new(0),
            fallbacks: AtomicU64::new(0),
        });
        spawn_prober(Arc::downgrade(&set));
        set
    }

    /// The next usable replica in round-robin order, if any.
    fn pick(&self, skip: &[usize]) -> Option<usize> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        (0..n).map(|k| (start + k) % n).find(|&i| {
            !skip.contains(&i) && self.replicas[i].usable(now, self.settings.max_staleness)
        })
    }

    /// Closes every replica's pool.
    pub(crate) fn close(&self) {
        for r in &self.replicas {
            r.db.close();
        }
    }

    fn failed(&self, i: usize, e: &Error) {
        self.replicas[i].failed(e, self.settings.retry_backoff);
    }
}

impl Replica {
    fn usable(&self, now: Instant, max_staleness: Option<Duration>) -> bool {
        let h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let up = h.down_until.is_none_or(|t| now >= t);
        up && !(max_staleness.is_some() && h.stale)
    }

    fn failed(&self, e: &Error, base: Duration) {
        let mut h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        h.failures = h.failures.saturating_add(1);
        let backoff = base
            .saturating_mul(1u32 << (h.failures - 1).min(16))
            .min(MAX_RETRY_BACKOFF);
        h.down_until = Some(Instant::now() + backoff);
        h.last_error = Some(e.to_string());
        tracing::warn!(
            target: "oxalchemy::pool",
            replica = %self.db.url(),
            failures = h.failures,
            retry_in_ms = backoff.as_millis() as u64,
            error = %e,
            "replica taken out; reads go to other replicas or the primary"
        );
    }

    fn healthy(&self, lag: Option<Duration>, max_staleness: Option<Duration>) {
        let mut h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if h.failures > 0 {
            tracing::info!(target: "oxalchemy::pool", replica = %self.db.url(), "replica back in use");
        }
        h.failures = 0;
        h.down_until = None;
        h.last_error = None;
        h.lag = lag;
        h.stale = matches!((lag, max_staleness), (Some(l), Some(max)) if l > max);
    }

    /// One probe: a round trip, and the replay lag on a PostgreSQL standby.
    async fn probe(&self) -> Result<Option<Duration>> {
        let mut conn = self.db.connection().await?;
        if self.db.dialect().name() != "postgresql" {
            conn.ping().await?;
            return Ok(None);
        }
        // Caught up (everything received is replayed) counts as no lag, even when the
        // last replayed transaction is old because the primary has been idle.
        let lag: Option<f64> = conn
            .query_scalar(text(
                "SELECT CASE WHEN NOT pg_is_in_recovery() \
                 OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8 \
                 ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END",
            ))
            .await?;
        Ok(lag.map(|s| Duration::from_secs_f64(s.max(0.0))))
    }
}

fn spawn_prober(set: Weak<ReplicaSet>) {
    tokio::spawn(async move {
        loop {
            let period = {
                let Some(set) = set.upgrade() else { return };
                for r in &set.replicas {
                    let due = {
                        let h = r.health.lock().unwrap_or_else(|e| e.into_inner());
                        h.down_until.is_none_or(|t| Instant::now() >= t)
                    };
                    if !due {
                        continue;
                    }
                    let limit = set.settings.check_interval.max(Duration::from_secs(1)) * 2;
                    match tokio::time::timeout(limit, r.probe()).await {
                        Ok(Ok(lag)) => r.healthy(lag, set.settings.max_staleness),
                        Ok(Err(e)) => r.failed(&e, set.settings.retry_backoff),
                        Err(_) => r.failed(
                            &Error::Connect {
                                url: r.db.url().to_owned(),
                                reason: format!(
                                    "the replica did not answer a probe within {limit:?}"
                                ),
                                source: None,
                            },
                            set.settings.retry_backoff,
                        ),
                    }
                }
                set.settings.check_interval
            };
            tokio::time::sleep(period).await;
        }
    });
}

/// Whether an error at checkout means the replica cannot serve reads now.
fn replica_down(e: &Error) -> bool {
    matches!(
        e,
        Error::Connect { .. } | Error::ConnectionLost { .. } | Error::PoolTimeout { .. }
    )
}

impl Database {
    /// Where plain reads can go: a usable replica (round robin among them), or this
    /// database (the primary) when it has none or none is usable (all taken out after
    /// failures, or over `max_replica_staleness`). The choice uses what the background
    /// probe and earlier checkouts found, so it costs no I/O:
    /// `query::<User>().all(&db.replica())`. Never write through it: a standby refuses
    /// writes. A replica that stopped a moment ago can still be chosen until it is found
    /// out; [`read_connection`](Self::read_connection) finds out at checkout and falls back.
    ///
    /// A replica may lag the primary: do not read through it what this request just wrote
    /// (use the primary, or `read_session`, which switches to the primary once it wrote).
    pub fn replica(&self) -> Database {
        match &self.replicas {
            Some(set) => match set.pick(&[]) {
                Some(i) => {
                    let r = &set.replicas[i];
                    r.reads.fetch_add(1, Ordering::Relaxed);
                    r.db.clone()
                }
                None => {
                    set.fallbacks.fetch_add(1, Ordering::Relaxed);
                    self.clone()
                }
            },
            None => self.clone(),
        }
    }

    /// A connection for reads: from a usable replica, trying the next one when a replica's
    /// checkout fails (it is taken out with backoff), and from the primary when none works.
    /// Errors only when the primary fails too. A replica's connection is pinged before it is
    /// handed out (one round trip), so that a replica that went away since its connection
    /// was pooled is found out here, where falling back is free; [`replica`](Self::replica)
    /// costs no round trip but does not fall back.
    pub async fn read_connection(&self) -> Result<Connection> {
        let Some(set) = &self.replicas else {
            return self.connection().await;
        };
        let mut tried = Vec::new();
        while let Some(i) = set.pick(&tried) {
            let r = &set.replicas[i];
            match r.db.connection().await {
                Ok(mut conn) => {
                    // A pooled connection to a replica that went away since it was last used
                    // fails its first request: find out now, while falling back is free.
                    match conn.ping().await {
                        Ok(()) => {
                            r.reads.fetch_add(1, Ordering::Relaxed);
                            return Ok(conn);
                        }
                        Err(e) if replica_down(&e) => set.failed(i, &e),
                        Err(e) => return Err(e),
                    }
                }
                Err(e) if replica_down(&e) => set.failed(i, &e),
                Err(e) => return Err(e),
            }
            tried.push(i);
        }
        set.fallbacks.fetch_add(1, Ordering::Relaxed);
        self.connection().await
    }

    /// Whether this database was given replicas.
    pub fn has_replicas(&self) -> bool {
        self.replicas.is_some()
    }

    /// Each replica's health, lag, reads routed and pool counters, in the order given.
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        let Some(set) = &self.replicas else {
            return Vec::new();
        };
        let now = Instant::now();
        set.replicas
            .iter()
            .map(|r| {
                let usable = r.usable(now, set.settings.max_staleness);
                let h = r.health.lock().unwrap_or_else(|e| e.into_inner()).clone();
                ReplicaStatus {
                    url: r.db.url().to_owned(),
                    usable,
                    failures: h.failures,
                    lag: h.lag,
                    stale: h.stale,
                    last_error: h.last_error,
                    reads: r.reads.load(Ordering::Relaxed),
                    pool: r.db.status(),
                }
            })
            .collect()
    }

    /// Reads that went to the primary because no replica was usable.
    pub fn replica_fallbacks(&self) -> u64 {
        self.replicas
            .as_ref()
            .map_or(0, |s| s.fallbacks.load(Ordering::Relaxed))
    }
}
