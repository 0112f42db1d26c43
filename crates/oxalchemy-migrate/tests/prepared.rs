//! After migrations change a column's type, statements the pool's connections prepared
//! before must not fail with SQLSTATE 0A000 "cached plan must not change result type" —
//! not even inside a transaction, where the engine cannot retry them (issue 10 item 9).

use oxalchemy_core::schema::{Column, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, Migration, Runner};
use oxalchemy_migrate::ops::{ColumnChange, Ops};
use oxalchemy_testing::pg_schema;

fn create(ops: &mut Ops) {
    ops.create_table(
        Table::new("prepared_items")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("v", SqlType::Integer)),
    );
}
fn drop(ops: &mut Ops) {
    ops.drop_table("prepared_items");
}
fn widen(ops: &mut Ops) {
    ops.alter_column(
        "prepared_items",
        "v",
        ColumnChange {
            ty: Some(SqlType::BigInteger),
            ..Default::default()
        },
    );
}
fn narrow(ops: &mut Ops) {
    ops.alter_column(
        "prepared_items",
        "v",
        ColumnChange {
            ty: Some(SqlType::Integer),
            ..Default::default()
        },
    );
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        revision: "p1",
        down_revisions: &[],
        message: "create items",
        created: "2026-11-29",
        upgrade: create,
        downgrade: drop,
    },
    Migration {
        revision: "p2",
        down_revisions: &["p1"],
        message: "widen prepared_items.v",
        created: "2026-11-29",
        upgrade: widen,
        downgrade: narrow,
    },
];

#[tokio::test]
async fn statements_prepared_before_a_migration_work_after_it_inside_a_transaction() {
    let Some(pg) = pg_schema("migrate_prepared").await else {
        return;
    };
    let graph = Graph::new(MIGRATIONS).unwrap();
    // One connection: the one that prepares the statement is the one reused afterwards.
    let db = Database::connect(&pg.url)
        .pool_size(1)
        .max_overflow(0)
        .await
        .unwrap();
    Runner::new(&graph).run(&db, "p1").await.unwrap();
    db.execute(text("INSERT INTO prepared_items VALUES (1, 7)"))
        .await
        .unwrap();
    let read = || text("SELECT v FROM prepared_items WHERE id = 1");
    let v: i32 = db.query_scalar(read()).await.unwrap();
    assert_eq!(v, 7);

    Runner::new(&graph).run(&db, "head").await.unwrap();

    let mut conn = db.connection().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let v: i64 = tx.query_scalar(read()).await.unwrap();
    assert_eq!(v, 7, "the statement was prepared again after the migration");
    tx.commit().await.unwrap();
    std::mem::drop(conn);
    pg.drop().await;
}
