//! Background upkeep of the pool, like SQLAlchemy's `pool_recycle` and HikariCP's
//! `minimumIdle` / `idleTimeout` / `maxLifetime`: a task per pool, holding only a weak
//! reference (it ends with the last `Database` clone, or when the pool is closed), that
//! closes idle connections idle longer than `idle_timeout` (keeping `min_idle`), closes idle
//! connections past their lifetime, and opens connections until `min_idle` are idle.
//!
//! A connection's lifetime is `max_lifetime` minus a jitter of up to a tenth of it, fixed per
//! connection (a hash of its creation instant), so connections opened together are not all
//! replaced at the same moment.

use std::hash::BuildHasher;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use deadpool::managed::{Pool, PoolError, TimeoutType, Timeouts};

use super::pool::Manager;

/// How long a connection may live: `max_lifetime` less its own jitter.
#[derive(Clone, Debug)]
pub(crate) struct Lifetime {
    max: Duration,
    seed: std::collections::hash_map::RandomState,
}

impl Lifetime {
    pub(crate) fn new(max: Duration) -> Self {
        Lifetime {
            max,
            seed: Default::default(),
        }
    }

    /// Whether a connection created at `created` has outlived its (jittered) lifetime.
    pub(crate) fn expired(&self, created: Instant) -> bool {
        let tenth = self.max.as_nanos() / 10;
        let jitter = match u64::try_from(tenth) {
            Ok(0) | Err(_) => 0,
            Ok(t) => self.seed.hash_one(created) % t,
        };
        created.elapsed() + Duration::from_nanos(jitter) >= self.max
    }
}

/// What the task keeps up.
pub(crate) struct Upkeep {
    pub(crate) min_idle: usize,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) lifetime: Option<Lifetime>,
    /// Its checkouts under way or held, for the pool's status (`Shared::upkeep_checkouts`).
    pub(crate) checkouts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// For sampling the pool's gauges every second.
    #[cfg(feature = "metrics")]
    pub(crate) shared: std::sync::Arc<super::Shared>,
}

impl Upkeep {
    fn period(&self) -> Option<Duration> {
        let mut period: Option<Duration> = None;
        let mut consider = |d: Duration| {
            period = Some(period.map_or(d, |p| p.min(d)));
        };
        if let Some(t) = self.idle_timeout {
            consider(t / 2);
        }
        if let Some(l) = &self.lifetime {
            consider(l.max / 20);
        }
        if self.min_idle > 0 || cfg!(feature = "metrics") {
            consider(Duration::from_secs(1));
        }
        period.map(|p| p.clamp(Duration::from_millis(10), Duration::from_secs(30)))
    }
}

/// Starts the upkeep task of `pool`, if there is anything to keep up.
pub(crate) fn spawn(pool: &Pool<Manager>, upkeep: Upkeep) {
    let Some(period) = upkeep.period() else {
        return;
    };
    let weak = pool.weak();
    tokio::spawn(async move {
        loop {
            {
                let Some(pool) = weak.upgrade() else { return };
                if pool.is_closed() {
                    return;
                }
                tick(&pool, &upkeep).await;
            }
            tokio::time::sleep(period).await;
        }
    });
}

async fn tick(pool: &Pool<Manager>, upkeep: &Upkeep) {
    #[cfg(feature = "metrics")]
    super::pool_metrics::sample(&upkeep.shared, pool.status());
    let mut idle = pool.status().available;
    let retired = pool.retain(|_, metrics| {
        let expired = upkeep
            .lifetime
            .as_ref()
            .is_some_and(|l| l.expired(metrics.created));
        let stale = upkeep
            .idle_timeout
            .is_some_and(|t| metrics.last_used() >= t && idle > upkeep.min_idle);
        if expired || stale {
            idle = idle.saturating_sub(1);
            return false;
        }
        true
    });
    if !retired.removed.is_empty() {
        tracing::debug!(
            target: "oxalchemy::pool",
            closed = retired.removed.len(),
            "idle connections past idle_timeout or max_lifetime closed"
        );
    }
    // Top up to min_idle, within the pool's size: hold min_idle connections at once (the
    // idle ones first, then new ones) and give them back.
    let status = pool.status();
    if status.available >= upkeep.min_idle {
        return;
    }
    let in_use = status.size.saturating_sub(status.available);
    let missing = upkeep.min_idle.min(status.max_size.saturating_sub(in_use));
    // Never wait for a slot: a connection still being opened holds one without counting in
    // `size` yet, so the pool can be full when it looks short. A waiting upkeep would take
    // the next returned connection ahead of the application; the next tick tries again.
    let no_wait = Timeouts {
        wait: Some(Duration::ZERO),
        ..pool.timeouts()
    };
    // Counted before each checkout starts (deadpool counts it as a user from then on) and
    // uncounted when it fails or, for those that succeeded, once they are back in the pool.
    let mut opened = Vec::with_capacity(missing);
    for _ in 0..missing {
        upkeep.checkouts.fetch_add(1, Ordering::SeqCst);
        match pool.timeout_get(&no_wait).await {
            Ok(obj) => opened.push(obj),
            Err(PoolError::Timeout(TimeoutType::Wait)) => {
                upkeep.checkouts.fetch_sub(1, Ordering::SeqCst);
                break;
            }
            Err(e) => {
                upkeep.checkouts.fetch_sub(1, Ordering::SeqCst);
                tracing::debug!(target: "oxalchemy::pool", error = %e, "opening a min_idle connection failed");
                break;
            }
        }
    }
    let held = opened.len();
    drop(opened);
    upkeep.checkouts.fetch_sub(held, Ordering::SeqCst);
}
