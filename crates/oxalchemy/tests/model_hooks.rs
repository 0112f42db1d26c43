//! Model hooks (issue 12) on SQLite (memory and file), PostgreSQL and MariaDB: before and
//! after insert, update and delete run in order around the SQL, a before hook can change the
//! object, and a failing hook writes nothing (the same session commits after the fix).

mod common;

use std::sync::{Arc, Mutex};

use oxalchemy::orm::{HookResult, Hooks, ObjectState};
use oxalchemy::prelude::*;

/// `t`'s database with the tables of `md` created.
async fn with_tables(t: &common::Target, md: &MetaData) -> Database {
    let db = t.connect().await;
    db.create_all(md)
        .await
        .unwrap_or_else(|e| panic!("[{}] create_all: {e}", t.label));
    db
}

/// Records the hooks it sees, by object name.
type Journal = Arc<Mutex<Vec<String>>>;

static JOURNAL: Mutex<Option<Journal>> = Mutex::new(None);

fn note(event: String) {
    if let Some(j) = JOURNAL.lock().unwrap().as_ref() {
        j.lock().unwrap().push(event);
    }
}

/// A model with every hook: `before_insert` derives `slug`, a title of "fail <hook>" makes
/// that hook fail.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "cyc_hooked", hooks)]
struct Hooked {
    #[column(primary_key)]
    id: i64,
    #[column(length = 40)]
    title: String,
    #[column(length = 40)]
    slug: String,
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused by the test")
    }
}

impl std::error::Error for Refused {}

impl Hooked {
    fn hook(&self, hook: &str) -> HookResult {
        note(format!("{hook} {}", self.title));
        if self.title == format!("fail {hook}") {
            return Err(Box::new(Refused));
        }
        Ok(())
    }
}

impl Hooks for Hooked {
    fn before_insert(&mut self) -> HookResult {
        self.slug = self.title.replace(' ', "-");
        self.hook("before_insert")
    }
    fn after_insert(&self) -> HookResult {
        assert!(self.id > 0, "after_insert sees the generated key");
        self.hook("after_insert")
    }
    fn before_update(&mut self) -> HookResult {
        self.slug = self.title.replace(' ', "-");
        self.hook("before_update")
    }
    fn after_update(&self) -> HookResult {
        self.hook("after_update")
    }
    fn before_delete(&self) -> HookResult {
        self.hook("before_delete")
    }
    fn after_delete(&self) -> HookResult {
        self.hook("after_delete")
    }
}

fn hooked(title: &str) -> Hooked {
    Hooked {
        title: title.to_owned(),
        ..Default::default()
    }
}

async fn hooked_rows(db: &Database) -> Vec<(String, String)> {
    let mut s = db.session();
    let all = s
        .query::<Hooked>()
        .order_by(Hooked::title.asc())
        .all()
        .await
        .unwrap();
    let rows = all
        .iter()
        .map(|&h| (s[h].title.clone(), s[h].slug.clone()))
        .collect();
    s.close().await.unwrap();
    rows
}

#[tokio::test]
async fn hooks_run_in_order_and_a_failing_hook_writes_nothing() {
    let journal: Journal = Arc::default();
    *JOURNAL.lock().unwrap() = Some(journal.clone());
    let take = || std::mem::take(&mut *journal.lock().unwrap());
    for t in common::all_targets("cyc_hooks").await {
        let db = with_tables(&t, &Registry::new().model::<Hooked>().metadata()).await;
        take();

        // Inserts: every before_insert at planning, in the order added, then every
        // after_insert once the statements ran.
        let mut s = db.session();
        let a = s.add(hooked("a one"));
        let b = s.add(hooked("b two"));
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(
            take(),
            [
                "before_insert a one",
                "before_insert b two",
                "after_insert a one",
                "after_insert b two"
            ],
            "[{}]",
            t.label
        );
        assert_eq!(s[a].slug, "a-one", "the hook's change reaches the session");

        // Update, delete and insert in one flush: before hooks in session order, after
        // hooks inserts → updates → deletes.
        s[a].title = "a changed".into();
        s.delete(b);
        let c = s.add(hooked("c three"));
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(
            take(),
            [
                "before_update a changed",
                "before_delete b two",
                "before_insert c three",
                "after_insert c three",
                "after_update a changed",
                "after_delete b two",
            ],
            "[{}]",
            t.label
        );
        assert_eq!(s.state(c), Some(ObjectState::Persistent));
        s.close().await.unwrap();
        assert_eq!(
            hooked_rows(&db).await,
            [
                ("a changed".to_owned(), "a-changed".to_owned()),
                ("c three".to_owned(), "c-three".to_owned())
            ],
            "[{}]",
            t.label
        );

        // A failing hook, before or after the statements: nothing written, the session as
        // it was, the error naming the model and hook with the hook's error as source.
        for hook in ["before_insert", "after_insert"] {
            let mut s = db.session();
            let ok = s.add(hooked("d ok"));
            let bad = s.add(hooked(&format!("fail {hook}")));
            let err = s.commit().await.unwrap_err();
            match &err {
                Error::Hook {
                    model: "Hooked",
                    hook: h,
                    ..
                } => assert_eq!(*h, hook),
                other => panic!("[{}] {other:?}", t.label),
            }
            assert!(err.to_string().contains("Hooked"), "{err}");
            let source = std::error::Error::source(&err).expect("the hook's error");
            assert!(source.downcast_ref::<Refused>().is_some(), "{source:?}");
            assert_eq!(s.state(ok), Some(ObjectState::Pending), "[{}]", t.label);
            assert_eq!(s.state(bad), Some(ObjectState::Pending));
            assert_eq!(s[ok].slug, "", "the held object is untouched");
            // Fixed, the same session commits; had the failed flush written anything, "d ok"
            // would now be there twice.
            s[bad].title = "e fixed".into();
            s.commit()
                .await
                .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
            assert_eq!(s[bad].slug, "e-fixed");
            assert_eq!(
                hooked_rows(&db).await,
                [
                    ("a changed".to_owned(), "a-changed".to_owned()),
                    ("c three".to_owned(), "c-three".to_owned()),
                    ("d ok".to_owned(), "d-ok".to_owned()),
                    ("e fixed".to_owned(), "e-fixed".to_owned()),
                ],
                "[{}] {hook}",
                t.label
            );
            for h in [ok, bad] {
                s.delete(h);
            }
            s.commit().await.unwrap();
            s.close().await.unwrap();
        }
        // Work queued for after the commit runs once it succeeded, not on a failed one.
        let mut s = db.session();
        s.add(hooked("fail before_insert"));
        s.after_commit(|| note("after_commit".into()));
        assert!(s.commit().await.is_err());
        assert!(
            !take().contains(&"after_commit".to_owned()),
            "[{}]",
            t.label
        );
        s.rollback().await.unwrap();
        s.add(hooked("f queued"));
        s.after_commit(|| note("after_commit".into()));
        s.commit().await.unwrap();
        assert_eq!(
            take(),
            [
                "before_insert f queued",
                "after_insert f queued",
                "after_commit"
            ],
            "[{}]",
            t.label
        );
        s.close().await.unwrap();

        // A failing update or delete hook keeps the row as it was.
        let mut s = db.session();
        let held = s
            .query::<Hooked>()
            .order_by(Hooked::title.asc())
            .all()
            .await
            .unwrap();
        s[held[0]].title = "fail before_update".into();
        assert!(matches!(
            s.flush().await,
            Err(Error::Hook {
                hook: "before_update",
                ..
            })
        ));
        s[held[0]].title = "fail after_update".into();
        assert!(matches!(
            s.flush().await,
            Err(Error::Hook {
                hook: "after_update",
                ..
            })
        ));
        s.rollback().await.unwrap();
        s.close().await.unwrap();
        assert_eq!(hooked_rows(&db).await[0].0, "a changed", "[{}]", t.label);
        take();
        t.finish().await;
    }
    *JOURNAL.lock().unwrap() = None;
}
