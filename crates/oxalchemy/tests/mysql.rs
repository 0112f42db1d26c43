//! MySQL / MariaDB specifics, on the server `TEST_MYSQL_URL` names (a database per test):
//! Core statements, a model session's flush and query, the types as MySQL stores them, and
//! typed errors. Everything else runs on MariaDB through `common::all_targets`.

mod blog;

use blog::*;
use oxalchemy::prelude::*;
use oxalchemy_testing::{mysql_database, MysqlDatabase};

async fn fresh(test: &str) -> Option<(MysqlDatabase, Database)> {
    let my = mysql_database(test).await?;
    let db = Database::connect(&my.url)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", my.url));
    Some((my, db))
}

#[tokio::test]
async fn core_statements_and_a_session_run_on_mariadb() {
    let Some((my, db)) = fresh("mysql_core_session").await else {
        return;
    };
    assert_eq!(
        db.dialect().name(),
        "mariadb",
        "MariaDB has INSERT … RETURNING"
    );

    // Core: DDL, INSERT … RETURNING, SELECT with binds, UPDATE, DELETE.
    let items = Table::new("items")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::String(Some(40))).not_null())
        .column(Column::new("qty", SqlType::Integer).not_null());
    let mut md = MetaData::new();
    md.add(items.clone());
    db.create_all(&md).await.unwrap();
    let t = table("items");
    let ids: Vec<(i64,)> = db
        .query(
            insert(t.clone())
                .columns(["name", "qty"])
                .values([lit("apple"), lit(3i32)])
                .values([lit("pear"), lit(5i32)])
                .returning([col("id")]),
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[1].0 > ids[0].0);
    let rows: Vec<(String, i32)> = db
        .query(
            select([col("name"), col("qty")])
                .from(t.clone())
                .filter(col("qty").gt(4i32))
                .order_by(col("name")),
        )
        .await
        .unwrap();
    assert_eq!(rows, [("pear".to_owned(), 5)]);
    let changed = db
        .execute(
            update(t.clone())
                .set("qty", 7i32)
                .filter(col("name").eq("apple")),
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    // Matched, not changed: the same value again still counts the row (CLIENT_FOUND_ROWS).
    let again = db
        .execute(
            update(t.clone())
                .set("qty", 7i32)
                .filter(col("name").eq("apple")),
        )
        .await
        .unwrap();
    assert_eq!(again, 1);
    let gone = db
        .execute(delete(t.clone()).filter(col("name").ilike("PEAR")))
        .await
        .unwrap();
    assert_eq!(gone, 1);

    // The ORM: create_all of the guide's models, a flush in FK order, a query back.
    db.create_all(&registry().metadata()).await.unwrap();
    let mut s = db.session();
    let ann = s.add(User {
        username: "ann".into(),
        email: "ann@example.com".into(),
        settings: serde_json::json!({"theme": "dark"}),
        ..Default::default()
    });
    let post = s.add(Post {
        title: "Hello".into(),
        ..Default::default()
    });
    s.link(post, Post::author, ann).unwrap();
    s.commit().await.unwrap();
    let ann_id = s[ann].base.id;
    assert!(ann_id > 0);
    assert_eq!(s[post].author_id, ann_id);
    s.close().await.unwrap();

    let mut s = db.session();
    let found = s
        .query::<User>()
        .filter(User::username.ilike("AN%"))
        .one()
        .await
        .unwrap();
    assert_eq!(s[found].base.id, ann_id);
    assert_eq!(s[found].settings, serde_json::json!({"theme": "dark"}));
    assert_eq!(s[found].status, Status::Active);
    s[found].karma = Some(5);
    s.commit().await.unwrap();
    s.close().await.unwrap();
    let karma: Option<i32> = db
        .query_scalar(
            select([col("karma")])
                .from(table("users"))
                .filter(col("id").eq(ann_id)),
        )
        .await
        .unwrap();
    assert_eq!(karma, Some(5));
    db.close();
    my.drop().await;
}
