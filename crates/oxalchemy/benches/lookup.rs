//! Primary-key lookups, 1,000 per side, interleaved in the same run, on SQLite (an ANALYZEd
//! table, as a production database has) and PostgreSQL:
//!
//! * raw: the driver running `SELECT "id", "username", "karma" … WHERE "id" = ? LIMIT 2`,
//!   prepared once (rusqlite `prepare_cached`, a tokio-postgres `Statement`), one row
//!   decoded by hand into the same struct;
//! * `query().one()`: `orm::query::<User>().filter(User::id.eq(k)).one(&mut conn)` (the
//!   same SQL; compiled once, then from the compiled-statement cache);
//! * `prepared.one()`: `query::<User>().filter(User::id.eq(param())).prepare()` once, then
//!   `q.one(&mut conn, k)` (the same SQL);
//! * `get`: `orm::get::<User>(&mut conn, k)` (the same SQL without LIMIT).
//!
//! `cargo bench -p oxalchemy --bench lookup`
//!
//! On PostgreSQL a lookup is a round trip to a server process, and its wall time depends
//! most on where the kernel runs that process: on the client thread's CPU (the two hand
//! over without either CPU going idle) about 27 µs here, on the other, idle CPU about
//! 110 µs (two idle wake-ups a lookup, costly in a VM). Which connection gets which is up
//! to the scheduler, not the client: in one run on 2 vCPUs (2026-11-30) the raw driver's
//! backend kept to the client's CPU and oxalchemy's did not, 2.3–3.2× apart, with the same
//! system calls on both sides and the server's own time (bind + execute, ~15 µs) the same.
//! With the client and both backends pinned to one CPU (`taskset`), the sides were 0.99–1.04×
//! apart; with another process keeping the other CPU busy, 1.02–1.06×. Client instructions
//! (`lookup_callgrind`) are the repeatable measure.

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::orm;
use oxalchemy::prelude::*;

const ROWS: i64 = 1_000;
const ROUNDS: usize = 31;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_lookup_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    pub karma: Option<i32>,
}

/// The raw side's statement: what `.one()` sends, with the row count the way each dialect
/// writes it (inline on SQLite, bound on PostgreSQL).
const SQLITE_SQL: &str = "SELECT \"bench_lookup_users\".\"id\", \"bench_lookup_users\".\"username\", \
     \"bench_lookup_users\".\"karma\" FROM \"bench_lookup_users\" WHERE \"bench_lookup_users\".\"id\" = ?1 LIMIT 2";
const PG_SQL: &str = "SELECT \"bench_lookup_users\".\"id\", \"bench_lookup_users\".\"username\", \
     \"bench_lookup_users\".\"karma\" FROM \"bench_lookup_users\" WHERE \"bench_lookup_users\".\"id\" = $1 LIMIT $2";

const SIDES: [&str; 4] = ["raw driver", "query().one()", "prepared.one()", "get"];

fn report(db: &str, times: Vec<Vec<Duration>>) {
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    let raw = medians[0].as_secs_f64();
    println!("{db:<11} {ROWS} lookups by key (median of {ROUNDS} interleaved rounds):");
    for (name, m) in SIDES.iter().zip(&medians) {
        println!(
            "    {name:<15} {:>8.3} ms   {:.3}x raw",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / raw
        );
    }
}

async fn fill(db: &Database) {
    let md = Registry::new().model::<User>().metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    let mut users: Vec<User> = (0..ROWS)
        .map(|i| User {
            id: 0,
            username: format!("user{i}"),
            karma: (i % 3 == 0).then_some(i as i32),
        })
        .collect();
    let mut conn = db.connection().await.expect("conn");
    orm::insert_many(&mut conn, &mut users)
        .await
        .expect("insert");
    conn.execute(text("ANALYZE")).await.expect("analyze");
}

/// Runs every side `ROUNDS` times, rotating which goes first.
async fn measure<F, Fut>(mut raw: F, conn: &mut Connection) -> Vec<Vec<Duration>>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = User>,
{
    let prepared = orm::query::<User>().filter(User::id.eq(param())).prepare();
    let mut times = vec![Vec::new(); SIDES.len()];
    for round in 0..ROUNDS {
        for i in 0..SIDES.len() {
            let which = (round + i) % SIDES.len();
            let start = Instant::now();
            let mut karma = 0i64;
            for k in 1..=ROWS {
                let u = match which {
                    0 => raw(k).await,
                    1 => orm::query::<User>()
                        .filter(User::id.eq(k))
                        .one(&mut *conn)
                        .await
                        .expect("query"),
                    2 => prepared.one(&mut *conn, k).await.expect("prepared"),
                    _ => orm::get::<User>(&mut *conn, k)
                        .await
                        .expect("get")
                        .expect("row"),
                };
                karma += i64::from(u.karma.unwrap_or(0));
            }
            let elapsed = start.elapsed();
            assert!(karma > 0);
            times[which].push(elapsed);
        }
    }
    times
}

async fn bench_sqlite() {
    let (path, db) = common::sqlite("lookup").await;
    fill(&db).await;
    let raw = common::raw_sqlite(&path);
    let mut conn = db.connection().await.expect("conn");
    let times = measure(
        |k| {
            let mut stmt = raw.prepare_cached(SQLITE_SQL).expect("prepare");
            let user = stmt
                .query_row([k], |r| {
                    Ok(User {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        karma: r.get(2)?,
                    })
                })
                .expect("row");
            std::future::ready(user)
        },
        &mut conn,
    )
    .await;
    report("sqlite", times);
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
    let stmt = client.prepare(PG_SQL).await.expect("prepare");
    let mut conn = db.connection().await.expect("conn");
    let times = measure(
        |k| {
            let (client, stmt) = (&client, &stmt);
            async move {
                let rows = client.query(stmt, &[&k, &2i64]).await.expect("query");
                let r = &rows[0];
                User {
                    id: r.get(0),
                    username: r.get(1),
                    karma: r.get(2),
                }
            }
        },
        &mut conn,
    )
    .await;
    report("postgresql", times);
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
