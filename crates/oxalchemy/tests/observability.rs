//! Observability on every backend: spans of a session flush (names, OpenTelemetry fields,
//! nesting, bind values only when asked), the transaction span's outcome, the slow-query
//! WARN, `echo(true)` printing to stderr when no subscriber is installed, and `explain()`.

mod blog;
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use blog::*;
use oxalchemy::prelude::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span or event as captured: name, parent span's name, fields as text.
#[derive(Debug, Clone, Default)]
struct Captured {
    name: String,
    parent: Option<String>,
    fields: HashMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<HashMap<u64, Captured>>>,
    events: Arc<Mutex<Vec<Captured>>>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut c = Captured {
            name: attrs.metadata().name().to_owned(),
            parent: ctx
                .span(id)
                .and_then(|s| s.parent())
                .map(|p| p.name().to_owned()),
            ..Default::default()
        };
        attrs.record(&mut Fields(&mut c.fields));
        self.spans.lock().expect("lock").insert(id.into_u64(), c);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(c) = self.spans.lock().expect("lock").get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut c.fields));
        }
    }
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut c = Captured {
            name: event.metadata().target().to_owned(),
            ..Default::default()
        };
        event.record(&mut Fields(&mut c.fields));
        self.events.lock().expect("lock").push(c);
    }
}

impl Capture {
    fn spans(&self) -> Vec<Captured> {
        self.spans.lock().expect("lock").values().cloned().collect()
    }
    fn everything(&self) -> String {
        format!("{:?} {:?}", self.spans(), self.events.lock().expect("lock"))
    }
}

const SECRET: &str = "very-secret-username-7731";

#[tokio::test(flavor = "current_thread")]
async fn a_session_flush_leaves_named_spans_without_bind_values() {
    for t in common::all_targets("obs_flush").await {
        for show in [false, true] {
            let db = Database::connect(&t.url)
                .trace_parameters(show)
                .slow_query_threshold(std::time::Duration::ZERO)
                .await
                .expect("connect");
            db.create_all(&registry().metadata()).await.expect("create");
            let capture = Capture::default();
            let subscriber = tracing_subscriber::registry().with(capture.clone());
            let guard = tracing::subscriber::set_default(subscriber);
            let name = format!("{SECRET}-{show}");
            db.session_scope(async |s| {
                s.add(User {
                    username: name.clone(),
                    email: format!("{name}@example.com"),
                    ..Default::default()
                });
                s.flush().await
            })
            .await
            .expect("flush");
            drop(guard);

            let spans = capture.spans();
            let label = t.label;
            assert!(
                spans.iter().any(|s| s.name == "oxalchemy.flush"),
                "[{label}] {spans:?}"
            );
            let insert = spans
                .iter()
                .find(|s| {
                    s.name == "oxalchemy.statement"
                        && s.fields.get("db.operation").map(String::as_str) == Some("INSERT")
                })
                .unwrap_or_else(|| panic!("[{label}] no INSERT span: {spans:?}"));
            assert_eq!(
                insert.parent.as_deref(),
                Some("oxalchemy.flush"),
                "[{label}]"
            );
            let system = if t.is_postgres() {
                "postgresql"
            } else if t.is_mysql() {
                "mariadb"
            } else {
                "sqlite"
            };
            assert_eq!(insert.fields["db.system"], system, "[{label}]");
            assert_eq!(insert.fields["db.sql.table"], "users", "[{label}]");
            assert_eq!(insert.fields["otel.name"], "INSERT users", "[{label}]");
            assert!(
                insert.fields["db.statement"].contains("INSERT INTO"),
                "[{label}]"
            );
            assert_eq!(
                insert.fields.get("db.rows").map(String::as_str),
                Some("1"),
                "[{label}] {insert:?}"
            );
            assert!(insert.fields.contains_key("db.duration_us"), "[{label}]");
            let tx = spans
                .iter()
                .find(|s| s.name == "oxalchemy.transaction")
                .unwrap_or_else(|| panic!("[{label}] no transaction span: {spans:?}"));
            assert_eq!(tx.fields.get("outcome").map(String::as_str), Some("commit"));
            // The slow-query WARN (threshold zero: every statement) names its duration.
            let slow = capture.events.lock().expect("lock").clone();
            assert!(
                slow.iter()
                    .any(|e| e.name == "oxalchemy::sql::slow"
                        && e.fields.contains_key("duration_ms")),
                "[{label}] {slow:?}"
            );
            // Bind values only when asked.
            let everything = capture.everything();
            assert_eq!(everything.contains(&name), show, "[{label}] show={show}");
            if show {
                assert!(insert.fields["db.params"].contains(&name), "[{label}]");
            }
            db.close();
        }
        t.finish().await;
    }
    explain_returns_the_plan().await;
}

/// Runs after the flush checks, in the same test: tracing's callsite cache is shared by the
/// process, and a test emitting spans on another thread while one installs a scoped
/// subscriber can leave that subscriber's callsites disabled.
async fn explain_returns_the_plan() {
    for t in common::all_targets("obs_explain").await {
        let db = t.connect().await;
        db.create_all(&registry().metadata()).await.expect("create");
        let plan = db
            .explain(
                select([User::id.expr()])
                    .from(table("users"))
                    .filter(User::username.eq("x")),
            )
            .await
            .unwrap_or_else(|e| panic!("[{}] explain: {e}", t.label));
        if t.is_mysql() {
            // MariaDB plans a lookup on an empty unique index as "Impossible WHERE", naming
            // no table: the JSON plan itself is what is checked.
            assert!(plan.contains("\"query_block\""), "{plan}");
        } else {
            assert!(plan.contains("users"), "[{}] {plan}", t.label);
        }
        if t.is_postgres() {
            assert!(plan.contains("Scan"), "{plan}");
        } else if !t.is_mysql() {
            assert!(plan.contains("SCAN") || plan.contains("SEARCH"), "{plan}");
        }
        db.close();
        t.finish().await;
    }
}

/// Runs in a child process (so its stderr can be read): `echo(true)`, no subscriber.
#[tokio::test(flavor = "current_thread")]
async fn echo_child() {
    if std::env::var("OXALCHEMY_ECHO_CHILD").as_deref() != Ok("1") {
        return;
    }
    let db = Database::connect("sqlite::memory:")
        .echo(true)
        .await
        .expect("connect");
    let _: i64 = db
        .query_scalar(text("SELECT 40 + :n").bind("n", 2i64))
        .await
        .expect("query");
}

#[test]
fn echo_without_a_subscriber_prints_to_stderr() {
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args(["--exact", "echo_child", "--nocapture", "--test-threads=1"])
        .env("OXALCHEMY_ECHO_CHILD", "1")
        .output()
        .expect("child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("oxalchemy.sql: SELECT 40 + ?"), "{stderr}");
    assert!(stderr.contains("[parameters] [I64(2)]"), "{stderr}");
}
