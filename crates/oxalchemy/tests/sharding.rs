//! Horizontal sharding over two PostgreSQL databases and over two SQLite files: migrations
//! on every shard with one report, writes on the chosen shard, fan-out queries merged with
//! ORDER BY / OFFSET / LIMIT applied after the merge, the query chooser narrowing a query to
//! one shard, `get` by (shard, key) with identity keys that include the shard.

use oxalchemy::core::schema::{Column, Table};
use oxalchemy::core::SqlType;
use oxalchemy::engine::ShardedDatabase;
use oxalchemy::migrate::migration::{Graph, Migration, Runner};
use oxalchemy::migrate::ops::Ops;
use oxalchemy::orm::{query, ShardedQueryExt};
use oxalchemy::prelude::*;
use oxalchemy_testing::{postgres_base_url, TempSqliteFile};

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "shard_order")]
struct Order {
    #[column(primary_key, autoincrement = false)]
    pub id: i64,
    pub tenant: String,
    pub amount: i64,
    pub note: Option<String>,
}

fn create_orders(ops: &mut Ops) {
    ops.create_table(
        Table::new("shard_order")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("tenant", SqlType::Text).not_null())
            .column(Column::new("amount", SqlType::BigInteger).not_null())
            .column(Column::new("note", SqlType::Text)),
    );
}

fn drop_orders(ops: &mut Ops) {
    ops.drop_table("shard_order");
}

const MIGRATIONS: &[Migration] = &[Migration {
    revision: "5a0000000001",
    down_revisions: &[],
    message: "orders",
    created: "2026-11-29",
    upgrade: create_orders,
    downgrade: drop_orders,
}];

/// Orders of tenants `a-…` live on shard "a", the others on "b"; a query whose WHERE names
/// an `a-` tenant visits only "a".
fn sharded(a: Database, b: Database) -> ShardedDatabase {
    ShardedDatabase::new()
        .shard("a", a)
        .shard("b", b)
        .shard_chooser(|o: &Order| {
            if o.tenant.starts_with("a-") {
                "a".into()
            } else {
                "b".into()
            }
        })
        .query_chooser(|table, select| {
            let filter = format!("{:?}", select.where_);
            if table == "shard_order" && filter.contains("Text(\"a-") {
                vec!["a".into()]
            } else {
                Vec::new()
            }
        })
}

/// Rows of both shards: ids 1..=6 on each (the same keys on both), amounts interleaved.
fn rows() -> Vec<Order> {
    let mut out = Vec::new();
    for id in 1..=6 {
        out.push(Order {
            id,
            tenant: format!("a-{id}"),
            amount: id * 10,
            note: (id % 3 == 0).then(|| "x".into()),
        });
        out.push(Order {
            id,
            tenant: format!("b-{id}"),
            amount: id * 10 + 5,
            note: None,
        });
    }
    out
}

async fn exercise(label: &str, a: Database, b: Database) {
    let sharded = sharded(a.clone(), b.clone());

    // Migrations on every shard, one report; a second run has nothing to do.
    let graph = Graph::new(MIGRATIONS).unwrap();
    let runner = Runner::new(&graph);
    let report = runner.run_sharded(&sharded, "head").await;
    assert!(report.is_ok(), "[{label}] {report:?}");
    let names: Vec<_> = report.shards.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    for (name, r) in &report.shards {
        assert_eq!(
            r.as_ref().unwrap().applied,
            ["5a0000000001"],
            "[{label}] {name}"
        );
    }
    let again = runner.run_sharded(&sharded, "head").await;
    assert!(again
        .shards
        .iter()
        .all(|(_, r)| r.as_ref().unwrap().applied.is_empty()));

    // Writes land on the chosen shard.
    for o in rows() {
        let written = sharded.insert(o.clone()).await.unwrap();
        let expected = if o.tenant.starts_with("a-") { "a" } else { "b" };
        assert_eq!(&*written.shard, expected);
    }
    let tenants = |db: Database| async move {
        let r: Vec<(String,)> = db
            .query(text("SELECT tenant FROM shard_order ORDER BY id"))
            .await
            .unwrap();
        r.into_iter().map(|(t,)| t).collect::<Vec<_>>()
    };
    assert!(tenants(a.clone()).await.iter().all(|t| t.starts_with("a-")));
    assert!(tenants(b.clone()).await.iter().all(|t| t.starts_with("b-")));
    assert_eq!(tenants(a.clone()).await.len(), 6);

    // Fan-out: ordered and limited after the merge.
    let top = sharded
        .all(query::<Order>().order_by(Order::amount.desc()).limit(3))
        .await
        .unwrap();
    let got: Vec<(&str, i64)> = top.iter().map(|o| (&*o.shard, o.amount)).collect();
    assert_eq!(got, [("b", 65), ("a", 60), ("b", 55)], "[{label}]");

    let page = sharded
        .all(
            query::<Order>()
                .order_by(Order::amount.asc())
                .offset(3)
                .limit(4),
        )
        .await
        .unwrap();
    let got: Vec<i64> = page.iter().map(|o| o.amount).collect();
    assert_eq!(got, [25, 30, 35, 40], "[{label}]");

    // Several ORDER BY keys, NULLs placed as asked, whole result.
    let all = sharded
        .all(
            query::<Order>()
                .order_by(Order::note.asc().nulls_first())
                .order_by(Order::id.desc()),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 12);
    let head: Vec<(Option<&str>, i64, &str)> = all
        .iter()
        .take(3)
        .map(|o| (o.note.as_deref(), o.id, &*o.shard))
        .collect();
    // NULL notes first, id descending, ties (same id on both shards) in shard order.
    assert_eq!(
        head,
        [(None, 6, "b"), (None, 5, "a"), (None, 5, "b")],
        "[{label}]"
    );
    let tail: Vec<(Option<&str>, i64)> = all[10..]
        .iter()
        .map(|o| (o.note.as_deref(), o.id))
        .collect();
    assert_eq!(tail, [(Some("x"), 6), (Some("x"), 3)], "[{label}]");

    // The query chooser narrows a query naming an `a-` tenant to shard "a".
    let one = sharded
        .all(query::<Order>().filter(Order::tenant.eq("a-2")))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(&*one[0].shard, "a");
    // Explicit shards win over the chooser.
    let on_b = sharded
        .all_on(&["b"], query::<Order>().order_by(Order::id.asc()))
        .await
        .unwrap();
    assert_eq!(on_b.len(), 6);
    assert!(on_b.iter().all(|o| &*o.shard == "b"));

    // get by (shard, key): the same key is a different row on each shard.
    let a1 = sharded.get::<Order>("a", 1i64).await.unwrap().unwrap();
    let b1 = sharded.get::<Order>("b", 1i64).await.unwrap().unwrap();
    assert_eq!((a1.tenant.as_str(), b1.tenant.as_str()), ("a-1", "b-1"));
    assert_ne!(a1.identity_key(), b1.identity_key());
    assert_eq!(a1.identity_key().key, b1.identity_key().key);
    assert!(sharded.get::<Order>("a", 99i64).await.unwrap().is_none());
    let err = sharded.get::<Order>("c", 1i64).await.unwrap_err();
    assert!(err.to_string().contains("no shard named `c`"), "{err}");
}

#[tokio::test]
async fn two_sqlite_files() {
    let (fa, fb) = (
        TempSqliteFile::new("replicas_shard_a"),
        TempSqliteFile::new("replicas_shard_b"),
    );
    let a = Database::connect(fa.url()).await.unwrap();
    let b = Database::connect(fb.url()).await.unwrap();
    exercise("sqlite", a, b).await;
}

#[tokio::test]
async fn two_postgresql_databases() {
    let base = match postgres_base_url() {
        Ok(url) => url,
        Err(e) if std::env::var("OXALCHEMY_TEST_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("SKIPPED two_postgresql_databases: {e}");
            return;
        }
        Err(e) => panic!("PostgreSQL needed: {e}"),
    };
    let admin = Database::connect(&base).pool_size(1).await.unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    let server = server.to_owned();
    let names = [
        format!("replicas_shard_a_{}", std::process::id()),
        format!("replicas_shard_b_{}", std::process::id()),
    ];
    for n in &names {
        admin
            .execute(text(format!("DROP DATABASE IF EXISTS \"{n}\"")))
            .await
            .unwrap();
        admin
            .execute(text(format!("CREATE DATABASE \"{n}\"")))
            .await
            .unwrap();
    }
    let a = Database::connect(format!("{server}/{}", names[0]))
        .await
        .unwrap();
    let b = Database::connect(format!("{server}/{}", names[1]))
        .await
        .unwrap();
    let run = tokio::spawn(exercise("postgresql", a.clone(), b.clone())).await;
    a.close();
    b.close();
    drop((a, b));
    for n in &names {
        admin
            .execute(text(format!(
                "DROP DATABASE IF EXISTS \"{n}\" WITH (FORCE)"
            )))
            .await
            .unwrap();
    }
    if let Err(e) = run {
        std::panic::resume_unwind(e.into_panic());
    }
}
