//! Migrations on SQLite and PostgreSQL: the guide's add-user-status migration up and down
//! with data preserved, the revision graph (heads, merge, relative targets), checksums,
//! SQLite batch mode, and `--sql` offline scripts equal to running online.

use std::collections::HashSet;

use oxalchemy_core::schema::{Column, Constraint, Index, Table};
use oxalchemy_core::{func, insert, select, table, text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::{ColumnChange, Ops};
use oxalchemy_testing::{pg_schema, PgSchema, TempSqliteFile};

struct Target {
    label: &'static str,
    url: String,
    _file: Option<TempSqliteFile>,
    pg: Option<PgSchema>,
}

async fn targets(name: &str) -> Vec<Target> {
    let file = TempSqliteFile::new(name);
    let mut t = vec![Target {
        label: "sqlite-file",
        url: file.url(),
        _file: Some(file),
        pg: None,
    }];
    if let Some(pg) = pg_schema(name).await {
        t.push(Target {
            label: "postgresql",
            url: pg.url.clone(),
            _file: None,
            pg: Some(pg),
        });
    }
    t
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
/// The guide's migration script: add users.status with server default 'active' and an
/// index; the downgrade drops both.
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
/// Batch-mode material on SQLite: nullability change, a new UNIQUE constraint.
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
        created: "2026-11-25",
        upgrade: create_users,
        downgrade: drop_users,
    },
    Migration {
        revision: "123456789",
        down_revisions: &["a1b2c3"],
        message: "add user status",
        created: "2026-11-25",
        upgrade: add_status,
        downgrade: drop_status,
    },
    Migration {
        revision: "c0ffee",
        down_revisions: &["123456789"],
        message: "tighten usernames",
        created: "2026-11-25",
        upgrade: tighten,
        downgrade: loosen,
    },
];

async fn columns(db: &Database, sqlite: bool) -> Vec<String> {
    let sql = if sqlite {
        "SELECT name FROM pragma_table_info('users') ORDER BY cid"
    } else {
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users' ORDER BY ordinal_position"
    };
    let rows: Vec<(String,)> = db.query(text(sql)).await.unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn guide_migration_upgrades_and_rolls_back_with_data_preserved() {
    for t in targets("migrate_guide").await {
        let sqlite = t.pg.is_none();
        let db = Database::connect(&t.url).await.unwrap();
        let graph = Graph::new(MIGRATIONS).unwrap();
        let runner = Runner::new(&graph);

        let r = runner.run(&db, "a1b2c3").await.unwrap();
        assert_eq!(r.applied, ["a1b2c3"]);
        db.execute(
            insert(table("users"))
                .columns(["username"])
                .values(["ann"])
                .values(["bob"]),
        )
        .await
        .unwrap();

        // The guide's migration: existing rows get the server default.
        runner.run(&db, "+1").await.unwrap();
        assert_eq!(runner.current(&db).await.unwrap(), ["123456789"]);
        let statuses: Vec<(String, String)> = db
            .query(
                select([
                    oxalchemy_core::col("username"),
                    oxalchemy_core::col("status"),
                ])
                .from(table("users"))
                .order_by(oxalchemy_core::col("id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            statuses,
            [
                ("ann".into(), "active".into()),
                ("bob".into(), "active".into())
            ],
            "[{}]",
            t.label
        );

        // Batch mode on SQLite: type change, unique constraint, rename — data kept.
        runner
            .run(&db, "head")
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(
            columns(&db, sqlite).await,
            ["id", "username", "state"],
            "[{}]",
            t.label
        );
        let dup = db
            .execute(insert(table("users")).columns(["username"]).values(["ann"]))
            .await
            .unwrap_err();
        assert!(
            matches!(dup, oxalchemy_engine::Error::Integrity(_)),
            "[{}] {dup:?}",
            t.label
        );
        let n: i64 = db
            .query_scalar(select([func::count_star()]).from(table("users")))
            .await
            .unwrap();
        assert_eq!(n, 2, "[{}] rows survive the rebuild", t.label);

        // Roll back two steps: the status column and its index are gone, rows stay.
        let r = runner
            .run(&db, "-2")
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(r.reverted, ["c0ffee", "123456789"]);
        assert_eq!(
            columns(&db, sqlite).await,
            ["id", "username"],
            "[{}]",
            t.label
        );
        let n: i64 = db
            .query_scalar(select([func::count_star()]).from(table("users")))
            .await
            .unwrap();
        assert_eq!(n, 2);
        runner.run(&db, "head").await.unwrap();
        runner.run(&db, "base").await.unwrap();
        assert_eq!(runner.current(&db).await.unwrap(), Vec::<&str>::new());
        runner.run(&db, "head").await.unwrap();
        assert_eq!(runner.current(&db).await.unwrap(), ["c0ffee"]);

        // A migration edited after it was applied is caught.
        fn add_status_edited(ops: &mut Ops) {
            add_status(ops);
            ops.execute(text("SELECT 1"));
        }
        let mut edited = MIGRATIONS.to_vec();
        edited[1].upgrade = add_status_edited;
        let graph2 = Graph::new(&edited).unwrap();
        let err = Runner::new(&graph2).run(&db, "head").await.unwrap_err();
        assert!(
            matches!(err, MigrateError::Edited(ref r) if r == "123456789"),
            "{err}"
        );
        if let Some(pg) = t.pg {
            pg.drop().await;
        }
    }
}

#[test]
fn the_revision_graph_reports_heads_and_merges() {
    fn noop(_: &mut Ops) {}
    let m = |revision, down: &'static [&'static str]| Migration {
        revision,
        down_revisions: down,
        message: "",
        created: "",
        upgrade: noop,
        downgrade: noop,
    };
    let branched = [
        m("base1", &[]),
        m("left", &["base1"]),
        m("right", &["base1"]),
    ];
    let g = Graph::new(&branched).unwrap();
    let mut heads = g.heads();
    heads.sort();
    assert_eq!(heads, ["left", "right"]);
    assert_eq!(g.branch_points(), ["base1"]);
    assert!(matches!(
        g.plan(&HashSet::new(), "head"),
        Err(MigrateError::MultipleHeads(_))
    ));
    // "heads" applies every branch.
    assert_eq!(g.plan(&HashSet::new(), "heads").unwrap().steps.len(), 3);
    let merged = [
        m("base1", &[]),
        m("left", &["base1"]),
        m("right", &["base1"]),
        m("merge", &["left", "right"]),
    ];
    let g = Graph::new(&merged).unwrap();
    assert_eq!(g.heads(), ["merge"]);
    assert_eq!(g.resolve("mer").unwrap(), "merge");
    assert!(matches!(
        g.resolve("zzz"),
        Err(MigrateError::UnknownRevision(_))
    ));
    assert!(matches!(
        g.resolve("").map(|_| ()),
        Err(MigrateError::AmbiguousRevision { .. })
    ));
    assert!(matches!(
        Graph::new(&[m("x", &["missing"])]),
        Err(MigrateError::MissingParent { .. })
    ));
}

#[tokio::test]
async fn offline_sql_builds_the_same_schema_as_running_online() {
    let graph = Graph::new(MIGRATIONS).unwrap();
    let runner = Runner::new(&graph);
    // SQLite: run the script with sqlite itself.
    let script = runner
        .offline_sql(&oxalchemy_core::Sqlite, &HashSet::new(), "head")
        .unwrap();
    let raw = rusqlite::Connection::open_in_memory().unwrap();
    raw.execute_batch(&script)
        .unwrap_or_else(|e| panic!("{e}\n{script}"));
    let cols: Vec<String> = raw
        .prepare("SELECT name FROM pragma_table_info('users') ORDER BY cid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(cols, ["id", "username", "state"]);
    let idx: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'idx_users_status'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(idx, 1);
    // PostgreSQL: run the script with a simple-query batch.
    if let Some(pg) = pg_schema("migrate_offline").await {
        let script = runner
            .offline_sql(&oxalchemy_core::Postgres, &HashSet::new(), "head")
            .unwrap();
        let (client, conn) = tokio_postgres::connect(&pg.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&script)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{script}"));
        let rows = client
            .query("SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users' ORDER BY ordinal_position", &[])
            .await
            .unwrap();
        let cols: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(cols, ["id", "username", "state"]);
        // The version table says head, so an online runner has nothing left to do.
        let db = Database::connect(&pg.url).await.unwrap();
        assert_eq!(runner.current(&db).await.unwrap(), ["c0ffee"]);
        assert!(runner.run(&db, "head").await.unwrap().applied.is_empty());
        drop(db);
        pg.drop().await;
    }
}

#[tokio::test]
async fn lints_flag_dangerous_operations_and_can_be_allowed() {
    use oxalchemy_core::schema::MetaData;
    use oxalchemy_migrate::lint::lint;
    let mut state = MetaData::new();
    let mut setup = Ops::new();
    create_users(&mut setup);
    for op in setup.ops() {
        op.apply_to(&mut state).unwrap();
    }
    let mut ops = Ops::new();
    ops.add_column("users", Column::new("age", SqlType::Integer).not_null())
        .drop_column("users", "username")
        .create_index("users", Index::new(["id"]).named("ix_x"))
        .add_column(
            "users",
            Column::new("seen", SqlType::DateTime { timezone: false }),
        )
        .alter_column(
            "users",
            "id",
            ColumnChange {
                ty: Some(SqlType::Integer),
                ..ColumnChange::default()
            },
        )
        .rename_table("users", "people")
        .drop_table("people");
    let codes = |d: &dyn oxalchemy_core::Dialect, ops: &Ops| -> Vec<&'static str> {
        lint(d, ops, &state).into_iter().map(|l| l.code).collect()
    };
    let pg = codes(&oxalchemy_core::Postgres, &ops);
    for code in [
        "not-null-without-default",
        "drop-column",
        "index-not-concurrent",
        "timestamp-without-time-zone",
        "change-type",
        "rename",
        "drop-table",
    ] {
        assert!(pg.contains(&code), "{code} missing from {pg:?}");
    }
    // SQLite has no concurrent index builds: that lint is PostgreSQL's.
    assert!(!codes(&oxalchemy_core::Sqlite, &ops).contains(&"index-not-concurrent"));
    // The guide's migration is clean (NOT NULL with a server default).
    let mut guide = Ops::new();
    add_status(&mut guide);
    let sqlite = codes(&oxalchemy_core::Sqlite, &guide);
    assert!(sqlite.is_empty(), "{sqlite:?}");
    // Allowing a lint for one operation.
    let mut allowed = Ops::new();
    allowed
        .drop_column("users", "username")
        .allow("drop-column");
    assert!(codes(&oxalchemy_core::Sqlite, &allowed).is_empty());
}
