//! Rows mixing whole models and columns (issue 12, item 3), a query naming a table it does
//! not join, and many-to-many collections kept in step by the session (item 2) — on SQLite
//! (memory and file), PostgreSQL and MariaDB.

mod blog;
mod common;

use blog::*;
use oxalchemy::prelude::*;

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    three_authors(&db).await;
    db
}

/// Users with their post count: the user decoded whole, the count beside it; the outer
/// join keeps users without posts (count 0).
async fn users_with_post_counts(s: &mut Session) -> Result<Vec<(User, i64)>, Error> {
    s.query_columns((entity::<User>(), func::count(Post::id).label("post_count")))
        .outerjoin_related(User::posts)?
        .group_by(User::id)
        .order_by(User::username.asc())
        .all()
        .await
}

#[tokio::test]
async fn rows_of_models_and_columns() {
    for t in common::all_targets("rows_mixed").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let l = &t.label;

        let counts = users_with_post_counts(&mut s).await.unwrap();
        let shape: Vec<(&str, i64)> = counts
            .iter()
            .map(|(u, n)| (u.username.as_str(), *n))
            .collect();
        assert_eq!(shape, [("ann", 2), ("bob", 0), ("cyd", 1)], "[{l}]");
        // Each user is whole: key, JSON, enum and mixin columns decoded.
        for (u, _) in &counts {
            assert!(u.base.id > 0, "[{l}]");
            assert_eq!(u.email, format!("{}@example.com", u.username), "[{l}]");
            assert_eq!(u.status, Status::Active, "[{l}]");
            assert!(u.ts.created_at.timestamp() > 0, "[{l}]");
        }

        // A model and a column of a joined one: (Post, String).
        let rows: Vec<(Post, String)> = s
            .query_columns((entity::<Post>(), User::username))
            .join_related(Post::author)
            .unwrap()
            .order_by(Post::title.asc())
            .all()
            .await
            .unwrap();
        let shape: Vec<(&str, &str)> = rows
            .iter()
            .map(|(p, name)| (p.title.as_str(), name.as_str()))
            .collect();
        assert_eq!(
            shape,
            [("a1", "ann"), ("a2", "ann"), ("c1", "cyd")],
            "[{l}]"
        );
        assert!(rows.iter().all(|(p, _)| p.author_id > 0), "[{l}]");

        // Two models, one outer-joined as an Option, and a column: (User, Option<Post>, String).
        let rows: Vec<(User, Option<Post>, String)> = s
            .query_columns((entity::<User>(), entity::<Option<Post>>(), User::email))
            .outerjoin_related(User::posts)
            .unwrap()
            .order_by(User::username.asc())
            .order_by(Post::title.asc())
            .all()
            .await
            .unwrap();
        let shape: Vec<(&str, Option<&str>, &str)> = rows
            .iter()
            .map(|(u, p, e)| {
                (
                    u.username.as_str(),
                    p.as_ref().map(|p| p.title.as_str()),
                    e.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("ann", Some("a1"), "ann@example.com"),
                ("ann", Some("a2"), "ann@example.com"),
                ("bob", None, "bob@example.com"),
                ("cyd", Some("c1"), "cyd@example.com"),
            ],
            "[{l}]"
        );
        for (u, p, _) in &rows {
            if let Some(p) = p {
                assert_eq!(p.author_id, u.base.id, "[{l}]");
            }
        }

        // An outer-joined model read bare: bob's row has none, and the error says so.
        let err = s
            .query_columns((entity::<User>(), entity::<Post>()))
            .outerjoin_related(User::posts)
            .unwrap()
            .all::<(User, Post)>()
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, Error::Mapping { .. }) && msg.contains("Option<Post>"),
            "[{l}] {msg}"
        );

        // Rows are owned values: the session holds none of them.
        assert!(s.is_empty(), "[{l}]");
        s.close().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn a_column_of_a_table_not_joined_is_an_error_naming_the_join() {
    for t in common::all_targets("rows_unjoined").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let l = &t.label;

        let err = s
            .query_columns((User::username, func::count(Post::id).label("post_count")))
            .group_by(User::username)
            .all::<(String, i64)>()
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Mapping { .. }), "[{l}] {msg}");
        assert!(
            msg.contains("`posts.id`") && msg.contains(".join_related(User::posts)"),
            "[{l}] {msg}"
        );

        // In a filter, and for rows of models.
        let err = s
            .query_models::<(User,)>()
            .filter(Post::title.eq("a1"))
            .all()
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`posts.title`") && msg.contains(".join_related(User::posts)"),
            "[{l}] {msg}"
        );
        let err = s
            .query_columns((entity::<Post>(), User::username))
            .all::<(Post, String)>()
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(".join_related(Post::author)"),
            "[{l}] {err}"
        );

        // Joined, the same query runs; a subquery's own columns are not the outer query's.
        let n: Vec<(String, i64)> = s
            .query_columns((User::username, func::count(Post::id).label("post_count")))
            .join_related(User::posts)
            .unwrap()
            .filter(
                User::id
                    .expr()
                    .in_subquery(select([col("author_id")]).from(table("posts"))),
            )
            .group_by(User::username)
            .order_by(User::username.asc())
            .all()
            .await
            .unwrap();
        assert_eq!(n, [("ann".to_owned(), 2), ("cyd".to_owned(), 1)], "[{l}]");
        s.close().await.unwrap();
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "rows_articles")]
struct Article {
    #[column(primary_key)]
    id: i64,
    #[column(length = 50)]
    title: String,
    #[relationship(secondary = "rows_article_labels", back_populates = "articles")]
    labels: Many<Label>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "rows_labels")]
struct Label {
    #[column(primary_key)]
    id: i64,
    #[column(length = 50)]
    name: String,
    #[relationship(secondary = "rows_article_labels", back_populates = "labels")]
    articles: Many<Article>,
}

fn article_labels() -> Table {
    Table::new("rows_article_labels")
        .column(
            Column::new("rows_article_id", SqlType::BigInteger)
                .primary_key()
                .references("rows_articles", "id")
                .on_delete(ReferentialAction::Cascade),
        )
        .column(
            Column::new("rows_label_id", SqlType::BigInteger)
                .primary_key()
                .references("rows_labels", "id")
                .on_delete(ReferentialAction::Cascade),
        )
}

/// The articles, labels and their association table, created.
async fn m2m_database(t: &common::Target) -> (Database, MetaData) {
    let db = t.connect().await;
    let meta = oxalchemy::orm::Registry::new()
        .model::<Article>()
        .model::<Label>()
        .table(article_labels())
        .metadata();
    db.create_all(&meta).await.unwrap();
    (db, meta)
}

fn article(s: &mut Session, title: &str) -> Handle<Article> {
    s.add(Article {
        title: title.into(),
        ..Default::default()
    })
}

fn label(s: &mut Session, name: &str) -> Handle<Label> {
    s.add(Label {
        name: name.into(),
        ..Default::default()
    })
}

fn titles(v: &[Article]) -> Vec<&str> {
    let mut t: Vec<&str> = v.iter().map(|a| a.title.as_str()).collect();
    t.sort_unstable();
    t
}

fn names(v: &[Label]) -> Vec<&str> {
    let mut t: Vec<&str> = v.iter().map(|a| a.name.as_str()).collect();
    t.sort_unstable();
    t
}

#[tokio::test]
async fn many_to_many_collections_in_step() {
    for t in common::all_targets("rows_m2m").await {
        let (db, _) = m2m_database(&t).await;
        let l = &t.label;
        let mut s = db.session();
        let a1 = article(&mut s, "a1");
        let a2 = article(&mut s, "a2");
        let rust = label(&mut s, "rust");
        let sql = label(&mut s, "sql");

        // Both sides show a link at once, before any flush.
        s.link(a1, Article::labels, rust).unwrap();
        s.link(a1, Article::labels, sql).unwrap();
        s.link(a2, Article::labels, rust).unwrap();
        // Linking twice shows it once.
        s.link(a2, Article::labels, rust).unwrap();
        assert_eq!(names(s[a1].labels.get().unwrap()), ["rust", "sql"], "[{l}]");
        assert_eq!(
            titles(s[rust].articles.get().unwrap()),
            ["a1", "a2"],
            "[{l}]"
        );
        assert_eq!(titles(s[sql].articles.get().unwrap()), ["a1"], "[{l}]");

        // After commit the copies carry the generated keys.
        s.commit().await.unwrap();
        let rust_id = s[rust].id;
        assert!(rust_id > 0, "[{l}]");
        assert!(
            s[a1].labels.get().unwrap().iter().any(|x| x.id == rust_id),
            "[{l}]"
        );
        assert!(
            s[rust].articles.get().unwrap().iter().all(|a| a.id > 0),
            "[{l}]"
        );

        // Unlink: both sides drop it at once, and the row goes at flush.
        s.unlink(a1, Article::labels, rust).unwrap();
        assert_eq!(names(s[a1].labels.get().unwrap()), ["sql"], "[{l}]");
        assert_eq!(titles(s[rust].articles.get().unwrap()), ["a2"], "[{l}]");
        s.flush().await.unwrap();
        assert_eq!(names(s[a1].labels.get().unwrap()), ["sql"], "[{l}]");
        assert_eq!(titles(s[rust].articles.get().unwrap()), ["a2"], "[{l}]");
        s.commit().await.unwrap();
        assert_eq!(association_rows(&mut s).await.len(), 2, "[{l}]");
        s.close().await.unwrap();

        // Loaded collections: an unlink takes the loaded item out, a link appends.
        let mut s = db.session();
        let a1 = s
            .query::<Article>()
            .filter(Article::title.eq("a1"))
            .options(oxalchemy::orm::selectinload(Article::labels))
            .one()
            .await
            .unwrap();
        let sql = s
            .query::<Label>()
            .filter(Label::name.eq("sql"))
            .one()
            .await
            .unwrap();
        let rust = s
            .query::<Label>()
            .filter(Label::name.eq("rust"))
            .one()
            .await
            .unwrap();
        assert_eq!(names(s[a1].labels.get().unwrap()), ["sql"], "[{l}]");
        s.unlink(a1, Article::labels, sql).unwrap();
        s.link(a1, Article::labels, rust).unwrap();
        assert_eq!(names(s[a1].labels.get().unwrap()), ["rust"], "[{l}]");
        s.commit().await.unwrap();
        assert_eq!(names(s[a1].labels.get().unwrap()), ["rust"], "[{l}]");

        // Deleting an object takes it out of its partners' collections at flush.
        let go = label(&mut s, "go");
        let a3 = article(&mut s, "a3");
        let a4 = article(&mut s, "a4");
        s.link(a3, Article::labels, go).unwrap();
        s.link(a4, Article::labels, go).unwrap();
        s.commit().await.unwrap();
        assert_eq!(titles(s[go].articles.get().unwrap()), ["a3", "a4"], "[{l}]");
        s.delete(a3);
        s.commit().await.unwrap();
        assert_eq!(titles(s[go].articles.get().unwrap()), ["a4"], "[{l}]");
        assert_eq!(names(s[a4].labels.get().unwrap()), ["go"], "[{l}]");
        s.close().await.unwrap();
        t.finish().await;
    }
}

/// The association rows of `rows_article_labels`, as (article, label) keys, sorted.
async fn association_rows(s: &mut Session) -> Vec<(i64, i64)> {
    let mut rows: Vec<(i64, i64)> = s
        .select(
            select([col("rows_article_id"), col("rows_label_id")])
                .from(table("rows_article_labels")),
        )
        .await
        .unwrap();
    rows.sort_unstable();
    rows
}

/// A many-to-many link is one association whichever side names it: linked from both
/// sides it is written once, and unlinked from the other side it is not written at all
/// (before a flush) or deleted (after).
#[tokio::test]
async fn many_to_many_linked_and_unlinked_from_either_side() {
    for t in common::all_targets("rows_m2m_sides").await {
        let (db, meta) = m2m_database(&t).await;
        let l = &t.label;
        let mut s = db.session();
        let a = article(&mut s, "a");
        let x = label(&mut s, "x");
        let y = label(&mut s, "y");
        // Linked from both sides: one association, shown once on each side.
        s.link(a, Article::labels, x).unwrap();
        s.link(x, Label::articles, a).unwrap();
        assert_eq!(names(s[a].labels.get().unwrap()), ["x"], "[{l}]");
        assert_eq!(titles(s[x].articles.get().unwrap()), ["a"], "[{l}]");
        // Linked from one side, unlinked from the other before any flush: nothing to write.
        s.link(a, Article::labels, y).unwrap();
        s.unlink(y, Label::articles, a).unwrap();
        assert_eq!(names(s[a].labels.get().unwrap()), ["x"], "[{l}]");
        s.commit().await.unwrap();
        let (a_id, x_id, y_id) = (s[a].id, s[x].id, s[y].id);
        assert_eq!(association_rows(&mut s).await, [(a_id, x_id)], "[{l}]");

        // Written, then unlinked from the other side: deleted at flush.
        s.unlink(x, Label::articles, a).unwrap();
        s.link(y, Label::articles, a).unwrap();
        s.commit().await.unwrap();
        assert_eq!(association_rows(&mut s).await, [(a_id, y_id)], "[{l}]");
        assert_eq!(names(s[a].labels.get().unwrap()), ["y"], "[{l}]");

        // Unlinked and linked again before a flush: one row, whether it was stored (y) or
        // not (x).
        s.unlink(a, Article::labels, y).unwrap();
        s.link(y, Label::articles, a).unwrap();
        s.unlink(x, Label::articles, a).unwrap();
        s.link(a, Article::labels, x).unwrap();
        s.commit().await.unwrap();
        assert_eq!(
            association_rows(&mut s).await,
            [(a_id, x_id), (a_id, y_id)],
            "[{l}]"
        );
        assert_eq!(names(s[a].labels.get().unwrap()), ["x", "y"], "[{l}]");
        s.close().await.unwrap();
        db.drop_all(&meta).await.unwrap();
        t.finish().await;
    }
}
