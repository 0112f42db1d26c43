//! Relationships as values (issue 12, items 1 and 2), on SQLite (memory and file) and
//! PostgreSQL: objects and handles assigned into `One` / `Many` fields are added and linked
//! (save-update cascade), matched by identity, never silently dropped; `add_all` takes
//! different models; both sides of a `back_populates` pair show the session's links after
//! link, flush and commit.

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::{selectinload, ObjectState};
use oxalchemy::prelude::*;

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&registry().metadata()).await.unwrap();
    db
}

fn new_user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

fn post(title: &str) -> Post {
    Post {
        title: title.to_owned(),
        ..Default::default()
    }
}

/// The guide's `test_user_posts_relationship`, as it reads.
async fn test_user_posts_relationship(s: &mut Session) -> Result<(), Error> {
    let user = s.add(User {
        username: "test_user".into(),
        email: "test@example.com".into(),
        ..Default::default()
    });
    let post = Post {
        title: "Test Post".into(),
        content: Some("Content".into()),
        author: user.into(),
        ..Default::default()
    };

    let (user, post) = s.add_all((user, post));
    s.commit().await?;

    assert!(s[user]
        .posts
        .get()?
        .iter()
        .any(|p| p.base.id == s[post].base.id));
    assert_eq!(
        s[post].author.get()?.map(|a| a.base.id),
        Some(s[user].base.id)
    );
    assert_eq!(s[post].author_id, s[user].base.id);
    Ok(())
}

#[tokio::test]
async fn the_guides_user_posts_relationship_as_it_reads() {
    for t in common::all_targets("uow_guide_relationship").await {
        let db = setup(&t).await;
        let mut s = db.session();
        test_user_posts_relationship(&mut s)
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        s.close().await.unwrap();

        // What the database holds agrees.
        let rows: Vec<(String, String)> = db
            .session()
            .select(
                select([User::username.expr(), Post::title.expr()])
                    .from(table(User::TABLE))
                    .join(table(Post::TABLE), Post::author_id.eq(User::id)),
            )
            .await
            .unwrap();
        assert_eq!(
            rows,
            [("test_user".to_owned(), "Test Post".to_owned())],
            "[{}]",
            t.label
        );
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn values_in_one_and_many_fields_are_added_and_linked() {
    for t in common::all_targets("uow_values_cascade").await {
        let db = setup(&t).await;
        let mut s = db.session();

        // A new parent holding new children.
        let ann = s.add(User {
            posts: vec![post("p1"), post("p2")].into(),
            ..new_user("ann")
        });
        assert_eq!(s.len(), 3, "[{}] the children were added", t.label);
        let children = s.children(ann, User::posts);
        assert_eq!(children.len(), 2);
        // Before any flush, both sides already show the links.
        assert_eq!(s[ann].posts.get().unwrap().len(), 2);
        assert_eq!(
            s[children[0]]
                .author
                .get()
                .unwrap()
                .map(|u| u.username.as_str()),
            Some("ann")
        );

        // A new child holding a new parent, and a child with tags (many-to-many) as values.
        let p3 = s.add(Post {
            author: new_user("bob").into(),
            tags: vec![
                Tag {
                    name: "rust".into(),
                    ..Default::default()
                },
                Tag {
                    name: "sql".into(),
                    ..Default::default()
                },
            ]
            .into(),
            ..post("p3")
        });
        assert_eq!(s.len(), 7, "[{}]", t.label);
        s.commit().await.unwrap();

        let ann_id = s[ann].base.id;
        for &c in &children {
            assert_eq!(s[c].author_id, ann_id, "[{}]", t.label);
            assert_eq!(s[c].author.get().unwrap().unwrap().base.id, ann_id);
        }
        let mut titles: Vec<(i64, String)> = s[ann]
            .posts
            .get()
            .unwrap()
            .iter()
            .map(|p| (p.author_id, p.title.clone()))
            .collect();
        titles.sort();
        assert_eq!(
            titles,
            [(ann_id, "p1".to_owned()), (ann_id, "p2".to_owned())],
            "[{}] the copies have their keys after commit",
            t.label
        );
        let bob = s.parent(p3, Post::author).expect("bob is held");
        assert_eq!(s[bob].username, "bob");
        assert_eq!(s[p3].author_id, s[bob].base.id);
        s.close().await.unwrap();

        let mut s = db.session();
        let p3 = s
            .query::<Post>()
            .filter(Post::title.eq("p3"))
            .options(selectinload(Post::tags))
            .one()
            .await
            .unwrap();
        let mut tags: Vec<&str> = s[p3]
            .tags
            .get()
            .unwrap()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        tags.sort();
        assert_eq!(tags, ["rust", "sql"], "[{}]", t.label);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn held_identities_are_matched_not_added_twice() {
    for t in common::all_targets("uow_values_identity").await {
        let db = setup(&t).await;
        let mut s = db.session();
        s.add(Tag {
            id: 1,
            name: "rust".into(),
        });
        let ann = s.add(new_user("ann"));
        s.commit().await.unwrap();

        // A value with the identity of a held object, and one of a pending object.
        let rust = Tag {
            id: 1,
            name: "rust".into(),
        };
        let sql = Tag {
            id: 2,
            name: "sql".into(),
        };
        s.add(sql.clone());
        s.add(Post {
            author: ann.into(),
            tags: vec![rust, sql].into(),
            ..post("p")
        });
        assert_eq!(s.len(), 4, "[{}] no tag was added twice", t.label);
        s.commit().await.unwrap();
        let tags: Vec<(i64, i64)> = s
            .select(
                select([col("post_id"), col("tag_id")])
                    .from(table("post_tags"))
                    .order_by(col("tag_id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(tags.len(), 2, "[{}] {tags:?}", t.label);
        assert_eq!(
            tags.iter().map(|r| r.1).collect::<Vec<_>>(),
            [1, 2],
            "[{}]",
            t.label
        );
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn a_value_that_cannot_be_honoured_is_an_error_naming_the_field() {
    for t in common::all_targets("uow_values_refused").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let gone = s.add(new_user("gone"));
        s.expunge(gone);
        let p = s.add(Post {
            author: gone.into(),
            ..post("orphan")
        });
        s.reset_statements();
        let err = s.flush().await.unwrap_err();
        assert!(
            matches!(err, Error::Mapping { .. }),
            "[{}] {err:?}",
            t.label
        );
        let shown = err.to_string();
        assert!(shown.contains("Post::author"), "{shown}");
        assert!(shown.contains("handle"), "{shown}");
        assert!(s.statements().is_empty(), "{:?}", s.statements());
        assert_eq!(s.state(p), Some(ObjectState::Pending));

        // It stays an error until the field is given something the session can honour.
        assert!(s.flush().await.is_err());
        let ann = s.add(new_user("ann"));
        s[p].author = ann.into();
        s.commit().await.unwrap();
        assert_eq!(s[p].author_id, s[ann].base.id, "[{}]", t.label);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn assigning_into_a_stored_object_relinks_it_at_flush() {
    for t in common::all_targets("uow_values_stored").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let (ann, p) = s.add_all((new_user("ann"), post("p")));
        s[p].author = ann.into();
        s.commit().await.unwrap();
        s.close().await.unwrap();

        let mut s = db.session();
        let p = s.query::<Post>().one().await.unwrap();
        s[p].author = new_user("bob").into();
        s.commit().await.unwrap();
        let bob = s.parent(p, Post::author).expect("bob is held");
        assert_eq!(s[bob].username, "bob", "[{}]", t.label);
        assert_eq!(s[p].author_id, s[bob].base.id);
        assert_eq!(
            s[p].author.get().unwrap().map(|u| u.username.as_str()),
            Some("bob")
        );
        s.close().await.unwrap();

        let mut s = db.session();
        let bob = s
            .query::<User>()
            .filter(User::username.eq("bob"))
            .one()
            .await
            .unwrap();
        let p = s.query::<Post>().one().await.unwrap();
        assert_eq!(s[p].author_id, s[bob].base.id, "[{}]", t.label);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}

#[tokio::test]
async fn collections_are_kept_in_step_after_link_and_commit() {
    for t in common::all_targets("uow_in_step").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let ann = s.add(new_user("ann"));
        let p1 = s.add(post("p1"));
        s.link(p1, Post::author, ann).unwrap();
        // At once, both sides.
        assert_eq!(s[ann].posts.get().unwrap().len(), 1, "[{}]", t.label);
        assert_eq!(
            s[p1].author.get().unwrap().map(|u| u.username.as_str()),
            Some("ann")
        );
        s.commit().await.unwrap();
        let ann_id = s[ann].base.id;
        assert_eq!(s[ann].posts.get().unwrap()[0].base.id, s[p1].base.id);
        assert_eq!(s[ann].posts.get().unwrap()[0].author_id, ann_id);
        assert_eq!(s[p1].author.get().unwrap().unwrap().base.id, ann_id);
        s.close().await.unwrap();

        // A stored parent whose collection was loaded keeps its rows and gets the new child.
        let mut s = db.session();
        let ann = s
            .query::<User>()
            .options(selectinload(User::posts))
            .one()
            .await
            .unwrap();
        let p2 = s.add(post("p2"));
        s.link(ann, User::posts, p2).unwrap();
        assert_eq!(s[ann].posts.get().unwrap().len(), 2, "[{}]", t.label);
        s.commit().await.unwrap();
        let mut titles: Vec<(String, bool)> = s[ann]
            .posts
            .get()
            .unwrap()
            .iter()
            .map(|p| (p.title.clone(), p.base.id > 0 && p.author_id == ann_id))
            .collect();
        titles.sort();
        assert_eq!(
            titles,
            [("p1".to_owned(), true), ("p2".to_owned(), true)],
            "[{}]",
            t.label
        );
        // A stored parent whose collection was not loaded stays unloaded: the session
        // does not know its other rows.
        s.close().await.unwrap();
        let mut s = db.session();
        let ann = s.query::<User>().one().await.unwrap();
        let p3 = s.add(post("p3"));
        s.link(p3, Post::author, ann).unwrap();
        s.commit().await.unwrap();
        assert!(s[ann].posts.get().is_err(), "[{}]", t.label);
        assert_eq!(s[p3].author.get().unwrap().unwrap().base.id, ann_id);
        s.close().await.unwrap();

        // A deleted child leaves its parent's collection at the flush.
        let mut s = db.session();
        let bob = s.add(User {
            posts: vec![post("b1"), post("b2")].into(),
            ..new_user("bob")
        });
        s.commit().await.unwrap();
        let b1 = s.children(bob, User::posts)[0];
        s.delete(b1);
        s.commit().await.unwrap();
        let left: Vec<&str> = s[bob]
            .posts
            .get()
            .unwrap()
            .iter()
            .map(|p| p.title.as_str())
            .collect();
        assert_eq!(left, ["b2"], "[{}]", t.label);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}
