//! Instructions per primary-key lookup, for `valgrind --tool=callgrind`: one side of
//! `benches/lookup.rs` (the same model, SQL and raw code) run `CG_N` times after a warm-up,
//! so two runs with different `CG_N` give the instructions of one lookup by difference
//! (setup, warm-up and exit cancel out). On PostgreSQL only the client process is counted.
//!
//! ```text
//! CG_DB=sqlite CG_SIDE=get CG_N=1000 valgrind --tool=callgrind target/release/deps/lookup_callgrind-…
//! ```
//!
//! `CG_DB`: `sqlite` or `postgres`; `CG_SIDE`: `raw`, `query`, `prepared` or `get`; or, on
//! SQLite, `insert_raw` / `insert_session`: `CG_N` new objects (`benches/session.rs`'s
//! `Account`) through one multi-row INSERT per 64 rows in a transaction (rusqlite,
//! `prepare_cached`), or `session.add_all` + `commit`.
//! Session sides (SQLite, the 1,000 `User` rows): `session_get`, `CG_N` `Session::get`
//! answered by the identity map of a session holding every row; `session_load`, `CG_N`
//! fresh sessions each loading the 1,000 rows with `query().all()`; `session_flush`,
//! `CG_N` times one held object changed and flushed in a session holding the 1,000 rows.
//! Under `cargo bench` without `CG_SIDE` it runs each side once and checks they agree.
//!
//! Measured (instructions per lookup, `CG_N` 200 and 1,200, one build, 2026-11-30, second
//! session):
//!
//! | side | PostgreSQL (client process) | SQLite |
//! | --- | --- | --- |
//! | `raw` | 12,684 | 6,063 |
//! | `query` (`.one()`) | 15,905 (1.25×) | 9,261 (1.53×) |
//! | `get` | 14,126 (1.11×) | 7,525 (1.24×) |
//! | `prepared` | 15,253 (1.20×) | 8,169 (1.35×) |
//!
//! `.one()` went from 17,162 (PostgreSQL) and 10,785 (SQLite) to the figures above when a
//! model query began keeping its columns and table apart as a `SelectHead` (neither built
//! nor walked for the statement cache's key on a hit), a SELECT's empty parts went into
//! the key as one mask, and a binary expression's operands into one allocation.
//!
//! PostgreSQL `.one()` was 18,111 (1.43×) before rows were decoded as they arrive (no
//! `Vec` of driver rows), `.one()` kept only its first row (no `Vec` of models), the last
//! statement was found without hashing its SQL, and a connection reused its bind buffer.

mod common;

use oxalchemy::orm;
use oxalchemy::prelude::*;

const ROWS: i64 = 1_000;
const WARMUP: i64 = 200;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_lookup_cg_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    pub karma: Option<i32>,
}

/// The raw side's statements: what `.one()` sends on each dialect.
const SQLITE_SQL: &str = "SELECT \"bench_lookup_cg_users\".\"id\", \"bench_lookup_cg_users\".\"username\", \
     \"bench_lookup_cg_users\".\"karma\" FROM \"bench_lookup_cg_users\" WHERE \"bench_lookup_cg_users\".\"id\" = ?1 LIMIT 2";
const PG_SQL: &str = "SELECT \"bench_lookup_cg_users\".\"id\", \"bench_lookup_cg_users\".\"username\", \
     \"bench_lookup_cg_users\".\"karma\" FROM \"bench_lookup_cg_users\" WHERE \"bench_lookup_cg_users\".\"id\" = $1 LIMIT $2";

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

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_cg_accounts")]
struct Account {
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

fn account(i: i64) -> Account {
    Account {
        id: 0,
        username: format!("user{i}"),
        email: format!("user{i}@example.com"),
        karma: (i % 3 == 0).then_some(i as i32),
        active: i % 2 == 0,
        score: i as f64 * 0.5,
    }
}

/// `INSERT INTO "bench_cg_accounts" (…) VALUES (?, ?, ?, ?, ?), …` for `rows` rows.
fn values_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO \"bench_cg_accounts\" (\"username\", \"email\", \"karma\", \"active\", \"score\") VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?, ?)");
    }
    sql
}

/// `n` new accounts on SQLite, raw or through a session.
async fn insert(side: &str, db: &Database, raw: &rusqlite::Connection, n: i64) {
    let md = Registry::new().model::<Account>().metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    if side == "insert_raw" {
        let tx = raw.unchecked_transaction().expect("tx");
        let items: Vec<Account> = (0..n).map(account).collect();
        // 64 rows a statement: SQLite's fastest multi-row INSERT, as the session sends.
        for chunk in items.chunks(64) {
            let mut stmt = tx
                .prepare_cached(&values_sql(chunk.len()))
                .expect("prepare");
            let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 5);
            for a in chunk {
                params.extend([
                    &a.username as &dyn rusqlite::ToSql,
                    &a.email,
                    &a.karma,
                    &a.active,
                    &a.score,
                ]);
            }
            stmt.execute(params.as_slice()).expect("insert");
        }
        tx.commit().expect("commit");
    } else {
        let mut s = db.session();
        s.add_all((0..n).map(account));
        s.commit().await.expect("commit");
    }
    let count: Vec<(i64,)> = db
        .query(text("SELECT count(*) FROM \"bench_cg_accounts\""))
        .await
        .expect("count");
    assert_eq!(count[0].0, n);
    println!("sqlite {side}: {n} objects");
    db.drop_all(&md).await.expect("drop");
}

/// The session sides: see the header.
async fn session_side(side: &str, db: &Database, n: i64) {
    let mut checksum = 0i64;
    if side == "session_load" {
        for _ in 0..n {
            let mut s = db.session();
            let hs = s.query::<User>().all().await.expect("load");
            checksum += hs.len() as i64;
        }
    } else {
        let mut s = db.session();
        let hs = s.query::<User>().all().await.expect("load");
        for i in 0..n {
            let k = i % ROWS + 1;
            if side == "session_get" {
                let h = s.get::<User>(k).await.expect("get").expect("held");
                checksum += s[h].id;
            } else {
                let h = hs[(k - 1) as usize];
                s[h].karma = Some(i as i32);
                s.flush().await.expect("flush");
                checksum += 1;
            }
        }
        s.rollback().await.expect("rollback");
    }
    println!("sqlite {side}: {n} iterations, checksum {checksum}");
}

enum Raw {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client, tokio_postgres::Statement),
}

async fn lookup(
    side: &str,
    raw: &Raw,
    conn: &mut Connection,
    prepared: &orm::Prepared<User>,
    k: i64,
) -> User {
    match side {
        "raw" => match raw {
            Raw::Sqlite(c) => {
                let mut stmt = c.prepare_cached(SQLITE_SQL).expect("prepare");
                stmt.query_row([k], |r| {
                    Ok(User {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        karma: r.get(2)?,
                    })
                })
                .expect("row")
            }
            Raw::Postgres(client, stmt) => {
                let rows = client.query(stmt, &[&k, &2i64]).await.expect("query");
                let r = &rows[0];
                User {
                    id: r.get(0),
                    username: r.get(1),
                    karma: r.get(2),
                }
            }
        },
        "query" => orm::query::<User>()
            .filter(User::id.eq(k))
            .one(&mut *conn)
            .await
            .expect("query"),
        "prepared" => prepared.one(&mut *conn, k).await.expect("prepared"),
        "get" => orm::get::<User>(&mut *conn, k)
            .await
            .expect("get")
            .expect("row"),
        other => panic!("CG_SIDE={other}: expected raw, query, prepared or get"),
    }
}

async fn bench() {
    let which_db = std::env::var("CG_DB").unwrap_or_else(|_| "sqlite".to_owned());
    let side = std::env::var("CG_SIDE").ok();
    let n: i64 = std::env::var("CG_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let path = common::sqlite_path("lookup-cg");
    let (db, raw) = if which_db == "postgres" {
        let Some((db, url)) = common::postgres().await else {
            return;
        };
        fill(&db).await;
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("raw pg");
        tokio::spawn(connection);
        let stmt = client.prepare(PG_SQL).await.expect("prepare");
        (db, Raw::Postgres(client, stmt))
    } else {
        let db = Database::connect(format!("sqlite:///{}", path.display()))
            .await
            .expect("sqlite");
        fill(&db).await;
        let raw = rusqlite::Connection::open(&path).expect("raw sqlite");
        (db, Raw::Sqlite(raw))
    };
    if let (Some(side @ ("insert_raw" | "insert_session")), Raw::Sqlite(raw)) =
        (side.as_deref(), &raw)
    {
        insert(side, &db, raw, n).await;
        drop(db);
        common::remove_sqlite(&path);
        return;
    }
    if let Some(side @ ("session_get" | "session_load" | "session_flush")) = side.as_deref() {
        session_side(side, &db, n).await;
        drop(db);
        common::remove_sqlite(&path);
        return;
    }
    let prepared = orm::query::<User>().filter(User::id.eq(param())).prepare();
    let mut conn = db.connection().await.expect("conn");
    let sides: Vec<String> = match side {
        Some(s) => vec![s],
        None => ["raw", "query", "prepared", "get"]
            .map(String::from)
            .to_vec(),
    };
    for side in &sides {
        let mut karma = 0i64;
        for k in 1..=WARMUP {
            karma += i64::from(
                lookup(side, &raw, &mut conn, &prepared, k)
                    .await
                    .karma
                    .unwrap_or(0),
            );
        }
        for i in 0..n {
            let k = i % ROWS + 1;
            let u = lookup(side, &raw, &mut conn, &prepared, k).await;
            assert_eq!(u.id, k);
            karma += i64::from(u.karma.unwrap_or(0));
        }
        println!("{which_db} {side}: {n} lookups, karma {karma}");
    }
    drop(conn);
    if which_db == "postgres" {
        db.drop_all(&Registry::new().model::<User>().metadata())
            .await
            .expect("cleanup");
    } else {
        drop(db);
        common::remove_sqlite(&path);
    }
}

fn main() {
    common::run(bench());
}
