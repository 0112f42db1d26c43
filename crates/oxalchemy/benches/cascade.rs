//! Relationships as values (save-update cascade) vs `add` + `link`, same run, interleaved,
//! on SQLite (file) and PostgreSQL. Each round adds 10,000 posts and commits:
//!
//! * `fk`: the author is flushed first and every post gets `author_id` by hand — no
//!   relationship work at all (the floor);
//! * `link`: `add` the post, then `s.link(post, Post::author, author)`;
//! * `cascade`: `s.add(Post { author: author.into(), .. })` (a handle, or a new value).
//!
//! Both `link` and `cascade` keep the two sides in step (the author's `posts` holds copies
//! of its posts after commit), so `link / fk` is the cost of that bookkeeping and
//! `cascade / link` (target ≤ 1.10×) the cost of spelling the relationship as a value.
//!
//! `cargo bench -p oxalchemy --bench cascade`

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::prelude::*;

const POSTS: usize = 10_000;
const ROUNDS: usize = 7;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_authors")]
struct Author {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub name: String,
    #[relationship(back_populates = "author")]
    pub posts: Many<Article>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_articles")]
struct Article {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 200)]
    pub title: String,
    pub body: Option<String>,
    #[column(foreign_key = "bench_authors.id")]
    pub author_id: i64,
    #[relationship(back_populates = "posts")]
    pub author: One<Author>,
}

fn article(i: usize) -> Article {
    Article {
        title: format!("post {i}"),
        body: Some(format!("body of post {i}")),
        ..Default::default()
    }
}

fn author(i: usize) -> Author {
    Author {
        name: format!("author {i}"),
        ..Default::default()
    }
}

fn metadata() -> MetaData {
    Registry::new()
        .model::<Author>()
        .model::<Article>()
        .metadata()
}

async fn reset(db: &Database) {
    db.drop_all(&metadata()).await.expect("drop");
    db.create_all(&metadata()).await.expect("create");
}

#[derive(Clone, Copy)]
enum Way {
    Fk,
    Link,
    Cascade,
}

/// One author, 10,000 posts.
async fn one_author(db: &Database, way: Way) -> Duration {
    reset(db).await;
    let mut s = db.session();
    let start = Instant::now();
    let a = s.add(author(0));
    match way {
        Way::Fk => {
            s.flush().await.expect("flush");
            let id = s[a].id;
            for i in 0..POSTS {
                s.add(Article {
                    author_id: id,
                    ..article(i)
                });
            }
        }
        Way::Link => {
            for i in 0..POSTS {
                let p = s.add(article(i));
                s.link(p, Article::author, a).expect("link");
            }
        }
        Way::Cascade => {
            for i in 0..POSTS {
                s.add(Article {
                    author: a.into(),
                    ..article(i)
                });
            }
        }
    }
    s.commit().await.expect("commit");
    let t = start.elapsed();
    if !matches!(way, Way::Fk) {
        assert_eq!(s[a].posts.get().expect("in step").len(), POSTS);
    }
    t
}

/// 10,000 posts, each with a new author.
async fn author_each(db: &Database, way: Way) -> Duration {
    reset(db).await;
    let mut s = db.session();
    let start = Instant::now();
    match way {
        Way::Fk => {
            let authors = s.add_all((0..POSTS).map(author));
            s.flush().await.expect("flush");
            for (i, a) in authors.into_iter().enumerate() {
                let id = s[a].id;
                s.add(Article {
                    author_id: id,
                    ..article(i)
                });
            }
        }
        Way::Link => {
            for i in 0..POSTS {
                let a = s.add(author(i));
                let p = s.add(article(i));
                s.link(p, Article::author, a).expect("link");
            }
        }
        Way::Cascade => {
            for i in 0..POSTS {
                s.add(Article {
                    author: author(i).into(),
                    ..article(i)
                });
            }
        }
    }
    s.commit().await.expect("commit");
    let t = start.elapsed();
    assert_eq!(s.len(), 2 * POSTS);
    t
}

async fn bench(label: &str, db: &Database) {
    for (what, each) in [
        ("1 author, 10,000 posts", false),
        ("10,000 posts, own author", true),
    ] {
        let (mut fk, mut link, mut cascade) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            for way in [Way::Fk, Way::Link, Way::Cascade] {
                let t = if each {
                    author_each(db, way).await
                } else {
                    one_author(db, way).await
                };
                match way {
                    Way::Fk => fk.push(t),
                    Way::Link => link.push(t),
                    Way::Cascade => cascade.push(t),
                }
            }
        }
        let (f, l, c) = (median(fk), median(link), median(cascade));
        println!(
            "{label:<10} {what:<26} fk {:>8.2} ms | link {:>8.2} ms | cascade {:>8.2} ms | link/fk {:.2}x | cascade/link {:.2}x",
            f.as_secs_f64() * 1e3,
            l.as_secs_f64() * 1e3,
            c.as_secs_f64() * 1e3,
            l.as_secs_f64() / f.as_secs_f64(),
            c.as_secs_f64() / l.as_secs_f64(),
        );
    }
    db.drop_all(&metadata()).await.expect("cleanup");
}

fn main() {
    common::run(async {
        let (path, db) = common::sqlite("cascade").await;
        bench("sqlite", &db).await;
        drop(db);
        common::remove_sqlite(&path);
        if let Some((db, _)) = common::postgres().await {
            bench("postgresql", &db).await;
        }
    });
}
