//! Schema reflection, on SQLite (in memory) and PostgreSQL (a schema per test; skipped with a
//! visible message when no server is available).
//!
//! The main case declares a schema with core `Table` builders, creates it with `create_all`,
//! reflects it and compares every attribute that survives the round trip. What does not
//! survive is listed in [`expected`], per database:
//!
//! * SQLite: an autoincrementing key is an `INTEGER` rowid alias whatever its declared width
//!   (BIGINT → Integer), and any lone `INTEGER` key is one, so `autoincrement(false)` comes
//!   back `true`; `VARCHAR` without a length is `TEXT`; `DATETIME` has no time zone flag;
//!   JSONB is `JSON`; every enum is a `VARCHAR(longest label)` (a non-native one keeps its
//!   CHECK). `CHAR(36)` does come back as Uuid.
//! * PostgreSQL: a non-native enum is a `VARCHAR(longest label)` and PostgreSQL rewrites its
//!   `IN (…)` CHECK as `(col)::text = ANY ((ARRAY[…])::text[])`; native enums, every other type,
//!   identity keys, literal/function defaults and CHECKs on text/integer columns round-trip.
//! * Both: a CHECK's `label` (it only feeds the naming convention) is not stored; NO ACTION
//!   foreign key actions reflect as `None`; a composite primary key's column order is the
//!   columns' order (core has no separate key order).

use std::collections::BTreeSet;

use oxalchemy_core::schema::{Constraint, ForeignKey, Index, ReferentialAction, ServerDefault};
use oxalchemy_core::{text, Column, MetaData, SqlType, Table};
use oxalchemy_engine::Database;
use oxalchemy_migrate::reflect::{reflect, reflect_table, table_names, ReflectError};
use oxalchemy_testing::{pg_schema, PgSchema};

// ---- targets ----

struct Target {
    label: &'static str,
    url: String,
    pg: Option<PgSchema>,
}

impl Target {
    fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
    async fn connect(&self) -> Database {
        Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("[{}] connect: {e}", self.label))
    }
    async fn finish(self) {
        if let Some(pg) = self.pg {
            pg.drop().await;
        }
    }
}

/// SQLite in memory, and PostgreSQL when available (`pg_schema` prints the skip notice).
async fn targets(test: &str) -> Vec<Target> {
    let mut t = vec![Target {
        label: "sqlite-memory",
        url: "sqlite::memory:".into(),
        pg: None,
    }];
    if let Some(pg) = pg_schema(test).await {
        t.push(Target {
            label: "postgresql",
            url: pg.url.clone(),
            pg: Some(pg),
        });
    }
    t
}

// ---- the declared schema ----

fn enum_type(name: &str, variants: &[&str], native: bool) -> SqlType {
    SqlType::Enum {
        name: name.into(),
        variants: variants.iter().map(|v| v.to_string()).collect(),
        native,
    }
}

fn declared(pg: bool) -> MetaData {
    let now = if pg { "now()" } else { "CURRENT_TIMESTAMP" };
    let yes = if pg { "true" } else { "1" };
    let mut md = MetaData::new();
    md.add(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::String(Some(50))).not_null())
            .column(Column::new("email", SqlType::String(Some(120))).not_null())
            .column(
                Column::new(
                    "status",
                    enum_type("user_status", &["active", "suspended"], false),
                )
                .not_null()
                .server_default("'active'"),
            )
            .column(
                Column::new("karma", SqlType::Integer)
                    .not_null()
                    .server_default("0"),
            )
            .column(
                Column::new("balance", SqlType::Numeric(Some((10, 2))))
                    .not_null()
                    .server_default("-1.5"),
            )
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: true })
                    .not_null()
                    .server_default(now)
                    .index(),
            )
            .unique_named("uq_users_email_address", ["email"])
            .check("karma_non_negative", "karma >= 0")
            .index(
                Index::new(["name", "email"])
                    .named("ix_users_name_email")
                    .unique(),
            ),
    );
    md.add(
        Table::new("posts")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("author_id", SqlType::BigInteger)
                    .not_null()
                    .references("users", "id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(Column::new("editor_id", SqlType::BigInteger))
            .column(
                Column::new("title", SqlType::Text)
                    .not_null()
                    .server_default("'untitled'"),
            )
            .column(Column::new("body", SqlType::Text))
            .column(
                Column::new("slug", SqlType::String(Some(80)))
                    .not_null()
                    .unique(),
            )
            .check_named("ck_posts_title_not_empty", "length(title) > 0")
            .foreign_key(
                ForeignKey::new(["editor_id"], "users", ["id"])
                    .named("fk_posts_editor")
                    .on_delete(ReferentialAction::SetNull)
                    .on_update(ReferentialAction::Cascade),
            ),
    );
    md.add(
        Table::new("post_tags")
            .column(
                Column::new("post_id", SqlType::Integer)
                    .primary_key()
                    .references("posts", "id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(Column::new("tag", SqlType::String(Some(30))).primary_key())
            .column(Column::new("note", SqlType::String(None)).server_default("'it''s'"))
            .primary_key_name("pk_post_tags_custom"),
    );
    md.add(
        Table::new("all_types")
            .column(Column::new("id", SqlType::Uuid).primary_key())
            .column(
                Column::new("small", SqlType::SmallInteger)
                    .not_null()
                    .server_default("-1"),
            )
            .column(Column::new("int", SqlType::Integer))
            .column(Column::new("big", SqlType::BigInteger))
            .column(
                Column::new("flag", SqlType::Boolean)
                    .not_null()
                    .server_default(yes),
            )
            .column(Column::new("f32", SqlType::Float))
            .column(Column::new("f64", SqlType::Double))
            .column(Column::new("num", SqlType::Numeric(None)))
            .column(Column::new("dec", SqlType::Numeric(Some((12, 4)))))
            .column(Column::new("vc", SqlType::String(Some(20))))
            .column(Column::new("vc_any", SqlType::String(None)))
            .column(Column::new("txt", SqlType::Text))
            .column(Column::new("bin", SqlType::Binary))
            .column(Column::new("d", SqlType::Date))
            .column(Column::new("t", SqlType::Time))
            .column(Column::new("ts", SqlType::DateTime { timezone: false }))
            .column(Column::new("tstz", SqlType::DateTime { timezone: true }))
            .column(Column::new("uuid", SqlType::Uuid))
            .column(Column::new("json", SqlType::Json).server_default("'{}'"))
            .column(Column::new("jsonb", SqlType::JsonB))
            .column(Column::new(
                "mood",
                enum_type("mood", &["happy", "sad", "so-so"], true),
            )),
    );
    md.add(
        Table::new("counters")
            .column(
                Column::new("id", SqlType::Integer)
                    .autoincrement(false)
                    .primary_key(),
            )
            .column(
                Column::new("value", SqlType::BigInteger)
                    .not_null()
                    .server_default("0"),
            ),
    );
    md
}

/// The declared table as the database can give it back (see the module docs).
fn expected(declared: &Table, pg: bool) -> Table {
    let mut t = declared.clone();
    let pk_len = t.primary_key().count();
    let varchar = |variants: &[String]| {
        SqlType::String(Some(
            variants.iter().map(String::len).max().unwrap_or(1) as u32
        ))
    };
    let mut enum_checks = Vec::new();
    for c in &mut t.columns {
        let lone_integer_key = c.primary_key && pk_len == 1 && c.ty.is_integer();
        if pg {
            if let SqlType::Enum {
                variants,
                native: false,
                ..
            } = &c.ty
            {
                let labels: Vec<String> = variants
                    .iter()
                    .map(|v| format!("'{v}'::character varying"))
                    .collect();
                enum_checks.push((
                    c.name.to_string(),
                    format!(
                        "({})::text = ANY ((ARRAY[{}])::text[])",
                        c.name,
                        labels.join(", ")
                    ),
                ));
                c.ty = varchar(variants);
            }
            continue;
        }
        // SQLite
        if lone_integer_key {
            c.ty = SqlType::Integer;
            c.autoincrement = true;
        }
        c.ty = match &c.ty {
            SqlType::String(None) => SqlType::Text,
            SqlType::DateTime { .. } => SqlType::DateTime { timezone: false },
            SqlType::JsonB => SqlType::Json,
            SqlType::Enum { variants, .. } => varchar(variants),
            ty => ty.clone(),
        };
    }
    for con in &mut t.constraints {
        match con {
            Constraint::Check { label, sql, .. } => {
                if let Some((_, pg_sql)) = enum_checks.iter().find(|(col, _)| label == col) {
                    *sql = pg_sql.clone();
                }
            }
            Constraint::ForeignKey(fk) => {
                for a in [&mut fk.on_delete, &mut fk.on_update] {
                    if *a == Some(ReferentialAction::NoAction) {
                        *a = None;
                    }
                }
            }
            Constraint::Unique { .. } => {}
        }
    }
    t
}

// ---- comparison ----

fn describe_constraint(c: &Constraint) -> String {
    let name = |n: &Option<oxalchemy_core::Ident>| n.as_ref().map_or("?".into(), |n| n.to_string());
    let list = |v: &[oxalchemy_core::Ident]| {
        v.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match c {
        // The label is not compared: it only feeds the naming convention.
        Constraint::Check { name: n, sql, .. } => format!("check {} ({sql})", name(n)),
        Constraint::Unique { name: n, columns } => {
            format!("unique {} ({})", name(n), list(columns))
        }
        Constraint::ForeignKey(fk) => format!(
            "foreign key {} ({}) -> {} ({}) on delete {:?} on update {:?}",
            name(&fk.name),
            list(&fk.columns),
            fk.ref_table,
            list(&fk.ref_columns),
            fk.on_delete,
            fk.on_update
        ),
    }
}

fn describe_index(ix: &Index) -> String {
    let cols: Vec<String> = ix.columns.iter().map(|c| c.to_string()).collect();
    format!(
        "{} {} ({})",
        if ix.unique { "unique index" } else { "index" },
        ix.name.as_ref().map_or("?".into(), |n| n.to_string()),
        cols.join(", ")
    )
}

/// The first difference between two sets of descriptions, if any.
fn set_difference(what: &str, want: Vec<String>, got: Vec<String>) -> Option<String> {
    let want: BTreeSet<String> = want.into_iter().collect();
    let got: BTreeSet<String> = got.into_iter().collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    (!missing.is_empty() || !extra.is_empty())
        .then(|| format!("{what}: missing {missing:#?}, unexpected {extra:#?}"))
}

/// The first way `actual` differs from `expected` in the attributes that are compared
/// (everything public except CHECK labels).
fn first_difference(expected: &Table, actual: &Table) -> Option<String> {
    let t = &expected.name;
    if expected.name != actual.name {
        return Some(format!(
            "table name: expected {t}, reflected {}",
            actual.name
        ));
    }
    if expected.schema != actual.schema {
        return Some(format!(
            "{t}: schema: expected {:?}, reflected {:?}",
            expected.schema, actual.schema
        ));
    }
    let names = |tb: &Table| {
        tb.columns
            .iter()
            .map(|c| c.name.to_string())
            .collect::<Vec<_>>()
    };
    if names(expected) != names(actual) {
        return Some(format!(
            "{t}: columns: expected {:?}, reflected {:?}",
            names(expected),
            names(actual)
        ));
    }
    for (e, a) in expected.columns.iter().zip(&actual.columns) {
        let c = format!("{t}.{}", e.name);
        let checks: [(&str, String, String); 5] = [
            ("type", format!("{:?}", e.ty), format!("{:?}", a.ty)),
            ("nullable", e.nullable.to_string(), a.nullable.to_string()),
            (
                "primary_key",
                e.primary_key.to_string(),
                a.primary_key.to_string(),
            ),
            (
                "autoincrement",
                e.autoincrement.to_string(),
                a.autoincrement.to_string(),
            ),
            (
                "server_default",
                format!("{:?}", e.server_default),
                format!("{:?}", a.server_default),
            ),
        ];
        for (what, want, got) in checks {
            if want != got {
                return Some(format!("{c}: {what}: expected {want}, reflected {got}"));
            }
        }
    }
    if expected.primary_key_name != actual.primary_key_name {
        return Some(format!(
            "{t}: primary key name: expected {:?}, reflected {:?}",
            expected.primary_key_name, actual.primary_key_name
        ));
    }
    let cons = |tb: &Table| tb.constraints.iter().map(describe_constraint).collect();
    if let Some(d) = set_difference(&format!("{t}: constraints"), cons(expected), cons(actual)) {
        return Some(d);
    }
    let ixs = |tb: &Table| tb.indexes.iter().map(describe_index).collect();
    set_difference(&format!("{t}: indexes"), ixs(expected), ixs(actual))
}

// ---- tests ----

#[tokio::test]
async fn reflected_schema_matches_declared() {
    for target in targets("reflect_roundtrip").await {
        let pg = target.is_postgres();
        let label = target.label;
        let db = target.connect().await;
        let md = declared(pg);
        db.create_all(&md).await.unwrap();
        let reflected = {
            let mut conn = db.connection().await.unwrap();
            reflect(&mut conn).await.unwrap()
        };

        let declared_names: BTreeSet<&str> = md.tables().iter().map(|t| t.name.as_str()).collect();
        let reflected_names: BTreeSet<&str> =
            reflected.tables().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(declared_names, reflected_names, "[{label}] tables");

        for table in md.tables() {
            let actual = reflected.table(table.name.as_str()).unwrap();
            if let Some(diff) = first_difference(&expected(table, pg), actual) {
                panic!("[{label}] {diff}\nreflected: {actual:#?}");
            }
        }

        // Spot checks independent of `expected`.
        let users = reflected.table("users").unwrap();
        let id = users.column_named("id").unwrap();
        assert!(
            id.primary_key && id.autoincrement && !id.nullable,
            "[{label}] {id:?}"
        );
        let status = users.column_named("status").unwrap();
        assert_eq!(status.ty, SqlType::String(Some(9)), "[{label}]");
        assert_eq!(
            status.server_default,
            Some(ServerDefault::Sql("'active'".into())),
            "[{label}]"
        );
        let counters_id = reflected.table("counters").unwrap().columns[0].autoincrement;
        assert_eq!(
            counters_id, !pg,
            "[{label}] INTEGER keys are rowid aliases on SQLite"
        );
        let mood = &reflected
            .table("all_types")
            .unwrap()
            .column_named("mood")
            .unwrap()
            .ty;
        if pg {
            assert_eq!(mood, &enum_type("mood", &["happy", "sad", "so-so"], true));
        } else {
            assert_eq!(mood, &SqlType::String(Some(5)), "[{label}]");
        }

        // reflect_table: the same table, and None for a missing one.
        let mut conn = db.connection().await.unwrap();
        let posts = reflect_table(&mut conn, "posts").await.unwrap().unwrap();
        assert_eq!(
            first_difference(reflected.table("posts").unwrap(), &posts),
            None
        );
        assert!(reflect_table(&mut conn, "nope").await.unwrap().is_none());
        drop(conn);
        target.finish().await;
    }
}

#[tokio::test]
async fn empty_database_reflects_no_tables() {
    for target in targets("reflect_empty").await {
        let label = target.label;
        let db = target.connect().await;
        let mut conn = db.connection().await.unwrap();
        assert!(
            reflect(&mut conn).await.unwrap().tables().is_empty(),
            "[{label}]"
        );

        // The migration version table is not part of the schema.
        conn.execute(text(
            "CREATE TABLE oxalchemy_version (revision VARCHAR(32) NOT NULL PRIMARY KEY)",
        ))
        .await
        .unwrap();
        assert!(
            reflect(&mut conn).await.unwrap().tables().is_empty(),
            "[{label}]"
        );
        assert!(
            table_names(&mut conn).await.unwrap().is_empty(),
            "[{label}]"
        );
        // … though it can still be read by name.
        let version = reflect_table(&mut conn, "oxalchemy_version").await.unwrap();
        assert_eq!(
            version.map(|t| t.columns[0].ty.clone()),
            Some(SqlType::String(Some(32))),
            "[{label}]"
        );
        drop(conn);
        target.finish().await;
    }
}

#[tokio::test]
async fn unsupported_type_names_the_column() {
    for target in targets("reflect_unsupported").await {
        let label = target.label;
        let ty = if target.is_postgres() {
            "tsvector"
        } else {
            "GEOMETRY"
        };
        let db = target.connect().await;
        let mut conn = db.connection().await.unwrap();
        conn.execute(text(format!("CREATE TABLE odd (x {ty})")))
            .await
            .unwrap();
        match reflect(&mut conn).await {
            Err(ReflectError::UnsupportedType {
                table,
                column,
                ty: raw,
            }) => {
                assert_eq!((table.as_str(), column.as_str()), ("odd", "x"), "[{label}]");
                assert_eq!(raw, ty, "[{label}]");
            }
            other => panic!("[{label}] expected UnsupportedType, got {other:?}"),
        }
        drop(conn);
        target.finish().await;
    }
}

/// Hand-written SQLite DDL: lower-case keywords, column-level and unnamed constraints,
/// `REFERENCES t` without columns, WITHOUT ROWID, and indexes reflection skips.
#[tokio::test]
async fn sqlite_handwritten_ddl() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let mut conn = db.connection().await.unwrap();
    for sql in [
        r#"create table parent (pid integer primary key, code text not null unique)"#,
        r#"create table "child table" (
             "key" varchar(10) not null constraint "child pk" primary key,
             parent_id integer references parent on delete set null,
             qty int default (2 * 3) check (qty > 0),
             price decimal(8, 2) default 0,
             constraint ck_price check (price >= 0),
             unique (qty, price)
           ) without rowid"#,
        r#"create index ix_child_expr on "child table" (lower("key"))"#,
        r#"create index ix_child_partial on "child table" (qty) where qty > 10"#,
        r#"create index "ix child qty" on "child table" (qty desc)"#,
    ] {
        conn.execute(text(sql)).await.unwrap();
    }

    let parent = reflect_table(&mut conn, "parent").await.unwrap().unwrap();
    let pid = &parent.columns[0];
    assert!(
        pid.primary_key && pid.autoincrement && !pid.nullable,
        "{pid:?}"
    );
    assert_eq!(parent.primary_key_name, None);
    assert_eq!(
        parent.constraints,
        vec![Constraint::Unique {
            name: None,
            columns: vec!["code".into()]
        }]
    );

    let child = reflect_table(&mut conn, "child table")
        .await
        .unwrap()
        .unwrap();
    let key = &child.columns[0];
    assert_eq!(key.ty, SqlType::String(Some(10)));
    assert!(
        key.primary_key && !key.autoincrement && !key.nullable,
        "{key:?}"
    );
    assert_eq!(
        child.primary_key_name.as_ref().unwrap().as_str(),
        "child pk"
    );
    let qty = child.column_named("qty").unwrap();
    assert_eq!(qty.ty, SqlType::Integer);
    assert_eq!(qty.server_default, Some(ServerDefault::Sql("2 * 3".into())));
    assert_eq!(
        child.column_named("price").unwrap().ty,
        SqlType::Numeric(Some((8, 2)))
    );
    let described: Vec<String> = child.constraints.iter().map(describe_constraint).collect();
    assert_eq!(
        described,
        [
            "unique ? (qty, price)",
            "check ? (qty > 0)",
            "check ck_price (price >= 0)",
            "foreign key ? (parent_id) -> parent (pid) on delete Some(SetNull) on update None",
        ]
    );
    // Expression and partial indexes are read from their CREATE INDEX text.
    let indexes: Vec<String> = child.indexes.iter().map(describe_index).collect();
    assert_eq!(
        indexes,
        [
            "index ix child qty (qty)",
            "index ix_child_expr ()",
            "index ix_child_partial (qty)"
        ]
    );
    assert_eq!(child.indexes[1].expressions, [r#"lower("key")"#]);
    assert_eq!(child.indexes[1].where_clause, None);
    assert_eq!(child.indexes[2].where_clause.as_deref(), Some("qty > 10"));

    // Through `reflect`, unnamed constraints get the default naming convention's names.
    let md = reflect(&mut conn).await.unwrap();
    let child = md.table("child table").unwrap();
    let described: Vec<String> = child.constraints.iter().map(describe_constraint).collect();
    assert!(
        described.contains(&"unique uq_child table_qty_price (qty, price)".to_owned()),
        "{described:#?}"
    );
    assert_eq!(
        md.table("parent")
            .unwrap()
            .primary_key_name
            .as_ref()
            .unwrap()
            .as_str(),
        "pk_parent"
    );
}

/// Hand-written PostgreSQL DDL: a `serial` key is an autoincrement key without its
/// `nextval(…)` default; a non-key serial keeps it; a CHECK on a varchar shows PostgreSQL's casts.
#[tokio::test]
async fn postgres_handwritten_ddl() {
    let Some(pg) = pg_schema("reflect_pg_ddl").await else {
        return;
    };
    let db = Database::connect(&pg.url).await.unwrap();
    let mut conn = db.connection().await.unwrap();
    for sql in [
        "CREATE TABLE s (id serial PRIMARY KEY, n serial, code varchar(5) DEFAULT 'ab' \
         CONSTRAINT ck_code CHECK (code <> ''))",
        "CREATE TABLE p (t timestamp(3))",
    ] {
        conn.execute(text(sql)).await.unwrap();
    }
    // A timestamp's precision is kept (it was refused before `DateTimePrecision`).
    let p = reflect_table(&mut conn, "p").await.unwrap().unwrap();
    assert_eq!(
        p.columns[0].ty,
        oxalchemy_core::SqlType::DateTimePrecision {
            timezone: false,
            precision: 3
        }
    );
    let s = reflect_table(&mut conn, "s").await.unwrap().unwrap();
    let id = &s.columns[0];
    assert!(id.autoincrement && id.server_default.is_none(), "{id:?}");
    let n = &s.columns[1];
    assert!(!n.autoincrement, "{n:?}");
    assert_eq!(
        n.server_default,
        Some(ServerDefault::Sql("nextval('s_n_seq'::regclass)".into()))
    );
    assert_eq!(
        s.columns[2].server_default,
        Some(ServerDefault::Sql("'ab'".into()))
    );
    assert_eq!(s.primary_key_name.as_ref().unwrap().as_str(), "s_pkey");
    let described: Vec<String> = s.constraints.iter().map(describe_constraint).collect();
    assert_eq!(described, ["check ck_code ((code)::text <> ''::text)"]);
    drop(conn);
    pg.drop().await;
}
