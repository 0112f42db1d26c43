//! Migrations on MariaDB (MySQL's dialect with the server's capabilities): reflection with
//! no false diffs on its types, autogenerate round trips through every kind of change, the
//! guide's migration up and down with data kept, and what the runner does about DDL that is
//! not transactional: a failed multi-operation migration reports exactly which operations
//! ran, resumes after them, and the lint warns beforehand; the `GET_LOCK` migration lock.
//!
//! Run with `cargo test -p oxalchemy-migrate --features mysql --test mysql`; the server is
//! `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`), each test in a database
//! of its own (`mmig_*`), dropped at the end.
#![cfg(feature = "mysql")]

use std::time::Duration;

use oxalchemy_core::schema::{
    Column, Constraint, ForeignKey, Index, MetaData, ReferentialAction, Table,
};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::{diff, Diff};
use oxalchemy_migrate::migration::{execute_ops, Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::{ColumnChange, Op, Ops};
use oxalchemy_migrate::reflect::{reflect, reflect_table};

/// A database of this test's own on the MariaDB server, dropped by [`TestDb::finish`].
struct TestDb {
    db: Database,
    name: String,
    admin: Database,
}

fn base_url() -> String {
    std::env::var("TEST_MYSQL_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "mysql://root@127.0.0.1:3306/test".to_owned())
}

async fn mariadb(test: &str) -> TestDb {
    let base = base_url();
    let name = format!("mmig_{test}_{}", std::process::id());
    let admin = Database::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("MariaDB at {base} is needed for these tests: {e}"));
    admin
        .execute(text(format!("DROP DATABASE IF EXISTS `{name}`")))
        .await
        .unwrap();
    admin
        .execute(text(format!("CREATE DATABASE `{name}`")))
        .await
        .unwrap();
    let (server, _) = base.rsplit_once('/').expect("a URL naming a database");
    let db = Database::connect(format!("{server}/{name}")).await.unwrap();
    TestDb { db, name, admin }
}

impl TestDb {
    async fn finish(self) {
        self.db.close();
        self.admin
            .execute(text(format!("DROP DATABASE IF EXISTS `{}`", self.name)))
            .await
            .unwrap();
        self.admin.close();
    }
}

async fn apply(db: &Database, ops: &[Op]) {
    let mut conn = db.connection().await.unwrap();
    let mut state = reflect(&mut conn).await.unwrap();
    execute_ops(&mut conn, ops, &mut state)
        .await
        .unwrap_or_else(|e| panic!("{e}: {ops:#?}"));
}

async fn autogenerate(db: &Database, target: &MetaData) -> Diff {
    let mut conn = db.connection().await.unwrap();
    let current = reflect(&mut conn).await.unwrap();
    diff(db.dialect(), target, &current, &|_| true)
}

/// Every type MariaDB spells its own way, and the constraints InnoDB keeps as indexes.
fn typed_models() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("teams")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("name", SqlType::String(Some(100)))
                    .not_null()
                    .unique(),
            ),
    );
    md.add(
        Table::new("members")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("active", SqlType::Boolean)
                    .not_null()
                    .server_default("1"),
            )
            .column(Column::new("joined", SqlType::DateTime { timezone: true }).not_null())
            .column(Column::new("seen", SqlType::DateTime { timezone: false }))
            .column(Column::new("born", SqlType::Date))
            .column(Column::new("wakes", SqlType::Time))
            .column(Column::new("balance", SqlType::Numeric(Some((10, 2)))))
            .column(Column::new("score", SqlType::Double))
            .column(Column::new("ratio", SqlType::Float))
            .column(Column::new("rank", SqlType::SmallInteger))
            .column(Column::new("token", SqlType::Uuid))
            .column(Column::new("prefs", SqlType::Json))
            .column(Column::new("bio", SqlType::Text))
            .column(Column::new("avatar", SqlType::Binary))
            .column(
                Column::new(
                    "role",
                    SqlType::Enum {
                        name: "role".into(),
                        variants: vec!["admin".into(), "it's me".into()],
                        native: true,
                    },
                )
                .not_null()
                .server_default("'admin'"),
            )
            .column(
                Column::new("team_id", SqlType::BigInteger)
                    .not_null()
                    .references("teams", "id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .check_named("ck_members_rank", "`rank` >= 0")
            .index(Index::new(["seen", "rank"]).named("ix_members_seen_rank")),
    );
    md
}

#[tokio::test]
async fn mariadb_types_reflect_without_false_diffs() {
    let t = mariadb("types").await;
    let models = typed_models();
    let first = autogenerate(&t.db, &models).await;
    assert_eq!(first.upgrade.len(), 2, "{:#?}", first.upgrade);
    apply(&t.db, &first.upgrade).await;
    let again = autogenerate(&t.db, &models).await;
    assert!(
        again.is_empty(),
        "false diffs on MariaDB: {:#?}",
        again.upgrade
    );

    let mut conn = t.db.connection().await.unwrap();
    let members = reflect_table(&mut conn, "members").await.unwrap().unwrap();
    let ty = |c: &str| members.column_named(c).unwrap().ty.clone();
    assert_eq!(ty("active"), SqlType::Boolean, "TINYINT(1) is a boolean");
    assert_eq!(ty("prefs"), SqlType::Json, "LONGTEXT + json_valid is JSON");
    assert_eq!(ty("token"), SqlType::Uuid);
    assert!(
        matches!(ty("role"), SqlType::Enum { variants, native: true, .. } if variants == ["admin", "it's me"])
    );
    assert!(members.column_named("id").unwrap().autoincrement);
    // The json_valid CHECK is the column's type, not a constraint; the FK's implicit index
    // is not an index.
    let checks: Vec<String> = members
        .constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::Check { name, .. } => name.as_ref().map(ToString::to_string),
            _ => None,
        })
        .collect();
    assert_eq!(checks, ["ck_members_rank"]);
    let fk = members
        .constraints
        .iter()
        .find_map(|c| match c {
            Constraint::ForeignKey(fk) => Some(fk.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(fk.on_delete, Some(ReferentialAction::Cascade));
    let indexes: Vec<String> = members
        .indexes
        .iter()
        .map(|ix| ix.name.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(indexes, ["ix_members_seen_rank"]);
    drop(conn);

    apply(&t.db, &first.downgrade).await;
    let mut conn = t.db.connection().await.unwrap();
    assert!(reflect(&mut conn).await.unwrap().tables().is_empty());
    drop(conn);
    t.finish().await;
}

/// The autogenerate suite's fifteen model versions, each one kind of change.
fn version(v: usize) -> MetaData {
    let mut md = MetaData::new();
    if v == 0 {
        return md;
    }
    let mut authors = Table::new("authors")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::String(Some(100))).not_null());
    if v == 2 {
        authors = authors.column(Column::new("nickname", SqlType::Text));
    }
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
    if v >= 4 {
        let mut rating =
            Column::new("rating", SqlType::Integer).server_default(if v >= 6 { "5" } else { "0" });
        if v >= 5 {
            rating = rating.not_null();
        }
        authors = authors.column(rating);
    }
    if v == 7 {
        authors = authors.index(Index::new(["name"]).named("ix_authors_name"));
    }
    if v == 9 {
        authors = authors.unique_named("uq_authors_name", ["name"]);
    }
    if v >= 11 {
        authors = authors.check_named("ck_authors_rating", "rating >= 0");
    }
    md.add(authors);
    let mut books = Table::new("books")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("title", SqlType::Text).not_null())
        .column(Column::new("author_id", SqlType::BigInteger));
    if v == 12 {
        books = books.foreign_key(
            ForeignKey::new(["author_id"], "authors", ["id"])
                .named("fk_books_author")
                .on_delete(ReferentialAction::SetNull),
        );
    }
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

async fn count(db: &Database, table: &str) -> i64 {
    db.query_scalar(text(format!("SELECT COUNT(*) FROM `{table}`")))
        .await
        .unwrap()
}

#[tokio::test]
async fn fifteen_model_changes_round_trip_on_mariadb() {
    let t = mariadb("autogen15").await;
    let mut downgrades = Vec::new();
    for v in 1..=15 {
        let step = autogenerate(&t.db, &version(v)).await;
        assert!(!step.is_empty(), "version {v} found no change");
        apply(&t.db, &step.upgrade).await;
        let again = autogenerate(&t.db, &version(v)).await;
        assert!(
            again.is_empty(),
            "version {v} left {:#?} after its upgrade {:#?}",
            again.upgrade,
            step.upgrade
        );
        if v == 1 {
            t.db.execute(text("INSERT INTO authors (name) VALUES ('ann')"))
                .await
                .unwrap();
            t.db.execute(text(
                "INSERT INTO books (title, author_id) VALUES ('one', 1)",
            ))
            .await
            .unwrap();
        }
        downgrades.push((v, step.downgrade));
    }
    assert_eq!(
        count(&t.db, "authors").await,
        1,
        "rows kept through upgrades"
    );
    for (v, down) in downgrades.into_iter().rev() {
        apply(&t.db, &down).await;
        let left = autogenerate(&t.db, &version(v - 1)).await;
        assert!(
            left.is_empty(),
            "downgrade of version {v} left {:#?}",
            left.upgrade
        );
        if v > 1 {
            assert_eq!(count(&t.db, "authors").await, 1, "rows kept at {}", v - 1);
        }
    }
    let mut conn = t.db.connection().await.unwrap();
    assert!(reflect(&mut conn).await.unwrap().tables().is_empty());
    drop(conn);
    t.finish().await;
}

fn create_users(ops: &mut Ops) {
    ops.create_table(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("username", SqlType::String(Some(50))).not_null()),
    );
}
fn drop_users(ops: &mut Ops) {
    ops.drop_table("users");
}
/// The guide's migration: users.status with server default 'active', and its index.
fn add_status(ops: &mut Ops) {
    ops.add_column(
        "users",
        Column::new("status", SqlType::String(Some(20)))
            .not_null()
            .server_default("'active'"),
    )
    .create_index("users", Index::new(["status"]).named("idx_users_status"));
}
fn drop_status(ops: &mut Ops) {
    ops.drop_index("users", "idx_users_status")
        .drop_column("users", "status");
}
fn tighten(ops: &mut Ops) {
    ops.alter_column(
        "users",
        "username",
        ColumnChange {
            ty: Some(SqlType::String(Some(80))),
            ..ColumnChange::default()
        },
    )
    .add_constraint(
        "users",
        Constraint::Unique {
            name: Some("uq_users_username".into()),
            columns: vec!["username".into()],
        },
    )
    .rename_column("users", "status", "state");
}
fn loosen(ops: &mut Ops) {
    ops.rename_column("users", "state", "status")
        .drop_constraint("users", "uq_users_username")
        .alter_column(
            "users",
            "username",
            ColumnChange {
                ty: Some(SqlType::String(Some(50))),
                ..ColumnChange::default()
            },
        );
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        revision: "a1b2c3",
        down_revisions: &[],
        message: "create users",
        created: "2026-11-29",
        upgrade: create_users,
        downgrade: drop_users,
    },
    Migration {
        revision: "123456789",
        down_revisions: &["a1b2c3"],
        message: "add user status",
        created: "2026-11-29",
        upgrade: add_status,
        downgrade: drop_status,
    },
    Migration {
        revision: "c0ffee",
        down_revisions: &["123456789"],
        message: "tighten usernames",
        created: "2026-11-29",
        upgrade: tighten,
        downgrade: loosen,
    },
];

async fn user_columns(db: &Database) -> Vec<String> {
    let rows: Vec<(String,)> = db
        .query(text(
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' ORDER BY ORDINAL_POSITION",
        ))
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn guide_migration_up_and_down_on_mariadb_keeps_data() {
    let t = mariadb("guide").await;
    let graph = Graph::new(MIGRATIONS).unwrap();
    let runner = Runner::new(&graph);
    let report = runner.run(&t.db, "a1b2c3").await.unwrap();
    assert_eq!(report.applied, ["a1b2c3"]);
    t.db.execute(text("INSERT INTO users (username) VALUES ('ann')"))
        .await
        .unwrap();
    let report = runner.run(&t.db, "123456789").await.unwrap();
    assert_eq!(report.applied, ["123456789"]);
    assert_eq!(user_columns(&t.db).await, ["id", "username", "status"]);
    let status: String =
        t.db.query_scalar(text("SELECT status FROM users"))
            .await
            .unwrap();
    assert_eq!(status, "active", "the existing row got the server default");
    assert_eq!(runner.current(&t.db).await.unwrap(), ["123456789"]);

    // MODIFY COLUMN, a UNIQUE constraint, RENAME COLUMN; and back.
    runner.run(&t.db, "head").await.unwrap();
    assert_eq!(user_columns(&t.db).await, ["id", "username", "state"]);
    let dup =
        t.db.execute(text("INSERT INTO users (username) VALUES ('ann')"))
            .await;
    assert!(dup.is_err(), "the unique constraint holds");
    runner.run(&t.db, "123456789").await.unwrap();
    assert_eq!(user_columns(&t.db).await, ["id", "username", "status"]);

    // The guide's downgrade: the column and index go, the row stays.
    let report = runner.run(&t.db, "a1b2c3").await.unwrap();
    assert_eq!(report.reverted, ["123456789"]);
    assert_eq!(user_columns(&t.db).await, ["id", "username"]);
    assert_eq!(count(&t.db, "users").await, 1);
    runner.run(&t.db, "base").await.unwrap();
    let mut conn = t.db.connection().await.unwrap();
    assert!(reflect(&mut conn).await.unwrap().tables().is_empty());
    drop(conn);
    t.finish().await;
}

/// Four operations; the third creates a table the test made beforehand, so it fails.
fn four_ops(ops: &mut Ops) {
    ops.create_table(
        Table::new("orders")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("total", SqlType::Integer)),
    )
    .add_column("orders", Column::new("note", SqlType::Text))
    .create_table(Table::new("blocker").column(Column::new("id", SqlType::Integer).primary_key()))
    .create_index("orders", Index::new(["total"]).named("ix_orders_total"));
}
fn undo_four_ops(ops: &mut Ops) {
    ops.drop_index("orders", "ix_orders_total")
        .drop_table("blocker")
        .drop_table("orders");
}

const FAILING: &[Migration] = &[Migration {
    revision: "f00d",
    down_revisions: &[],
    message: "four operations",
    created: "2026-11-29",
    upgrade: four_ops,
    downgrade: undo_four_ops,
}];

#[tokio::test]
async fn a_failed_multi_op_migration_reports_which_operations_ran_and_resumes() {
    let t = mariadb("partial").await;
    t.db.execute(text("CREATE TABLE blocker (x INT)"))
        .await
        .unwrap();
    let graph = Graph::new(FAILING).unwrap();
    let runner = Runner::new(&graph);

    // The lint warns before anything runs.
    let lints = runner.lints(&t.db, "head").await.unwrap();
    assert!(
        lints
            .iter()
            .any(|(rev, l)| *rev == "f00d" && l.code == "non-transactional-ddl" && l.op == 1),
        "{lints:?}"
    );

    let err = runner.run(&t.db, "head").await.unwrap_err();
    let MigrateError::PartiallyApplied {
        revision,
        direction,
        ran,
        failed,
        not_run,
        ..
    } = &err
    else {
        panic!("expected PartiallyApplied, got {err}");
    };
    assert_eq!(revision, "f00d");
    assert_eq!(*direction, "upgrade");
    assert_eq!(
        ran,
        &["#0 create_table orders", "#1 add_column orders.note"]
    );
    assert_eq!(failed, "#2 create_table blocker");
    assert_eq!(not_run, &["#3 create_index ix_orders_total on orders"]);
    let message = err.to_string();
    assert!(message.contains("resume"), "{message}");
    assert!(message.contains("forget_progress"), "{message}");
    // What ran is really applied (MySQL committed it), what did not is not.
    let mut conn = t.db.connection().await.unwrap();
    let orders = reflect_table(&mut conn, "orders").await.unwrap().unwrap();
    assert!(orders.column_named("note").is_some());
    assert!(orders.indexes.is_empty());
    let recorded: i64 = conn
        .query_scalar(text(
            "SELECT COUNT(*) FROM oxalchemy_migration_progress WHERE revision = 'f00d'",
        ))
        .await
        .unwrap();
    assert_eq!(recorded, 2);
    drop(conn);
    assert!(runner.current(&t.db).await.unwrap().is_empty());

    // Fix the cause and run again: operations #0 and #1 (which would fail if repeated)
    // are skipped, the rest runs, the migration is recorded and its progress forgotten.
    t.db.execute(text("DROP TABLE blocker")).await.unwrap();
    let report = runner.run(&t.db, "head").await.unwrap();
    assert_eq!(report.applied, ["f00d"]);
    let mut conn = t.db.connection().await.unwrap();
    let orders = reflect_table(&mut conn, "orders").await.unwrap().unwrap();
    assert_eq!(orders.indexes.len(), 1);
    let recorded: i64 = conn
        .query_scalar(text("SELECT COUNT(*) FROM oxalchemy_migration_progress"))
        .await
        .unwrap();
    assert_eq!(recorded, 0);
    drop(conn);
    runner.run(&t.db, "base").await.unwrap();
    t.finish().await;
}

#[tokio::test]
async fn the_migration_lock_is_get_lock_and_names_its_holder() {
    let t = mariadb("lock").await;
    let graph = Graph::new(MIGRATIONS).unwrap();
    let mut holder = t.db.connection().await.unwrap();
    let got: i64 = holder
        .query_scalar(text(
            "SELECT CAST(GET_LOCK('oxalchemy_migrate', 0) AS SIGNED)",
        ))
        .await
        .unwrap();
    assert_eq!(got, 1);
    let err = Runner::new(&graph)
        .lock_timeout(Duration::from_millis(300))
        .run(&t.db, "head")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MigrateError::MigrationLocked { holders, .. } if holders.contains("connection")),
        "{err}"
    );
    let _: i64 = holder
        .query_scalar(text(
            "SELECT CAST(RELEASE_LOCK('oxalchemy_migrate') AS SIGNED)",
        ))
        .await
        .unwrap();
    drop(holder);
    let report = Runner::new(&graph).run(&t.db, "head").await.unwrap();
    assert_eq!(report.applied.len(), 3);
    // The runner released its lock: another session can take it at once.
    let mut other = t.db.connection().await.unwrap();
    let got: i64 = other
        .query_scalar(text(
            "SELECT CAST(GET_LOCK('oxalchemy_migrate', 0) AS SIGNED)",
        ))
        .await
        .unwrap();
    assert_eq!(got, 1);
    let _: i64 = other
        .query_scalar(text(
            "SELECT CAST(RELEASE_LOCK('oxalchemy_migrate') AS SIGNED)",
        ))
        .await
        .unwrap();
    drop(other);
    t.finish().await;
}

/// The guide's models (autogenerate.rs): a UNIQUE column, a CHECK, a cascading foreign key
/// with an index of its own, server defaults.
fn guide_models(with_status: bool) -> MetaData {
    let mut users = Table::new("users")
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
        users = users
            .column(
                Column::new("status", SqlType::String(Some(20)))
                    .not_null()
                    .server_default("'active'"),
            )
            .index(Index::new(["status"]).named("idx_users_status"));
    }
    let mut md = MetaData::new();
    md.add(users);
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

#[tokio::test]
async fn guide_autogenerate_round_trip_on_mariadb() {
    let t = mariadb("autogen").await;
    let first = autogenerate(&t.db, &guide_models(false)).await;
    assert_eq!(first.upgrade.len(), 2, "{:#?}", first.upgrade);
    apply(&t.db, &first.upgrade).await;
    let again = autogenerate(&t.db, &guide_models(false)).await;
    assert!(again.is_empty(), "{:#?}", again.upgrade);
    t.db.execute(text(
        "INSERT INTO users (username, email) VALUES ('ann', 'ann@example.com')",
    ))
    .await
    .unwrap();
    let change = autogenerate(&t.db, &guide_models(true)).await;
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
    assert_eq!(kinds, ["AddColumn", "CreateIndex"], "{:#?}", change.upgrade);
    apply(&t.db, &change.upgrade).await;
    let status: String =
        t.db.query_scalar(text("SELECT status FROM users"))
            .await
            .unwrap();
    assert_eq!(status, "active");
    assert!(autogenerate(&t.db, &guide_models(true)).await.is_empty());
    apply(&t.db, &change.downgrade).await;
    assert!(autogenerate(&t.db, &guide_models(false)).await.is_empty());
    assert_eq!(count(&t.db, "users").await, 1);
    apply(&t.db, &first.downgrade).await;
    let mut conn = t.db.connection().await.unwrap();
    assert!(reflect(&mut conn).await.unwrap().tables().is_empty());
    drop(conn);
    t.finish().await;
}
