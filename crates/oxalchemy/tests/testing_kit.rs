//! The testing kit (`oxalchemy::testing`) on SQLite (memory and file) and PostgreSQL: the
//! rollback fixture discards everything code under test did — commits, rollbacks, nested
//! SAVEPOINTs and `session_scope` included — as seen from a second connection afterwards.
//!
//! (`oxalchemy_testing` is `oxalchemy::testing` with the facade's `testing` feature.)
//!
//! `assert_queries!` fails a relationship loaded one object at a time (listing the SQL) and
//! passes the same load done with `selectinload`.
//!
//! On SQLite memory, `sqlite::memory:` is a named shared-cache database per `Database`, so
//! the second connection that counts rows sees the same database as the fixture's.

mod blog;
mod common;

use blog::*;
use futures_util::FutureExt;
use oxalchemy::orm::{selectinload, Session};
use oxalchemy::prelude::*;
use oxalchemy_testing::{assert_queries, TestTransaction};

fn new_user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

/// The code under test: it commits, rolls back, nests SAVEPOINTs and uses `session_scope`,
/// and knows nothing of the fixture (it takes any session source).
async fn code_under_test(sessions: &impl SessionExt) -> Result<(), Error> {
    let mut s = sessions.session();
    s.add(new_user("committed"));
    s.commit().await?;

    s.add(new_user("rolled_back"));
    s.flush().await?;
    s.rollback().await?;

    s.add(new_user("before_nested"));
    s.begin_nested().await?;
    s.add(new_user("nested_rolled_back"));
    s.rollback_nested().await?;
    s.begin_nested().await?;
    s.add(new_user("nested_kept"));
    s.commit_nested().await?;
    s.commit().await?;
    s.close().await?;

    sessions
        .session_scope(async |s| {
            s.add(new_user("scoped"));
            Ok::<_, Error>(())
        })
        .await?;
    let failed: Result<(), Error> = sessions
        .session_scope(async |s| {
            s.add(new_user("scope_failed"));
            s.flush().await?;
            Err(Error::NotFound)
        })
        .await;
    assert!(matches!(failed, Err(Error::NotFound)), "{failed:?}");
    Ok(())
}

/// What the code under test keeps when its commits are real.
const KEPT: [&str; 4] = ["before_nested", "committed", "nested_kept", "scoped"];

/// Users as a connection of its own sees them (committed rows only).
async fn committed_users(db: &Database) -> i64 {
    let mut conn = db.connection().await.unwrap();
    conn.query_scalar::<i64>(text("SELECT count(*) FROM users"))
        .await
        .unwrap()
}

async fn usernames(s: &mut Session) -> Vec<String> {
    let hs = s
        .query::<User>()
        .order_by(User::username.asc())
        .all()
        .await
        .unwrap();
    hs.into_iter().map(|h| s[h].username.clone()).collect()
}

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&registry().metadata()).await.unwrap();
    db.session_scope(async |s| {
        s.add(new_user("preexisting"));
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
    db
}

#[tokio::test]
async fn rollback_fixture_discards_commits_rollbacks_savepoints_and_scopes() {
    for t in common::all_targets("kit_rollback_fixture").await {
        let db = setup(&t).await;

        // The fixture: connection, BEGIN, sessions joined to it.
        let outer = TestTransaction::begin(&db).await.unwrap();
        code_under_test(&outer).await.unwrap();
        // Inside the test, the code's commits are visible …
        let mut s = outer.session();
        let mut expected: Vec<String> = KEPT.iter().map(|n| n.to_string()).collect();
        expected.push("preexisting".into());
        expected.sort();
        assert_eq!(usernames(&mut s).await, expected, "[{}]", t.label);
        assert!(
            s.statements().iter().all(|sql| sql != "COMMIT"),
            "[{}] a joined session never commits: {:?}",
            t.label,
            s.statements()
        );
        s.close().await.unwrap();
        // … and the fixture's rollback discards all of them.
        outer.rollback().await.unwrap();
        assert_eq!(committed_users(&db).await, 1, "[{}]", t.label);

        // The same code without the fixture keeps its commits: the test above could fail.
        code_under_test(&db).await.unwrap();
        assert_eq!(
            committed_users(&db).await,
            1 + KEPT.len() as i64,
            "[{}]",
            t.label
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn joined_connection_transactions_are_savepoints_and_one_user_holds_it() {
    for t in common::all_targets("kit_joined_connection").await {
        let db = setup(&t).await;
        let outer = TestTransaction::begin(&db).await.unwrap();

        // Code under test that takes a Connection and commits its own transaction.
        {
            let mut conn = outer.connection().unwrap();
            assert!(conn.in_transaction(), "[{}]", t.label);
            let tx = conn.begin().await.unwrap();
            assert!(tx.is_savepoint());
            tx.commit().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            oxalchemy::orm::insert(&mut *tx, &mut new_user("raw"))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }

        // While a session's transaction holds the one connection, nobody else gets it.
        let mut s = outer.session();
        assert_eq!(s.query::<User>().count().await.unwrap(), 2, "[{}]", t.label);
        let err = outer.connection().unwrap_err();
        assert!(err.to_string().contains("held by a session"), "{err}");
        let mut other = outer.session();
        let err = other.query::<User>().count().await.unwrap_err();
        assert!(err.to_string().contains("held by a session"), "{err}");
        let err = outer.rollback().await.unwrap_err();
        assert!(err.to_string().contains("held by a session"), "{err}");
        // The failed rollback consumed the fixture; dropping the sessions gives the
        // connection back, and the outer transaction is rolled back with the last of them.
        drop((s, other));
        assert_eq!(committed_users(&db).await, 1, "[{}]", t.label);
        t.finish().await;
    }
}

/// Three users with two posts each, committed.
async fn seed_posts(db: &Database) {
    db.session_scope(async |s| {
        let users = s.add_all(["ann", "bob", "cyd"].map(new_user));
        for (i, u) in users.into_iter().enumerate() {
            for n in 0..2 {
                let p = s.add(Post {
                    title: format!("post {i}.{n}"),
                    ..Default::default()
                });
                s.link(p, Post::author, u)?;
            }
        }
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
}

/// The panic message of a failed assertion.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[tokio::test]
async fn assert_queries_fails_posts_loaded_one_by_one_and_passes_selectinload() {
    for t in common::all_targets("kit_assert_queries").await {
        let db = setup(&t).await;
        seed_posts(&db).await;
        let mut s = db.session();

        // One by one: a SELECT of the users, then one SELECT of posts per user.
        let failed = std::panic::AssertUnwindSafe(async {
            assert_queries!(s, repeats <= 1, {
                let users = s.query::<User>().all().await.unwrap();
                for u in users {
                    let id = s[u].base.id;
                    s.query::<Post>()
                        .filter(Post::author_id.eq(id))
                        .all()
                        .await
                        .unwrap();
                }
            })
        })
        .catch_unwind()
        .await;
        let message = panic_message(failed.expect_err("the N+1 loop must fail"));
        assert!(message.contains("N+1"), "[{}] {message}", t.label);
        assert!(message.contains("4x SELECT"), "[{}] {message}", t.label);
        assert!(message.contains("posts"), "[{}] {message}", t.label);

        let failed = std::panic::AssertUnwindSafe(async {
            assert_queries!(s, 2, {
                let users = s.query::<User>().all().await.unwrap();
                for u in users {
                    let id = s[u].base.id;
                    s.query::<Post>()
                        .filter(Post::author_id.eq(id))
                        .all()
                        .await
                        .unwrap();
                }
            })
        })
        .catch_unwind()
        .await;
        let message = panic_message(failed.expect_err("five statements are not two"));
        assert!(
            message.starts_with("expected 2 statement(s), the block ran 5"),
            "[{}] {message}",
            t.label
        );
        assert!(message.contains("  5. SELECT"), "[{}] {message}", t.label);

        // The same load with selectinload: two statements, none repeated.
        let posts = assert_queries!(s, 2, {
            assert_queries!(s, repeats <= 1, {
                let users = s
                    .query::<User>()
                    .options(selectinload(User::posts))
                    .all()
                    .await
                    .unwrap();
                users
                    .iter()
                    .map(|u| s[*u].posts.get().map(<[Post]>::len).unwrap_or(0))
                    .sum::<usize>()
            })
        });
        assert_eq!(posts, 6, "[{}]", t.label);
        // The session's transaction must end before the schema is dropped (it holds locks).
        s.close().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn a_failed_statement_in_the_code_under_test_leaves_the_fixture_usable() {
    for t in common::all_targets("kit_failed_statement").await {
        let db = setup(&t).await;
        let outer = TestTransaction::begin(&db).await.unwrap();

        // A unique violation (PostgreSQL aborts the transaction it happens in): the
        // session's SAVEPOINT takes it, so rolling back to it recovers the outer one.
        let mut s = outer.session();
        s.add(new_user("preexisting"));
        let err = s.commit().await.unwrap_err();
        assert!(matches!(err, Error::Integrity(_)), "[{}] {err}", t.label);
        s.rollback().await.unwrap();

        s.add(new_user("after_failure"));
        s.commit().await.unwrap();
        assert_eq!(s.query::<User>().count().await.unwrap(), 2, "[{}]", t.label);
        s.close().await.unwrap();
        outer.rollback().await.unwrap();
        assert_eq!(committed_users(&db).await, 1, "[{}]", t.label);
        t.finish().await;
    }
}
