//! Rows of several models: `s.query_models::<(User, Option<Post>)>().outerjoin_related(..)`
//! and the mixed `s.query_columns((entity::<User>(), entity::<Option<Post>>()))` vs the raw
//! driver running the same statement and decoding the same tuples of the same structs by
//! hand — same run, interleaved rounds, SQLite (file) and PostgreSQL (target ≤ 1.10×).
//! 200 users, half of them with 10 posts: 1,100 rows, 100 of them without a post.
//!
//! `cargo bench -p oxalchemy --bench rows`
//!
//! Measured 2026-11-30, instructions per query (callgrind mode below; oxalchemy ÷ raw):
//! SQLite `query_models` 1.022×, `query_columns(entity)` 1.022×; PostgreSQL (client only)
//! 1.067× / 1.068×. Before this session's changes: 1.081× and 1.150×. Wall clock, three
//! runs at load 7 to 10 on 2 cores: SQLite 1.02–1.03× / 1.02–1.04×, PostgreSQL
//! 1.05–1.08× / 1.02–1.07×.
//!
//! For `valgrind --tool=callgrind` (instructions are repeatable where wall time is not):
//! `CG_DB=sqlite|postgres CG_SIDE=raw|models|mixed CG_N=20` runs one side `CG_N` times after
//! a warm-up; two runs with different `CG_N` give one query's instructions by difference.

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::prelude::*;

const USERS: usize = 200;
const PER: usize = 10;
const ROWS: usize = USERS / 2 * PER + USERS / 2;
const ROUNDS: usize = 41;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "rb_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
    #[relationship(back_populates = "user")]
    pub posts: Many<Post>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "rb_posts")]
struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "rb_users.id")]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
    #[relationship(back_populates = "posts")]
    pub user: One<User>,
}

fn metadata() -> MetaData {
    Registry::new().model::<User>().model::<Post>().metadata()
}

async fn fill(db: &Database) {
    db.drop_all(&metadata()).await.expect("drop");
    db.create_all(&metadata()).await.expect("create");
    let mut s = db.session();
    for u in 0..USERS {
        let user = s.add(User {
            name: format!("user{u}"),
            hair_color: (u % 3 == 0).then(|| "black".into()),
            ..Default::default()
        });
        if u % 2 == 0 {
            for p in 0..PER {
                let post = s.add(Post {
                    title: format!("post {u}-{p}"),
                    body: (p % 2 == 0).then(|| "body".into()),
                    ..Default::default()
                });
                s.link(post, Post::user, user).expect("link");
            }
        }
    }
    s.commit().await.expect("fill");
}

/// The statement both sides run (the one `query_models` compiles, quoted the same way).
const SQL: &str = "SELECT \"rb_users\".\"id\", \"rb_users\".\"name\", \"rb_users\".\"hair_color\", \
     \"rb_posts\".\"id\", \"rb_posts\".\"user_id\", \"rb_posts\".\"title\", \"rb_posts\".\"body\" \
     FROM \"rb_users\" LEFT OUTER JOIN \"rb_posts\" ON \"rb_users\".\"id\" = \"rb_posts\".\"user_id\"";

fn check(rows: &[(User, Option<Post>)]) {
    assert_eq!(rows.len(), ROWS);
    assert_eq!(rows.iter().filter(|(_, p)| p.is_none()).count(), USERS / 2);
}

async fn models(s: &mut Session) -> Vec<(User, Option<Post>)> {
    s.query_models::<(User, Option<Post>)>()
        .outerjoin_related(User::posts)
        .expect("join")
        .all()
        .await
        .expect("ours")
}

async fn mixed(s: &mut Session) -> Vec<(User, Option<Post>)> {
    s.query_columns((entity::<User>(), entity::<Option<Post>>()))
        .outerjoin_related(User::posts)
        .expect("join")
        .all()
        .await
        .expect("ours")
}

fn report(db: &str, raw: Vec<Duration>, models: Vec<Duration>, mixed: Vec<Duration>) {
    let (r, m, x) = (median(raw), median(models), median(mixed));
    println!(
        "{db:<10} (User, Option<Post>) × {ROWS}: raw {:>7.3} ms | query_models {:>7.3} ms ({:.2}x) | query_columns(entity) {:>7.3} ms ({:.2}x)",
        r.as_secs_f64() * 1e3,
        m.as_secs_f64() * 1e3,
        m.as_secs_f64() / r.as_secs_f64(),
        x.as_secs_f64() * 1e3,
        x.as_secs_f64() / r.as_secs_f64(),
    );
}

/// Runs `raw`, `query_models` and the mixed query in rotating order each round.
async fn rounds<F>(s: &mut Session, mut raw: F) -> [Vec<Duration>; 3]
where
    F: AsyncFnMut() -> Vec<(User, Option<Post>)>,
{
    let mut t: [Vec<Duration>; 3] = Default::default();
    // Warm-up: statement caches on both sides.
    check(&raw().await);
    check(&models(s).await);
    check(&mixed(s).await);
    for round in 0..ROUNDS {
        for k in 0..3 {
            let which = (round + k) % 3;
            let start = Instant::now();
            let rows = match which {
                0 => raw().await,
                1 => models(s).await,
                _ => mixed(s).await,
            };
            t[which].push(start.elapsed());
            check(&rows);
        }
    }
    t
}

async fn bench_sqlite() {
    let (path, db) = common::sqlite("rows").await;
    fill(&db).await;
    let raw = common::raw_sqlite(&path);
    let mut s = db.session();
    let [r, m, x] = rounds(&mut s, async || raw_sqlite_rows(&raw)).await;
    report("sqlite", r, m, x);
    s.close().await.expect("close");
    drop(db);
    common::remove_sqlite(&path);
}

/// The raw side on SQLite: rusqlite's cached statement, the same tuples decoded by hand.
fn raw_sqlite_rows(raw: &rusqlite::Connection) -> Vec<(User, Option<Post>)> {
    raw.prepare_cached(SQL)
        .expect("prepare")
        .query_map([], |r| {
            let user = User {
                id: r.get(0)?,
                name: r.get(1)?,
                hair_color: r.get(2)?,
                ..Default::default()
            };
            let post = match r.get::<_, Option<i64>>(3)? {
                None => None,
                Some(id) => Some(Post {
                    id,
                    user_id: r.get(4)?,
                    title: r.get(5)?,
                    body: r.get(6)?,
                    ..Default::default()
                }),
            };
            Ok((user, post))
        })
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("rows")
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
    let stmt = client.prepare(SQL).await.expect("prepare");
    let mut s = db.session();
    let [r, m, x] = rounds(&mut s, async || raw_postgres_rows(&client, &stmt).await).await;
    report("postgresql", r, m, x);
    s.close().await.expect("close");
    db.drop_all(&metadata()).await.expect("cleanup");
}

/// The raw side on PostgreSQL: tokio-postgres with the prepared statement, decoded by hand.
async fn raw_postgres_rows(
    client: &tokio_postgres::Client,
    stmt: &tokio_postgres::Statement,
) -> Vec<(User, Option<Post>)> {
    client
        .query(stmt, &[])
        .await
        .expect("q")
        .iter()
        .map(|r| {
            let user = User {
                id: r.get(0),
                name: r.get(1),
                hair_color: r.get(2),
                ..Default::default()
            };
            let post = r.get::<_, Option<i64>>(3).map(|id| Post {
                id,
                user_id: r.get(4),
                title: r.get(5),
                body: r.get(6),
                ..Default::default()
            });
            (user, post)
        })
        .collect()
}

/// One side run `CG_N` times after a warm-up, for callgrind (see the module doc).
async fn callgrind(db_kind: &str, side: &str) {
    let n: usize = std::env::var("CG_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let (db, path, url) = if db_kind == "postgres" {
        let Some((db, url)) = common::postgres().await else {
            panic!("CG_DB=postgres needs TEST_DATABASE_URL");
        };
        (db, None, url)
    } else {
        let (path, db) = common::sqlite("rows_cg").await;
        (db, Some(path), String::new())
    };
    fill(&db).await;
    let mut s = db.session();
    match (path.as_ref(), side) {
        (Some(path), "raw") => {
            let raw = common::raw_sqlite(path);
            for _ in 0..=n {
                check(&raw_sqlite_rows(&raw));
            }
        }
        (None, "raw") => {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("raw");
            tokio::spawn(connection);
            let stmt = client.prepare(SQL).await.expect("prepare");
            for _ in 0..=n {
                check(&raw_postgres_rows(&client, &stmt).await);
            }
        }
        (_, "models") => {
            for _ in 0..=n {
                check(&models(&mut s).await);
            }
        }
        (_, "mixed") => {
            for _ in 0..=n {
                check(&mixed(&mut s).await);
            }
        }
        _ => panic!("CG_SIDE is raw, models or mixed"),
    }
    s.close().await.expect("close");
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
