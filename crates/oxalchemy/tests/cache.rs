//! The process-local query cache (`.cache(ttl)`, `orm::cached`): a repeated query is a hit;
//! a write through a session (at commit), a bulk update, a bulk insert or an upsert on a
//! table read makes the next read a miss with the new rows; a write to another table does
//! not; entries expire; two in-memory databases with one URL never share entries. One test
//! function, so the process-wide counters are not shared with a parallel test. Every case
//! runs on SQLite (memory, file) and PostgreSQL.

mod common;

use std::time::Duration;

use oxalchemy::orm::{
    self, bulk_insert, bulk_update, cached, process_cache_stats, upsert, Mapping, ProcessCacheStats,
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
