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
                    .initially_deferred(),
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

/// One table name in two PostgreSQL schemas is two tables: created, changed and dropped
/// each in its own schema, and autogenerate converges.
#[tokio::test]
async fn same_table_name_in_two_schemas() {
    use oxalchemy_migrate::diff::diff;
    use oxalchemy_migrate::migration::execute_ops;
    use oxalchemy_migrate::ops::Op;
    use oxalchemy_migrate::reflect::reflect_for;
    let Some(pg) = pg_schema("autogen_two_schemas").await else {
        return;
    };
    let other = format!("{}_o", pg.schema);
    let db = Database::connect(&pg.url).await.unwrap();
    db.execute(oxalchemy_core::text(format!("CREATE SCHEMA \"{other}\"")))
        .await
        .unwrap();
    let models = |extra: bool| {
        let mut md = MetaData::new();
        md.add(
            Table::new("ts_items")
                .column(Column::new("id", SqlType::BigInteger).primary_key())
                .column(Column::new("here", SqlType::Text)),
        );
        let mut t = Table::new("ts_items")
            .schema(other.clone())
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("there", SqlType::Integer));
        if extra {
            t = t.column(Column::new("more", SqlType::Text));
        }
        md.add(t);
        md
    };
    let autogen = |target: MetaData| {
        let db = db.clone();
        async move {
            let mut conn = db.connection().await.unwrap();
            let current = reflect_for(&mut conn, &target).await.unwrap();
            diff(db.dialect(), &target, &current, &|_| true)
        }
    };
    let apply = |ops: Vec<Op>| {
        let db = db.clone();
        async move {
            let mut conn = db.connection().await.unwrap();
            let mut state = reflect_for(&mut conn, &models(false)).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            execute_ops(&mut tx, &ops, &mut state)
                .await
                .unwrap_or_else(|e| panic!("{e}: {ops:#?}"));
            tx.commit().await.unwrap();
        }
    };
    let create = autogen(models(false)).await;
    assert_eq!(create.upgrade.len(), 2, "{:#?}", create.upgrade);
    apply(create.upgrade.clone()).await;
    assert!(autogen(models(false)).await.is_empty());
    let change = autogen(models(true)).await;
    assert_eq!(change.upgrade.len(), 1, "{:#?}", change.upgrade);
    apply(change.upgrade.clone()).await;
    assert!(autogen(models(true)).await.is_empty());
    let cols: i64 = db
        .query_scalar(oxalchemy_core::text(format!(
            "SELECT count(*) FROM information_schema.columns \
             WHERE table_name = 'ts_items' AND column_name = 'more' \
             AND table_schema = '{other}'"
        )))
        .await
        .unwrap();
    assert_eq!(cols, 1, "the column went to the other schema's table");
    apply(change.downgrade).await;
    assert!(autogen(models(false)).await.is_empty());
    apply(create.downgrade).await;
    let left: i64 = db
        .query_scalar(oxalchemy_core::text(
            "SELECT count(*) FROM pg_class WHERE relname = 'ts_items' AND relkind = 'r'",
        ))
        .await
        .unwrap();
    assert_eq!(left, 0, "both tables dropped");
    db.execute(oxalchemy_core::text(format!(
        "DROP SCHEMA \"{other}\" CASCADE"
    )))
    .await
    .unwrap();
    drop(db);
    pg.drop().await;
}
