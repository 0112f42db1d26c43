//! Pool and statement metrics (feature `metrics`: `cargo test -p oxalchemy --features metrics
//! --test metrics`): a recorder installed for this test binary sees checkouts, statements,
//! failed statements, timeouts and the pool's gauges, labelled with the pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use oxalchemy::{text, Database, Error};

/// Every metric's last value (gauges) or sum (counters, histogram counts), by name and labels.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<HashMap<String, f64>>>);

struct Handle(Seen, String);

impl CounterFn for Handle {
    fn increment(&self, value: u64) {
        *self
            .0
             .0
            .lock()
            .expect("lock")
            .entry(self.1.clone())
            .or_default() += value as f64;
    }
    fn absolute(&self, value: u64) {
        self.0
             .0
            .lock()
            .expect("lock")
            .insert(self.1.clone(), value as f64);
    }
}
impl GaugeFn for Handle {
    fn increment(&self, value: f64) {
        *self
            .0
             .0
            .lock()
            .expect("lock")
            .entry(self.1.clone())
            .or_default() += value;
    }
    fn decrement(&self, value: f64) {
        *self
            .0
             .0
            .lock()
            .expect("lock")
            .entry(self.1.clone())
            .or_default() -= value;
    }
    fn set(&self, value: f64) {
        self.0
             .0
            .lock()
            .expect("lock")
            .insert(self.1.clone(), value);
    }
}
impl HistogramFn for Handle {
    fn record(&self, _value: f64) {
        *self
            .0
             .0
            .lock()
            .expect("lock")
            .entry(self.1.clone())
            .or_default() += 1.0;
    }
}

fn key_text(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for Seen {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle(self.clone(), key_text(key))))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Handle(self.clone(), key_text(key))))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Handle(self.clone(), key_text(key))))
    }
}

impl Seen {
    fn get(&self, name: &str, extra: &str) -> f64 {
        let key = if extra.is_empty() {
            format!("{name}{{db_system=sqlite,pool=sqlite::memory:}}")
        } else {
            format!("{name}{{db_system=sqlite,pool=sqlite::memory:,{extra}}}")
        };
        let all = self.0.lock().expect("lock");
        all.get(&key)
            .copied()
            .unwrap_or_else(|| panic!("no {key} in {:?}", all.keys().collect::<Vec<_>>()))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn pool_and_statement_metrics_reach_the_recorder() {
    let seen = Seen::default();
    metrics::set_global_recorder(seen.clone()).expect("the only recorder of this binary");
    let db = Database::connect("sqlite::memory:")
        .pool_size(1)
        .max_overflow(0)
        .pool_timeout(Duration::from_millis(50))
        .await
        .expect("connect");
    let _: i64 = db.query_scalar(text("SELECT 1")).await.expect("select");
    let _ = db
        .execute(text("SELECT * FROM missing_table"))
        .await
        .expect_err("fails");
    let held = db.connection().await.expect("conn");
    assert_eq!(seen.get("oxalchemy_pool_connections", "state=in_use"), 1.0);
    assert_eq!(seen.get("oxalchemy_pool_connections", "state=idle"), 0.0);
    let err = db.ping().await.expect_err("exhausted");
    assert!(matches!(err, Error::PoolTimeout { .. }));
    drop(held);

    assert_eq!(seen.get("oxalchemy_statements_total", ""), 2.0);
    assert_eq!(seen.get("oxalchemy_statement_errors_total", ""), 1.0);
    assert_eq!(seen.get("oxalchemy_pool_timeouts_total", ""), 1.0);
    // The connect check, the two one-shot statements, and `held`.
    assert_eq!(seen.get("oxalchemy_pool_checkouts_total", ""), 4.0);
    assert_eq!(seen.get("oxalchemy_pool_wait_seconds", ""), 4.0);
    assert!(seen.get("oxalchemy_pool_waiting", "") >= 0.0);
}
