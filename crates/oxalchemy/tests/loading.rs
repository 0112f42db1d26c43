//! Eager loading on SQLite and PostgreSQL: the guide's PostRepository with statement counts,
//! nested selectinload three levels deep, many-to-many, joinedload, explicit loads, and no
//! implicit lazy loading.

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::{self, joinedload, selectinload};
use oxalchemy::prelude::*;

struct PostRepository<'s> {
    session: &'s mut Session,
}

impl PostRepository<'_> {
    async fn get_posts_with_authors(&mut self, limit: u64) -> Result<Vec<Post>, Error> {
        let hs = self
            .session
            .query::<Post>()
            .options(joinedload(Post::author))
            .order_by(Post::id.asc())
            .limit(limit)
            .all()
            .await?;
        Ok(hs.into_iter().map(|h| self.session[h].clone()).collect())
    }
    async fn get_user_posts_with_tags(&mut self, user_id: i64) -> Result<Vec<Post>, Error> {
        let hs = self
            .session
            .query::<Post>()
            .filter(Post::author_id.eq(user_id))
            .options(selectinload(Post::tags))
            .order_by(Post::id.asc())
            .all()
            .await?;
        Ok(hs.into_iter().map(|h| self.session[h].clone()).collect())
    }
    async fn get_posts_count_by_author(&mut self) -> Result<Vec<(String, i64)>, Error> {
        self.session
            .select(
                select([
                    User::username.expr(),
                    func::count(Post::id).label("post_count"),
                ])
                .from(table("users"))
                .join(table("posts"), User::id.eq(Post::author_id))
                .group_by([User::username.expr()])
                .order_by(User::username.asc()),
            )
            .await
    }
}

/// ann: posts p1 (tags rust, sql), p2 (no tags); bob: p3 (tag sql); cyd: no posts.
async fn seed(db: &Database) -> (i64, i64) {
    db.create_all(&registry().metadata()).await.unwrap();
    let mut s = db.session();
    let users = s.add_all(["ann", "bob", "cyd"].map(|n| User {
        username: n.into(),
        email: format!("{n}@example.com"),
        ..Default::default()
    }));
    let tags = s.add_all(["rust", "sql"].map(|n| Tag {
        id: 0,
        name: n.into(),
    }));
    let posts = s.add_all(["p1", "p2", "p3"].map(|t| Post {
        title: t.into(),
        ..Default::default()
    }));
    s.link(posts[0], Post::author, users[0]).unwrap();
    s.link(posts[1], Post::author, users[0]).unwrap();
    s.link(posts[2], Post::author, users[1]).unwrap();
    s.commit().await.unwrap();
    let pid = |i: usize| s[posts[i]].base.id;
    let tid = |i: usize| s[tags[i]].id;
    let mut ins = insert(table("post_tags")).columns(["post_id", "tag_id"]);
    for (p, t) in [(pid(0), tid(0)), (pid(0), tid(1)), (pid(2), tid(1))] {
        ins = ins.values([p, t]);
    }
    s.execute(ins).await.unwrap();
    let ids = (s[users[0]].base.id, s[users[1]].base.id);
    s.commit().await.unwrap();
    ids
}

#[tokio::test]
async fn guide_post_repository_with_statement_counts() {
    for t in common::all_targets("loading_repository").await {
        let db = t.connect().await;
        let (ann, bob) = seed(&db).await;
        let mut s = db.session();
        let mut repo = PostRepository { session: &mut s };

        let posts = repo.get_posts_with_authors(20).await.unwrap();
        assert_eq!(
            repo.session.statement_count(),
            1,
            "[{}] {:?}",
            t.label,
            repo.session.statements()
        );
        let authors: Vec<String> = posts
            .iter()
            .map(|p| p.author.get().unwrap().unwrap().username.clone())
            .collect();
        assert_eq!(authors, ["ann", "ann", "bob"], "[{}]", t.label);

        repo.session.reset_statements();
        let posts = repo.get_user_posts_with_tags(ann).await.unwrap();
        assert_eq!(
            repo.session.statement_count(),
            2,
            "[{}] {:?}",
            t.label,
            repo.session.statements()
        );
        let tags: Vec<Vec<String>> = posts
            .iter()
            .map(|p| {
                p.tags
                    .get()
                    .unwrap()
                    .iter()
                    .map(|t| t.name.clone())
                    .collect()
            })
            .collect();
        assert_eq!(
            tags,
            [vec!["rust".to_owned(), "sql".to_owned()], vec![]],
            "[{}]",
            t.label
        );
        let bobs = repo.get_user_posts_with_tags(bob).await.unwrap();
        assert_eq!(bobs[0].tags.get().unwrap()[0].name, "sql");

        repo.session.reset_statements();
        let counts = repo.get_posts_count_by_author().await.unwrap();
        assert_eq!(repo.session.statement_count(), 1);
        assert_eq!(
            counts,
            [("ann".to_owned(), 2), ("bob".to_owned(), 1)],
            "[{}]",
            t.label
        );
        s.close().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn unloaded_relationships_are_errors_never_queries() {
    for t in common::all_targets("loading_no_lazy").await {
        let db = t.connect().await;
        seed(&db).await;
        let mut s = db.session();
        let posts = s.query::<Post>().all().await.unwrap();
        let before = s.statement_count();
        let err = s[posts[0]].tags.get().unwrap_err();
        assert!(err.to_string().contains("selectinload"), "{err}");
        assert!(s[posts[0]].author.get().is_err());
        assert_eq!(
            s.statement_count(),
            before,
            "reading a relationship never runs SQL"
        );
        s.close().await.unwrap();
        // An explicit load fetches it on demand.
        let mut conn = db.connection().await.unwrap();
        let mut plain = orm::query::<Post>()
            .order_by(Post::id.asc())
            .all(&mut conn)
            .await
            .unwrap();
        orm::load(&mut conn, &mut plain, selectinload(Post::tags))
            .await
            .unwrap();
        assert_eq!(plain[0].tags.get().unwrap().len(), 2, "[{}]", t.label);
        orm::load(&mut conn, &mut plain, selectinload(Post::author))
            .await
            .unwrap();
        assert_eq!(plain[2].author.get().unwrap().unwrap().username, "bob");
        drop(conn);
        t.finish().await;
    }
}

// Three levels for the nesting test: authors → articles → comments.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "authors")]
struct Author {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    #[relationship(back_populates = "author")]
    pub articles: Many<Article>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "articles")]
struct Article {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "authors.id")]
    pub author_id: i64,
    pub title: String,
    #[relationship(back_populates = "articles")]
    pub author: One<Author>,
    #[relationship(back_populates = "article", order_by = "body")]
    pub comments: Many<Comment>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "comments")]
struct Comment {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "articles.id")]
    pub article_id: i64,
    pub body: String,
    #[relationship(back_populates = "comments")]
    pub article: One<Article>,
}

#[tokio::test]
async fn nested_selectinload_three_levels_matches_loading_by_hand() {
    for t in common::all_targets("loading_nested").await {
        let db = t.connect().await;
        let reg = Registry::new()
            .model::<Author>()
            .model::<Article>()
            .model::<Comment>();
        reg.check().unwrap();
        db.create_all(&reg.metadata()).await.unwrap();
        let mut s = db.session();
        for a in 0..4 {
            let author = s.add(Author {
                name: format!("author{a}"),
                ..Default::default()
            });
            for b in 0..(a % 3) {
                let article = s.add(Article {
                    title: format!("a{a}-{b}"),
                    ..Default::default()
                });
                s.link(article, Article::author, author).unwrap();
                for c in 0..(b + 1) {
                    let comment = s.add(Comment {
                        body: format!("c{a}-{b}-{c}"),
                        ..Default::default()
                    });
                    s.link(comment, Comment::article, article).unwrap();
                }
            }
        }
        s.commit().await.unwrap();
        s.close().await.unwrap();

        let mut conn = db.connection().await.unwrap();
        let mut log_count = 0;
        let eager = orm::query::<Author>()
            .order_by(Author::id.asc())
            .options(selectinload(Author::articles).selectinload(Article::comments))
            .all(&mut conn)
            .await
            .unwrap();
        // By hand: each level queried separately and grouped.
        let authors = orm::query::<Author>()
            .order_by(Author::id.asc())
            .all(&mut conn)
            .await
            .unwrap();
        assert_eq!(eager.len(), authors.len());
        for (e, a) in eager.iter().zip(&authors) {
            let articles = orm::query::<Article>()
                .filter(Article::author_id.eq(a.id))
                .order_by(Article::id.asc())
                .all(&mut conn)
                .await
                .unwrap();
            // Collections without order_by come in database order: compare sorted by id.
            let mut loaded: Vec<&Article> = e.articles.get().unwrap().iter().collect();
            loaded.sort_by_key(|x| x.id);
            assert_eq!(loaded.len(), articles.len(), "[{}] {}", t.label, a.name);
            for (le, ar) in loaded.iter().zip(&articles) {
                assert_eq!((le.id, &le.title), (ar.id, &ar.title));
                let comments = orm::query::<Comment>()
                    .filter(Comment::article_id.eq(ar.id))
                    .order_by(Comment::body.asc())
                    .all(&mut conn)
                    .await
                    .unwrap();
                let lc: Vec<&str> = le
                    .comments
                    .get()
                    .unwrap()
                    .iter()
                    .map(|c| c.body.as_str())
                    .collect();
                let hc: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
                assert_eq!(lc, hc, "[{}]", t.label);
                log_count += 1;
            }
        }
        assert!(log_count >= 3, "the data set has nested rows to compare");
        // The same author twice around a childless one (author0 has no articles, author2
        // two): each copy gets all of its articles with their comments, the childless one an
        // empty collection that counts as loaded.
        let ids = |a: &Author| {
            let mut v: Vec<(i64, Vec<i64>)> = a
                .articles
                .get()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x.id,
                        x.comments.get().unwrap().iter().map(|c| c.id).collect(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let mut repeated = vec![authors[2].clone(), authors[0].clone(), authors[2].clone()];
        orm::load(
            &mut conn,
            &mut repeated,
            selectinload(Author::articles).selectinload(Article::comments),
        )
        .await
        .unwrap();
        assert_eq!(ids(&repeated[0]).len(), 2, "[{}]", t.label);
        assert_eq!(ids(&repeated[0]), ids(&eager[2]), "[{}]", t.label);
        assert_eq!(ids(&repeated[2]), ids(&eager[2]), "[{}]", t.label);
        assert_eq!(ids(&repeated[1]), Vec::new(), "[{}]", t.label);
        // Many-to-one back up, with a nested collection below it: comment → article → comments.
        let comments = orm::query::<Comment>()
            .options(selectinload(Comment::article).selectinload(Article::comments))
            .all(&mut conn)
            .await
            .unwrap();
        for c in &comments {
            let article = c.article.get().unwrap().unwrap();
            assert_eq!(article.id, c.article_id);
            assert!(article.comments.get().unwrap().iter().any(|x| x.id == c.id));
        }
        // joinedload of a many-to-one with a nested selectinload.
        let articles = orm::query::<Article>()
            .options(joinedload(Article::author).selectinload(Author::articles))
            .all(&mut conn)
            .await
            .unwrap();
        for a in &articles {
            let author = a.author.get().unwrap().unwrap();
            assert!(
                author.articles.get().unwrap().iter().any(|x| x.id == a.id),
                "[{}] {a:?}",
                t.label
            );
        }
        drop(conn);
        t.finish().await;
    }
}

#[tokio::test]
async fn relationship_comparators_any_and_has() {
    for t in common::all_targets("loading_any_has").await {
        let db = t.connect().await;
        seed(&db).await;
        // Users with a post tagged "sql" (many-to-many inside one-to-many, spelled in two steps).
        let with_posts = orm::query::<User>()
            .filter(User::posts.any(Post::title.like("p%")).unwrap())
            .order_by(User::username.asc())
            .all(&db)
            .await
            .unwrap();
        let names: Vec<&str> = with_posts.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["ann", "bob"], "[{}]", t.label);
        let tagged = orm::query::<Post>()
            .filter(Post::tags.any(Tag::name.eq("sql")).unwrap())
            .order_by(Post::title.asc())
            .all(&db)
            .await
            .unwrap();
        let titles: Vec<&str> = tagged.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["p1", "p3"], "[{}]", t.label);
        let by_bob = orm::query::<Post>()
            .filter(Post::author.has(User::username.eq("bob")).unwrap())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(by_bob.len(), 1);
        assert_eq!(by_bob[0].title, "p3");
        // Wrong direction is a clear error, not bad SQL.
        assert!(Post::author.any(User::username.eq("x")).is_err());
        t.finish().await;
    }
}

#[tokio::test]
async fn contains_eager_and_bulk_update_delete_keep_the_session_consistent() {
    for t in common::all_targets("loading_bulk").await {
        let db = t.connect().await;
        seed(&db).await;
        let mut s = db.session();
        // contains_eager: the author comes from the join the query wrote; one statement.
        let anns = s
            .query::<Post>()
            .join(table("users"), Post::author_id.eq(User::id))
            .filter(User::username.eq("ann"))
            .options(orm::contains_eager(Post::author))
            .order_by(Post::id.asc())
            .all()
            .await
            .unwrap();
        assert_eq!(s.statement_count(), 1, "[{}] {:?}", t.label, s.statements());
        assert_eq!(anns.len(), 2);
        for p in &anns {
            assert_eq!(s[*p].author.get().unwrap().unwrap().username, "ann");
        }

        // Bulk UPDATE by query: held objects are re-read.
        let users = s
            .query::<User>()
            .order_by(User::id.asc())
            .all()
            .await
            .unwrap();
        let bob = users[1];
        assert_eq!(s[bob].karma, None);
        let n = s
            .query::<User>()
            .filter(User::username.in_(["bob", "cyd"]))
            .update([User::karma.to(Some(7))])
            .await
            .unwrap();
        assert_eq!(n, 2, "[{}]", t.label);
        assert_eq!(
            s[bob].karma,
            Some(7),
            "[{}] the held object saw the bulk update",
            t.label
        );
        assert_eq!(s[users[0]].karma, None);

        // Bulk DELETE by query: held objects leave the session.
        let n = s
            .query::<Post>()
            .filter(Post::title.eq("p2"))
            .delete()
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert!(
            s.get_ref(anns[1]).is_none(),
            "[{}] the deleted post left the session",
            t.label
        );
        assert!(s.get_ref(anns[0]).is_some());
        s.commit().await.unwrap();
        assert_eq!(orm::query::<Post>().count(&db).await.unwrap(), 2);
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "events")]
struct Event {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
}

#[tokio::test]
async fn streaming_in_batches() {
    for t in common::all_targets("loading_stream").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Event>().metadata())
            .await
            .unwrap();
        let fill = if t.is_postgres() {
            "INSERT INTO events (id, name) SELECT g, 'event ' || g FROM generate_series(1, 10000) g"
        } else {
            "INSERT INTO events (id, name) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000) SELECT x, 'event ' || x FROM c"
        };
        let mut conn = db.connection().await.unwrap();
        if t.is_mysql() {
            // MariaDB stops a recursive CTE after 1,000 iterations by default.
            conn.execute(text("SET max_recursive_iterations = 100000"))
                .await
                .unwrap();
        }
        conn.execute(text(fill)).await.unwrap();
        drop(conn);
        let mut batches = Vec::new();
        let mut sum = 0i64;
        let n = orm::query::<Event>()
            .filter(Event::id.le(9_999))
            .order_by(Event::id.asc())
            .for_each_batch(&db, 1000, |batch| {
                batches.push(batch.len());
                sum += batch.iter().map(|e| e.id).sum::<i64>();
                assert!(batch.iter().all(|e| e.name == format!("event {}", e.id)));
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(n, 9_999, "[{}]", t.label);
        assert_eq!(batches.len(), 10);
        assert!(batches[..9].iter().all(|b| *b == 1000) && batches[9] == 999);
        assert_eq!(sum, 9_999 * 10_000 / 2);
        // An error from the callback stops the stream and is returned.
        let err = orm::query::<Event>()
            .for_each_batch(&db, 100, |_| Err(Error::NotFound))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound));
        t.finish().await;
    }
}

#[tokio::test]
async fn joins_along_relationships() {
    for t in common::all_targets("loading_join_related").await {
        let db = t.connect().await;
        seed(&db).await;
        let by_ann = orm::query::<Post>()
            .join_related(Post::author)
            .unwrap()
            .filter(User::username.eq("ann"))
            .order_by(Post::title.asc())
            .all(&db)
            .await
            .unwrap();
        let titles: Vec<&str> = by_ann.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["p1", "p2"], "[{}]", t.label);
        let sql_taggers = orm::query::<User>()
            .join_related(User::posts)
            .unwrap()
            .filter(Post::tags.any(Tag::name.eq("sql")).unwrap())
            .distinct()
            .order_by(User::username.asc())
            .all(&db)
            .await
            .unwrap();
        let names: Vec<&str> = sql_taggers.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["ann", "bob"], "[{}]", t.label);
        let rust_posts = orm::query::<Post>()
            .join_related(Post::tags)
            .unwrap()
            .filter(Tag::name.eq("rust"))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(rust_posts.len(), 1);
        assert_eq!(rust_posts[0].title, "p1");
        // The guide's posts-count-by-author, joined along the relationship, with left outer
        // join so authors without posts count 0.
        let counts: Vec<(String, i64)> = db
            .query(
                orm::query::<User>()
                    .outerjoin_related(User::posts)
                    .unwrap()
                    .statement()
                    .columns_replaced([User::username.expr(), func::count(Post::id).label("n")])
                    .group_by([User::username.expr()])
                    .order_by(User::username.asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            counts,
            [
                ("ann".to_owned(), 2),
                ("bob".to_owned(), 1),
                ("cyd".to_owned(), 0)
            ],
            "[{}]",
            t.label
        );
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "playlists")]
struct Playlist {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    #[relationship(back_populates = "playlist", cascade = "all, delete-orphan")]
    pub tracks: Many<Track>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "tracks")]
struct Track {
    #[column(primary_key)]
    pub id: i64,
    // No ON DELETE CASCADE in the database: the session's cascade does the work.
    #[column(foreign_key = "playlists.id")]
    pub playlist_id: i64,
    pub title: String,
    #[relationship(back_populates = "tracks")]
    pub playlist: One<Playlist>,
}

#[tokio::test]
async fn cascades_delete_orphan_and_many_to_many_rows() {
    for t in common::all_targets("loading_cascades").await {
        let db = t.connect().await;
        db.create_all(
            &Registry::new()
                .model::<Playlist>()
                .model::<Track>()
                .metadata(),
        )
        .await
        .unwrap();
        let mut s = db.session();
        let rock = s.add(Playlist {
            name: "rock".into(),
            ..Default::default()
        });
        let jazz = s.add(Playlist {
            name: "jazz".into(),
            ..Default::default()
        });
        let mut tracks = Vec::new();
        for (i, p) in [rock, rock, rock, jazz].into_iter().enumerate() {
            let tr = s.add(Track {
                title: format!("t{i}"),
                ..Default::default()
            });
            s.link(p, Playlist::tracks, tr).unwrap();
            tracks.push(tr);
        }
        s.commit().await.unwrap();
        // delete-orphan: a track unlinked from its playlist is deleted.
        s.unlink(rock, Playlist::tracks, tracks[0]).unwrap();
        s.commit().await.unwrap();
        assert_eq!(
            orm::query::<Track>().count(&db).await.unwrap(),
            3,
            "[{}]",
            t.label
        );
        // delete cascade: deleting the playlist deletes its tracks (held or not).
        let held = s.expunge(tracks[2]).unwrap();
        s.delete(rock);
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        let left = orm::query::<Track>().all(&db).await.unwrap();
        assert_eq!(left.len(), 1, "[{}] {left:?}", t.label);
        assert_eq!(left[0].title, "t3");
        assert!(
            s.get_ref(tracks[1]).is_none(),
            "held child left the session with its parent"
        );
        assert_ne!(held.id, 0);
        // Unlinking without delete-orphan (many-to-one side) is refused with a hint.
        let err = s.unlink(tracks[3], Track::playlist, jazz).unwrap_err();
        assert!(err.to_string().contains("delete-orphan"), "{err}");
        s.close().await.unwrap();

        // Many-to-many: association rows added and removed at flush.
        db.create_all(&registry().metadata()).await.unwrap();
        let mut s = db.session();
        let author = s.add(User {
            username: "ann".into(),
            email: "a@x.io".into(),
            ..Default::default()
        });
        let post = s.add(Post {
            title: "m2m".into(),
            ..Default::default()
        });
        s.link(post, Post::author, author).unwrap();
        let rust = s.add(Tag {
            id: 0,
            name: "rust".into(),
        });
        let sql = s.add(Tag {
            id: 0,
            name: "sql".into(),
        });
        s.link(post, Post::tags, rust).unwrap();
        s.link(post, Post::tags, sql).unwrap();
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        let tags_of = |db: Database| async move {
            let mut posts = orm::query::<Post>()
                .options(selectinload(Post::tags))
                .all(&db)
                .await
                .unwrap();
            let mut names: Vec<String> = posts
                .remove(0)
                .tags
                .get()
                .unwrap()
                .iter()
                .map(|t| t.name.clone())
                .collect();
            names.sort();
            names
        };
        assert_eq!(tags_of(db.clone()).await, ["rust", "sql"], "[{}]", t.label);
        s.unlink(post, Post::tags, rust).unwrap();
        s.commit().await.unwrap();
        assert_eq!(tags_of(db.clone()).await, ["sql"], "[{}]", t.label);
        // Deleting the post removes its association rows too.
        s.delete(post);
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        let n: i64 = db
            .query_scalar(select([func::count_star()]).from(table("post_tags")))
            .await
            .unwrap();
        assert_eq!(n, 0);
        s.close().await.unwrap();
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "shelves")]
struct Shelf {
    #[column(primary_key)]
    pub id: i64,
    pub label: String,
    #[relationship(back_populates = "shelf", lazy = "selectin", order_by = "title")]
    pub books: Many<Book>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "books")]
struct Book {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "shelves.id")]
    pub shelf_id: i64,
    pub title: String,
    #[relationship(back_populates = "books", lazy = "joined")]
    pub shelf: One<Shelf>,
}

#[tokio::test]
async fn relationships_declared_eager_load_with_every_query() {
    for t in common::all_targets("loading_eager_default").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Shelf>().model::<Book>().metadata())
            .await
            .unwrap();
        let mut s = db.session();
        let shelf = s.add(Shelf {
            label: "A".into(),
            ..Default::default()
        });
        for title in ["b", "a"] {
            let b = s.add(Book {
                title: title.into(),
                ..Default::default()
            });
            s.link(b, Book::shelf, shelf).unwrap();
        }
        s.commit().await.unwrap();
        s.close().await.unwrap();
        let shelves = orm::query::<Shelf>().all(&db).await.unwrap();
        let titles: Vec<&str> = shelves[0]
            .books
            .get()
            .unwrap()
            .iter()
            .map(|b| b.title.as_str())
            .collect();
        assert_eq!(
            titles,
            ["a", "b"],
            "[{}] loaded without options, in order_by order",
            t.label
        );
        let books = orm::query::<Book>().all(&db).await.unwrap();
        assert!(books
            .iter()
            .all(|b| b.shelf.get().unwrap().unwrap().label == "A"));
        t.finish().await;
    }
}

#[tokio::test]
async fn joinedload_of_a_collection_deduplicates_parents() {
    for t in common::all_targets("loading_joined_collection").await {
        let db = t.connect().await;
        seed(&db).await;
        let mut s = db.session();
        // ann has 2 posts, bob 1, cyd 0; LIMIT 2 applies to users, not to joined rows.
        let users = s
            .query::<User>()
            .options(joinedload(User::posts))
            .order_by(User::username.asc())
            .limit(2)
            .all()
            .await
            .unwrap();
        assert_eq!(s.statement_count(), 1, "[{}] {:?}", t.label, s.statements());
        let shape: Vec<(String, usize)> = users
            .iter()
            .map(|u| (s[*u].username.clone(), s[*u].posts.get().unwrap().len()))
            .collect();
        assert_eq!(
            shape,
            [("ann".to_owned(), 2), ("bob".to_owned(), 1)],
            "[{}]",
            t.label
        );
        s.close().await.unwrap();
        let all = orm::query::<User>()
            .options(joinedload(User::posts))
            .order_by(User::username.asc())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        assert!(all[2].posts.get().unwrap().is_empty(), "cyd: loaded, empty");
        t.finish().await;
    }
}

// A nullable many-to-one for the selectinload test below: a pet may have no owner.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "ld_owners")]
struct Owner {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    #[relationship(back_populates = "owner")]
    pub pets: Many<Pet>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "ld_pets")]
struct Pet {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    #[column(foreign_key = "ld_owners.id")]
    pub owner_id: Option<i64>,
    #[relationship(back_populates = "pets")]
    pub owner: One<Owner>,
}

#[tokio::test]
async fn selectinload_many_to_one_with_null_and_shared_keys() {
    for t in common::all_targets("loading_null_fk").await {
        let db = t.connect().await;
        let md = Registry::new().model::<Owner>().model::<Pet>().metadata();
        db.create_all(&md).await.unwrap();
        let mut s = db.session();
        let ann = s.add(Owner {
            name: "ann".into(),
            ..Default::default()
        });
        s.add(Owner {
            name: "bob".into(),
            ..Default::default()
        });
        for name in ["rex", "tom"] {
            let pet = s.add(Pet {
                name: name.into(),
                ..Default::default()
            });
            s.link(pet, Pet::owner, ann).unwrap();
        }
        s.add(Pet {
            name: "stray".into(),
            ..Default::default()
        });
        s.commit().await.unwrap();
        s.close().await.unwrap();

        let mut conn = db.connection().await.unwrap();
        // Two pets share one owner (one key in the IN list, a copy for each), the stray's
        // NULL key is loaded as no owner.
        let pets = orm::query::<Pet>()
            .order_by(Pet::name.asc())
            .options(selectinload(Pet::owner))
            .all(&mut conn)
            .await
            .unwrap();
        let owners: Vec<(&str, Option<&str>)> = pets
            .iter()
            .map(|p| {
                let owner = p.owner.get().unwrap();
                (p.name.as_str(), owner.map(|o| o.name.as_str()))
            })
            .collect();
        assert_eq!(
            owners,
            [("rex", Some("ann")), ("stray", None), ("tom", Some("ann"))],
            "[{}]",
            t.label
        );
        // The other way: bob's collection is loaded and empty, the stray belongs to no one.
        let people = orm::query::<Owner>()
            .order_by(Owner::name.asc())
            .options(selectinload(Owner::pets))
            .all(&mut conn)
            .await
            .unwrap();
        let pets_of: Vec<Vec<&str>> = people
            .iter()
            .map(|o| {
                let mut v: Vec<&str> = o
                    .pets
                    .get()
                    .unwrap()
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect();
                v.sort();
                v
            })
            .collect();
        assert_eq!(pets_of, [vec!["rex", "tom"], vec![]], "[{}]", t.label);
        drop(conn);
        t.finish().await;
    }
}
