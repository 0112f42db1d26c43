//! Primary-key lookups: 1,000 `orm::query::<User>().filter(User::id.eq(k)).one(&mut conn)`
//! against the raw driver running the same statement shape (`… WHERE "id" = ? LIMIT 2`,
//! prepared once, one row decoded by hand into the same struct), interleaved in the same
//! run, on SQLite (an ANALYZEd table, as a production database has) and PostgreSQL.
//!
//! `cargo bench -p oxalchemy --bench lookup`

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

fn report(db: &str, raw: Vec<Duration>, ours: Vec<Duration>) {
    let (r, o) = (median(raw), median(ours));
    println!(
        "{db:<11} {ROWS} lookups by key: raw driver {:>8.3} ms | query().one() {:>8.3} ms | ratio {:.3}x",
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
            karma: (i % 3 == 0).then_some(i as i32),
        })
        .collect();
    let mut conn = db.connection().await.expect("conn");
    orm::insert_many(&mut conn, &mut users)
        .await
        .expect("insert");
    conn.execute(text("ANALYZE")).await.expect("analyze");
}

/// Runs both sides `ROUNDS` times, alternating which goes first.
async fn measure<F, Fut>(mut raw: F, conn: &mut Connection) -> (Vec<Duration>, Vec<Duration>)
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = User>,
{
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            let mut karma = 0i64;
            for k in 1..=ROWS {
                let u = if which == 0 {
                    raw(k).await
                } else {
                    orm::query::<User>()
                        .filter(User::id.eq(k))
                        .one(&mut *conn)
                        .await
                        .expect("ours")
                };
                karma += i64::from(u.karma.unwrap_or(0));
            }
            let elapsed = start.elapsed();
            assert!(karma > 0);
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
    let path = common::sqlite_path("lookup");
    let db = Database::connect(format!("sqlite://{}", path.display()))
        .await
        .expect("sqlite");
    fill(&db).await;
    let raw = rusqlite::Connection::open(&path).expect("raw sqlite");
    let mut conn = db.connection().await.expect("conn");
    let (t_raw, t_ours) = measure(
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
    let stmt = client.prepare(PG_SQL).await.expect("prepare");
    let mut conn = db.connection().await.expect("conn");
    let (t_raw, t_ours) = measure(
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
