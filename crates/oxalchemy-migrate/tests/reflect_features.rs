//! Reflection reads back what the models declare — generated columns, comments, collations,
//! identity options, deferrable foreign keys, expression and partial indexes, and the types
//! reflection used to reject — on SQLite (memory and file) and PostgreSQL. (The scenario
//! suite shows autogenerate converges on them; this shows the values themselves.)

use oxalchemy_core::schema::{Column, Computed, ForeignKey, Identity, Index, MetaData, Table};
use oxalchemy_core::{Constraint, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::reflect::reflect;
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn models(pg: bool) -> MetaData {
    let mut md = MetaData::new();
    let mut id = Column::new("id", SqlType::BigInteger).primary_key();
    if pg {
        id = id.identity(Identity::always().start(100).increment(5));
    }
    md.add(
        Table::new("rf_parent")
            .column(id)
            .column(
                Column::new("email", SqlType::Text)
                    .collation(if pg { "C" } else { "NOCASE" })
                    .comment("login"),
            )
            .column(Column::new("price", SqlType::Integer))
            .column(Column::new("total", SqlType::Integer).computed("price * 2", true))
            .column(Column::new("deleted_at", SqlType::Text))
            .column(Column::new("code", SqlType::Char(3)))
            .column(Column::new("ttl", SqlType::Interval))
            .column(Column::new(
                "seen",
                SqlType::DateTimePrecision {
                    timezone: false,
                    precision: 3,
                },
            ))
            .column(Column::new("at", SqlType::TimePrecision(2)))
            .comment("parents")
            .index(
                Index::on_expressions(["lower(email)"])
                    .named("ix_rf_email")
                    .unique()
                    .where_("deleted_at IS NULL"),
            ),
    );
    md.add(
        Table::new("rf_child")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("parent_id", SqlType::BigInteger))
            .foreign_key(
                ForeignKey::new(["parent_id"], "rf_parent", ["id"])
                    .named("fk_rf_child_parent")
                    .deferrable(true),
            ),
    );
    md
}

async fn check(label: &str, url: &str, pg: bool) {
    let db = Database::connect(url).await.unwrap();
    db.create_all(&models(pg)).await.unwrap();
    let mut conn = db.connection().await.unwrap();
    let md = reflect(&mut conn).await.unwrap();
    let p = md.table("rf_parent").unwrap();
    let col = |n: &str| p.column_named(n).unwrap();
    let total = col("total").computed.clone().unwrap();
    assert!(total.stored, "[{label}]");
    assert_eq!(
        total.sql.replace(['(', ')'], ""),
        "price * 2",
        "[{label}] {total:?}"
    );
    assert_eq!(col("price").computed, None::<Computed>, "[{label}]");
    assert_eq!(
        col("email").collation.as_deref(),
        Some(if pg { "C" } else { "NOCASE" }),
        "[{label}]"
    );
    assert_eq!(col("code").ty, SqlType::Char(3), "[{label}]");
    assert_eq!(col("ttl").ty, SqlType::Interval, "[{label}]");
    assert_eq!(
        col("seen").ty,
        SqlType::DateTimePrecision {
            timezone: false,
            precision: 3
        },
        "[{label}]"
    );
    assert_eq!(col("at").ty, SqlType::TimePrecision(2), "[{label}]");
    let ix = &p.indexes[0];
    assert!(ix.unique && ix.columns.is_empty(), "[{label}] {ix:?}");
    assert_eq!(
        ix.expressions
            .iter()
            .map(|e| e.replace(['(', ')', '"'], "").replace("::text", ""))
            .collect::<Vec<_>>(),
        ["loweremail"],
        "[{label}] {ix:?}"
    );
    assert_eq!(
        ix.where_clause.as_deref(),
        Some("deleted_at IS NULL"),
        "[{label}]"
    );
    let fk = md
        .table("rf_child")
        .unwrap()
        .constraints
        .iter()
        .find_map(|c| match c {
            Constraint::ForeignKey(fk) => Some(fk.clone()),
            _ => None,
        })
        .unwrap();
    assert!(fk.deferrable && fk.initially_deferred, "[{label}] {fk:?}");
    if pg {
        // Comments and identity options exist on PostgreSQL only.
        assert_eq!(p.comment.as_deref(), Some("parents"));
        assert_eq!(col("email").comment.as_deref(), Some("login"));
        assert_eq!(
            col("id").identity,
            Some(Identity::always().start(100).increment(5))
        );
    } else {
        assert_eq!(p.comment, None, "SQLite keeps no comments");
        assert_eq!(col("id").identity, None);
    }
}

#[tokio::test]
async fn new_schema_features_reflect_on_every_backend() {
    check("sqlite memory", "sqlite::memory:", false).await;
    let file = TempSqliteFile::new("autogen_reflect_features");
    check("sqlite file", &file.url(), false).await;
    if let Some(pg) = pg_schema("autogen_reflect_features").await {
        check("postgresql", &pg.url, true).await;
        pg.drop().await;
    }
}
