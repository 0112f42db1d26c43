//! MariaDB / MySQL, same run, interleaved, vs hand-written `mysql_async` code with the same
//! statement shapes and the same row structs:
//!
//! * read 10,000 rows into structs: `orm::query::<Item>().all(&mut conn)` vs
//!   `conn.exec_map(&stmt, (), |(id, name, note)| Item { .. })` on a statement prepared once
//!   (`SELECT id, name, note FROM mybench_items`);
//! * insert 10,000 objects: `session.add_all(..)` + `commit()` vs one transaction of raw
//!   multi-row `INSERT INTO mybench_accounts (username, email, karma, active, score) VALUES
//!   (?, ?, ?, ?, ?), …` statements, 65,535 / 5 rows each, values bound as
//!   `Params::Positional` (the raw side reads no generated keys back; the session does);
//! * users → posts → comments: `selectinload(User::posts).selectinload(Post::comments)` vs
//!   the raw three queries (`SELECT … FROM users`, `… FROM posts WHERE user_id IN (?, …)`,
//!   `… FROM comments WHERE post_id IN (?, …)`) grouped by hand into the same structs.
//!
//! Both sides connect alike: plaintext TCP, `CLIENT_FOUND_ROWS`, and oxalchemy's session
//! setup statement (utf8mb4, UTC, strict `sql_mode`).
//!
//! `cargo bench -p oxalchemy --bench mysql` (TEST_MYSQL_URL, else
//! mysql://root@127.0.0.1:3306/test; skipped with a message if unreachable).

mod common;

use common::median;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, TxOpts};
use oxalchemy::orm::{self, selectinload};
use oxalchemy::prelude::*;

const READ_ROWS: usize = 10_000;
const READ_ROUNDS: usize = 40;
const NEW: usize = 10_000;
const INSERT_ROUNDS: usize = 7;
const USERS: usize = 100;
const PER: usize = 10;
const LOAD_ROUNDS: usize = 30;

/// The MySQL URL benchmarks use: `TEST_MYSQL_URL`, else the machine's local server, in
/// plaintext on both sides (the raw connection uses no TLS).
fn mysql_url() -> String {
    let url = std::env::var("TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned());
    if url.contains("ssl-mode=") || url.contains("ssl_mode=") {
        url
    } else if url.contains('?') {
        format!("{url}&ssl-mode=disabled")
    } else {
        format!("{url}?ssl-mode=disabled")
    }
}

/// The raw connection, opened as oxalchemy opens its own.
async fn raw_conn(url: &str) -> Conn {
    let opts = mysql_async::Opts::from_url(url.split('?').next().unwrap_or(url)).expect("url");
    let opts = OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .client_found_rows(true)
        .init(vec!["SET NAMES utf8mb4, time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PIPES_AS_CONCAT,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE'"]);
    Conn::new(opts).await.expect("raw mysql")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(what: &str, raw_label: &str, raw: Vec<Duration>, ours: Vec<Duration>) {
    let (r, o) = (median(raw), median(ours));
    println!(
        "mariadb {what:<36} {raw_label} {:>8.2} ms | oxalchemy {:>8.2} ms | ratio {:.3}x",
        ms(r),
        ms(o),
        o.as_secs_f64() / r.as_secs_f64()
    );
}

// ---- (a) read 10,000 rows into structs -------------------------------------------------

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "mybench_items")]
struct Item {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    pub note: Option<String>,
}

async fn bench_read(db: &Database, raw: &mut Conn) {
    let md = Registry::new().model::<Item>().metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    let mut s = db.session();
    s.add_all((0..READ_ROWS as i64).map(|i| Item {
        id: i + 1,
        name: format!("item name {i}"),
        note: (i % 2 == 0).then(|| format!("note number {i}")),
    }));
    s.commit().await.expect("fill");

    let stmt = raw
        .prep("SELECT `mybench_items`.`id`, `mybench_items`.`name`, `mybench_items`.`note` FROM `mybench_items`")
        .await
        .expect("prepare");
    let mut conn = db.connection().await.expect("conn");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..READ_ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            let rows: Vec<Item> = if which == 0 {
                raw.exec_map(
                    &stmt,
                    (),
                    |(id, name, note): (i64, String, Option<String>)| Item { id, name, note },
                )
                .await
                .expect("raw")
            } else {
                orm::query::<Item>().all(&mut conn).await.expect("ours")
            };
            let elapsed = start.elapsed();
            assert_eq!(rows.len(), READ_ROWS);
            if which == 0 {
                t_raw.push(elapsed)
            } else {
                t_ours.push(elapsed)
            }
        }
    }
    report(
        "read 10,000 rows into structs",
        "raw exec_map",
        t_raw,
        t_ours,
    );
    drop(conn);
    db.drop_all(&md).await.expect("cleanup");
}

// ---- (b) insert 10,000 objects ----------------------------------------------------------

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "mybench_accounts")]
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

fn account(i: usize) -> Account {
    Account {
        id: 0,
        username: format!("user{i}"),
        email: format!("user{i}@example.com"),
        karma: i.is_multiple_of(3).then_some(i as i32),
        active: i.is_multiple_of(2),
        score: i as f64 * 0.5,
    }
}

fn values_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO `mybench_accounts` (`username`, `email`, `karma`, `active`, `score`) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?, ?)");
    }
    sql
}

async fn bench_insert(db: &Database, raw: &mut Conn) {
    let md = Registry::new().model::<Account>().metadata();
    let reset = || async {
        db.drop_all(&md).await.expect("drop");
        db.create_all(&md).await.expect("create");
    };
    let per_stmt = 65_535 / 5;
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..INSERT_ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            reset().await;
            let items: Vec<Account> = (0..NEW).map(account).collect();
            let start = Instant::now();
            if which == 0 {
                let mut tx = raw.start_transaction(TxOpts::default()).await.expect("tx");
                for chunk in items.chunks(per_stmt) {
                    let mut params: Vec<mysql_async::Value> = Vec::with_capacity(chunk.len() * 5);
                    for a in chunk {
                        params.extend([
                            a.username.as_str().into(),
                            a.email.as_str().into(),
                            a.karma.into(),
                            a.active.into(),
                            a.score.into(),
                        ]);
                    }
                    tx.exec_drop(values_sql(chunk.len()), Params::Positional(params))
                        .await
                        .expect("insert");
                }
                tx.commit().await.expect("commit");
            } else {
                let mut s = db.session();
                let handles = s.add_all(items);
                s.commit().await.expect("flush");
                assert_eq!(handles.len(), NEW);
            }
            let elapsed = start.elapsed();
            if which == 0 {
                t_raw.push(elapsed)
            } else {
                t_ours.push(elapsed)
            }
            let n: Option<i64> = raw
                .query_first("SELECT COUNT(*) FROM `mybench_accounts`")
                .await
                .expect("count");
            assert_eq!(n, Some(NEW as i64));
        }
    }
    report(
        "insert 10,000 (session add + commit)",
        "raw multi-row INSERT",
        t_raw,
        t_ours,
    );
    db.drop_all(&md).await.expect("cleanup");
}

// ---- (c) selectinload users → posts → comments -------------------------------------------

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "mybench_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
    #[relationship(back_populates = "user")]
    pub posts: Many<Post>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "mybench_posts")]
struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "mybench_users.id")]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
    #[relationship(back_populates = "posts")]
    pub user: One<User>,
    #[relationship(back_populates = "post")]
    pub comments: Many<Comment>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "mybench_comments")]
struct Comment {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "mybench_posts.id")]
    pub post_id: i64,
    pub text: String,
    #[relationship(back_populates = "comments")]
    pub post: One<Post>,
}

fn load_metadata() -> MetaData {
    Registry::new()
        .model::<User>()
        .model::<Post>()
        .model::<Comment>()
        .metadata()
}

async fn fill_load(db: &Database) {
    db.drop_all(&load_metadata()).await.expect("drop");
    db.create_all(&load_metadata()).await.expect("create");
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

fn in_list(n: usize) -> String {
    vec!["?"; n].join(", ")
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

/// The raw three queries, grouped by hand.
async fn raw_load(raw: &mut Conn) -> Vec<User> {
    let users: Vec<User> = raw
        .exec_map(
            "SELECT `id`, `name`, `hair_color` FROM `mybench_users`",
            (),
            |(id, name, hair_color): (i64, String, Option<String>)| User {
                id,
                name,
                hair_color,
                ..Default::default()
            },
        )
        .await
        .expect("users");
    let ids: Vec<mysql_async::Value> = users.iter().map(|u| u.id.into()).collect();
    let posts: Vec<Post> = raw
        .exec_map(
            format!(
                "SELECT `id`, `user_id`, `title`, `body` FROM `mybench_posts` WHERE `user_id` IN ({})",
                in_list(ids.len())
            ),
            Params::Positional(ids),
            |(id, user_id, title, body): (i64, i64, String, Option<String>)| Post {
                id,
                user_id,
                title,
                body,
                ..Default::default()
            },
        )
        .await
        .expect("posts");
    let pids: Vec<mysql_async::Value> = posts.iter().map(|p| p.id.into()).collect();
    let comments: Vec<Comment> = raw
        .exec_map(
            format!(
                "SELECT `id`, `post_id`, `text` FROM `mybench_comments` WHERE `post_id` IN ({})",
                in_list(pids.len())
            ),
            Params::Positional(pids),
            |(id, post_id, text): (i64, i64, String)| Comment {
                id,
                post_id,
                text,
                ..Default::default()
            },
        )
        .await
        .expect("comments");
    group_raw(users, posts, comments)
}

async fn bench_load(db: &Database, raw: &mut Conn) {
    fill_load(db).await;
    let mut conn = db.connection().await.expect("conn");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..LOAD_ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            let users = if which == 0 {
                raw_load(raw).await
            } else {
                orm::query::<User>()
                    .options(selectinload(User::posts).selectinload(Post::comments))
                    .all(&mut conn)
                    .await
                    .expect("ours")
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
    report(
        "selectinload users→posts→comments",
        "raw 3 queries",
        t_raw,
        t_ours,
    );
    drop(conn);
    db.drop_all(&load_metadata()).await.expect("cleanup");
}

fn main() {
    common::run(async {
        let url = mysql_url();
        let db = match Database::connect(&url).await {
            Ok(db) => db,
            Err(e) => {
                println!("mariadb SKIPPED: {e}");
                return;
            }
        };
        let mut raw = raw_conn(&url).await;
        let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        let wants = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
        if wants("read") {
            bench_read(&db, &mut raw).await;
        }
        if wants("insert") {
            bench_insert(&db, &mut raw).await;
        }
        if wants("selectinload") {
            bench_load(&db, &mut raw).await;
        }
    });
}
