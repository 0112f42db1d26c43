//! Every error a user of migrations can hit: its variant, and a `Display` that names the
//! cause and says what to do. Database cases run on a SQLite file and on PostgreSQL.

use std::collections::HashSet;
use std::error::Error as _;

use oxalchemy_core::schema::{Column, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, MigrateError, Migration, Runner};
use oxalchemy_migrate::ops::{OpError, Ops};
use oxalchemy_migrate::reflect::{reflect, ReflectError};
use oxalchemy_testing::{pg_schema, PgSchema, TempSqliteFile};

fn noop(_: &mut Ops) {}

fn create_t(ops: &mut Ops) {
    ops.create_table(Table::new("t").column(Column::new("id", SqlType::Integer).primary_key()));
}

fn drop_t(ops: &mut Ops) {
    ops.drop_table("t");
}

fn m(revision: &'static str, down_revisions: &'static [&'static str]) -> Migration {
    Migration {
        revision,
        down_revisions,
        message: "m",
        created: "2026-01-01",
        upgrade: noop,
        downgrade: noop,
    }
}

fn graph_err(migrations: &[Migration]) -> MigrateError {
    Graph::new(migrations).expect_err("the graph is invalid")
}

#[test]
fn graph_errors_name_the_revision_and_the_fix() {
    let err = graph_err(&[m("a", &[]), m("b", &["zzz"])]);
    assert!(
        matches!(err, MigrateError::MissingParent { ref revision, ref parent } if revision == "b" && parent == "zzz"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "revision `b` names down revision `zzz`, which does not exist; add the missing \
         migration to the list or fix `down_revisions`"
    );

    let err = graph_err(&[m("a", &["b"]), m("b", &["a"])]);
    assert!(
        matches!(err, MigrateError::Cycle(ref r) if r == "a"),
        "{err:?}"
    );
    assert!(err.to_string().contains("cycle through `a`"), "{err}");

    let graph = Graph::new(&[m("a1", &[]), m("b1", &["a1"]), m("b2", &["a1"])]).unwrap();
    let none = HashSet::new();
    let err = graph.plan(&none, "head").unwrap_err();
    assert!(
        matches!(err, MigrateError::MultipleHeads(ref h) if *h == ["b1", "b2"]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "there are several heads [\"b1\", \"b2\"]; name one, or create a merge revision \
         with `merge`"
    );
    assert!(matches!(graph.head(), Err(MigrateError::MultipleHeads(_))));

    let err = graph.plan(&none, "nope").unwrap_err();
    assert!(
        matches!(err, MigrateError::UnknownRevision(ref r) if r == "nope"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "unknown revision `nope`; `history` lists them"
    );

    let err = graph.plan(&none, "b").unwrap_err();
    assert!(
        matches!(err, MigrateError::AmbiguousRevision { ref prefix, ref candidates } if prefix == "b" && candidates.len() == 2),
        "{err:?}"
    );
    assert!(err.to_string().contains("type more of the id"), "{err}");

    for target in ["+9", "-1", "+x"] {
        let err = graph.plan(&none, target).unwrap_err();
        assert!(
            matches!(err, MigrateError::BadRelative(ref t) if t == target),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("cannot move {target} steps")),
            "{err}"
        );
    }
}

#[test]
fn an_operation_on_a_missing_table_is_an_op_error() {
    let bad = Migration {
        upgrade: drop_t,
        ..m("a", &[])
    };
    let graph = Graph::new(&[bad]).unwrap();
    let err = Runner::new(&graph)
        .offline_sql(&oxalchemy_core::Sqlite, &HashSet::new(), "head")
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::Op(OpError::NoSuchTable(ref t)) if t == "t"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("table `t` does not exist in the schema at this point"),
        "{err}"
    );
}

struct Target {
    label: &'static str,
    url: String,
    _file: Option<TempSqliteFile>,
    pg: Option<PgSchema>,
}

async fn targets(name: &str) -> Vec<Target> {
    let file = TempSqliteFile::new(name);
    let mut t = vec![Target {
        label: "sqlite",
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

fn create_t_edited(ops: &mut Ops) {
    create_t(ops);
    ops.execute(text("SELECT 1"));
}

const APPLIED: &[Migration] = &[Migration {
    revision: "aaa111",
    down_revisions: &[],
    message: "create t",
    created: "2026-01-01",
    upgrade: create_t,
    downgrade: drop_t,
}];

#[tokio::test]
async fn database_errors_on_both_databases() {
    for t in targets("migrate_errors").await {
        let label = t.label;
        let db = Database::connect(&t.url).await.unwrap();
        let graph = Graph::new(APPLIED).unwrap();
        let runner = Runner::new(&graph);

        let err = runner.run(&db, "nope").await.unwrap_err();
        assert!(
            matches!(err, MigrateError::UnknownRevision(_)),
            "[{label}] {err:?}"
        );
        assert!(
            err.to_string().contains("unknown revision `nope`"),
            "[{label}] {err}"
        );

        runner.run(&db, "head").await.unwrap();

        // The same revision with other operations: its checksum no longer matches.
        let mut edited = APPLIED.to_vec();
        edited[0].upgrade = create_t_edited;
        let graph2 = Graph::new(&edited).unwrap();
        let err = Runner::new(&graph2).current(&db).await.unwrap_err();
        assert!(
            matches!(err, MigrateError::Edited(ref r) if r == "aaa111"),
            "[{label}] {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "migration `aaa111` was edited after it was applied (its checksum changed); write \
             a new migration instead of editing an applied one",
            "[{label}]"
        );

        // A database migrated by code this project does not have.
        let other = Graph::new(&[m("bbb222", &[])]).unwrap();
        let err = Runner::new(&other).run(&db, "head").await.unwrap_err();
        assert!(
            matches!(err, MigrateError::UnknownApplied(ref r) if r == "aaa111"),
            "[{label}] {err:?}"
        );
        assert!(
            err.to_string()
                .contains("is the database ahead of this code?"),
            "[{label}] {err}"
        );

        // A failing statement is the engine's error, its cause kept.
        fn bad_sql(ops: &mut Ops) {
            ops.execute(text("SELECT * FROM no_such_table"));
        }
        let failing = [
            APPLIED[0],
            Migration {
                upgrade: bad_sql,
                ..m("ccc333", &["aaa111"])
            },
        ];
        let graph3 = Graph::new(&failing).unwrap();
        let err = Runner::new(&graph3).run(&db, "head").await.unwrap_err();
        assert!(matches!(err, MigrateError::Engine(_)), "[{label}] {err:?}");
        assert!(err.to_string().contains("no_such_table"), "[{label}] {err}");

        // Reflection of a type oxalchemy cannot represent.
        let ty = if t.pg.is_some() {
            "tsvector"
        } else {
            "GEOMETRY"
        };
        let mut conn = db.connection().await.unwrap();
        conn.execute(text(format!("CREATE TABLE odd (x {ty})")))
            .await
            .unwrap();
        let err = reflect(&mut conn).await.unwrap_err();
        assert!(
            matches!(err, ReflectError::UnsupportedType { .. }),
            "[{label}] {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "column odd.x has type `{ty}`, which has no oxalchemy SqlType, so reflection \
                 cannot represent it; leave the table out of autogenerate \
                 (`Config::include_table`) or give the column a supported type"
            ),
            "[{label}]"
        );
        drop(conn);
        drop(db);
        if let Some(pg) = t.pg {
            pg.drop().await;
        }
    }
}

fn create_parent_child(ops: &mut Ops) {
    ops.create_table(
        Table::new("parent").column(Column::new("id", SqlType::Integer).primary_key()),
    )
    .create_table(
        Table::new("child")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("parent_id", SqlType::Integer).references("parent", "id")),
    );
}

fn insert_orphan(ops: &mut Ops) {
    ops.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 42)"));
}

/// SQLite runs migrations with foreign keys off (for table rebuilds) and checks them after:
/// a migration leaving an orphan row is rolled back.
#[tokio::test]
async fn sqlite_foreign_key_check_rolls_the_migration_back() {
    let file = TempSqliteFile::new("migrate_fk_check");
    let db = Database::connect(file.url()).await.unwrap();
    let migrations = [
        Migration {
            upgrade: create_parent_child,
            ..m("aaa", &[])
        },
        Migration {
            upgrade: insert_orphan,
            ..m("bbb", &["aaa"])
        },
    ];
    let graph = Graph::new(&migrations).unwrap();
    let runner = Runner::new(&graph);
    let err = runner.run(&db, "head").await.unwrap_err();
    assert!(
        matches!(err, MigrateError::ForeignKeyCheck { ref revision, .. } if revision == "bbb"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("foreign key check failed after migration `bbb` (rolled back): "),
        "{err}"
    );
    assert_eq!(runner.current(&db).await.unwrap(), ["aaa"]);
    assert!(err.source().is_none());
}
