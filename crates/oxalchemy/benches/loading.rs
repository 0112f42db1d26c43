//! Diesel's "loading associations" workload: 100 users × 10 posts × 10 comments, loaded as
//! users with their posts and each post's comments — through
//! `selectinload(User::posts).selectinload(Post::comments)` vs the raw driver's three
//! queries grouped by hand, same run, SQLite and PostgreSQL.
//!
//! `cargo bench -p oxalchemy --bench loading`

mod common;

use common::median;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use oxalchemy::orm::{self, selectinload};
use oxalchemy::prelude::*;

const USERS: usize = 100;
const PER: usize = 10;
const ROUNDS: usize = 30;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "la_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
    #[relationship(back_populates = "user")]
    pub posts: Many<Post>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "la_posts")]
struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "la_users.id")]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
    #[relationship(back_populates = "posts")]
    pub user: One<User>,
    #[relationship(back_populates = "post")]
    pub comments: Many<Comment>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "la_comments")]
struct Comment {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "la_posts.id")]
    pub post_id: i64,
    pub text: String,
    #[relationship(back_populates = "comments")]
    pub post: One<Post>,
}

fn metadata() -> MetaData {
    Registry::new()
        .model::<User>()
        .model::<Post>()
        .model::<Comment>()
        .metadata()
}

async fn fill(db: &Database) {
    db.drop_all(&metadata()).await.expect("drop");
    db.create_all(&metadata()).await.expect("create");
    let mut s = db.session();
    for u in 0..USERS {
        let user = s.add(User {
            name: format!("user{u}"),
            hair_color: (u % 2 == 0).then(|| "black".into()),
            ..Default::default()
        });
        for p in 0..PER {
            let post = s.add(Post {
                title: format!("post {u}-{p}"),
                body: Some("body".into()),
                ..Default::default()
            });
            s.link(post, Post::user, user).expect("link");
            for c in 0..PER {
                let comment = s.add(Comment {
                    text: format!("comment {u}-{p}-{c}"),
                    ..Default::default()
                });
                s.link(comment, Comment::post, post).expect("link");
            }
        }
    }
    s.commit().await.expect("fill");
}

fn count(users: &[User]) -> usize {
    users
        .iter()
        .map(|u| {
            u.posts
                .get()
                .map(|ps| {
                    ps.iter()
                        .map(|p| p.comments.get().map_or(0, |c| c.len()))
                        .sum::<usize>()
                })
                .unwrap_or(0)
        })
        .sum()
}

const Q_USERS: &str = "SELECT id, name, hair_color FROM la_users";

fn in_list(n: usize, pg: bool) -> String {
    (1..=n)
        .map(|i| if pg { format!("${i}") } else { "?".to_owned() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn group_raw(users: Vec<User>, posts: Vec<Post>, comments: Vec<Comment>) -> Vec<User> {
    let mut by_post: HashMap<i64, Vec<Comment>> = HashMap::new();
    for c in comments {
        by_post.entry(c.post_id).or_default().push(c);
    }
    let mut by_user: HashMap<i64, Vec<Post>> = HashMap::new();
    for mut p in posts {
        p.comments = Many::loaded(by_post.remove(&p.id).unwrap_or_default());
        by_user.entry(p.user_id).or_default().push(p);
    }
    users
        .into_iter()
        .map(|mut u| {
            u.posts = Many::loaded(by_user.remove(&u.id).unwrap_or_default());
            u
        })
        .collect()
}

async fn ours(conn: &mut Connection) -> Vec<User> {
    orm::query::<User>()
        .options(selectinload(User::posts).selectinload(Post::comments))
        .all(conn)
        .await
        .expect("ours")
}

fn report(db: &str, raw: Vec<Duration>, ours: Vec<Duration>) {
    let (r, o) = (median(raw), median(ours));
    println!(
        "{db:<10} users+posts+comments (100×10×10): raw 3 queries {:>7.2} ms | selectinload {:>7.2} ms | ratio {:.2}x",
        r.as_secs_f64() * 1e3,
        o.as_secs_f64() * 1e3,
        o.as_secs_f64() / r.as_secs_f64()
    );
}

async fn bench_sqlite() {
    let path = common::sqlite_path("loading");
    let db = Database::connect(format!("sqlite:///{}", path.display()))
        .await
        .expect("sqlite");
    fill(&db).await;
    let raw = common::raw_sqlite(&path);
    let mut conn = db.connection().await.expect("conn");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            let users = if which == 0 {
                let users: Vec<User> = raw
                    .prepare_cached(Q_USERS)
                    .expect("prepare")
                    .query_map([], |r| {
                        Ok(User {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            hair_color: r.get(2)?,
                            ..Default::default()
                        })
                    })
                    .expect("q")
                    .collect::<Result<_, _>>()
                    .expect("rows");
                let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                let q = format!(
                    "SELECT id, user_id, title, body FROM la_posts WHERE user_id IN ({})",
                    in_list(ids.len(), false)
                );
                let posts: Vec<Post> = raw
                    .prepare_cached(&q)
                    .expect("prepare")
                    .query_map(rusqlite::params_from_iter(ids.iter()), |r| {
                        Ok(Post {
                            id: r.get(0)?,
                            user_id: r.get(1)?,
                            title: r.get(2)?,
                            body: r.get(3)?,
                            ..Default::default()
                        })
                    })
                    .expect("q")
                    .collect::<Result<_, _>>()
                    .expect("rows");
                let pids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                let q = format!(
                    "SELECT id, post_id, text FROM la_comments WHERE post_id IN ({})",
                    in_list(pids.len(), false)
                );
                let comments: Vec<Comment> = raw
                    .prepare_cached(&q)
                    .expect("prepare")
                    .query_map(rusqlite::params_from_iter(pids.iter()), |r| {
                        Ok(Comment {
                            id: r.get(0)?,
                            post_id: r.get(1)?,
                            text: r.get(2)?,
                            ..Default::default()
                        })
                    })
                    .expect("q")
                    .collect::<Result<_, _>>()
                    .expect("rows");
                group_raw(users, posts, comments)
            } else {
                ours(&mut conn).await
            };
            let elapsed = start.elapsed();
            assert_eq!(count(&users), USERS * PER * PER);
            if which == 0 {
                t_raw.push(elapsed)
            } else {
                t_ours.push(elapsed)
            }
        }
    }
    report("sqlite", t_raw, t_ours);
    drop(conn);
    drop(db);
    common::remove_sqlite(&path);
}

async fn bench_postgres() {
    let Some((db, url)) = common::postgres().await else {
        return;
    };
    fill(&db).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("raw");
    tokio::spawn(connection);
    let mut conn = db.connection().await.expect("conn");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    type P<'a> = Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)>;
    for round in 0..ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            let users = if which == 0 {
                let users: Vec<User> = client
                    .query(Q_USERS, &[])
                    .await
                    .expect("q")
                    .iter()
                    .map(|r| User {
                        id: r.get(0),
                        name: r.get(1),
                        hair_color: r.get(2),
                        ..Default::default()
                    })
                    .collect();
                let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                let q = format!(
                    "SELECT id, user_id, title, body FROM la_posts WHERE user_id IN ({})",
                    in_list(ids.len(), true)
                );
                let params: P<'_> = ids
                    .iter()
                    .map(|i| i as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                let posts: Vec<Post> = client
                    .query(&q, &params)
                    .await
                    .expect("q")
                    .iter()
                    .map(|r| Post {
                        id: r.get(0),
                        user_id: r.get(1),
                        title: r.get(2),
                        body: r.get(3),
                        ..Default::default()
                    })
                    .collect();
                let pids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                let q = format!(
                    "SELECT id, post_id, text FROM la_comments WHERE post_id IN ({})",
                    in_list(pids.len(), true)
                );
                let params: P<'_> = pids
                    .iter()
                    .map(|i| i as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                let comments: Vec<Comment> = client
                    .query(&q, &params)
                    .await
                    .expect("q")
                    .iter()
                    .map(|r| Comment {
                        id: r.get(0),
                        post_id: r.get(1),
                        text: r.get(2),
                        ..Default::default()
                    })
                    .collect();
                group_raw(users, posts, comments)
            } else {
                ours(&mut conn).await
            };
            let elapsed = start.elapsed();
            assert_eq!(count(&users), USERS * PER * PER);
            if which == 0 {
                t_raw.push(elapsed)
            } else {
                t_ours.push(elapsed)
            }
        }
    }
    report("postgresql", t_raw, t_ours);
    drop(conn);
    db.drop_all(&metadata()).await.expect("cleanup");
}

fn main() {
    common::run(async {
        bench_sqlite().await;
        bench_postgres().await;
    });
}
