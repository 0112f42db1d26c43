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

/// Fifteen model versions, each one kind of change; every step is autogenerated, applied,
/// and re-checked; then everything is rolled back to an empty schema and applied again.
fn version(v: usize) -> MetaData {
    let mut md = MetaData::new();
    if v == 0 {
        return md;
    }
    let mut authors = Table::new("authors")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::String(Some(100))).not_null());
    // 2: add a column; 3: drop it again (nickname lives only in version 2).
    if v == 2 {
        authors = authors.column(Column::new("nickname", SqlType::Text));
    }
    // 4: change a type (bio: String(200) → Text).
    if v >= 3 {
        authors = authors.column(Column::new(
            "bio",
            if v >= 4 {
                SqlType::Text
            } else {
                SqlType::String(Some(200))
            },
        ));
    }
    // 5: change nullability (rating, added nullable in 4, becomes NOT NULL).
    // 6: change the server default.
    if v >= 4 {
        let mut rating =
            Column::new("rating", SqlType::Integer).server_default(if v >= 6 { "5" } else { "0" });
        if v >= 5 {
            rating = rating.not_null();
        }
        authors = authors.column(rating);
    }
    // 7: add an index; 8: drop it.
    if v == 7 {
        authors = authors.index(Index::new(["name"]).named("ix_authors_name"));
    }
    // 9: add a unique constraint; 10: drop it.
    if v == 9 {
        authors = authors.unique_named("uq_authors_name", ["name"]);
    }
    // 11: add a check constraint (kept).
    if v >= 11 {
        authors = authors.check_named("ck_authors_rating", "rating >= 0");
    }
    md.add(authors);
    let mut books = Table::new("books")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("title", SqlType::Text).not_null())
        .column(Column::new("author_id", SqlType::BigInteger));
    // 12: add a foreign key; 13: drop it.
    if v == 12 {
        books = books.foreign_key(
            oxalchemy_core::schema::ForeignKey::new(["author_id"], "authors", ["id"])
                .named("fk_books_author")
                .on_delete(ReferentialAction::SetNull),
        );
    }
    // 14: a new table; 15: drop it again.
    md.add(books);
    if v == 14 {
        md.add(
            Table::new("reviews")
                .column(Column::new("id", SqlType::BigInteger).primary_key())
                .column(Column::new("stars", SqlType::SmallInteger).not_null()),
        );
    }
    md
}

#[tokio::test]
async fn fifteen_model_changes_round_trip() {
    let file = TempSqliteFile::new("autogen15");
    let mut urls = vec![("sqlite", file.url(), None)];
    if let Some(pg) = pg_schema("autogen15").await {
        urls.push(("postgresql", pg.url.clone(), Some(pg)));
    }
    for (label, url, pg) in urls {
        let db = Database::connect(&url).await.unwrap();
        let mut downgrades: Vec<Vec<Op>> = Vec::new();
        let mut upgrades: Vec<Vec<Op>> = Vec::new();
        for v in 1..=15 {
            let d = autogenerate(&db, &version(v)).await;
            assert!(!d.is_empty(), "[{label}] version {v} changed nothing");
            let kinds: Vec<String> = d
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
            let expected: &[&str] = match v {
                1 => &["CreateTable", "CreateTable"],
                2 => &["AddColumn"],
                3 => &["AddColumn", "DropColumn"],
                4 => &["AddColumn", "AlterColumn"],
                5 | 6 => &["AlterColumn"],
                7 | 14 => &[if v == 7 { "CreateIndex" } else { "CreateTable" }],
                8 => &["DropIndex"],
                9 | 11 | 12 => &["AddConstraint"],
                10 | 13 => &["DropConstraint"],
                _ => &["DropTable"],
            };
            assert_eq!(kinds, expected, "[{label}] version {v}: {:#?}", d.upgrade);
            apply(&db, &d.upgrade).await;
            // Keep some data flowing through the rebuilds.
            db.execute(oxalchemy_core::text(format!(
                "INSERT INTO authors (name) VALUES ('author {v}')"
            )))
            .await
            .unwrap_or_else(|e| panic!("[{label}] v{v}: {e}"));
            let again = autogenerate(&db, &version(v)).await;
            assert!(
                again.is_empty(),
                "[{label}] after version {v}: {:#?}",
                again.upgrade
            );
            upgrades.push(d.upgrade);
            downgrades.push(d.downgrade);
        }
        let n: i64 = db
            .query_scalar(oxalchemy_core::text("SELECT count(*) FROM authors"))
            .await
            .unwrap();
        assert_eq!(n, 15, "[{label}] rows survive every change");
        // Down to base, one version at a time; each step matches the previous version.
        for v in (1..=15).rev() {
            apply(&db, &downgrades[v - 1]).await;
            let d = autogenerate(&db, &version(v - 1)).await;
            assert!(
                d.is_empty(),
                "[{label}] after downgrading version {v}: {:#?}",
                d.upgrade
            );
        }
        let mut conn = db.connection().await.unwrap();
        assert!(
            reflect(&mut conn).await.unwrap().tables().is_empty(),
            "[{label}]"
        );
        drop(conn);
        // And up to head again.
        for ops in &upgrades {
            apply(&db, ops).await;
        }
        assert!(
            autogenerate(&db, &version(15)).await.is_empty(),
            "[{label}]"
        );
        if let Some(pg) = pg {
            pg.drop().await;
        }
    }
}
