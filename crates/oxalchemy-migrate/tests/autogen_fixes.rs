//! Regression tests for issue 15's "wrong or broken" autogenerate items, on SQLite and
//! PostgreSQL. Each case: the "before" schema is created by autogenerate, rows are seeded,
//! autogenerate against "after" gives the expected ops, the upgrade applies and leaves
//! nothing to do, the downgrade applies and autogenerate against "before" finds nothing,
//! and the seeded rows are still there where the change keeps the table.
//!
//! Table names start with `af_` so they never clash with other tests' tables.

use oxalchemy_core::schema::{Column, MetaData, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::{diff, Diff};
use oxalchemy_migrate::migration::execute_ops;
use oxalchemy_migrate::ops::Op;
use oxalchemy_migrate::reflect::{reflect_for, reflect_schemas};
use oxalchemy_testing::{pg_schema, PgSchema, TempSqliteFile};

/// One database a case runs on; keeps the SQLite file or PostgreSQL schema alive.
struct Backend {
    label: &'static str,
    db: Database,
    _file: Option<TempSqliteFile>,
    pg: Option<PgSchema>,
}

impl Backend {
    async fn finish(self) {
        drop(self.db);
        if let Some(pg) = self.pg {
            pg.drop().await;
        }
    }
}

/// SQLite and (when available) PostgreSQL, each fresh for `name`.
async fn backends(name: &str) -> Vec<Backend> {
    let file = TempSqliteFile::new(name);
    let mut out = vec![Backend {
        label: "sqlite",
        db: Database::connect(file.url()).await.unwrap(),
        _file: Some(file),
        pg: None,
    }];
    if let Some(pg) = pg_schema(name).await {
        out.push(Backend {
            label: "postgresql",
            db: Database::connect(&pg.url).await.unwrap(),
            _file: None,
            pg: Some(pg),
        });
    }
    out
}

/// The database's schema, including the PostgreSQL schemas `models` name.
async fn current(b: &Backend, models: &[&MetaData]) -> MetaData {
    let mut schemas: Vec<String> = models
        .iter()
        .flat_map(|m| m.tables())
        .filter_map(|t| t.schema.as_ref().map(|s| s.to_string()))
        .collect();
    schemas.dedup();
    let mut conn = b.db.connection().await.unwrap();
    reflect_schemas(&mut conn, &schemas).await.unwrap()
}

async fn apply(b: &Backend, ops: &[Op], models: &[&MetaData]) {
    let mut state = current(b, models).await;
    let mut conn = b.db.connection().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    execute_ops(&mut tx, ops, &mut state)
        .await
        .unwrap_or_else(|e| panic!("[{}] {e}: {ops:#?}", b.label));
    tx.commit().await.unwrap();
}

async fn autogenerate(b: &Backend, target: &MetaData) -> Diff {
    let mut conn = b.db.connection().await.unwrap();
    let current = reflect_for(&mut conn, target).await.unwrap();
    diff(b.db.dialect(), target, &current, &|t| t.starts_with("af_"))
}

fn kinds(ops: &[Op]) -> Vec<String> {
    ops.iter()
        .map(|op| {
            format!("{op:?}")
                .split('(')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A case: the schema before and after, rows to seed into "before", the upgrade's op kinds,
/// and a table whose row count must survive the round trip.
struct Case<'a> {
    before: MetaData,
    after: MetaData,
    seed: &'a [&'a str],
    expect: &'a [&'a str],
    kept: Option<(&'a str, i64)>,
}

async fn round_trip(b: &Backend, case: &Case<'_>) -> Diff {
    let label = b.label;
    let create = autogenerate(b, &case.before).await;
    apply(b, &create.upgrade, &[&case.before]).await;
    let again = autogenerate(b, &case.before).await;
    assert!(again.is_empty(), "[{label}] before: {:#?}", again.upgrade);
    for sql in case.seed {
        b.db.execute(text(*sql)).await.unwrap();
    }
    let d = autogenerate(b, &case.after).await;
    assert_eq!(kinds(&d.upgrade), case.expect, "[{label}] {:#?}", d.upgrade);
    apply(b, &d.upgrade, &[&case.before, &case.after]).await;
    let again = autogenerate(b, &case.after).await;
    assert!(
        again.is_empty(),
        "[{label}] after upgrade: {:#?}",
        again.upgrade
    );
    apply(b, &d.downgrade, &[&case.before, &case.after]).await;
    let again = autogenerate(b, &case.before).await;
    assert!(
        again.is_empty(),
        "[{label}] after downgrade: {:#?}",
        again.upgrade
    );
    if let Some((table, n)) = case.kept {
        let count: i64 =
            b.db.query_scalar(text(format!("SELECT count(*) FROM {table}")))
                .await
                .unwrap();
        assert_eq!(count, n, "[{label}] rows of {table} kept");
    }
    d
}

fn md(tables: impl IntoIterator<Item = Table>) -> MetaData {
    let mut md = MetaData::new();
    for t in tables {
        md.add(t);
    }
    md
}

fn parent() -> Table {
    Table::new("af_parent")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("name", SqlType::Text))
}

fn child() -> Table {
    Table::new("af_child")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("parent_id", SqlType::Integer).references("af_parent", "id"))
}

/// Item 1: dropping FK-linked tables drops the child first, and the downgrade recreates
/// the parent first.
#[tokio::test]
async fn dropping_linked_tables_downgrades_parent_first() {
    for b in backends("af_drop_linked").await {
        let case = Case {
            before: md([child(), parent()]),
            after: MetaData::new(),
            seed: &[],
            expect: &["DropTable", "DropTable"],
            kept: None,
        };
        let d = round_trip(&b, &case).await;
        let order: Vec<Option<&str>> = d.downgrade.iter().map(Op::table).collect();
        assert_eq!(
            order,
            [Some("af_parent"), Some("af_child")],
            "[{}]",
            b.label
        );
        b.finish().await;
    }
}

/// Item 3: a value server default compares equal to the database's, and the ALTER that
/// changes one is valid SQL.
#[tokio::test]
async fn value_server_defaults_compare_and_alter() {
    for b in backends("af_value_default").await {
        let table = |default: &str| {
            Table::new("af_valdef")
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(
                    Column::new("status", SqlType::String(Some(20))).server_default_value(default),
                )
                .column(Column::new("n", SqlType::Integer).server_default_value(7i32))
        };
        let case = Case {
            before: md([table("x")]),
            after: md([table("it's y")]),
            seed: &["INSERT INTO af_valdef (id) VALUES (1)"],
            expect: &["AlterColumn"],
            kept: Some(("af_valdef", 1)),
        };
        round_trip(&b, &case).await;
        let status: String =
            b.db.query_scalar(text("SELECT status FROM af_valdef"))
                .await
                .unwrap();
        assert_eq!(status, "x", "[{}]", b.label);
        b.finish().await;
    }
}

/// Item 4: a function default compares equal to what the database stores (PostgreSQL adds
/// identifier quotes and casts: `"substring"('name'::text, 1, 3)`).
#[tokio::test]
async fn function_defaults_compare_equal() {
    for b in backends("af_func_default").await {
        // SQLite cannot ADD a column with a non-constant default: change one instead.
        let table = |arg: &str| {
            Table::new("af_funcdef")
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(
                    Column::new("code", SqlType::Text)
                        .server_default(format!("substring('{arg}', 1, 3)")),
                )
        };
        let case = Case {
            before: md([table("name")]),
            after: md([table("other")]),
            seed: &["INSERT INTO af_funcdef (id) VALUES (1)"],
            expect: &["AlterColumn"],
            kept: Some(("af_funcdef", 1)),
        };
        round_trip(&b, &case).await;
        b.finish().await;
    }
}

/// Item 5: SQLite's `INTEGER PRIMARY KEY` declared `autoincrement(false)` is what the
/// database has; no type change is reported.
#[tokio::test]
async fn integer_key_without_autoincrement_is_stable() {
    for b in backends("af_int_key").await {
        let table = |with_note: bool| {
            let t = Table::new("af_intkey").column(
                Column::new("id", SqlType::Integer)
                    .primary_key()
                    .autoincrement(false),
            );
            if with_note {
                t.column(Column::new("note", SqlType::Text))
            } else {
                t
            }
        };
        let case = Case {
            before: md([table(false)]),
            after: md([table(true)]),
            seed: &["INSERT INTO af_intkey (id) VALUES (5)"],
            expect: &["AddColumn"],
            kept: Some(("af_intkey", 1)),
        };
        round_trip(&b, &case).await;
        b.finish().await;
    }
}

/// Item 6: a primary-key change warns and emits no type change for the key columns.
#[tokio::test]
async fn primary_key_change_warns_without_type_change() {
    for b in backends("af_pk_change").await {
        let before = md([Table::new("af_pkchg")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("code", SqlType::Integer).not_null())]);
        let after = md([Table::new("af_pkchg")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("code", SqlType::Integer).primary_key())]);
        let case = Case {
            before,
            after,
            seed: &[],
            expect: &[],
            kept: None,
        };
        let create = autogenerate(&b, &case.before).await;
        apply(&b, &create.upgrade, &[]).await;
        let d = autogenerate(&b, &case.after).await;
        assert!(d.upgrade.is_empty(), "[{}] {:#?}", b.label, d.upgrade);
        assert!(
            d.warnings.iter().any(|w| w.contains("primary key changed")),
            "[{}] {:?}",
            b.label,
            d.warnings
        );
        // And the other way round: from the composite key back to the single one.
        apply(&b, &create.downgrade, &[]).await;
        let create = autogenerate(&b, &case.after).await;
        apply(&b, &create.upgrade, &[]).await;
        let back = autogenerate(&b, &case.before).await;
        assert!(back.upgrade.is_empty(), "[{}] {:#?}", b.label, back.upgrade);
        assert!(!back.warnings.is_empty(), "[{}]", b.label);
        b.finish().await;
    }
}

fn moods(name: &'static str) -> Table {
    Table::new(name)
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new(
            "mood",
            SqlType::Enum {
                name: "af_mood".into(),
                variants: vec!["happy".into(), "sad".into()],
                native: true,
            },
        ))
}

async fn enum_type_exists(b: &Backend) -> bool {
    let n: i64 =
        b.db.query_scalar(text(
            "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typname = 'af_mood' AND n.nspname = current_schema()",
        ))
        .await
        .unwrap();
    n == 1
}

/// Item 2: a new table with a native enum column creates the enum type first; dropping the
/// last table that uses it drops the type, dropping another one keeps it.
#[tokio::test]
async fn create_table_creates_native_enum_types() {
    for b in backends("af_native_enum").await {
        let pg = b.pg.is_some();
        let case = Case {
            before: MetaData::new(),
            after: md([moods("af_moods"), moods("af_moods2")]),
            seed: &[],
            expect: &["CreateTable", "CreateTable"],
            kept: None,
        };
        round_trip(&b, &case).await;
        if pg {
            assert!(
                !enum_type_exists(&b).await,
                "the downgrade dropped the type"
            );
        }
        let case = Case {
            before: md([moods("af_moods"), moods("af_moods2")]),
            after: md([moods("af_moods")]),
            seed: &["INSERT INTO af_moods (id, mood) VALUES (1, 'sad')"],
            expect: &["DropTable"],
            kept: Some(("af_moods", 1)),
        };
        round_trip(&b, &case).await;
        if pg {
            assert!(enum_type_exists(&b).await, "af_moods still uses the type");
        }
        b.finish().await;
    }
}

/// Item 7: a table in another PostgreSQL schema is reflected from there (not added again on
/// every run), and the ops that drop and change it name its schema.
#[tokio::test]
async fn schema_qualified_tables_round_trip() {
    for b in backends("af_schema_table").await {
        let Some(pg) = &b.pg else {
            // SQLite's schemas are attached databases; there is none to put the table in.
            continue;
        };
        let other = format!("{}_other", pg.schema);
        b.db.execute(text(format!("CREATE SCHEMA \"{other}\"")))
            .await
            .unwrap();
        let remote = |with_note: bool| {
            let t = Table::new("af_remote")
                .schema(other.clone())
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(Column::new("name", SqlType::Text).index());
            let t = if with_note {
                t.column(Column::new("note", SqlType::Text))
            } else {
                t
            };
            md([t])
        };
        // From nothing to the table, and back.
        let case = Case {
            before: MetaData::new(),
            after: remote(false),
            seed: &[],
            expect: &["CreateTable"],
            kept: None,
        };
        let d = round_trip(&b, &case).await;
        assert_eq!(kinds(&d.downgrade), ["DropTable"]);
        // A column added to (and dropped from) the schema-qualified table, rows kept.
        let seed = format!("INSERT INTO \"{other}\".af_remote (id, name) VALUES (1, 'a')");
        let case = Case {
            before: remote(false),
            after: remote(true),
            seed: &[&seed],
            expect: &["AddColumn"],
            kept: Some((&format!("\"{other}\".af_remote"), 1)),
        };
        round_trip(&b, &case).await;
        b.db.execute(text(format!("DROP SCHEMA \"{other}\" CASCADE")))
            .await
            .unwrap();
        b.finish().await;
    }
}
