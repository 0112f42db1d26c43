//! The unit of work beyond inserts, updates and deletes (issue 12), on SQLite (memory and
//! file) and PostgreSQL: `NotLoaded` names the field and converts with `?`; an identity
//! added twice is an error before any SQL; a delete plus an add of one identity in one
//! flush is an UPDATE of that row (SQLAlchemy's row switch).

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::{joinedload, selectinload, NotLoaded, ObjectState};
use oxalchemy::prelude::*;

fn new_user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

fn tag(id: i64, name: &str) -> Tag {
    Tag {
        id,
        name: name.to_owned(),
    }
}

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&registry().metadata()).await.unwrap();
    db
}

/// The tags in the database, by id.
async fn stored_tags(db: &Database) -> Vec<(i64, String)> {
    let mut s = db.session();
    let hs = s
        .query::<Tag>()
        .order_by(Tag::id.asc())
        .all()
        .await
        .unwrap();
    hs.into_iter()
        .map(|h| (s[h].id, s[h].name.clone()))
        .collect()
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
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn an_identity_added_twice_is_an_error_before_any_sql() {
    for t in common::all_targets("uow_added_twice").await {
        let db = setup(&t).await;

        // Two new objects with one primary key.
        let mut s = db.session();
        s.add(tag(7, "rust"));
        s.add(tag(7, "python"));
        let err = s.commit().await.unwrap_err();
        assert!(
            matches!(err, Error::Mapping { .. }),
            "[{}] {err:?}",
            t.label
        );
        let shown = err.to_string();
        assert!(shown.contains("Tag (id="), "{shown}");
        assert!(shown.contains('7'), "{shown}");
        assert!(shown.contains("added to the session twice"), "{shown}");
        assert!(s.statements().is_empty(), "{:?}", s.statements());
        s.close().await.unwrap();
        assert!(stored_tags(&db).await.is_empty(), "[{}]", t.label);

        // A new object whose key the session already holds.
        let mut s = db.session();
        s.add(tag(8, "sql"));
        s.commit().await.unwrap();
        s.reset_statements();
        let copy = s.add(tag(8, "nosql"));
        let err = s.flush().await.unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("Tag (id="), "{shown}");
        assert!(shown.contains("already held"), "{shown}");
        assert!(s.statements().is_empty(), "{:?}", s.statements());
        assert_eq!(s.state(copy), Some(ObjectState::Pending));
        s.close().await.unwrap();
        assert_eq!(stored_tags(&db).await, vec![(8, "sql".to_owned())]);

        // Keys the database generates never collide.
        let mut s = db.session();
        s.add_all([tag(0, "a"), tag(0, "b")]);
        s.commit().await.unwrap();
        assert_eq!(stored_tags(&db).await.len(), 3, "[{}]", t.label);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn delete_and_add_of_one_identity_is_an_update_of_that_row() {
    for t in common::all_targets("uow_row_switch").await {
        let db = setup(&t).await;
        let mut s = db.session();
        s.add_all([tag(5, "old"), tag(6, "other")]);
        s.commit().await.unwrap();
        s.close().await.unwrap();

        let mut s = db.session();
        let old = s.get::<Tag>(5).await.unwrap().unwrap();
        s.delete(old);
        let new = s.add(tag(5, "new"));
        s.reset_statements();
        s.commit().await.unwrap();
        let sql = s.statements().join("\n");
        assert!(sql.contains("UPDATE"), "[{}] {sql}", t.label);
        assert!(!sql.contains("INSERT"), "[{}] {sql}", t.label);
        assert!(!sql.contains("DELETE"), "[{}] {sql}", t.label);
        assert_eq!(s.state(new), Some(ObjectState::Persistent));
        assert_eq!(s.state(old), None, "the deleted object left the session");
        let again = s.get::<Tag>(5).await.unwrap().unwrap();
        assert_eq!(again, new, "[{}] the new object owns the identity", t.label);
        s.close().await.unwrap();
        assert_eq!(
            stored_tags(&db).await,
            vec![(5, "new".to_owned()), (6, "other".to_owned())],
            "[{}]",
            t.label
        );

        // A row others reference: it is updated in place, so its posts stay.
        let mut s = db.session();
        let ann = s.add(new_user("ann"));
        s.flush().await.unwrap();
        let id = s[ann].base.id;
        s.add(Post {
            title: "kept".into(),
            author_id: id,
            ..Default::default()
        });
        s.commit().await.unwrap();
        s.delete(ann);
        let mut replacement = new_user("ann2");
        replacement.base.id = id;
        let ann2 = s.add(replacement);
        s.commit().await.unwrap();
        assert_eq!(s[ann2].base.id, id);
        s.close().await.unwrap();

        let mut s = db.session();
        let users = s.query::<User>().all().await.unwrap();
        assert_eq!(users.len(), 1, "[{}]", t.label);
        assert_eq!(s[users[0]].username, "ann2");
        assert_eq!(s[users[0]].email, "ann2@example.com");
        let posts = s.query::<Post>().all().await.unwrap();
        assert_eq!(posts.len(), 1, "[{}]", t.label);
        assert_eq!(s[posts[0]].author_id, id);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn joinedload_of_many_to_many_equals_selectinload_in_one_statement() {
    for t in common::all_targets("uow_joined_m2m").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let ann = s.add(new_user("ann"));
        s.flush().await.unwrap();
        let author_id = s[ann].base.id;
        let tags = s.add_all([tag(0, "rust"), tag(0, "sql"), tag(0, "unused")]);
        let posts = s.add_all(["first", "second", "untagged"].map(|title| Post {
            title: title.into(),
            author_id,
            ..Default::default()
        }));
        s.link(posts[0], Post::tags, tags[0]).unwrap();
        s.link(posts[0], Post::tags, tags[1]).unwrap();
        s.link(posts[1], Post::tags, tags[1]).unwrap();
        s.commit().await.unwrap();
        s.close().await.unwrap();

        // (title, sorted tag names) of every post, as a loader loaded them.
        async fn shape(db: &Database, joined: bool) -> (Vec<(String, Vec<String>)>, usize) {
            let mut s = db.session();
            let q = s.query::<Post>().order_by(Post::title.asc());
            let hs = if joined {
                q.options(joinedload(Post::tags)).all().await.unwrap()
            } else {
                q.options(selectinload(Post::tags)).all().await.unwrap()
            };
            let shape = hs
                .iter()
                .map(|&h| {
                    let mut names: Vec<String> = s[h]
                        .tags
                        .get()
                        .unwrap()
                        .iter()
                        .map(|t| t.name.clone())
                        .collect();
                    names.sort();
                    (s[h].title.clone(), names)
                })
                .collect();
            (shape, s.statement_count())
        }
        let (joined, joined_statements) = shape(&db, true).await;
        let (selectin, selectin_statements) = shape(&db, false).await;
        assert_eq!(joined, selectin, "[{}]", t.label);
        assert_eq!(
            joined,
            [
                (
                    "first".to_owned(),
                    vec!["rust".to_owned(), "sql".to_owned()]
                ),
                ("second".to_owned(), vec!["sql".to_owned()]),
                ("untagged".to_owned(), vec![]),
            ],
            "[{}]",
            t.label
        );
        assert_eq!(joined_statements, 1, "[{}]", t.label);
        assert_eq!(selectin_statements, 2, "[{}]", t.label);

        // A LIMIT applies to posts, not to their joined tag rows.
        let mut s = db.session();
        let first = s
            .query::<Post>()
            .options(joinedload(Post::tags))
            .order_by(Post::title.asc())
            .limit(1)
            .all()
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(s[first[0]].tags.get().unwrap().len(), 2, "[{}]", t.label);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}
