//! Health and pool control on every backend: `ping`, the extended `status()` (in use,
//! waiting, max, timeouts so far), the `on_connect` hook (once per new connection, its
//! failure refusing the connection), `min_idle`, `idle_timeout` and `max_lifetime`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oxalchemy::engine::ConnectOptions;
use oxalchemy::{text, Database, Error};

/// Options whose `on_connect` counts the connections it ran on and leaves a mark on each.
/// Which database a target is, for the SQL that marks a connection.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Postgres,
    Mysql,
    Sqlite,
}

fn kind(t: &common::Target) -> Kind {
    if t.is_postgres() {
        Kind::Postgres
    } else if t.is_mysql() {
        Kind::Mysql
    } else {
        Kind::Sqlite
    }
}

fn counted(url: &str, kind: Kind, opened: &Arc<AtomicUsize>) -> ConnectOptions {
    let opened = opened.clone();
    Database::connect(url).on_connect(move |conn| {
        let opened = opened.clone();
        Box::pin(async move {
            let mark = match kind {
                Kind::Postgres => "SET application_name = 'hooked'",
                Kind::Mysql => "SET @oxalchemy_hooked = 'hooked'",
                Kind::Sqlite => "PRAGMA cache_size = -1234",
            };
            conn.execute(text(mark)).await?;
            opened.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    })
}

async fn marked(db: &Database, kind: Kind) -> bool {
    if kind == Kind::Mysql {
        let name: Option<String> = db
            .query_scalar(text("SELECT @oxalchemy_hooked"))
            .await
            .expect("session variable");
        name.as_deref() == Some("hooked")
    } else if kind == Kind::Postgres {
        let name: String = db
            .query_scalar(text("SELECT current_setting('application_name')"))
            .await
            .expect("setting");
        name == "hooked"
    } else {
        let size: i64 = db
            .query_scalar(text("PRAGMA cache_size"))
            .await
            .expect("pragma");
        size == -1234
    }
}

#[tokio::test(flavor = "current_thread")]
async fn ping_status_and_timeouts() {
    for t in common::all_targets("pool_status").await {
        let db = Database::connect(&t.url)
            .pool_size(1)
            .max_overflow(0)
            .pool_timeout(Duration::from_millis(100))
            .await
            .expect("connect");
        db.ping().await.expect("ping");
        let held = db.connection().await.expect("conn");
        let s = db.status();
        assert_eq!(
            (s.open, s.in_use, s.idle, s.max),
            (1, 1, 0, 1),
            "[{}] {s:?}",
            t.label
        );
        assert_eq!(s.timeouts, 0);
        let err = db.ping().await.expect_err("pool exhausted");
        assert!(matches!(err, Error::PoolTimeout { .. }), "{err:?}");
        assert_eq!(db.status().timeouts, 1, "[{}]", t.label);
        drop(held);
        db.ping().await.expect("ping again");
        assert_eq!(db.status().in_use, 0);
        db.close();
        t.finish().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn on_connect_runs_once_per_new_connection_and_a_failure_refuses_it() {
    for t in common::all_targets("pool_on_connect").await {
        let opened = Arc::new(AtomicUsize::new(0));
        let db = counted(&t.url, kind(&t), &opened)
            .pool_size(2)
            .await
            .expect("connect");
        assert!(marked(&db, kind(&t)).await, "[{}]", t.label);
        let a = db.connection().await.expect("a");
        let b = db.connection().await.expect("b");
        drop((a, b));
        assert!(marked(&db, kind(&t)).await);
        assert_eq!(
            opened.load(Ordering::SeqCst),
            2,
            "[{}] two connections, two runs",
            t.label
        );
        db.close();

        let err = Database::connect(&t.url)
            .on_connect(|conn| {
                Box::pin(async move {
                    conn.execute(text("SELECT * FROM no_such_table_for_the_hook"))
                        .await?;
                    Ok(())
                })
            })
            .await
            .expect_err("hook fails");
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        assert!(err.to_string().contains("on_connect hook failed"), "{err}");
        t.finish().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn min_idle_idle_timeout_and_max_lifetime() {
    for t in common::all_targets("pool_upkeep").await {
        // min_idle: opened in the background.
        let db = Database::connect(&t.url)
            .pool_size(3)
            .min_idle(3)
            .await
            .expect("connect");
        let mut waited = Duration::ZERO;
        while db.status().idle < 3 && waited < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            waited += Duration::from_millis(20);
        }
        assert_eq!(db.status().idle, 3, "[{}] {:?}", t.label, db.status());
        db.close();

        // idle_timeout: idle connections beyond min_idle are closed.
        let db = Database::connect(&t.url)
            .pool_size(3)
            .min_idle(1)
            .idle_timeout(Duration::from_millis(100))
            .await
            .expect("connect");
        let held: Vec<_> = [
            db.connection().await.expect("1"),
            db.connection().await.expect("2"),
            db.connection().await.expect("3"),
        ]
        .into();
        drop(held);
        // Returned connections are idle at once, even while the upkeep task is opening a
        // min_idle connection of its own (it raced the slower MySQL handshake here, and its
        // checkout under way made one returned connection count as in use).
        assert_eq!(db.status().idle, 3, "[{}] {:?}", t.label, db.status());
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(db.status().open, 1, "[{}] {:?}", t.label, db.status());
        db.close();

        // max_lifetime: an old connection is replaced by a new one.
        let opened = Arc::new(AtomicUsize::new(0));
        let db = counted(&t.url, kind(&t), &opened)
            .pool_size(1)
            .max_lifetime(Duration::from_millis(150))
            .await
            .expect("connect");
        assert_eq!(opened.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        db.ping().await.expect("ping");
        assert!(opened.load(Ordering::SeqCst) >= 2, "[{}] replaced", t.label);
        db.close();
        t.finish().await;
    }
}
