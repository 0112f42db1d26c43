//! The side-by-side workloads of issue 19 that the other benches do not cover, each against
//! the raw driver in the same run, the two sides interleaved (the order alternates every
//! round), on SQLite (a file) and PostgreSQL. Medians; the ratio is oxalchemy / raw.
//!
//! | workload | oxalchemy | raw driver (same statement shape, same structs) |
//! | --- | --- | --- |
//! | one-row SELECT ×1,000 | `orm::query::<User>().filter(User::id.eq(k)).first(&mut conn)` | prepared `SELECT id, username, email, created_at FROM wl_users WHERE id = ? LIMIT 1`, one row decoded into `User` |
//! | 10,000 rows into models | `orm::query::<User>().all(&mut conn)` | prepared `SELECT id, username, email, created_at FROM wl_users`, every row into `User` |
//! | joinedload, 1,000 joined rows | `query::<User>().filter(User::id.le(100)).options(joinedload(User::posts)).all(..)` | one `users LEFT OUTER JOIN posts` statement, rows grouped by hand into `User { posts: Many::loaded(..) }`, each user decoded only on its first row |
//! | session insert of 100 / 10,000 | `s.add_all(accounts); s.commit()` | one transaction of prepared multi-row INSERTs (SQLite: 64 rows a statement, its fastest; PostgreSQL: as many as the bind limit allows) |
//! | load 1,000, change one column, commit | `s.query::<User>().filter(User::id.le(1000)).all()`, `s[h].email = ..`, `s.commit()` | the same SELECT into `User`s, then in one transaction a prepared `UPDATE wl_users SET email = ? WHERE id = ?` per row (PostgreSQL: pipelined) |
//!
//! The other rows of the table: 1,000 lookups by key on an ANALYZEd table in
//! `lookup` (and per-lookup instructions in `lookup_callgrind`), the selectinload chain in
//! `loading`, bulk loads in `bulk`.
//!
//! `cargo bench -p oxalchemy --bench workloads`
//!
//! For `valgrind --tool=callgrind`: `CG_DB=sqlite|postgres CG_WORK=one_row|join
//! CG_SIDE=raw|ours CG_N=…` runs one side of one workload `CG_N` times after a warm-up; two
//! runs with different `CG_N` give one run's instructions by difference.
//!
//! One-row SELECT, instructions per lookup (callgrind, `CG_N` 1 and 3, 2026-11-30): SQLite
//! 10,223 vs 8,330 raw (1.23×; the raw side prepares its statement once, outside the
//! loop). It was 12,525 (1.50×) until timestamps were read without chrono's format strings
//! (`oxalchemy_core::value_types::parse_datetime`; rusqlite's own `FromSql` still uses them,
//! about 2,800 instructions a row), and 14,118 (1.67×) before a model query kept its
//! columns and table apart as a `SelectHead`. Where the 1,900 extra go now (inclusive, per
//! lookup): rusqlite's `prepare_cached` round trip about 1,300 (its `StatementCache` hashes
//! the SQL, copies it into a new `Arc<str>` key, clears the bindings and drops an empty
//! statement; a statement cannot be kept between calls in safe code, see ARCHITECTURE.md);
//! the compiled-statement cache lookup about 950 (building the key, hashing it, the lock,
//! filling the binds); building and dropping the `Query` about 600; the connection's
//! statement layers (trace, checkout, bind buffer, busy retry, backend dispatch) about 500;
//! less the 2,500 saved decoding `created_at`. PostgreSQL `.one()`: see `lookup_callgrind`.

mod common;

use common::median;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use oxalchemy::orm::{self, joinedload};
use oxalchemy::prelude::*;

const USERS: i64 = 10_000;
const WITH_POSTS: i64 = 100;
const POSTS_EACH: i64 = 10;
const LOOKUPS: i64 = 1_000;
const CHANGED: i64 = 1_000;
const ROUNDS: usize = 15;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "wl_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
    #[relationship(back_populates = "author")]
    pub posts: Many<Post>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "wl_posts")]
struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "wl_users.id")]
    pub author_id: i64,
    pub title: String,
    #[relationship(back_populates = "posts")]
    pub author: One<User>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "wl_accounts")]
struct Account {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
}

fn metadata() -> MetaData {
    Registry::new()
        .model::<User>()
        .model::<Post>()
        .model::<Account>()
        .metadata()
}

fn created(i: i64) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_micro_opt(0, 0, 0, 0))
        .expect("date")
        + chrono::Duration::seconds(i * 37)
        + chrono::Duration::microseconds(i * 13 % 1_000_000)
}

fn account(i: i64) -> Account {
    Account {
        id: 0,
        username: format!("account{i}"),
        email: (i % 2 == 0).then(|| format!("account{i}@example.com")),
        created_at: created(i),
    }
}

async fn fill(db: &Database) {
    let md = metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    let mut users: Vec<User> = (1..=USERS)
        .map(|i| User {
            username: format!("user{i}"),
            email: (i % 2 == 0).then(|| format!("user{i}@example.com")),
            created_at: created(i),
            ..Default::default()
        })
        .collect();
    let mut conn = db.connection().await.expect("conn");
    orm::insert_many(&mut conn, &mut users)
        .await
        .expect("users");
    let mut posts: Vec<Post> = (1..=WITH_POSTS)
        .flat_map(|u| {
            (0..POSTS_EACH).map(move |p| Post {
                author_id: u,
                title: format!("post {u}-{p}"),
                ..Default::default()
            })
        })
        .collect();
    orm::insert_many(&mut conn, &mut posts)
        .await
        .expect("posts");
}

/// The medians of both sides of one workload.
#[derive(Default)]
struct Times {
    raw: Vec<Duration>,
    ours: Vec<Duration>,
}

impl Times {
    fn report(self, db: &str, what: &str) {
        let (r, o) = (median(self.raw), median(self.ours));
        println!(
            "{db:<10} {what:<40} raw {:>9.3} ms | oxalchemy {:>9.3} ms | ratio {:.2}x",
            r.as_secs_f64() * 1e3,
            o.as_secs_f64() * 1e3,
            o.as_secs_f64() / r.as_secs_f64()
        );
    }
}

/// Runs `raw` and `ours` `ROUNDS` times each, alternating which goes first, after an
/// untimed `reset` before each side.
macro_rules! interleave {
    (reset: $reset:block, raw: $raw:block, ours: $ours:block) => {{
        let mut t = Times::default();
        for round in 0..ROUNDS {
            for side in [round % 2, 1 - round % 2] {
                $reset
                let start = Instant::now();
                if side == 0 {
                    $raw
                } else {
                    $ours
                }
                let elapsed = start.elapsed();
                if side == 0 {
                    t.raw.push(elapsed)
                } else {
                    t.ours.push(elapsed)
                }
            }
        }
        t
    }};
    (raw: $raw:block, ours: $ours:block) => {
        interleave!(reset: {}, raw: $raw, ours: $ours)
    };
}

const SELECT_USERS: &str =
    "SELECT \"id\", \"username\", \"email\", \"created_at\" FROM \"wl_users\"";

/// `SELECT_USERS` with the key condition, in `$n` or `?` placeholders.
fn select_user_by_id(pg: bool) -> String {
    format!(
        "{SELECT_USERS} WHERE \"id\" = {} LIMIT 1",
        if pg { "$1" } else { "?" }
    )
}

fn join_sql(pg: bool) -> String {
    format!(
        "SELECT u.\"id\", u.\"username\", u.\"email\", u.\"created_at\", p.\"id\", p.\"author_id\", \
         p.\"title\" FROM \"wl_users\" AS u LEFT OUTER JOIN \"wl_posts\" AS p \
         ON u.\"id\" = p.\"author_id\" WHERE u.\"id\" <= {}",
        if pg { "$1" } else { "?" }
    )
}

/// Groups joined rows into users holding their posts, as careful hand-written code does:
/// one `User` per key in first-seen order, decoded (`user`) only on its first row; every
/// row's post (`post`, `None` for a user without posts) appended to its user's.
struct Grouped {
    order: Vec<User>,
    at: HashMap<i64, usize>,
    posts: Vec<Vec<Post>>,
}

impl Grouped {
    fn new() -> Self {
        Grouped {
            order: Vec::new(),
            at: HashMap::new(),
            posts: Vec::new(),
        }
    }

    fn row<E>(
        &mut self,
        id: i64,
        user: impl FnOnce() -> Result<User, E>,
        post: Option<Post>,
    ) -> Result<(), E> {
        let i = match self.at.get(&id) {
            Some(&i) => i,
            None => {
                self.at.insert(id, self.order.len());
                self.order.push(user()?);
                self.posts.push(Vec::new());
                self.order.len() - 1
            }
        };
        if let Some(p) = post {
            self.posts[i].push(p);
        }
        Ok(())
    }

    fn users(mut self) -> Vec<User> {
        for (u, ps) in self.order.iter_mut().zip(self.posts) {
            u.posts = Many::loaded(ps);
        }
        self.order
    }
}

fn joined_posts(users: &[User]) -> usize {
    users
        .iter()
        .map(|u| u.posts.get().map_or(0, |p| p.len()))
        .sum()
}

fn insert_sql(rows: usize, pg: bool) -> String {
    let mut sql = String::from(
        "INSERT INTO \"wl_accounts\" (\"username\", \"email\", \"created_at\") VALUES ",
    );
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..3 {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            if pg {
                sql.push_str(&format!("${n}"));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

const UPDATE_EMAIL_SQLITE: &str = "UPDATE \"wl_users\" SET \"email\" = ? WHERE \"id\" = ?";
const UPDATE_EMAIL_PG: &str = "UPDATE \"wl_users\" SET \"email\" = $1 WHERE \"id\" = $2";

/// oxalchemy's side of "load 1,000, change one column, commit".
async fn ours_load_change_commit(db: &Database, round: usize) {
    let mut s = db.session();
    let hs = s
        .query::<User>()
        .filter(User::id.le(CHANGED))
        .all()
        .await
        .expect("load");
    assert_eq!(hs.len() as i64, CHANGED);
    for h in &hs {
        let id = s[*h].id;
        s[*h].email = Some(format!("r{round}-{id}@example.com"));
    }
    s.commit().await.expect("commit");
}

/// oxalchemy's side of "session insert of `n`".
async fn ours_insert(db: &Database, n: i64) {
    let mut s = db.session();
    s.add_all((0..n).map(account));
    s.commit().await.expect("commit");
}

fn sqlite_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let created: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        created_at: NaiveDateTime::parse_from_str(&created, "%Y-%m-%d %H:%M:%S%.f")
            .expect("timestamp"),
        ..Default::default()
    })
}

fn pg_user(r: &tokio_postgres::Row) -> User {
    User {
        id: r.get(0),
        username: r.get(1),
        email: r.get(2),
        created_at: r.get(3),
        ..Default::default()
    }
}

/// One-row SELECTs by key, `LOOKUPS` of them: oxalchemy's side on either database.
async fn ours_one_row(conn: &mut Connection) {
    for k in 1..=LOOKUPS {
        let u = orm::query::<User>()
            .filter(User::id.eq(k))
            .first(&mut *conn)
            .await
            .expect("first")
            .expect("row");
        assert_eq!(u.id, k);
    }
}

fn sqlite_one_row(raw: &rusqlite::Connection, by_id: &str) {
    let mut stmt = raw.prepare_cached(by_id).expect("prepare");
    for k in 1..=LOOKUPS {
        let u = stmt.query_row([k], sqlite_user).expect("row");
        assert_eq!(u.id, k);
    }
}

async fn pg_one_row(client: &tokio_postgres::Client, by_id: &tokio_postgres::Statement) {
    for k in 1..=LOOKUPS {
        let row = client
            .query_opt(by_id, &[&k])
            .await
            .expect("select")
            .expect("row");
        assert_eq!(pg_user(&row).id, k);
    }
}

/// Users with their posts through one LEFT OUTER JOIN: oxalchemy's side.
async fn ours_join(conn: &mut Connection) {
    let users = orm::query::<User>()
        .filter(User::id.le(WITH_POSTS))
        .options(joinedload(User::posts))
        .all(conn)
        .await
        .expect("joinedload");
    assert_eq!(joined_posts(&users) as i64, WITH_POSTS * POSTS_EACH);
}

fn sqlite_join(raw: &rusqlite::Connection, join: &str) {
    let mut stmt = raw.prepare_cached(join).expect("prepare");
    let mut grouped = Grouped::new();
    let mut rows = stmt.query([WITH_POSTS]).expect("query");
    while let Some(r) = rows.next().expect("row") {
        let post = r.get::<_, Option<i64>>(4).expect("post id").map(|id| Post {
            id,
            author_id: r.get(5).expect("author_id"),
            title: r.get(6).expect("title"),
            ..Default::default()
        });
        grouped
            .row(r.get(0).expect("id"), || sqlite_user(r), post)
            .expect("user");
    }
    let users = grouped.users();
    assert_eq!(joined_posts(&users) as i64, WITH_POSTS * POSTS_EACH);
}

async fn pg_join(client: &tokio_postgres::Client, join: &tokio_postgres::Statement) {
    let rows = client.query(join, &[&WITH_POSTS]).await.expect("query");
    let mut grouped = Grouped::new();
    for r in &rows {
        let post = r.get::<_, Option<i64>>(4).map(|id| Post {
            id,
            author_id: r.get(5),
            title: r.get(6),
            ..Default::default()
        });
        grouped
            .row(r.get(0), || Ok::<_, ()>(pg_user(r)), post)
            .expect("user");
    }
    let users = grouped.users();
    assert_eq!(joined_posts(&users) as i64, WITH_POSTS * POSTS_EACH);
}

/// One side of one workload run `CG_N` times after a warm-up, for callgrind.
async fn callgrind(db_kind: &str, work: &str, side: &str) {
    let n: usize = std::env::var("CG_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    if db_kind == "postgres" {
        let Some((db, url)) = common::postgres().await else {
            panic!("CG_DB=postgres needs TEST_DATABASE_URL");
        };
        fill(&db).await;
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("raw pg");
        tokio::spawn(connection);
        let mut conn = db.connection().await.expect("conn");
        let by_id = client
            .prepare(&select_user_by_id(true))
            .await
            .expect("prepare");
        let join = client.prepare(&join_sql(true)).await.expect("prepare");
        for _ in 0..=n {
            match (work, side) {
                ("one_row", "raw") => pg_one_row(&client, &by_id).await,
                ("join", "raw") => pg_join(&client, &join).await,
                ("one_row", _) => ours_one_row(&mut conn).await,
                _ => ours_join(&mut conn).await,
            }
        }
        drop(conn);
        db.drop_all(&metadata()).await.expect("cleanup");
    } else {
        let (path, db) = common::sqlite("workloads_cg").await;
        fill(&db).await;
        let raw = common::raw_sqlite(&path);
        let mut conn = db.connection().await.expect("conn");
        let (by_id, join) = (select_user_by_id(false), join_sql(false));
        for _ in 0..=n {
            match (work, side) {
                ("one_row", "raw") => sqlite_one_row(&raw, &by_id),
                ("join", "raw") => sqlite_join(&raw, &join),
                ("one_row", _) => ours_one_row(&mut conn).await,
                _ => ours_join(&mut conn).await,
            }
        }
        drop(conn);
        drop(db);
        common::remove_sqlite(&path);
    }
}

async fn bench_sqlite() {
    let (path, db) = common::sqlite("workloads").await;
    fill(&db).await;
    let raw = common::raw_sqlite(&path);
    let mut conn = db.connection().await.expect("conn");

    let by_id = select_user_by_id(false);
    interleave!(raw: {
        sqlite_one_row(&raw, &by_id);
    }, ours: {
        ours_one_row(&mut conn).await;
    })
    .report("sqlite", "one-row SELECT into a model, x1,000");

    interleave!(raw: {
        let users: Vec<User> = raw
            .prepare_cached(SELECT_USERS)
            .expect("prepare")
            .query_map([], sqlite_user)
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(users.len() as i64, USERS);
    }, ours: {
        let users = orm::query::<User>().all(&mut conn).await.expect("all");
        assert_eq!(users.len() as i64, USERS);
    })
    .report("sqlite", "10,000 rows into models");

    let join = join_sql(false);
    interleave!(raw: {
        sqlite_join(&raw, &join);
    }, ours: {
        ours_join(&mut conn).await;
    })
    .report("sqlite", "joinedload users+posts, 1,000 rows");

    drop(conn);
    for n in [100i64, 10_000] {
        interleave!(reset: {
            raw.execute("DELETE FROM \"wl_accounts\"", []).expect("reset");
        }, raw: {
            let accounts: Vec<Account> = (0..n).map(account).collect();
            let tx = raw.unchecked_transaction().expect("tx");
            // 64 rows a statement: SQLite's fastest multi-row INSERT (bench `bulk`), as the
            // session's flush sends.
            for chunk in accounts.chunks(64) {
                let mut stmt = tx
                    .prepare_cached(&insert_sql(chunk.len(), false))
                    .expect("prepare");
                let stamps: Vec<String> = chunk
                    .iter()
                    .map(|a| a.created_at.format("%Y-%m-%d %H:%M:%S%.f").to_string())
                    .collect();
                let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 3);
                for (a, t) in chunk.iter().zip(&stamps) {
                    params.extend([&a.username as &dyn rusqlite::ToSql, &a.email, t]);
                }
                stmt.execute(params.as_slice()).expect("insert");
            }
            tx.commit().expect("commit");
        }, ours: {
            ours_insert(&db, n).await;
        })
        .report("sqlite", &format!("session insert of {n} new objects"));
    }

    let mut round = 0;
    interleave!(raw: {
        round += 1;
        let users: Vec<User> = raw
            .prepare_cached(&format!("{SELECT_USERS} WHERE \"id\" <= ?"))
            .expect("prepare")
            .query_map([CHANGED], sqlite_user)
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let tx = raw.unchecked_transaction().expect("tx");
        {
            let mut stmt = tx.prepare_cached(UPDATE_EMAIL_SQLITE).expect("prepare");
            for u in &users {
                let email = format!("raw{round}-{}@example.com", u.id);
                stmt.execute(rusqlite::params![email, u.id]).expect("update");
            }
        }
        tx.commit().expect("commit");
    }, ours: {
        round += 1;
        ours_load_change_commit(&db, round).await;
    })
    .report("sqlite", "load 1,000, change one column, commit");

    drop(db);
    common::remove_sqlite(&path);
}

async fn bench_postgres() {
    let Some((db, url)) = common::postgres().await else {
        return;
    };
    fill(&db).await;
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("raw pg");
    tokio::spawn(connection);
    let mut conn = db.connection().await.expect("conn");

    let by_id = client
        .prepare(&select_user_by_id(true))
        .await
        .expect("prepare");
    interleave!(raw: {
        pg_one_row(&client, &by_id).await;
    }, ours: {
        ours_one_row(&mut conn).await;
    })
    .report("postgresql", "one-row SELECT into a model, x1,000");

    let all = client.prepare(SELECT_USERS).await.expect("prepare");
    interleave!(raw: {
        let users: Vec<User> = client
            .query(&all, &[])
            .await
            .expect("query")
            .iter()
            .map(pg_user)
            .collect();
        assert_eq!(users.len() as i64, USERS);
    }, ours: {
        let users = orm::query::<User>().all(&mut conn).await.expect("all");
        assert_eq!(users.len() as i64, USERS);
    })
    .report("postgresql", "10,000 rows into models");

    let join = client.prepare(&join_sql(true)).await.expect("prepare");
    interleave!(raw: {
        pg_join(&client, &join).await;
    }, ours: {
        ours_join(&mut conn).await;
    })
    .report("postgresql", "joinedload users+posts, 1,000 rows");

    drop(conn);
    type P<'a> = Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)>;
    for n in [100i64, 10_000] {
        interleave!(reset: {
            client.execute("DELETE FROM \"wl_accounts\"", &[]).await.expect("reset");
        }, raw: {
            let accounts: Vec<Account> = (0..n).map(account).collect();
            let tx = client.transaction().await.expect("tx");
            for chunk in accounts.chunks(65_535 / 3) {
                let stmt = tx.prepare(&insert_sql(chunk.len(), true)).await.expect("prepare");
                let mut params: P<'_> = Vec::with_capacity(chunk.len() * 3);
                for a in chunk {
                    params.extend([
                        &a.username as &(dyn tokio_postgres::types::ToSql + Sync),
                        &a.email,
                        &a.created_at,
                    ]);
                }
                tx.execute(&stmt, &params).await.expect("insert");
            }
            tx.commit().await.expect("commit");
        }, ours: {
            ours_insert(&db, n).await;
        })
        .report("postgresql", &format!("session insert of {n} new objects"));
    }

    let changed = client
        .prepare(&format!("{SELECT_USERS} WHERE \"id\" <= $1"))
        .await
        .expect("prepare");
    let update = client.prepare(UPDATE_EMAIL_PG).await.expect("prepare");
    let mut round = 0;
    interleave!(raw: {
        // Pipelined: every UPDATE is sent before the first answer is awaited.
        round += 1;
        let users: Vec<User> = client
            .query(&changed, &[&CHANGED])
            .await
            .expect("load")
            .iter()
            .map(pg_user)
            .collect();
        let emails: Vec<(String, i64)> = users
            .iter()
            .map(|u| (format!("raw{round}-{}@example.com", u.id), u.id))
            .collect();
        let tx = client.transaction().await.expect("tx");
        let params: Vec<[&(dyn tokio_postgres::types::ToSql + Sync); 2]> = emails
            .iter()
            .map(|(e, id)| [e as &(dyn tokio_postgres::types::ToSql + Sync), id])
            .collect();
        let futs = params.iter().map(|p| tx.execute(&update, p));
        for r in futures_util::future::join_all(futs).await {
            r.expect("update");
        }
        tx.commit().await.expect("commit");
    }, ours: {
        round += 1;
        ours_load_change_commit(&db, round).await;
    })
    .report("postgresql", "load 1,000, change one column, commit");

    db.drop_all(&metadata()).await.expect("cleanup");
}

fn main() {
    if let (Ok(db), Ok(work), Ok(side)) = (
        std::env::var("CG_DB"),
        std::env::var("CG_WORK"),
        std::env::var("CG_SIDE"),
    ) {
        common::run(callgrind(&db, &work, &side));
        return;
    }
    common::run(async {
        bench_sqlite().await;
        bench_postgres().await;
    });
}
