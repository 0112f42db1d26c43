//! Model read path: 10,000 `User` structs loaded through `orm::query::<User>().all()` vs the
//! raw driver building the same structs by hand, in the same run, on SQLite and PostgreSQL.
//!
//! `cargo bench -p oxalchemy --bench models`

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::orm;
use oxalchemy::prelude::*;

const ROWS: i64 = 10_000;
const ROUNDS: usize = 100;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    #[column(length = 255)]
    pub email: String,
    pub karma: Option<i32>,
    pub active: bool,
    pub score: f64,
}

const SQL: &str = "SELECT \"bench_users\".\"id\", \"bench_users\".\"username\", \"bench_users\".\"email\", \
                   \"bench_users\".\"karma\", \"bench_users\".\"active\", \"bench_users\".\"score\" FROM \"bench_users\"";

fn report(db: &str, raw: Vec<Duration>, ours: Vec<Duration>) {
    let (r, o) = (median(raw), median(ours));
    println!(
        "{db:<11} load {ROWS} User structs: raw driver {:>8.3} ms | orm::query {:>8.3} ms | ratio {:.3}x",
        r.as_secs_f64() * 1e3,
        o.as_secs_f64() * 1e3,
        o.as_secs_f64() / r.as_secs_f64()
    );
}

async fn fill(db: &Database) {
    let md = Registry::new().model::<User>().metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    let mut users: Vec<User> = (0..ROWS)
        .map(|i| User {
            id: 0,
            username: format!("user{i}"),
            email: format!("user{i}@example.com"),
            karma: (i % 3 == 0).then_some(i as i32),
            active: i % 2 == 0,
            score: i as f64 * 0.5,
        })
        .collect();
    let mut conn = db.connection().await.expect("conn");
    orm::insert_many(&mut conn, &mut users)
        .await
        .expect("insert");
}

async fn measure<F, Fut>(mut raw: F, conn: &mut Connection) -> (Vec<Duration>, Vec<Duration>)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Vec<User>>,
{
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which goes first, so neither always runs on a warm cache.
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            let users = if which == 0 {
                raw().await
            } else {
                orm::query::<User>().all(&mut *conn).await.expect("ours")
            };
            let elapsed = start.elapsed();
            assert_eq!(users.len() as i64, ROWS);
            if which == 0 {
                t_raw.push(elapsed);
            } else {
                t_ours.push(elapsed);
            }
        }
    }
    (t_raw, t_ours)
}

async fn bench_sqlite() {
    let (path, db) = common::sqlite("models").await;
    fill(&db).await;
    let raw = rusqlite::Connection::open(&path).expect("raw sqlite");
    let mut conn = db.connection().await.expect("conn");
    let (t_raw, t_ours) = measure(
        || {
            let mut stmt = raw.prepare_cached(SQL).expect("prepare");
            let users: Vec<User> = stmt
                .query_map([], |r| {
                    Ok(User {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        email: r.get(2)?,
                        karma: r.get(3)?,
                        active: r.get(4)?,
                        score: r.get(5)?,
                    })
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            std::future::ready(users)
        },
        &mut conn,
    )
    .await;
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
        .expect("raw pg");
    tokio::spawn(connection);
    let stmt = client.prepare(SQL).await.expect("prepare");
    let mut conn = db.connection().await.expect("conn");
    let (t_raw, t_ours) = measure(
        || {
            let (client, stmt) = (&client, &stmt);
            async move {
                client
                    .query(stmt, &[])
                    .await
                    .expect("query")
                    .iter()
                    .map(|r| User {
                        id: r.get(0),
                        username: r.get(1),
                        email: r.get(2),
                        karma: r.get(3),
                        active: r.get(4),
                        score: r.get(5),
                    })
                    .collect()
            }
        },
        &mut conn,
    )
    .await;
    report("postgresql", t_raw, t_ours);
    drop(conn);
    db.drop_all(&Registry::new().model::<User>().metadata())
        .await
        .expect("cleanup");
}

fn main() {
    common::run(async {
        bench_sqlite().await;
        bench_postgres().await;
    });
}
