//! The process-local query cache (`.cache(ttl)`, `orm::cached`): a repeated query is a hit;
//! a write through a session (at commit), a bulk update, a bulk insert or an upsert on a
//! table read makes the next read a miss with the new rows; a write to another table does
//! not; entries expire; two in-memory databases with one URL never share entries. Every
//! other ORM write invalidates too: `orm::insert` / `insert_many` / `update` / `delete`, a
//! session's query-level update and delete, `bulk_delete`, and a delete that cascades to a
//! related table. One test
//! function, so the process-wide counters are not shared with a parallel test. Every case
//! runs on SQLite (memory, file) and PostgreSQL.

mod common;

use std::time::Duration;

use oxalchemy::orm::{
    self, bulk_delete, bulk_insert, bulk_update, cached, process_cache_stats, upsert, Mapping,
    ProcessCacheStats,
};
use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "cache_posts")]
struct Post {
    #[column(primary_key)]
    id: i64,
    #[column(unique, length = 50)]
    slug: String,
    views: i32,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "cache_other")]
struct Other {
    #[column(primary_key)]
    id: i64,
    note: String,
}

const TTL: Duration = Duration::from_secs(60);

fn post(slug: &str, views: i32) -> Post {
    Post {
        slug: slug.into(),
        views,
        ..Default::default()
    }
}

async fn views(db: &Database) -> Vec<i32> {
    orm::query::<Post>()
        .order_by(Post::slug.asc())
        .cache(TTL)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.views)
        .collect()
}

/// Hits and misses since `before`.
fn since(before: ProcessCacheStats) -> (u64, u64) {
    let now = process_cache_stats();
    (now.hits - before.hits, now.misses - before.misses)
}

#[tokio::test]
async fn cached_reads_and_what_invalidates_them() {
    for t in common::all_targets("cache").await {
        // Boxed: the whole case as one future is too large for the test thread's stack.
        Box::pin(case(&t)).await;
        Box::pin(every_orm_write_invalidates(&t)).await;
        t.finish().await;
    }
}

async fn case(t: &common::Target) {
    {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Post>().model::<Other>().metadata())
            .await
            .unwrap();
        bulk_insert::<Post>([post("a", 1), post("b", 2)])
            .execute(&db)
            .await
            .unwrap();

        let s0 = process_cache_stats();
        assert_eq!(views(&db).await, [1, 2]);
        assert_eq!(views(&db).await, [1, 2]);
        assert_eq!(since(s0), (1, 1), "[{}] a repeat is a hit", t.label);

        // A write the cache cannot see (raw SQL) is served stale: that is the contract.
        db.execute(text("UPDATE cache_posts SET views = 100"))
            .await
            .unwrap();
        assert_eq!(views(&db).await, [1, 2], "[{}]", t.label);
        orm::invalidate_tables(["cache_posts"]);
        assert_eq!(views(&db).await, [100, 100], "[{}]", t.label);

        // A session write invalidates at commit.
        let mut s = db.session();
        let a = s
            .query::<Post>()
            .filter(Post::slug.eq("a"))
            .one()
            .await
            .unwrap();
        s[a].views = 5;
        s.flush().await.unwrap();
        // (A shared-cache memory database locks the table for readers until the commit.)
        if t.label != "sqlite-memory" {
            assert_eq!(
                views(&db).await,
                [100, 100],
                "[{}] not committed yet",
                t.label
            );
        }
        s.commit().await.unwrap();
        assert_eq!(views(&db).await, [5, 100], "[{}] after commit", t.label);

        // A bulk update, a bulk insert and an upsert invalidate.
        let id = orm::query::<Post>()
            .filter(Post::slug.eq("b"))
            .one(&db)
            .await
            .unwrap()
            .id;
        bulk_update::<Post>([Mapping::new().set(Post::id, id).set(Post::views, 7)])
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(views(&db).await, [5, 7], "[{}] bulk update", t.label);
        bulk_insert::<Post>([post("c", 3)])
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(views(&db).await, [5, 7, 3], "[{}] bulk insert", t.label);
        upsert::<Post>([post("c", 30)])
            .on_conflict(Post::slug)
            .update(Post::views)
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(views(&db).await, [5, 7, 30], "[{}] upsert", t.label);

        // A write to another table leaves the entry alone.
        let s1 = process_cache_stats();
        assert_eq!(views(&db).await, [5, 7, 30]);
        bulk_insert::<Other>([Other {
            id: 0,
            note: "x".into(),
        }])
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(views(&db).await, [5, 7, 30]);
        assert_eq!(
            since(s1).0,
            2,
            "[{}] other tables do not invalidate",
            t.label
        );

        // Core selects of columns, keyed by their values too.
        let top = |min: i32| {
            cached::<(String,)>(
                select([col("slug")])
                    .from(table("cache_posts"))
                    .filter(col("views").gt(lit(min)))
                    .order_by(col("slug").asc()),
                TTL,
            )
        };
        assert_eq!(top(6).all(&db).await.unwrap().len(), 2);
        assert_eq!(top(10).all(&db).await.unwrap().len(), 1);
        let s2 = process_cache_stats();
        assert_eq!(top(6).all(&db).await.unwrap().len(), 2);
        assert_eq!(since(s2), (1, 0), "[{}]", t.label);

        // Entries expire.
        let short = || {
            orm::query::<Post>()
                .filter(Post::views.lt(6))
                .cache(Duration::from_millis(50))
                .all(&db)
        };
        short().await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        let s3 = process_cache_stats();
        short().await.unwrap();
        assert_eq!(since(s3), (0, 1), "[{}] expired", t.label);

        // Another database with the same URL has entries of its own.
        if t.label == "sqlite-memory" {
            let other = t.connect().await;
            other
                .create_all(&Registry::new().model::<Post>().metadata())
                .await
                .unwrap();
            assert_eq!(views(&other).await, Vec::<i32>::new());
        }
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "cache_authors")]
struct Author {
    #[column(primary_key)]
    id: i64,
    #[column(length = 50)]
    name: String,
    #[relationship(back_populates = "author")]
    articles: Many<Article>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "cache_articles")]
struct Article {
    #[column(primary_key)]
    id: i64,
    #[column(length = 50)]
    title: String,
    views: i32,
    #[column(foreign_key = "cache_authors.id", on_delete = "cascade")]
    author_id: i64,
    #[relationship(back_populates = "articles")]
    author: One<Author>,
}

/// The articles as (title, views), read through the cache.
async fn articles(db: &Database) -> Vec<(String, i32)> {
    orm::query::<Article>()
        .order_by(Article::title.asc())
        .cache(TTL)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.title, a.views))
        .collect()
}

fn owned(rows: &[(&str, i32)]) -> Vec<(String, i32)> {
    rows.iter().map(|(t, v)| ((*t).to_owned(), *v)).collect()
}

/// Each write is preceded by a cached read of the table, so a write that failed to
/// invalidate would be seen as the old rows coming back.
async fn every_orm_write_invalidates(t: &common::Target) {
    let db = t.connect().await;
    db.create_all(
        &Registry::new()
            .model::<Author>()
            .model::<Article>()
            .metadata(),
    )
    .await
    .unwrap();
    let mut author = Author {
        name: "ann".into(),
        ..Default::default()
    };
    orm::insert(&db, &mut author).await.unwrap();
    let article = |title: &str, views: i32| Article {
        title: title.into(),
        views,
        author_id: author.id,
        ..Default::default()
    };
    let label = t.label;

    assert_eq!(articles(&db).await, owned(&[]), "[{label}]");
    let mut a = article("a", 1);
    orm::insert(&db, &mut a).await.unwrap();
    assert_eq!(
        articles(&db).await,
        owned(&[("a", 1)]),
        "[{label}] orm::insert"
    );

    let mut more = [article("b", 2), article("c", 3)];
    let mut conn = db.connection().await.unwrap();
    orm::insert_many(&mut conn, &mut more).await.unwrap();
    drop(conn);
    assert_eq!(
        articles(&db).await,
        owned(&[("a", 1), ("b", 2), ("c", 3)]),
        "[{label}] orm::insert_many"
    );

    a.views = 10;
    orm::update(&db, &mut a).await.unwrap();
    assert_eq!(
        articles(&db).await,
        owned(&[("a", 10), ("b", 2), ("c", 3)]),
        "[{label}] orm::update"
    );

    orm::delete(&db, &a).await.unwrap();
    assert_eq!(
        articles(&db).await,
        owned(&[("b", 2), ("c", 3)]),
        "[{label}] orm::delete"
    );

    // A session's query-level UPDATE and DELETE, seen once committed.
    let mut s = db.session();
    let n = s
        .query::<Article>()
        .filter(Article::title.eq("b"))
        .update([Article::views.to(20)])
        .await
        .unwrap();
    assert_eq!(n, 1, "[{label}]");
    s.commit().await.unwrap();
    assert_eq!(
        articles(&db).await,
        owned(&[("b", 20), ("c", 3)]),
        "[{label}] session query update"
    );
    let mut s = db.session();
    let n = s
        .query::<Article>()
        .filter(Article::title.eq("c"))
        .delete()
        .await
        .unwrap();
    assert_eq!(n, 1, "[{label}]");
    s.commit().await.unwrap();
    assert_eq!(
        articles(&db).await,
        owned(&[("b", 20)]),
        "[{label}] session query delete"
    );

    // A session adding an object, seen once committed.
    let mut s = db.session();
    s.add(article("d", 4));
    s.commit().await.unwrap();
    assert_eq!(
        articles(&db).await,
        owned(&[("b", 20), ("d", 4)]),
        "[{label}] session add"
    );

    // bulk_delete of the table's own rows.
    let d = orm::query::<Article>()
        .filter(Article::title.eq("d"))
        .one(&db)
        .await
        .unwrap();
    let n = bulk_delete::<Article, _>([d.id])
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(n, 1, "[{label}]");
    assert_eq!(
        articles(&db).await,
        owned(&[("b", 20)]),
        "[{label}] bulk_delete"
    );

    // Deleting an author takes its articles with it (ON DELETE CASCADE): a cached read of
    // the articles' table alone (a Core select, which does not also read the authors) is
    // invalidated by a delete of the related table, by bulk_delete and by orm::delete.
    let titles = || {
        cached::<(String,)>(
            select([col("title")])
                .from(table("cache_articles"))
                .order_by(col("title").asc()),
            TTL,
        )
        .all(&db)
    };
    assert_eq!(titles().await.unwrap().len(), 1, "[{label}]");
    let n = bulk_delete::<Author, _>([author.id])
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(n, 1, "[{label}]");
    assert_eq!(
        titles().await.unwrap(),
        Vec::<(String,)>::new(),
        "[{label}] bulk_delete cascading to a related table"
    );
    let mut bob = Author {
        name: "bob".into(),
        ..Default::default()
    };
    orm::insert(&db, &mut bob).await.unwrap();
    let mut e = Article {
        title: "e".into(),
        author_id: bob.id,
        ..Default::default()
    };
    orm::insert(&db, &mut e).await.unwrap();
    assert_eq!(titles().await.unwrap(), [("e".to_owned(),)], "[{label}]");
    orm::delete(&db, &bob).await.unwrap();
    assert_eq!(
        titles().await.unwrap(),
        Vec::<(String,)>::new(),
        "[{label}] orm::delete cascading to a related table"
    );
}
