//! The one query builder through a session: every builder method of `orm::query` is there
//! on `s.query::<M>()` too (here `distinct`, which the session's query once lacked), with
//! the session's terminal calls, on SQLite and PostgreSQL.

mod blog;
mod common;

use blog::*;
use oxalchemy::prelude::*;

fn user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

#[tokio::test]
async fn distinct_through_the_session_keeps_each_joined_row_once() {
    for t in common::all_targets("session_query_distinct").await {
        let db = t.connect().await;
        db.create_all(&registry().metadata()).await.unwrap();
        let mut s = db.session();
        for name in ["ann", "bob"] {
            let u = s.add(user(name));
            for title in ["one", "two"] {
                let p = s.add(Post {
                    title: format!("{name} {title}"),
                    ..Default::default()
                });
                s.link(p, Post::author, u).unwrap();
            }
        }
        s.commit().await.unwrap();

        // Joined to their posts, each user's row comes back once per post …
        let repeated = s
            .query::<User>()
            .join_related(User::posts)
            .unwrap()
            .order_by(User::username.asc())
            .all()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(repeated.len(), 4, "[{}]", t.label);

        // … and once with DISTINCT, in the session's objects.
        s.reset_statements();
        let once = s
            .query::<User>()
            .join_related(User::posts)
            .unwrap()
            .distinct()
            .order_by(User::username.asc())
            .all()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        let names: Vec<&str> = once.iter().map(|h| s[*h].username.as_str()).collect();
        assert_eq!(names, ["ann", "bob"], "[{}]", t.label);
        assert!(
            s.statements()[0].starts_with("SELECT DISTINCT"),
            "[{}] {:?}",
            t.label,
            s.statements()
        );
        assert_eq!(
            s.query::<User>()
                .join_related(User::posts)
                .unwrap()
                .distinct()
                .count()
                .await
                .unwrap(),
            2,
            "[{}]",
            t.label
        );
        // The connection goes back to the pool (one, for SQLite in memory).
        s.close().await.unwrap();
        // The same builder on an unbound query gives the same rows as owned structs.
        let owned = oxalchemy::orm::query::<User>()
            .join_related(User::posts)
            .unwrap()
            .distinct()
            .order_by(User::username.asc())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(owned.len(), 2, "[{}]", t.label);
        t.finish().await;
    }
}
