//! The unit-of-work Session on SQLite and PostgreSQL: the guide's session_scope, create_user,
//! UserRepository and tests; identity map; changed-column UPDATEs; flush order; atomic flush;
//! SAVEPOINT rollback; optimistic concurrency.

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::{ObjectState, Session};
use oxalchemy::prelude::*;

fn new_user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

/// The guide's create_user: session_scope + flush to get the id before commit.
async fn create_user(db: &Database, username: &str, email: &str) -> Result<User, Error> {
    db.session_scope(async |s| {
        let u = s.add(User {
            username: username.into(),
            email: email.into(),
            ..Default::default()
        });
        s.flush().await?;
        assert!(s[u].base.id > 0, "id assigned by flush, before commit");
        Ok(s[u].clone())
    })
    .await
}

/// The guide's UserRepository.
struct UserRepository<'s> {
    session: &'s mut Session,
}

impl UserRepository<'_> {
    async fn get_by_id(&mut self, user_id: i64) -> Result<Option<User>, Error> {
        let h = self.session.get::<User>(user_id).await?;
        Ok(h.map(|h| self.session[h].clone()))
    }
    async fn find_by_username(&mut self, username: &str) -> Result<Option<User>, Error> {
        let h = self
            .session
            .query::<User>()
            .filter(User::username.eq(username))
            .first()
            .await?;
        Ok(h.map(|h| self.session[h].clone()))
    }
    async fn search_users(
        &mut self,
        keyword: &str,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<User>, Error> {
        let hs = self
            .session
            .query::<User>()
            .filter(or_([
                User::username.ilike(format!("%{keyword}%")),
                User::email.ilike(format!("%{keyword}%")),
            ]))
            .order_by(User::created_at.desc())
            .offset(offset)
            .limit(limit)
            .all()
            .await?;
        Ok(hs.into_iter().map(|h| self.session[h].clone()).collect())
    }
}

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&registry().metadata()).await.unwrap();
    db
}

#[tokio::test]
async fn guide_create_user_repository_and_test_user_creation() {
    for t in common::all_targets("session_guide").await {
        let db = setup(&t).await;
        let ann = create_user(&db, "ann", "ann@example.com").await.unwrap();
        assert!(ann.base.id > 0);

        // test_user_creation
        let mut s = db.session();
        let u = s.add(new_user("test_user"));
        s.commit().await.unwrap();
        assert!(s[u].base.id > 0, "[{}]", t.label);
        assert!(s[u].ts.created_at.timestamp() > 0);
        let id = s[u].base.id;
        let fetched = s.get::<User>(id).await.unwrap().unwrap();
        assert_eq!(s[fetched].username, "test_user");
        assert_eq!(fetched, u, "the same object, from the identity map");
        s.close().await.unwrap();

        // UserRepository
        let mut s = db.session();
        for name in ["annabel", "bob", "joanna"] {
            s.add(new_user(name));
        }
        s.commit().await.unwrap();
        let mut repo = UserRepository { session: &mut s };
        assert_eq!(
            repo.get_by_id(ann.base.id)
                .await
                .unwrap()
                .map(|u| u.username),
            Some("ann".into())
        );
        assert!(repo.get_by_id(999_999).await.unwrap().is_none());
        assert_eq!(
            repo.find_by_username("bob").await.unwrap().map(|u| u.email),
            Some("bob@example.com".into())
        );
        assert!(repo.find_by_username("nobody").await.unwrap().is_none());
        let found = repo.search_users("ANN", 20, 0).await.unwrap();
        let mut names: Vec<String> = found.into_iter().map(|u| u.username).collect();
        names.sort();
        assert_eq!(names, ["ann", "annabel", "joanna"], "[{}]", t.label);
        assert_eq!(repo.search_users("ANN", 2, 0).await.unwrap().len(), 2);
        assert_eq!(repo.search_users("ANN", 20, 2).await.unwrap().len(), 1);
        s.close().await.unwrap();

        // session_scope rolls back on Err.
        let err = db
            .session_scope(async |s| {
                s.add(new_user("ghost"));
                s.flush().await?;
                Err::<(), _>(Error::NotFound)
            })
            .await;
        assert!(err.is_err());
        assert_eq!(
            oxalchemy::orm::query::<User>()
                .filter(User::username.eq("ghost"))
                .count(&db)
                .await
                .unwrap(),
            0
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn identity_map_returns_the_same_object_without_sql() {
    for t in common::all_targets("session_identity").await {
        let db = setup(&t).await;
        let ann = create_user(&db, "ann", "ann@example.com").await.unwrap();
        let mut s = db.session();
        let a = s.get::<User>(ann.base.id).await.unwrap().unwrap();
        assert_eq!(s.statement_count(), 1);
        let b = s.get::<User>(ann.base.id).await.unwrap().unwrap();
        assert_eq!(a, b);
        assert_eq!(
            s.statement_count(),
            1,
            "[{}] second get answered from the identity map",
            t.label
        );
        // A query returning the row gives back the same tracked object, with its unflushed
        // change intact (the session's object wins).
        s.set_autoflush(false);
        s[a].karma = Some(42);
        let q = s
            .query::<User>()
            .filter(User::username.eq("ann"))
            .one()
            .await
            .unwrap();
        assert_eq!(q, a);
        assert_eq!(s[q].karma, Some(42));
        assert_eq!(s.len(), 1);
        s.rollback().await.unwrap();
        assert!(s.is_empty());
        t.finish().await;
    }
}

#[tokio::test]
async fn updates_write_only_changed_columns_and_deletes_remove_rows() {
    for t in common::all_targets("session_updates").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let hs = s.add_all(["ann", "bob", "cyd"].map(new_user));
        s.flush().await.unwrap();
        s.reset_statements();
        // Nothing changed: flush writes nothing.
        s.flush().await.unwrap();
        assert_eq!(s.statement_count(), 0);
        s[hs[1]].karma = Some(5);
        s.flush().await.unwrap();
        let updates: Vec<&String> = s
            .statements()
            .iter()
            .filter(|q| q.starts_with("UPDATE"))
            .collect();
        assert_eq!(updates.len(), 1, "[{}] {:?}", t.label, s.statements());
        let sql = updates[0];
        // MySQL quotes names with backticks.
        let q = |name: &str| {
            if t.is_mysql() {
                format!("`{name}`")
            } else {
                format!("\"{name}\"")
            }
        };
        assert!(
            sql.contains(&q("karma")) && sql.contains(&q("updated_at")),
            "{sql}"
        );
        assert!(
            !sql.contains(&q("username")) && !sql.contains(&q("email")),
            "only changed columns: {sql}"
        );
        s.delete(hs[2]);
        assert_eq!(s.state(hs[2]), Some(ObjectState::Deleted));
        s.commit().await.unwrap();
        assert!(s.get_ref(hs[2]).is_none());
        let rows = oxalchemy::orm::query::<User>()
            .order_by(User::id.asc())
            .all(&db)
            .await
            .unwrap();
        let names: Vec<(&str, Option<i32>)> = rows
            .iter()
            .map(|u| (u.username.as_str(), u.karma))
            .collect();
        assert_eq!(names, [("ann", None), ("bob", Some(5))], "[{}]", t.label);
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "categories")]
struct Category {
    #[column(primary_key, autoincrement = false)]
    pub id: i64,
    #[column(length = 40)]
    pub name: String,
    #[column(foreign_key = "categories.id")]
    pub parent_id: Option<i64>,
}

#[tokio::test]
async fn flush_orders_self_referential_rows() {
    for t in common::all_targets("session_self_ref").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Category>().metadata())
            .await
            .unwrap();
        let mut s = db.session();
        // Grandchild first, root last: the flush must insert root → child → grandchild.
        let cat = |id, parent| Category {
            id,
            name: format!("c{id}"),
            parent_id: parent,
        };
        let hs = s.add_all([cat(3, Some(2)), cat(2, Some(1)), cat(1, None)]);
        // A small bind limit would split them; force separate statements by column sets.
        s.flush()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert!(hs
            .iter()
            .all(|h| s.state(*h) == Some(ObjectState::Persistent)));
        s.commit().await.unwrap();
        // Deleting all three: children before parents.
        for h in &hs {
            s.delete(*h);
        }
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(
            oxalchemy::orm::query::<Category>()
                .count(&db)
                .await
                .unwrap(),
            0
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_failed_flush_keeps_nothing_and_the_session_stays_usable() {
    for t in common::all_targets("session_atomic").await {
        let db = setup(&t).await;
        create_user(&db, "taken", "taken@example.com")
            .await
            .unwrap();
        let mut s = db.session();
        let ok1 = s.add(new_user("ok1"));
        let mut dup = new_user("taken");
        dup.email = "other@example.com".into();
        let bad = s.add(dup);
        let ok2 = s.add(new_user("ok2"));
        let err = s.flush().await.unwrap_err();
        match &err {
            Error::Integrity(i) => {
                assert_eq!(
                    i.constraint(),
                    Some("uq_users_username"),
                    "[{}] {err}",
                    t.label
                )
            }
            other => panic!("[{}] expected a unique violation, got {other:?}", t.label),
        }
        // Everything still pending, ids untouched.
        for h in [ok1, bad, ok2] {
            assert_eq!(s.state(h), Some(ObjectState::Pending), "[{}]", t.label);
            assert_eq!(s[h].base.id, 0);
        }
        // The session is usable: fix the object and flush again.
        s[bad].username = "fixed".into();
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        let n = oxalchemy::orm::query::<User>().count(&db).await.unwrap();
        assert_eq!(n, 4, "[{}]", t.label);

        // A validator failure: nothing written either.
        let mut s = db.session();
        s.add(new_user("fine"));
        s.add(new_user(""));
        assert!(matches!(s.flush().await, Err(Error::Validation(_))));
        s.close().await.unwrap();
        assert_eq!(oxalchemy::orm::query::<User>().count(&db).await.unwrap(), 4);
        t.finish().await;
    }
}

#[tokio::test]
async fn savepoint_rollback_restores_database_and_session() {
    for t in common::all_targets("session_savepoint").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let ann = s.add(new_user("ann"));
        s.flush().await.unwrap();
        s.begin_nested().await.unwrap();
        s[ann].karma = Some(10);
        let bob = s.add(new_user("bob"));
        s.flush().await.unwrap();
        assert!(s[bob].base.id > 0);
        s.rollback_nested().await.unwrap();
        assert_eq!(s[ann].karma, None, "[{}] session state restored", t.label);
        assert!(
            s.get_ref(bob).is_none(),
            "the object added inside the savepoint is gone"
        );
        // A committed savepoint keeps its changes.
        s.begin_nested().await.unwrap();
        s[ann].karma = Some(3);
        s.commit_nested().await.unwrap();
        s.commit().await.unwrap();
        let rows = oxalchemy::orm::query::<User>().all(&db).await.unwrap();
        assert_eq!(rows.len(), 1, "[{}]", t.label);
        assert_eq!(rows[0].karma, Some(3));
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "documents")]
struct Document {
    #[column(primary_key)]
    pub id: i64,
    pub body: String,
    #[column(version)]
    pub version: i64,
}

#[tokio::test]
async fn stale_data_under_two_competing_sessions() {
    for t in common::all_targets("session_stale").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Document>().metadata())
            .await
            .unwrap();
        let mut s0 = db.session();
        let d = s0.add(Document {
            body: "v1".into(),
            ..Default::default()
        });
        s0.commit().await.unwrap();
        let id = s0[d].id;
        assert_eq!(s0[d].version, 1, "versions start at 1");

        let mut s1 = db.session();
        let d1 = s1.get::<Document>(id).await.unwrap().unwrap();
        s1.commit().await.unwrap(); // the read is done; the object stays in s1

        let mut s2 = db.session();
        let d2 = s2.get::<Document>(id).await.unwrap().unwrap();
        s2[d2].body = "edited by s2".into();
        s2.commit().await.unwrap();
        assert_eq!(s2[d2].version, 2);

        s1[d1].body = "edited by s1".into();
        let err = s1.flush().await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::StaleData {
                    operation: "UPDATE",
                    matched: 0,
                    ..
                }
            ),
            "[{}] {err:?}",
            t.label
        );
        assert!(err.to_string().contains("reload it and retry"), "{err}");
        // Reload and retry succeeds.
        s1.refresh(d1).await.unwrap();
        assert_eq!(s1[d1].body, "edited by s2");
        s1[d1].body = "edited by s1".into();
        s1.commit().await.unwrap();
        assert_eq!(s1[d1].version, 3);

        // A stale DELETE is caught too.
        let mut s3 = db.session();
        let d3 = s3.get::<Document>(id).await.unwrap().unwrap();
        s3.commit().await.unwrap();
        let mut s4 = db.session();
        let d4 = s4.get::<Document>(id).await.unwrap().unwrap();
        s4[d4].body = "again".into();
        s4.commit().await.unwrap();
        s3.delete(d3);
        assert!(matches!(
            s3.flush().await,
            Err(Error::StaleData {
                operation: "DELETE",
                ..
            })
        ));
        s3.close().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn expunge_merge_and_refresh() {
    for t in common::all_targets("session_merge").await {
        let db = setup(&t).await;
        let ann = create_user(&db, "ann", "ann@example.com").await.unwrap();
        let mut s = db.session();
        let h = s.get::<User>(ann.base.id).await.unwrap().unwrap();
        let mut detached = s.expunge(h).unwrap();
        assert!(s.get_ref(h).is_none());
        detached.karma = Some(9);
        // merge: attaches the detached struct; its changes are written at flush.
        let m = s.merge(detached).await.unwrap();
        assert_eq!(s.state(m), Some(ObjectState::Persistent));
        s.commit().await.unwrap();
        let stored = oxalchemy::orm::query::<User>().one(&db).await.unwrap();
        assert_eq!(stored.karma, Some(9), "[{}]", t.label);
        // merge of an object with no row adds it.
        let m2 = s.merge(new_user("newbie")).await.unwrap();
        assert_eq!(s.state(m2), Some(ObjectState::Pending));
        // refresh discards unflushed changes.
        s[m].karma = Some(100);
        s.set_autoflush(false);
        s.refresh(m).await.unwrap();
        assert_eq!(s[m].karma, Some(9));
        s.close().await.unwrap();
        t.finish().await;
    }
}

/// The guide's test_user_posts_relationship.
#[tokio::test]
async fn test_user_posts_relationship() {
    for t in common::all_targets("session_relationship").await {
        let db = setup(&t).await;
        let mut s = db.session();
        // The post is added first: the flush still inserts the user first.
        let post = s.add(Post {
            title: "Test Post".into(),
            content: Some("Content".into()),
            ..Default::default()
        });
        let user = s.add(new_user("test_user"));
        s.link(post, Post::author, user).unwrap();
        // Both sides agree inside the session, before any flush.
        assert_eq!(s.parent(post, Post::author), Some(user));
        assert_eq!(s.children(user, User::posts), [post]);
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));

        assert!(
            s.children(user, User::posts).contains(&post),
            "post in user.posts"
        );
        assert_eq!(
            s.parent(post, Post::author),
            Some(user),
            "post.author == user"
        );
        assert_eq!(
            s[post].author_id, s[user].base.id,
            "[{}] the new id was written into the FK",
            t.label
        );

        // Linking from the one-to-many side works the same way.
        let bob = s.add(new_user("bob"));
        let second = s.add(Post {
            title: "Second".into(),
            ..Default::default()
        });
        s.link(bob, User::posts, second).unwrap();
        // Moving an existing post to a new author: an UPDATE of its foreign key.
        s.link(post, Post::author, bob).unwrap();
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(s[second].author_id, s[bob].base.id);
        assert_eq!(s[post].author_id, s[bob].base.id);
        let mut bobs = s.children(bob, User::posts);
        bobs.sort_by_key(|h| s[*h].base.id);
        assert_eq!(bobs, [post, second]);
        assert!(s.children(user, User::posts).is_empty());
        s.close().await.unwrap();

        // A fresh session resolves the relationship from foreign keys of loaded objects.
        let mut s = db.session();
        let posts = s
            .query::<Post>()
            .order_by(Post::id.asc())
            .all()
            .await
            .unwrap();
        let authors = s
            .query::<User>()
            .filter(User::username.eq("bob"))
            .all()
            .await
            .unwrap();
        assert_eq!(
            s.parent(posts[0], Post::author),
            Some(authors[0]),
            "[{}]",
            t.label
        );
        assert_eq!(s.children(authors[0], User::posts).len(), 2);
        s.close().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn generated_keys_map_to_the_right_rows() {
    for t in common::all_targets("session_keys").await {
        let db = setup(&t).await;
        // Some rows already exist, with a gap, so keys do not start at 1.
        let mut s = db.session();
        s.add_all((0..5).map(|i| new_user(&format!("old{i}"))));
        s.commit().await.unwrap();
        s.execute(delete(table("users")).filter(col("username").eq("old4")))
            .await
            .unwrap();
        s.commit().await.unwrap();
        let hs = s.add_all((0..300).map(|i| new_user(&format!("new{i}"))));
        s.commit().await.unwrap();
        let ids: Vec<i64> = hs.iter().map(|h| s[*h].base.id).collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 300, "[{}] keys are distinct", t.label);
        s.close().await.unwrap();
        // Each object's key is its own row's key.
        let stored = oxalchemy::orm::query::<User>().all(&db).await.unwrap();
        for (i, id) in ids.iter().enumerate() {
            let row = stored.iter().find(|u| u.base.id == *id).unwrap();
            assert_eq!(row.username, format!("new{i}"), "[{}]", t.label);
        }
        t.finish().await;
    }
}

/// Loaded and flushed objects carry no snapshot until handed out mutably: what was only
/// read is never written, what was changed through `s[h]` / `get_mut` is, even after an
/// earlier flush made it clean again; a refresh or a nested rollback restores the baseline.
#[tokio::test]
async fn objects_changed_after_a_lazy_snapshot_are_flushed_and_only_they() {
    for t in common::all_targets("mem_lazy_snapshot").await {
        let db = setup(&t).await;
        for name in ["ann", "bob", "cyd", "dee"] {
            create_user(&db, name, &format!("{name}@example.com"))
                .await
                .unwrap();
        }
        let updates = |s: &Session| {
            s.statements()
                .iter()
                .filter(|q| q.starts_with("UPDATE"))
                .count()
        };
        let mut s = db.session();
        s.set_autoflush(false);
        let hs = s
            .query::<User>()
            .order_by(User::id.asc())
            .all()
            .await
            .unwrap();
        let [ann, bob, cyd, dee] = [hs[0], hs[1], hs[2], hs[3]];
        // Read only; borrowed mutably but unchanged; changed and changed back.
        assert_eq!(s[bob].username, "bob");
        let _ = &mut s[cyd];
        s[dee].karma = Some(1);
        s.get_mut(dee).unwrap().karma = None;
        s[ann].karma = Some(7);
        s.reset_statements();
        s.flush().await.unwrap();
        assert_eq!(updates(&s), 1, "[{}] {:?}", t.label, s.statements());
        // Clean again after the flush; a later change is seen against the new baseline.
        s.reset_statements();
        s.flush().await.unwrap();
        assert_eq!(s.statement_count(), 0, "[{}]", t.label);
        s[ann].karma = Some(8);
        s.get_mut(bob).unwrap().karma = Some(2);
        s.flush().await.unwrap();
        assert_eq!(updates(&s), 2, "[{}] {:?}", t.label, s.statements());
        // A refresh discards an unflushed change: nothing to write.
        s[cyd].karma = Some(3);
        s.refresh(cyd).await.unwrap();
        assert_eq!(s[cyd].karma, None);
        s.reset_statements();
        s.flush().await.unwrap();
        assert_eq!(updates(&s), 0, "[{}] {:?}", t.label, s.statements());
        // A change made before a SAVEPOINT survives rolling back one made inside it.
        s[dee].karma = Some(4);
        s.begin_nested().await.unwrap();
        s[dee].karma = Some(5);
        s[cyd].karma = Some(6);
        s.flush().await.unwrap();
        s.rollback_nested().await.unwrap();
        assert_eq!((s[dee].karma, s[cyd].karma), (Some(4), None));
        s.commit().await.unwrap();
        let rows = oxalchemy::orm::query::<User>()
            .order_by(User::id.asc())
            .all(&db)
            .await
            .unwrap();
        let karma: Vec<Option<i32>> = rows.iter().map(|u| u.karma).collect();
        assert_eq!(karma, [Some(8), Some(2), None, Some(4)], "[{}]", t.label);
        t.finish().await;
    }
}

/// A session holding more objects than one chunk of its object table (1,024): handles,
/// the identity map, change detection and a nested rollback work across chunks.
#[tokio::test]
async fn sessions_larger_than_one_chunk_of_the_object_table() {
    for t in common::all_targets("mem_chunks").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let hs = s.add_all((0..2100).map(|i| new_user(&format!("u{i}"))));
        s.commit().await.unwrap();
        assert_eq!(s.len(), 2100);
        let last = hs[2099];
        let id = s[last].base.id;
        s.reset_statements();
        assert_eq!(s.get::<User>(id).await.unwrap(), Some(last));
        assert_eq!(
            s.statement_count(),
            0,
            "[{}] answered by the identity map",
            t.label
        );
        s[last].karma = Some(9);
        s.begin_nested().await.unwrap();
        s[hs[1500]].karma = Some(1);
        s.flush().await.unwrap();
        s.rollback_nested().await.unwrap();
        assert_eq!((s[last].karma, s[hs[1500]].karma), (Some(9), None));
        s.commit().await.unwrap();
        let changed = oxalchemy::orm::query::<User>()
            .filter(User::karma.is_not_null())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(changed.len(), 1, "[{}]", t.label);
        assert_eq!(changed[0].base.id, id);
        t.finish().await;
    }
}

/// The statement log records a multi-row INSERT by its first row and a count of its rows:
/// its whole text would cost a dozen bytes per inserted object for the session's life.
#[tokio::test]
async fn multi_row_inserts_are_logged_by_their_first_row_and_a_row_count() {
    for t in common::all_targets("session_insert_log").await {
        let db = setup(&t).await;
        let mut s = db.session();
        s.add_all(["ann", "bob", "cyd"].map(new_user));
        s.flush().await.unwrap();
        let inserts: Vec<&String> = s
            .statements()
            .iter()
            .filter(|q| q.starts_with("INSERT"))
            .collect();
        let mut rows = 0;
        for sql in &inserts {
            let values = sql
                .split_once(" VALUES ")
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("[{}] no VALUES: {sql}", t.label));
            // One row of placeholders, however many rows the statement sent.
            assert_eq!(values.matches('(').count(), 1, "[{}] {sql}", t.label);
            rows += match sql.rsplit_once(" -- ") {
                Some((_, count)) => count
                    .strip_suffix(" rows")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or_else(|| panic!("[{}] row count: {sql}", t.label)),
                None => 1,
            };
        }
        assert_eq!(rows, 3, "[{}] {inserts:?}", t.label);
        // MariaDB may send one row per INSERT to read each generated key; elsewhere the
        // three rows are one statement.
        if !t.is_mysql() {
            assert_eq!(inserts.len(), 1, "[{}] {inserts:?}", t.label);
            assert!(
                inserts[0].ends_with(" -- 3 rows"),
                "[{}] {inserts:?}",
                t.label
            );
        }
        s.commit().await.unwrap();
        let stored = oxalchemy::orm::query::<User>().all(&db).await.unwrap();
        assert_eq!(stored.len(), 3, "[{}]", t.label);
        t.finish().await;
    }
}

/// The statement log is bounded: past 20,000 statements the oldest are dropped down to
/// 10,000, while `statement_count` still counts every statement run.
#[tokio::test]
async fn the_statement_log_keeps_the_last_statements_of_a_long_session() {
    for t in common::all_targets("session_log_bound").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let hs = s.add_all((0..20_050).map(|i| new_user(&format!("u{i}"))));
        s.flush().await.unwrap();
        let before = s.statement_count();
        for &h in &hs {
            s[h].karma = Some(1);
        }
        // One UPDATE per object.
        s.flush().await.unwrap();
        let ran = s.statement_count() - before;
        assert!(ran >= 20_050, "[{}] {ran} statements", t.label);
        let kept = s.statements().len();
        assert!(
            (10_000..=20_000).contains(&kept),
            "[{}] {kept} kept",
            t.label
        );
        assert!(
            s.statements()
                .iter()
                .rev()
                .take(100)
                .any(|q| q.starts_with("UPDATE")),
            "[{}] the newest statements are kept",
            t.label
        );
        s.reset_statements();
        assert_eq!(s.statement_count(), 0, "[{}]", t.label);
        s.commit().await.unwrap();
        let changed = oxalchemy::orm::query::<User>()
            .filter(User::karma.is_not_null())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(changed.len(), 20_050, "[{}]", t.label);
        t.finish().await;
    }
}
