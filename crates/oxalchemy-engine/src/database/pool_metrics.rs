//! Pool and statement metrics through the `metrics` facade (feature `metrics`), for whatever
//! exporter the application installed (Prometheus, StatsD …). Every metric carries the
//! labels `pool` (the URL, password hidden) and `db_system`.
//!
//! | metric | kind | what |
//! | --- | --- | --- |
//! | `oxalchemy_pool_connections{state="idle"\|"in_use"}` | gauge | sampled at each checkout and by the upkeep task |
//! | `oxalchemy_pool_waiting` | gauge | tasks waiting for a connection (same sampling) |
//! | `oxalchemy_pool_checkouts_total` | counter | connections handed out |
//! | `oxalchemy_pool_timeouts_total` | counter | checkouts that gave up after `pool_timeout` |
//! | `oxalchemy_pool_wait_seconds` | histogram | how long checkouts waited |
//! | `oxalchemy_statements_total` | counter | statements run |
//! | `oxalchemy_statement_errors_total` | counter | statements that failed |

use std::time::Duration;

use super::pool::Shared;

fn labels(shared: &Shared) -> [(&'static str, String); 2] {
    [
        ("pool", shared.url.clone()),
        (
            "db_system",
            crate::connection::db_system(shared.dialect.name()).to_owned(),
        ),
    ]
}

/// A checkout succeeded after `wait`.
pub(crate) fn checkout(shared: &Shared, wait: Duration, status: deadpool::Status) {
    let l = labels(shared);
    metrics::counter!("oxalchemy_pool_checkouts_total", &l).increment(1);
    metrics::histogram!("oxalchemy_pool_wait_seconds", &l).record(wait.as_secs_f64());
    sample(shared, status);
}

/// A checkout gave up after `pool_timeout`.
pub(crate) fn timeout(shared: &Shared, status: deadpool::Status) {
    metrics::counter!("oxalchemy_pool_timeouts_total", &labels(shared)).increment(1);
    sample(shared, status);
}

/// The pool's gauges, now.
pub(crate) fn sample(shared: &Shared, status: deadpool::Status) {
    let [pool, system] = labels(shared);
    let in_use = status.size.saturating_sub(status.available);
    for (state, n) in [("idle", status.available), ("in_use", in_use)] {
        metrics::gauge!(
            "oxalchemy_pool_connections",
            "state" => state,
            pool.0 => pool.1.clone(),
            system.0 => system.1.clone()
        )
        .set(n as f64);
    }
    metrics::gauge!("oxalchemy_pool_waiting", &[pool, system]).set(status.waiting as f64);
}

/// A statement finished.
pub(crate) fn statement(shared: &Shared, ok: bool) {
    let l = labels(shared);
    metrics::counter!("oxalchemy_statements_total", &l).increment(1);
    if !ok {
        metrics::counter!("oxalchemy_statement_errors_total", &l).increment(1);
    }
}
