//! Session events (issue 12, item 7): `before_flush`, `after_flush` and `after_rollback`
//! listeners, sync and async, on one session and on every session of a `SessionMaker`, on
//! SQLite (memory and file), PostgreSQL and MariaDB: their order around the model hooks,
//! the statements and `after_commit`; a failing listener writing nothing (not even what it
//! wrote through the session) and the session committing after the fix; `after_rollback`
//! on rollback and not on commit; a flush dropped midway (a timeout) leaving the session
//! usable, with nothing written twice.

mod common;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use oxalchemy::core::text;
use oxalchemy::orm::{HookResult, Hooks, ObjectState, SessionMaker};
use oxalchemy::prelude::*;

thread_local! {
    /// What the model hooks saw, per test thread (`#[tokio::test]` runs on one thread).
    static MODEL_JOURNAL: RefCell<Option<Journal>> = const { RefCell::new(None) };
}

type Journal = Arc<Mutex<Vec<String>>>;

fn note(j: &Journal, event: impl Into<String>) {
    j.lock().unwrap().push(event.into());
}

fn take(j: &Journal) -> Vec<String> {
    std::mem::take(&mut *j.lock().unwrap())
}

/// A model with hooks that note themselves into the thread's journal.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "uow_ev_items", hooks)]
struct Item {
    #[column(primary_key)]
    id: i64,
    #[column(length = 40)]
    title: String,
}

impl Item {
    fn hook(&self, hook: &str) -> HookResult {
        MODEL_JOURNAL.with(|j| {
            if let Some(j) = j.borrow().as_ref() {
                note(j, format!("{hook} {}", self.title));
            }
        });
        Ok(())
    }
}

impl Hooks for Item {
    fn before_insert(&mut self) -> HookResult {
        self.hook("before_insert")
    }
    fn after_insert(&self) -> HookResult {
        self.hook("after_insert")
    }
    fn before_update(&mut self) -> HookResult {
        self.hook("before_update")
    }
    fn after_update(&self) -> HookResult {
        self.hook("after_update")
    }
}

/// Rows a `before_flush` listener adds: written by the same flush.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "uow_ev_audits")]
struct Audit {
    #[column(primary_key)]
    id: i64,
    #[column(length = 60)]
    note: String,
}

fn item(title: &str) -> Item {
    Item {
        title: title.to_owned(),
        ..Default::default()
    }
}

async fn setup(db: &Database) {
    db.create_all(&Registry::new().model::<Item>().model::<Audit>().metadata())
        .await
        .unwrap();
}

/// (items' titles, audits' notes), sorted, read by a fresh session.
async fn stored(db: &Database) -> (Vec<String>, Vec<String>) {
    let mut s = db.session();
    let items = s
        .query::<Item>()
        .order_by(Item::title.asc())
        .all()
        .await
        .unwrap();
    let audits = s
        .query::<Audit>()
        .order_by(Audit::note.asc())
        .all()
        .await
        .unwrap();
    let out = (
        items.iter().map(|&h| s[h].title.clone()).collect(),
        audits.iter().map(|&h| s[h].note.clone()).collect(),
    );
    s.close().await.unwrap();
    out
}

/// Gives a closure stored in a variable the higher-ranked signature an async listener
/// needs (a closure passed straight to `before_flush_async` gets it from the bound).
fn async_listener<F>(f: F) -> F
where
    F: for<'s> Fn(&'s mut Session) -> BoxFuture<'s, HookResult>,
{
    f
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused by the test")
    }
}

impl std::error::Error for Refused {}

#[tokio::test]
async fn session_listeners_run_in_order_around_model_hooks_and_statements() {
    let journal: Journal = Arc::default();
    MODEL_JOURNAL.with(|j| *j.borrow_mut() = Some(journal.clone()));
    for t in common::all_targets("uow_ev_order").await {
        let db = t.connect().await;
        setup(&db).await;
        let mut s = db.session();
        let j = journal.clone();
        // A sync before_flush that adds an object: the same flush writes it.
        s.events().before_flush(move |s| {
            note(&j, "before_flush");
            s.add(Audit {
                note: format!("flush of {} objects", s.len()),
                ..Default::default()
            });
            Ok(())
        });
        // An async after_flush that queries: it sees the rows just written and the keys.
        let j = journal.clone();
        s.events().after_flush_async(move |s| {
            let j = j.clone();
            Box::pin(async move {
                let audits = s.query::<Audit>().all().await?;
                let keyed = audits.iter().all(|&a| s[a].id > 0);
                note(
                    &j,
                    format!("after_flush {} audits keyed {keyed}", audits.len()),
                );
                Ok(())
            })
        });
        let a = s.add(item("a"));
        let j = journal.clone();
        s.after_commit(move || note(&j, "after_commit"));
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(
            take(&journal),
            [
                "before_flush",
                "before_insert a",
                "after_insert a",
                "after_flush 1 audits keyed true",
                "after_commit",
            ],
            "[{}]",
            t.label
        );
        assert_eq!(s.state(a), Some(ObjectState::Persistent));

        // An update: the same order; a flush with nothing to write runs no listener (the
        // autoflush of a query, here).
        s[a].title = "a changed".into();
        s.flush()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        s.query::<Item>().all().await.unwrap();
        s.flush().await.unwrap();
        assert_eq!(
            take(&journal),
            [
                "before_flush",
                "before_update a changed",
                "after_update a changed",
                "after_flush 2 audits keyed true",
            ],
            "[{}]",
            t.label
        );
        s.commit().await.unwrap();
        s.close().await.unwrap();
        assert_eq!(
            stored(&db).await,
            (
                vec!["a changed".to_owned()],
                vec![
                    "flush of 1 objects".to_owned(),
                    "flush of 2 objects".to_owned()
                ]
            ),
            "[{}]",
            t.label
        );
        t.finish().await;
    }
    MODEL_JOURNAL.with(|j| *j.borrow_mut() = None);
}

#[tokio::test]
async fn a_failing_listener_writes_nothing_and_the_session_commits_after_the_fix() {
    for t in common::all_targets("uow_ev_fail").await {
        let db = t.connect().await;
        setup(&db).await;
        for hook in ["before_flush", "after_flush"] {
            let fail = Arc::new(AtomicBool::new(true));
            let mut s = db.session();
            // Adds an audit object and writes a row with SQL of its own, then fails. Once it
            // succeeded it does nothing more (else each flush would add one more audit).
            let acted = Arc::new(AtomicBool::new(false));
            let listener = {
                let fail = fail.clone();
                async_listener(move |s| {
                    let (fail, acted) = (fail.clone(), acted.clone());
                    Box::pin(async move {
                        if acted.load(Ordering::SeqCst) {
                            return Ok(());
                        }
                        s.add(Audit {
                            note: format!("by {hook}"),
                            ..Default::default()
                        });
                        s.execute(text("INSERT INTO uow_ev_audits (note) VALUES ('raw sql')"))
                            .await?;
                        if fail.load(Ordering::SeqCst) {
                            return Err(Box::new(Refused) as _);
                        }
                        acted.store(true, Ordering::SeqCst);
                        Ok(())
                    })
                })
            };
            if hook == "before_flush" {
                s.events().before_flush_async(listener);
            } else {
                s.events().after_flush_async(listener);
            }
            let x = s.add(item("x"));
            let len = s.len();
            let err = s.commit().await.unwrap_err();
            match &err {
                Error::Hook {
                    model: "Session",
                    hook: h,
                    ..
                } => assert_eq!(*h, hook, "[{}]", t.label),
                other => panic!("[{}] {hook}: {other:?}", t.label),
            }
            let source = std::error::Error::source(&err).expect("the listener's error");
            assert!(source.downcast_ref::<Refused>().is_some(), "{source:?}");
            // The session is as before the flush: the listener's object is gone, the item
            // still pending.
            assert_eq!(s.len(), len, "[{}] {hook}", t.label);
            assert_eq!(s.state(x), Some(ObjectState::Pending), "[{}]", t.label);
            // Nothing written, read inside the session's still open transaction (another
            // session would wait for SQLite's write lock): the listener's SQL row is gone
            // with the flush's.
            s.set_autoflush(false);
            let counts = (
                s.query::<Item>().count().await.unwrap(),
                s.query::<Audit>().count().await.unwrap(),
            );
            s.set_autoflush(true);
            assert_eq!(counts, (0, 0), "[{}] {hook}: nothing written", t.label);
            // Fixed, the same session commits: the item, the listener's object and its SQL
            // row, each once.
            fail.store(false, Ordering::SeqCst);
            s.commit()
                .await
                .unwrap_or_else(|e| panic!("[{}] {hook}: {e}", t.label));
            assert_eq!(s.state(x), Some(ObjectState::Persistent));
            s.close().await.unwrap();
            // (after_flush: the listener's object is pending after the first flush; the
            // commit flushes again until nothing is left, as SQLAlchemy's does.)
            let (items, mut audits) = stored(&db).await;
            audits.sort();
            let mut expected = vec![format!("by {hook}"), "raw sql".to_owned()];
            expected.sort();
            assert_eq!(items, ["x"], "[{}] {hook}", t.label);
            assert_eq!(audits, expected, "[{}] {hook}", t.label);
            let mut s = db.session();
            s.execute(text("DELETE FROM uow_ev_audits")).await.unwrap();
            s.execute(text("DELETE FROM uow_ev_items")).await.unwrap();
            s.commit().await.unwrap();
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn flush_commit_and_rollback_from_a_flush_listener_are_errors() {
    for t in common::all_targets("uow_ev_nested").await {
        let db = t.connect().await;
        setup(&db).await;
        let ends = [
            "flush",
            "commit",
            "rollback",
            "begin_nested",
            "commit_nested",
            "rollback_nested",
        ];
        for what in ends {
            let mut s = db.session();
            // A nested transaction is open, so its end from the listener would otherwise run.
            s.begin_nested().await.unwrap();
            s.events().before_flush_async(move |s| {
                Box::pin(async move {
                    match what {
                        "flush" => s.flush().await?,
                        "commit" => s.commit().await?,
                        "rollback" => s.rollback().await?,
                        "begin_nested" => s.begin_nested().await?,
                        "commit_nested" => s.commit_nested().await?,
                        _ => s.rollback_nested().await?,
                    }
                    Ok(())
                })
            });
            let y = s.add(item("y"));
            let err = s.flush().await.unwrap_err();
            let source = std::error::Error::source(&err).expect("the listener's error");
            assert!(
                source.to_string().contains("while the session is flushing"),
                "[{}] {what}: {source}",
                t.label
            );
            assert_eq!(s.state(y), Some(ObjectState::Pending), "[{}]", t.label);
            s.close().await.unwrap();
            assert_eq!(stored(&db).await, (vec![], vec![]), "[{}]", t.label);
        }
        t.finish().await;
    }
}

/// Drops a flush after 1, 2, … `max_polls` polls, each time in a new session that then
/// commits or rolls back, on every target: every row is written exactly once, or the
/// commit is refused (a statement abandoned in flight has an unknown outcome) and nothing
/// of it is kept. With `audited`, a `before_flush` listener adds an `Audit` row each flush.
async fn drop_flushes_midway(name: &str, max_polls: usize, audited: bool) {
    for t in common::all_targets(name).await {
        let db = t.connect().await;
        setup(&db).await;
        let mut expected = (Vec::new(), Vec::new());
        for polls in 1..=max_polls {
            for then_rollback in [false, true] {
                let mut s = db.session();
                if audited {
                    s.events().before_flush(move |s| {
                        s.add(Audit {
                            note: format!("flush {polls} {then_rollback}"),
                            ..Default::default()
                        });
                        Ok(())
                    });
                }
                // A read first, so the transaction is open before the flush starts.
                let _ = s.query::<Item>().all().await.unwrap();
                s.add(item(&format!("{polls} {then_rollback} a")));
                s.add(item(&format!("{polls} {then_rollback} b")));
                let finished = common::poll_then_drop(s.flush(), polls).await;
                if let Some(result) = finished {
                    result.unwrap();
                }
                let label = format!("[{}] {polls} polls, rollback {then_rollback}", t.label);
                if then_rollback {
                    s.rollback()
                        .await
                        .unwrap_or_else(|e| panic!("{label}: {e}"));
                    s.close().await.unwrap();
                    assert_eq!(stored(&db).await, expected, "{label}");
                    continue;
                }
                match s.commit().await {
                    Ok(()) => {
                        expected.0.push(format!("{polls} false a"));
                        expected.0.push(format!("{polls} false b"));
                        if audited {
                            expected.1.push(format!("flush {polls} false"));
                        }
                        expected.0.sort();
                        expected.1.sort();
                    }
                    // The outcome of a statement abandoned in flight is unknown: the commit
                    // is refused (on MariaDB the client may find its connection broken
                    // instead); either way nothing of the transaction is kept.
                    Err(e) => assert!(
                        matches!(
                            e,
                            oxalchemy::Error::TransactionAbandoned
                                | oxalchemy::Error::ConnectionLost { .. }
                        ),
                        "{label}: {e}"
                    ),
                }
                s.close().await.unwrap();
                assert_eq!(stored(&db).await, expected, "{label}");
            }
        }
        t.finish().await;
    }
}

/// A flush with listeners whose future is dropped at each point in turn: the session is
/// not left "flushing" (which refused every later flush, commit and rollback as if called
/// from a listener), and what the next commit writes is each row once: the dropped
/// flush's SAVEPOINT and session state are undone first.
#[tokio::test]
async fn a_flush_dropped_midway_leaves_the_session_usable() {
    drop_flushes_midway("uow_ev_dropped", 8, true).await;
}

/// A plain flush (no flush listeners) whose future is dropped at each point in turn. On
/// MySQL a dropped statement leaves the client in the middle of its answer, and the
/// rollbacks a dropped flush starts from tasks must not read it as their own (which
/// shifted every later answer by one: an INSERT read a SAVEPOINT's "0 rows").
#[tokio::test]
async fn a_plain_flush_dropped_midway_writes_once_or_nothing() {
    drop_flushes_midway("uow_ev_plain_dropped", 12, false).await;
}

#[tokio::test]
async fn after_rollback_runs_on_rollback_and_not_on_commit() {
    for t in common::all_targets("uow_ev_rollback").await {
        let db = t.connect().await;
        setup(&db).await;
        // Registered on the maker: every session it opens has them.
        let rollbacks = Arc::new(AtomicUsize::new(0));
        let async_rollbacks = Arc::new(AtomicUsize::new(0));
        let mut maker = SessionMaker::new(&db);
        let n = rollbacks.clone();
        maker.events().after_rollback(move |s| {
            assert!(s.is_empty(), "after a rollback the session is empty");
            n.fetch_add(1, Ordering::SeqCst);
        });
        let n = async_rollbacks.clone();
        maker.events().after_rollback_async(move |_s| {
            let n = n.clone();
            Box::pin(async move {
                n.fetch_add(1, Ordering::SeqCst);
            })
        });
        let count = || {
            (
                rollbacks.load(Ordering::SeqCst),
                async_rollbacks.load(Ordering::SeqCst),
            )
        };

        let mut s = maker.session();
        s.add(item("kept"));
        s.commit().await.unwrap();
        assert_eq!(count(), (0, 0), "[{}] not on commit", t.label);

        s.add(item("dropped"));
        s.flush().await.unwrap();
        s.rollback().await.unwrap();
        assert_eq!(count(), (1, 1), "[{}] on rollback", t.label);
        // No transaction open: nothing rolled back, no event.
        s.rollback().await.unwrap();
        assert_eq!(count(), (1, 1), "[{}]", t.label);

        // A failed flush rolls back its SAVEPOINT only: the transaction goes on.
        s.add(Item {
            id: 1,
            title: "dup".into(),
        });
        s.add(Item {
            id: 1,
            title: "dup".into(),
        });
        assert!(s.flush().await.is_err());
        assert_eq!(count(), (1, 1), "[{}] not on a failed flush", t.label);
        s.close().await.unwrap();
        assert_eq!(count(), (1, 1), "[{}] close of an idle session", t.label);

        // session_scope with an error rolls back, and the maker's listener sees it.
        let r: Result<(), Error> = maker
            .session_scope(async |s: &mut Session| {
                s.add(item("scoped"));
                s.flush().await?;
                Err(Error::NotFound)
            })
            .await;
        assert!(r.is_err());
        assert_eq!(count(), (2, 2), "[{}] session_scope's rollback", t.label);
        assert_eq!(
            stored(&db).await.0,
            ["kept"],
            "[{}] only the committed item",
            t.label
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn after_rollback_runs_when_the_commit_fails() {
    // MariaDB checks foreign keys at each statement (no deferred constraints), so a COMMIT
    // that fails cannot be provoked there this way.
    for t in common::all_targets("uow_ev_commit_fails").await {
        if t.is_mysql() {
            t.finish().await;
            continue;
        }
        let db = t.connect().await;
        setup(&db).await;
        let mut s = db.session();
        s.execute(text(
            "CREATE TABLE uow_ev_children (id INTEGER PRIMARY KEY, parent_id INTEGER \
             REFERENCES uow_ev_items (id) DEFERRABLE INITIALLY DEFERRED)",
        ))
        .await
        .unwrap();
        s.commit().await.unwrap();

        let rollbacks = Arc::new(AtomicUsize::new(0));
        let n = rollbacks.clone();
        s.events().after_rollback(move |_| {
            n.fetch_add(1, Ordering::SeqCst);
        });
        // A dangling reference, checked only at COMMIT.
        s.execute(text(
            "INSERT INTO uow_ev_children (id, parent_id) VALUES (1, 999)",
        ))
        .await
        .unwrap();
        let err = s.commit().await.unwrap_err();
        assert_eq!(
            rollbacks.load(Ordering::SeqCst),
            1,
            "[{}] after the failed COMMIT: {err}",
            t.label
        );
        // The session goes on with a new transaction; nothing of the failed one is there.
        s.add(item("after"));
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(rollbacks.load(Ordering::SeqCst), 1, "[{}]", t.label);
        s.close().await.unwrap();
        assert_eq!(stored(&db).await.0, ["after"], "[{}]", t.label);
        t.finish().await;
    }
}
