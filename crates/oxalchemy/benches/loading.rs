//! Diesel's "loading associations" workload: 100 users × 10 posts × 10 comments, loaded as
//! users with their posts and each post's comments — through
//! `selectinload(User::posts).selectinload(Post::comments)` vs the raw driver's three
//! queries grouped by hand, same run, SQLite and PostgreSQL (target ≤ 1.15×). The raw side
//! runs the same three statements as ours (IN lists, one bound value a placeholder), each
//! prepared once (rusqlite's `prepare_cached`; tokio-postgres statements kept by SQL text),
//! decodes the rows by hand into the same structs and groups them with `HashMap`s.
//!
//! `cargo bench -p oxalchemy --bench loading`
//!
//! Measured 2026-11-30 (instructions per load of the whole chain, callgrind mode below;
//! oxalchemy ÷ raw): SQLite 40.3 M vs 38.7 M, 1.041×; PostgreSQL (client only) 32.6 M vs
//! 30.9 M, 1.052×. Before the selectin path read each row's key into a slot as it went and
//! sized the groups in advance it was 1.112× and 1.180×. CPU time (`perf stat` task-clock
//! of the same mode, 200 loads less none): SQLite 2.95 vs 2.66–2.78 ms, 1.06–1.11×;
//! PostgreSQL client 3.25–3.29 vs 2.89–3.08 ms, 1.07–1.13×. Wall clock on the 2-core
//! machine at load average 8–10 swung 0.75–2.7× (SQLite) and 0.96–1.29× (PostgreSQL)
//! between runs; in the SQLite runs where the raw side kept its idle-machine 2.4–2.6 ms,
//! 1.09–1.51×, a gap the instruction and CPU-time figures do not show (not explained yet).
//!
//! For `valgrind --tool=callgrind` (instructions are repeatable where wall time is not):
//! `CG_DB=sqlite|postgres CG_SIDE=raw|ours CG_N=5` runs one side `CG_N` times after a
//! warm-up; two runs with different `CG_N` give one load's instructions by difference.

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

fn q_posts(n: usize, pg: bool) -> String {
    format!(
        "SELECT id, user_id, title, body FROM la_posts WHERE user_id IN ({})",
        in_list(n, pg)
    )
}

fn q_comments(n: usize, pg: bool) -> String {
    format!(
        "SELECT id, post_id, text FROM la_comments WHERE post_id IN ({})",
        in_list(n, pg)
    )
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

/// Runs the raw side and ours in alternating order each round, after a warm-up of each
/// (statement caches on both sides).
async fn rounds<F>(conn: &mut Connection, mut raw: F) -> (Vec<Duration>, Vec<Duration>)
where
    F: AsyncFnMut() -> Vec<User>,
{
    assert_eq!(count(&raw().await), USERS * PER * PER);
    assert_eq!(count(&ours(conn).await), USERS * PER * PER);
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            let users = if which == 0 {
                raw().await
            } else {
                ours(conn).await
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
    (t_raw, t_ours)
}

async fn bench_sqlite() {
    let (path, db) = common::sqlite("loading").await;
    fill(&db).await;
    let raw = common::raw_sqlite(&path);
    let mut conn = db.connection().await.expect("conn");
    let (t_raw, t_ours) = rounds(&mut conn, async || raw_sqlite_load(&raw)).await;
    report("sqlite", t_raw, t_ours);
    drop(conn);
    drop(db);
    common::remove_sqlite(&path);
}

/// The raw side on SQLite: the three statements through rusqlite's statement cache, the IN
/// lists bound one value a placeholder as ours are, rows decoded by hand and grouped.
fn raw_sqlite_load(raw: &rusqlite::Connection) -> Vec<User> {
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
    let posts: Vec<Post> = raw
        .prepare_cached(&q_posts(ids.len(), false))
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
    let comments: Vec<Comment> = raw
        .prepare_cached(&q_comments(pids.len(), false))
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
    let mut prepared = Prepared::default();
    let (t_raw, t_ours) = rounds(&mut conn, async || {
        raw_postgres_load(&client, &mut prepared).await
    })
    .await;
    report("postgresql", t_raw, t_ours);
    drop(conn);
    db.drop_all(&metadata()).await.expect("cleanup");
}

/// The raw side's prepared statements by SQL text: each is prepared once, as ours are (a
/// `client.query(&str)` would prepare on every call, a round trip more than ours pay).
type Prepared = HashMap<String, tokio_postgres::Statement>;

async fn prepared_stmt(
    client: &tokio_postgres::Client,
    prepared: &mut Prepared,
    sql: String,
) -> tokio_postgres::Statement {
    if let Some(s) = prepared.get(&sql) {
        return s.clone();
    }
    let s = client.prepare(&sql).await.expect("prepare");
    prepared.insert(sql, s.clone());
    s
}

/// The raw side on PostgreSQL: tokio-postgres with the three statements prepared once, the
/// IN lists bound one value a placeholder as ours are, rows decoded by hand and grouped.
async fn raw_postgres_load(client: &tokio_postgres::Client, prepared: &mut Prepared) -> Vec<User> {
    type P<'a> = Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)>;
    let stmt = prepared_stmt(client, prepared, Q_USERS.to_owned()).await;
    let users: Vec<User> = client
        .query(&stmt, &[])
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
    let stmt = prepared_stmt(client, prepared, q_posts(ids.len(), true)).await;
    let params: P<'_> = ids
        .iter()
        .map(|i| i as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let posts: Vec<Post> = client
        .query(&stmt, &params)
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
    let stmt = prepared_stmt(client, prepared, q_comments(pids.len(), true)).await;
    let params: P<'_> = pids
        .iter()
        .map(|i| i as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let comments: Vec<Comment> = client
        .query(&stmt, &params)
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
}

/// One side run `CG_N` times after a warm-up, for callgrind (see the module doc).
async fn callgrind(db_kind: &str, side: &str) {
    let n: usize = std::env::var("CG_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (db, path, url) = if db_kind == "postgres" {
        let Some((db, url)) = common::postgres().await else {
            panic!("CG_DB=postgres needs TEST_DATABASE_URL");
        };
        (db, None, url)
    } else {
        let (path, db) = common::sqlite("loading_cg").await;
        (db, Some(path), String::new())
    };
    fill(&db).await;
    let mut conn = db.connection().await.expect("conn");
    let check = |users: Vec<User>| assert_eq!(count(&users), USERS * PER * PER);
    match (path.as_ref(), side) {
        (Some(path), "raw") => {
            let raw = common::raw_sqlite(path);
            for _ in 0..=n {
                check(raw_sqlite_load(&raw));
            }
        }
        (None, "raw") => {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("raw");
            tokio::spawn(connection);
            let mut prepared = Prepared::default();
            for _ in 0..=n {
                check(raw_postgres_load(&client, &mut prepared).await);
            }
        }
        (_, "ours") => {
            for _ in 0..=n {
                check(ours(&mut conn).await);
            }
        }
        _ => panic!("CG_SIDE is raw or ours"),
    }
    drop(conn);
    if path.is_none() {
        db.drop_all(&metadata()).await.expect("cleanup");
    }
    drop(db);
    if let Some(path) = path {
        common::remove_sqlite(&path);
    }
}

fn main() {
    if let (Ok(db), Ok(side)) = (std::env::var("CG_DB"), std::env::var("CG_SIDE")) {
        common::run(callgrind(&db, &side));
        return;
    }
    common::run(async {
        bench_sqlite().await;
        bench_postgres().await;
    });
}
