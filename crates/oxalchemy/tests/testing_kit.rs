//! The testing kit (`oxalchemy::testing`) on SQLite (memory and file) and PostgreSQL: the
//! rollback fixture discards everything code under test did — commits, rollbacks, nested
//! SAVEPOINTs and `session_scope` included — as seen from a second connection afterwards.
//!
//! (`oxalchemy_testing` is `oxalchemy::testing` with the facade's `testing` feature.)
//!
//! On SQLite memory, `sqlite::memory:` is a named shared-cache database per `Database`, so
//! the second connection that counts rows sees the same database as the fixture's.

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::Session;
use oxalchemy::prelude::*;
use oxalchemy_testing::TestTransaction;

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
