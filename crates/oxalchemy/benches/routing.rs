//! Routing costs of replicas and shards, measured in the same run, interleaved:
//!
//! - replica selection per statement: 1,000 primary-key lookups through `&db.replica()`
//!   (a `Database` with a replica) against the same lookups on that replica's `Database`
//!   directly — the only difference is choosing the replica;
//! - fan-out: the top 100 of N rows by a column, over two shards holding N/2 each
//!   (`ShardedDatabase`, merged with ORDER BY / LIMIT after the merge) against one database
//!   holding all N.
//!
//! On SQLite files and PostgreSQL (the replica is the same server, so only routing differs).
//!
//! `cargo bench -p oxalchemy --bench routing`

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::engine::ShardedDatabase;
use oxalchemy::orm::{self, ShardedQueryExt};
use oxalchemy::prelude::*;

const LOOKUPS: i64 = 1_000;
const ROWS: i64 = 10_000;
const ROUNDS: usize = 21;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_routing_items")]
struct Item {
    #[column(primary_key, autoincrement = false)]
    pub id: i64,
    pub score: i64,
    #[column(length = 40)]
    pub name: String,
}

async fn fill(db: &Database, ids: impl Iterator<Item = i64>) {
    let md = Registry::new().model::<Item>().metadata();
    db.drop_all(&md).await.expect("drop");
    db.create_all(&md).await.expect("create");
    let mut items: Vec<Item> = ids
        .map(|id| Item {
            id,
            score: (id * 7919) % 10_007,
            name: format!("item{id}"),
        })
        .collect();
    let mut conn = db.connection().await.expect("conn");
    orm::insert_many(&mut conn, &mut items)
        .await
        .expect("insert");
}

async fn lookups(db: &Database, routed: Option<&Database>) -> Duration {
    let start = Instant::now();
    let mut sum = 0;
    for k in 1..=LOOKUPS {
        let target = match routed {
            Some(primary) => primary.replica(),
            None => db.clone(),
        };
        let item = orm::query::<Item>()
            .filter(Item::id.eq(k))
            .one(&target)
            .await
            .expect("lookup");
        sum += item.score;
    }
    std::hint::black_box(sum);
    start.elapsed()
}

async fn replica_selection(label: &str, primary_url: &str, replica_url: &str) {
    let replica = Database::connect(replica_url).await.expect("replica");
    fill(&replica, 1..=LOOKUPS).await;
    let routed = Database::connect(primary_url)
        .replicas([replica_url])
        .await
        .expect("primary with replica");
    let (mut direct, mut via) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            if which == 0 {
                direct.push(lookups(&replica, None).await);
            } else {
                via.push(lookups(&replica, Some(&routed)).await);
            }
        }
    }
    let (d, v) = (median(direct), median(via));
    println!(
        "{label:<11} {LOOKUPS} lookups: on the replica's Database {:>8.3} ms | via db.replica() {:>8.3} ms | ratio {:.4}x",
        d.as_secs_f64() * 1e3,
        v.as_secs_f64() * 1e3,
        v.as_secs_f64() / d.as_secs_f64()
    );
}

async fn fan_out(label: &str, one: Database, a: Database, b: Database) {
    fill(&one, 1..=ROWS).await;
    fill(&a, (1..=ROWS).filter(|i| i % 2 == 0)).await;
    fill(&b, (1..=ROWS).filter(|i| i % 2 == 1)).await;
    let sharded = ShardedDatabase::new().shard("a", a).shard("b", b);
    let q = || orm::query::<Item>().order_by(Item::score.desc()).limit(100);
    let (mut single, mut fanned) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            if which == 0 {
                let rows = q().all(&one).await.expect("single");
                assert_eq!(rows.len(), 100);
                single.push(start.elapsed());
            } else {
                let rows = sharded.all(q()).await.expect("fan-out");
                assert_eq!(rows.len(), 100);
                fanned.push(start.elapsed());
            }
        }
    }
    let (s, f) = (median(single), median(fanned));
    println!(
        "{label:<11} top 100 of {ROWS} by score: one database {:>8.3} ms | 2 shards fanned out {:>8.3} ms | ratio {:.3}x",
        s.as_secs_f64() * 1e3,
        f.as_secs_f64() * 1e3,
        f.as_secs_f64() / s.as_secs_f64()
    );
}

fn main() {
    common::run(async {
        let paths: Vec<_> = ["primary", "replica", "one", "shard-a", "shard-b"]
            .iter()
            .map(|n| common::sqlite_path(&format!("routing-{n}")))
            .collect();
        let url = |i: usize| format!("sqlite:///{}", paths[i].display());
        replica_selection("sqlite", &url(0), &url(1)).await;
        let connect = |u: String| async move { Database::connect(u).await.expect("sqlite") };
        fan_out(
            "sqlite",
            connect(url(2)).await,
            connect(url(3)).await,
            connect(url(4)).await,
        )
        .await;
        for p in &paths {
            common::remove_sqlite(p);
        }

        if let Some((admin, url)) = common::postgres().await {
            replica_selection("postgresql", &url, &url).await;
            let (server, rest) = url.rsplit_once('/').expect("a database in the URL");
            let query = rest
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            let names: Vec<String> = ["one", "a", "b"]
                .iter()
                .map(|n| format!("replicas_bench_{n}_{}", std::process::id()))
                .collect();
            for n in &names {
                admin
                    .execute(text(format!("CREATE DATABASE \"{n}\"")))
                    .await
                    .expect("create database");
            }
            let dbs: Vec<Database> = {
                let mut v = Vec::new();
                for n in &names {
                    v.push(connect(format!("{server}/{n}{query}")).await);
                }
                v
            };
            let mut it = dbs.clone().into_iter();
            let (one, a, b) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            fan_out("postgresql", one, a, b).await;
            for db in &dbs {
                db.close();
            }
            drop(dbs);
            for n in &names {
                let _ = admin
                    .execute(text(format!(
                        "DROP DATABASE IF EXISTS \"{n}\" WITH (FORCE)"
                    )))
                    .await;
            }
        }
    });
}
