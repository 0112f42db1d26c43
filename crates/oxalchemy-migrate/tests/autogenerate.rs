//! Autogenerate on SQLite and PostgreSQL: models → diff against the reflected database →
//! upgrade; a second autogenerate finds nothing; the downgrade returns to an empty schema;
//! the guide's "add user status" change is produced as AddColumn + CreateIndex.

use oxalchemy_core::schema::{Column, Index, MetaData, ReferentialAction, Table};
use oxalchemy_core::SqlType;
use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::diff;
use oxalchemy_migrate::migration::execute_ops;
use oxalchemy_migrate::ops::Op;
use oxalchemy_migrate::reflect::reflect;
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn users(with_status: bool) -> Table {
    let t = Table::new("users")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("username", SqlType::String(Some(50)))
                .not_null()
                .unique(),
        )
        .column(Column::new("email", SqlType::String(Some(255))).not_null())
        .column(
            Column::new("karma", SqlType::Integer)
                .server_default("0")
                .not_null(),
        )
        .index(Index::new(["username", "email"]).named("idx_users_username_email"));
    if with_status {
        t.column(
            Column::new("status", SqlType::String(Some(20)))
                .not_null()
                .server_default("'active'"),
        )
        .index(Index::new(["status"]).named("idx_users_status"))
    } else {
        t
    }
}

fn models(with_status: bool) -> MetaData {
    let mut md = MetaData::new();
    md.add(users(with_status));
    md.add(
        Table::new("posts")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("title", SqlType::String(Some(200))).not_null())
            .column(Column::new("body", SqlType::Text))
            .column(
                Column::new("author_id", SqlType::BigInteger)
                    .not_null()
                    .references("users", "id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .check("title_not_empty", "length(title) > 0")
            .index(Index::new(["author_id"]).named("idx_posts_author")),
    );
    md
}

async fn apply(db: &Database, ops: &[Op]) {
    let mut conn = db.connection().await.unwrap();
    let mut state = reflect(&mut conn).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    execute_ops(&mut tx, ops, &mut state)
        .await
        .unwrap_or_else(|e| panic!("{e}: {ops:#?}"));
    tx.commit().await.unwrap();
}

async fn autogenerate(db: &Database, target: &MetaData) -> oxalchemy_migrate::diff::Diff {
    let mut conn = db.connection().await.unwrap();
    let current = reflect(&mut conn).await.unwrap();
    diff(db.dialect(), target, &current, &|t| {
        t != "oxalchemy_version"
    })
}

#[tokio::test]
async fn autogenerate_round_trip_on_both_databases() {
    let file = TempSqliteFile::new("autogen");
    let mut urls = vec![("sqlite", file.url(), None)];
    if let Some(pg) = pg_schema("autogen").await {
        urls.push(("postgresql", pg.url.clone(), Some(pg)));
    }
    for (label, url, pg) in urls {
        let db = Database::connect(&url).await.unwrap();
        // From nothing: the models' tables.
        let first = autogenerate(&db, &models(false)).await;
        assert!(
            first
                .upgrade
                .iter()
                .all(|op| matches!(op, Op::CreateTable(_))),
            "[{label}] {:#?}",
            first.upgrade
        );
        assert_eq!(first.upgrade.len(), 2);
        apply(&db, &first.upgrade).await;
        // Up to date: nothing to do.
        let again = autogenerate(&db, &models(false)).await;
        assert!(
            again.is_empty(),
            "[{label}] up-to-date database produced {:#?}",
            again.upgrade
        );

        // The guide's model change: users.status with a server default, and its index.
        db.execute(oxalchemy_core::text(
            "INSERT INTO users (username, email) VALUES ('ann', 'ann@example.com')",
        ))
        .await
        .unwrap();
        let change = autogenerate(&db, &models(true)).await;
        let kinds: Vec<String> = change
            .upgrade
            .iter()
            .map(|op| {
                format!("{op:?}")
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            kinds,
            ["AddColumn", "CreateIndex"],
            "[{label}] {:#?}",
            change.upgrade
        );
        let down: Vec<String> = change
            .downgrade
            .iter()
            .map(|op| {
                format!("{op:?}")
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(down, ["DropIndex", "DropColumn"], "[{label}]");
        apply(&db, &change.upgrade).await;
        let status: String = db
            .query_scalar(oxalchemy_core::text("SELECT status FROM users"))
            .await
            .unwrap();
        assert_eq!(
            status, "active",
            "[{label}] existing rows got the server default"
        );
        assert!(
            autogenerate(&db, &models(true)).await.is_empty(),
            "[{label}]"
        );
        // Roll back: the column and index go, the row stays.
        apply(&db, &change.downgrade).await;
        assert!(
            autogenerate(&db, &models(false)).await.is_empty(),
            "[{label}]"
        );
        let n: i64 = db
            .query_scalar(oxalchemy_core::text("SELECT count(*) FROM users"))
            .await
            .unwrap();
        assert_eq!(n, 1);
        // Down to base: the schema is empty again.
        apply(&db, &first.downgrade).await;
        let mut conn = db.connection().await.unwrap();
        let empty = reflect(&mut conn).await.unwrap();
        assert!(empty.tables().is_empty(), "[{label}] {:?}", empty.tables());
        drop(conn);
        if let Some(pg) = pg {
            pg.drop().await;
        }
    }
}
