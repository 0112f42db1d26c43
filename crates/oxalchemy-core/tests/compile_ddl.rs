//! DDL on both dialects, the naming convention and `MetaData::sorted_tables`.

mod common;

use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use common::{check_ddl, check_err};
use oxalchemy_core::schema::{DependencyCycle, DropIndex};
use oxalchemy_core::{compile, Dialect, Postgres, Sqlite};
use oxalchemy_core::{
    Column, CompileError, Constraint, ForeignKey, Index, MetaData, NamingConvention,
    ReferentialAction, SqlType, Table, Value,
};
use rust_decimal::Decimal;
use uuid::Uuid;

fn enum_type(name: &str, native: bool, variants: &[&str]) -> SqlType {
    SqlType::Enum {
        name: name.into(),
        variants: variants.iter().map(|v| v.to_string()).collect(),
        native,
    }
}

// ---------------------------------------------------------------------------------------
// Column types
// ---------------------------------------------------------------------------------------

#[test]
fn every_sql_type_per_dialect() {
    let table = Table::new("all_types")
        .column(Column::new("c_small", SqlType::SmallInteger))
        .column(Column::new("c_int", SqlType::Integer))
        .column(Column::new("c_big", SqlType::BigInteger))
        .column(Column::new("c_bool", SqlType::Boolean))
        .column(Column::new("c_float", SqlType::Float))
        .column(Column::new("c_double", SqlType::Double))
        .column(Column::new("c_num", SqlType::Numeric(None)))
        .column(Column::new("c_num_ps", SqlType::Numeric(Some((10, 2)))))
        .column(Column::new("c_varchar", SqlType::String(None)))
        .column(Column::new("c_varchar_n", SqlType::String(Some(50))))
        .column(Column::new("c_text", SqlType::Text))
        .column(Column::new("c_binary", SqlType::Binary))
        .column(Column::new("c_date", SqlType::Date))
        .column(Column::new("c_time", SqlType::Time))
        .column(Column::new("c_ts", SqlType::DateTime { timezone: false }))
        .column(Column::new("c_tstz", SqlType::DateTime { timezone: true }))
        .column(Column::new("c_uuid", SqlType::Uuid))
        .column(Column::new("c_json", SqlType::Json))
        .column(Column::new("c_jsonb", SqlType::JsonB))
        .column(Column::new(
            "c_enum_native",
            enum_type("mood", true, &["happy", "sad"]),
        ))
        .column(Column::new(
            "c_enum",
            enum_type("feeling", false, &["happy", "sad"]),
        ));
    check_ddl(
        table.create(),
        concat!(
            r#"CREATE TABLE "all_types" ("c_small" SMALLINT, "c_int" INTEGER, "c_big" BIGINT, "#,
            r#""c_bool" BOOLEAN, "c_float" REAL, "c_double" DOUBLE, "c_num" NUMERIC, "#,
            r#""c_num_ps" NUMERIC(10, 2), "c_varchar" TEXT, "c_varchar_n" VARCHAR(50), "#,
            r#""c_text" TEXT, "c_binary" BLOB, "c_date" DATE, "c_time" TIME, "c_ts" DATETIME, "#,
            r#""c_tstz" DATETIME, "c_uuid" CHAR(36), "c_json" JSON, "c_jsonb" JSON, "#,
            r#""c_enum_native" VARCHAR(5), "c_enum" VARCHAR(5), "#,
            r#"CONSTRAINT "ck_all_types_c_enum" CHECK ("c_enum" IN ('happy', 'sad')))"#,
        ),
        concat!(
            r#"CREATE TABLE "all_types" ("c_small" SMALLINT, "c_int" INTEGER, "c_big" BIGINT, "#,
            r#""c_bool" BOOLEAN, "c_float" REAL, "c_double" DOUBLE PRECISION, "c_num" NUMERIC, "#,
            r#""c_num_ps" NUMERIC(10, 2), "c_varchar" VARCHAR, "c_varchar_n" VARCHAR(50), "#,
            r#""c_text" TEXT, "c_binary" BYTEA, "c_date" DATE, "c_time" TIME WITHOUT TIME ZONE, "#,
            r#""c_ts" TIMESTAMP WITHOUT TIME ZONE, "c_tstz" TIMESTAMP WITH TIME ZONE, "#,
            r#""c_uuid" UUID, "c_json" JSON, "c_jsonb" JSONB, "c_enum_native" "mood", "#,
            r#""c_enum" VARCHAR(5), "#,
            r#"CONSTRAINT "ck_all_types_c_enum" CHECK ("c_enum" IN ('happy', 'sad')))"#,
        ),
    );
}

#[test]
fn non_native_enum_check_quotes_values() {
    let table = Table::new("memberships").column(
        Column::new(
            "role",
            enum_type("role", false, &["admin", "member", "it's"]),
        )
        .not_null(),
    );
    check_ddl(
        table.create(),
        r#"CREATE TABLE "memberships" ("role" VARCHAR(6) NOT NULL, CONSTRAINT "ck_memberships_role" CHECK ("role" IN ('admin', 'member', 'it''s')))"#,
        r#"CREATE TABLE "memberships" ("role" VARCHAR(6) NOT NULL, CONSTRAINT "ck_memberships_role" CHECK ("role" IN ('admin', 'member', 'it''s')))"#,
    );
}

// ---------------------------------------------------------------------------------------
// NOT NULL, defaults
// ---------------------------------------------------------------------------------------

#[test]
fn not_null_and_server_defaults() {
    let table = Table::new("accounts")
        .column(
            Column::new("name", SqlType::Text)
                .not_null()
                .server_default("'anonymous'"),
        )
        .column(Column::new("bio", SqlType::Text).server_default_value("it's"))
        .column(
            Column::new("active", SqlType::Boolean)
                .not_null()
                .server_default_value(true),
        )
        .column(
            Column::new("created_at", SqlType::DateTime { timezone: true })
                .not_null()
                .server_default("CURRENT_TIMESTAMP"),
        );
    check_ddl(
        table.create(),
        r#"CREATE TABLE "accounts" ("name" TEXT NOT NULL DEFAULT 'anonymous', "bio" TEXT DEFAULT 'it''s', "active" BOOLEAN NOT NULL DEFAULT 1, "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)"#,
        r#"CREATE TABLE "accounts" ("name" TEXT NOT NULL DEFAULT 'anonymous', "bio" TEXT DEFAULT 'it''s', "active" BOOLEAN NOT NULL DEFAULT TRUE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP)"#,
    );
}

#[test]
fn arrays_and_addresses_in_ddl() {
    let text_array = SqlType::Array(Box::new(SqlType::String(Some(20))));
    let table = Table::new("hosts")
        .column(
            Column::new("tags", text_array)
                .not_null()
                .server_default_value(Value::Array(vec![])),
        )
        .column(
            Column::new("ports", SqlType::Array(Box::new(SqlType::Integer)))
                .server_default_value(vec![80i32, 443]),
        )
        .column(
            Column::new("ip", SqlType::Inet)
                .server_default_value(std::net::IpAddr::from([127, 0, 0, 1])),
        )
        .column(
            Column::new("net", SqlType::Cidr).server_default_value(Value::Inet {
                addr: std::net::IpAddr::from([10, 0, 0, 0]),
                prefix: 8,
            }),
        )
        .column(
            Column::new("big", SqlType::Numeric(None))
                .server_default_value(Value::Numeric("0.10".into())),
        );
    check_ddl(
        table.create(),
        concat!(
            r#"CREATE TABLE "hosts" ("tags" VARCHAR ARRAY(20) NOT NULL DEFAULT '[]', "#,
            r#""ports" INTEGER ARRAY DEFAULT '[80,443]', "ip" INET DEFAULT '127.0.0.1', "#,
            r#""net" CIDR DEFAULT '10.0.0.0/8', "big" NUMERIC DEFAULT '0.10')"#
        ),
        concat!(
            r#"CREATE TABLE "hosts" ("tags" VARCHAR(20)[] NOT NULL DEFAULT '{}', "#,
            r#""ports" INTEGER[] DEFAULT ARRAY[80, 443], "ip" INET DEFAULT '127.0.0.1', "#,
            r#""net" CIDR DEFAULT '10.0.0.0/8', "big" NUMERIC DEFAULT '0.10')"#
        ),
    );
}

#[test]
fn server_default_literals_of_every_value_kind() {
    let day = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    let table = Table::new("defaults")
        .column(Column::new("i", SqlType::BigInteger).server_default_value(-3i64))
        .column(Column::new("i32", SqlType::Integer).server_default_value(7i32))
        .column(Column::new("f", SqlType::Double).server_default_value(0.5f64))
        .column(Column::new("f32", SqlType::Float).server_default_value(1.5f32))
        .column(Column::new("b", SqlType::Boolean).server_default_value(false))
        .column(Column::new("n", SqlType::Text).server_default_value(Value::Null))
        .column(Column::new("bytes", SqlType::Binary).server_default_value(vec![0xdeu8, 0xad]))
        .column(
            Column::new("j", SqlType::Json).server_default_value(serde_json::json!({"k": "it's"})),
        )
        .column(
            Column::new("u", SqlType::Uuid).server_default_value(
                Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap(),
            ),
        )
        .column(Column::new("d", SqlType::Date).server_default_value(day))
        .column(
            Column::new("t", SqlType::Time)
                .server_default_value(NaiveTime::from_hms_opt(13, 14, 15).unwrap()),
        )
        .column(
            Column::new("ts", SqlType::DateTime { timezone: false })
                .server_default_value(day.and_hms_opt(3, 4, 5).unwrap()),
        )
        .column(
            Column::new("tstz", SqlType::DateTime { timezone: true })
                .server_default_value(Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()),
        )
        .column(
            Column::new("dec", SqlType::Numeric(Some((10, 2))))
                .server_default_value(Decimal::from_str("12.50").unwrap()),
        );
    check_ddl(
        table.create(),
        concat!(
            r#"CREATE TABLE "defaults" ("i" BIGINT DEFAULT -3, "i32" INTEGER DEFAULT 7, "#,
            r#""f" DOUBLE DEFAULT 0.5, "f32" REAL DEFAULT 1.5, "b" BOOLEAN DEFAULT 0, "#,
            r#""n" TEXT DEFAULT NULL, "bytes" BLOB DEFAULT X'dead', "#,
            r#""j" JSON DEFAULT '{"k":"it''s"}', "#,
            r#""u" CHAR(36) DEFAULT '67e55044-10b1-426f-9247-bb680e5fe0c8', "#,
            r#""d" DATE DEFAULT '2024-01-02', "t" TIME DEFAULT '13:14:15.000000', "#,
            r#""ts" DATETIME DEFAULT '2024-01-02 03:04:05.000000', "#,
            r#""tstz" DATETIME DEFAULT '2024-01-02 03:04:05.000000+00:00', "#,
            r#""dec" NUMERIC(10, 2) DEFAULT '12.50')"#,
        ),
        concat!(
            r#"CREATE TABLE "defaults" ("i" BIGINT DEFAULT -3, "i32" INTEGER DEFAULT 7, "#,
            r#""f" DOUBLE PRECISION DEFAULT 0.5, "f32" REAL DEFAULT 1.5, "b" BOOLEAN DEFAULT FALSE, "#,
            r#""n" TEXT DEFAULT NULL, "bytes" BYTEA DEFAULT '\xdead', "#,
            r#""j" JSON DEFAULT '{"k":"it''s"}', "#,
            r#""u" UUID DEFAULT '67e55044-10b1-426f-9247-bb680e5fe0c8', "#,
            r#""d" DATE DEFAULT '2024-01-02', "t" TIME WITHOUT TIME ZONE DEFAULT '13:14:15', "#,
            r#""ts" TIMESTAMP WITHOUT TIME ZONE DEFAULT '2024-01-02 03:04:05', "#,
            r#""tstz" TIMESTAMP WITH TIME ZONE DEFAULT '2024-01-02T03:04:05+00:00', "#,
            r#""dec" NUMERIC(10, 2) DEFAULT 12.50)"#,
        ),
    );
}

#[test]
fn non_finite_float_default_is_an_error() {
    let table = Table::new("t")
        .column(Column::new("f", SqlType::Double).server_default_value(f64::INFINITY));
    check_err(
        table.create(),
        CompileError::NonFiniteLiteral(f64::INFINITY),
    );
}

// ---------------------------------------------------------------------------------------
// Primary keys
// ---------------------------------------------------------------------------------------

#[test]
fn single_integer_primary_key_autoincrements() {
    let table = Table::new("t")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::Text).not_null());
    check_ddl(
        table.create(),
        r#"CREATE TABLE "t" ("id" INTEGER NOT NULL CONSTRAINT "pk_t" PRIMARY KEY, "name" TEXT NOT NULL)"#,
        r#"CREATE TABLE "t" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "pk_t" PRIMARY KEY ("id"))"#,
    );
    // The declared width is kept on PostgreSQL; SQLite needs exactly INTEGER for a rowid alias.
    for (ty, pg) in [
        (SqlType::Integer, "INTEGER"),
        (SqlType::SmallInteger, "SMALLINT"),
    ] {
        let table = Table::new("t").column(Column::new("id", ty).primary_key());
        check_ddl(
            table.create(),
            r#"CREATE TABLE "t" ("id" INTEGER NOT NULL CONSTRAINT "pk_t" PRIMARY KEY)"#,
            &format!(
                r#"CREATE TABLE "t" ("id" {pg} GENERATED BY DEFAULT AS IDENTITY NOT NULL, CONSTRAINT "pk_t" PRIMARY KEY ("id"))"#
            ),
        );
    }
}

#[test]
fn autoincrement_can_be_turned_off() {
    let table = Table::new("t").column(
        Column::new("id", SqlType::BigInteger)
            .primary_key()
            .autoincrement(false),
    );
    check_ddl(
        table.create(),
        r#"CREATE TABLE "t" ("id" BIGINT NOT NULL, CONSTRAINT "pk_t" PRIMARY KEY ("id"))"#,
        r#"CREATE TABLE "t" ("id" BIGINT NOT NULL, CONSTRAINT "pk_t" PRIMARY KEY ("id"))"#,
    );
}

#[test]
fn non_integer_primary_key() {
    let table = Table::new("t").column(Column::new("id", SqlType::Uuid).primary_key());
    check_ddl(
        table.create(),
        r#"CREATE TABLE "t" ("id" CHAR(36) NOT NULL, CONSTRAINT "pk_t" PRIMARY KEY ("id"))"#,
        r#"CREATE TABLE "t" ("id" UUID NOT NULL, CONSTRAINT "pk_t" PRIMARY KEY ("id"))"#,
    );
}

#[test]
fn composite_primary_key_never_autoincrements() {
    let table = Table::new("memberships")
        .column(Column::new("user_id", SqlType::BigInteger).primary_key())
        .column(Column::new("group_id", SqlType::Integer).primary_key())
        .column(Column::new("since", SqlType::Date));
    check_ddl(
        table.create(),
        r#"CREATE TABLE "memberships" ("user_id" BIGINT NOT NULL, "group_id" INTEGER NOT NULL, "since" DATE, CONSTRAINT "pk_memberships" PRIMARY KEY ("user_id", "group_id"))"#,
        r#"CREATE TABLE "memberships" ("user_id" BIGINT NOT NULL, "group_id" INTEGER NOT NULL, "since" DATE, CONSTRAINT "pk_memberships" PRIMARY KEY ("user_id", "group_id"))"#,
    );
}

// ---------------------------------------------------------------------------------------
// UNIQUE, CHECK, FOREIGN KEY
// ---------------------------------------------------------------------------------------

#[test]
fn unique_check_and_foreign_keys() {
    let table = Table::new("posts")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(
            Column::new("user_id", SqlType::BigInteger)
                .not_null()
                .references("users", "id")
                .on_delete(ReferentialAction::Cascade)
                .on_update(ReferentialAction::NoAction),
        )
        .column(
            Column::new("editor_id", SqlType::BigInteger)
                .references("users", "id")
                .on_delete(ReferentialAction::SetNull),
        )
        .column(
            Column::new("slug", SqlType::String(Some(100)))
                .not_null()
                .unique(),
        )
        .column(Column::new("score", SqlType::Integer).not_null())
        .check("score_positive", r#""score" >= 0"#)
        .unique(["user_id", "score"]);
    check_ddl(
        table.create(),
        concat!(
            r#"CREATE TABLE "posts" ("id" INTEGER NOT NULL CONSTRAINT "pk_posts" PRIMARY KEY, "#,
            r#""user_id" BIGINT NOT NULL, "editor_id" BIGINT, "slug" VARCHAR(100) NOT NULL, "#,
            r#""score" INTEGER NOT NULL, "#,
            r#"CONSTRAINT "fk_posts_user_id_users" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, "#,
            r#"CONSTRAINT "fk_posts_editor_id_users" FOREIGN KEY ("editor_id") REFERENCES "users" ("id") ON DELETE SET NULL, "#,
            r#"CONSTRAINT "uq_posts_slug" UNIQUE ("slug"), "#,
            r#"CONSTRAINT "ck_posts_score_positive" CHECK ("score" >= 0), "#,
            r#"CONSTRAINT "uq_posts_user_id_score" UNIQUE ("user_id", "score"))"#,
        ),
        concat!(
            r#"CREATE TABLE "posts" ("id" INTEGER GENERATED BY DEFAULT AS IDENTITY NOT NULL, "#,
            r#""user_id" BIGINT NOT NULL, "editor_id" BIGINT, "slug" VARCHAR(100) NOT NULL, "#,
            r#""score" INTEGER NOT NULL, CONSTRAINT "pk_posts" PRIMARY KEY ("id"), "#,
            r#"CONSTRAINT "fk_posts_user_id_users" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, "#,
            r#"CONSTRAINT "fk_posts_editor_id_users" FOREIGN KEY ("editor_id") REFERENCES "users" ("id") ON DELETE SET NULL, "#,
            r#"CONSTRAINT "uq_posts_slug" UNIQUE ("slug"), "#,
            r#"CONSTRAINT "ck_posts_score_positive" CHECK ("score" >= 0), "#,
            r#"CONSTRAINT "uq_posts_user_id_score" UNIQUE ("user_id", "score"))"#,
        ),
    );
}

#[test]
fn composite_foreign_key_and_every_referential_action() {
    let actions = [
        (ReferentialAction::Cascade, "CASCADE"),
        (ReferentialAction::SetNull, "SET NULL"),
        (ReferentialAction::SetDefault, "SET DEFAULT"),
        (ReferentialAction::Restrict, "RESTRICT"),
        (ReferentialAction::NoAction, "NO ACTION"),
    ];
    for (action, sql) in actions {
        assert_eq!(action.sql(), sql);
        let table = Table::new("grants")
            .column(Column::new("user_id", SqlType::BigInteger))
            .column(Column::new("group_id", SqlType::Integer))
            .foreign_key(
                ForeignKey::new(
                    ["user_id", "group_id"],
                    "memberships",
                    ["user_id", "group_id"],
                )
                .on_delete(action)
                .on_update(action),
            );
        let expected = format!(
            r#"CREATE TABLE "grants" ("user_id" BIGINT, "group_id" INTEGER, CONSTRAINT "fk_grants_user_id_memberships" FOREIGN KEY ("user_id", "group_id") REFERENCES "memberships" ("user_id", "group_id") ON DELETE {sql} ON UPDATE {sql})"#
        );
        check_ddl(table.create(), &expected, &expected);
    }
}

#[test]
fn explicit_names_are_kept() {
    let long = "x".repeat(70);
    let table = Table::new("t")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("a", SqlType::Integer))
        .primary_key_name("t_pkey")
        .unique_named(long.clone(), ["a"])
        .check_named("a_small", r#""a" < 10"#)
        .foreign_key(ForeignKey::new(["a"], "t", ["id"]).named("t_a_fkey"))
        .index(Index::new(["a"]).named("t_a_idx"));
    let mut named = table.clone();
    named.apply_naming(&NamingConvention::default());
    assert_eq!(named, table, "nothing was left unnamed");
    check_ddl(
        table.create(),
        &format!(
            r#"CREATE TABLE "t" ("id" INTEGER NOT NULL CONSTRAINT "t_pkey" PRIMARY KEY, "a" INTEGER, CONSTRAINT "{long}" UNIQUE ("a"), CONSTRAINT "a_small" CHECK ("a" < 10), CONSTRAINT "t_a_fkey" FOREIGN KEY ("a") REFERENCES "t" ("id"))"#
        ),
        &format!(
            r#"CREATE TABLE "t" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, "a" INTEGER, CONSTRAINT "t_pkey" PRIMARY KEY ("id"), CONSTRAINT "{long}" UNIQUE ("a"), CONSTRAINT "a_small" CHECK ("a" < 10), CONSTRAINT "t_a_fkey" FOREIGN KEY ("a") REFERENCES "t" ("id"))"#
        ),
    );
    check_ddl(
        table.create_indexes().remove(0),
        r#"CREATE INDEX "t_a_idx" ON "t" ("a")"#,
        r#"CREATE INDEX "t_a_idx" ON "t" ("a")"#,
    );
}

#[test]
fn identifiers_with_quotes_in_ddl() {
    let table = Table::new("we\"ird")
        .column(Column::new("co\"l", SqlType::Integer).primary_key())
        .column(Column::new("x", enum_type("e", false, &["a\"b"])).index());
    check_ddl(
        table.create(),
        r#"CREATE TABLE "we""ird" ("co""l" INTEGER NOT NULL CONSTRAINT "pk_we""ird" PRIMARY KEY, "x" VARCHAR(3), CONSTRAINT "ck_we""ird_x" CHECK ("x" IN ('a"b')))"#,
        r#"CREATE TABLE "we""ird" ("co""l" INTEGER GENERATED BY DEFAULT AS IDENTITY NOT NULL, "x" VARCHAR(3), CONSTRAINT "pk_we""ird" PRIMARY KEY ("co""l"), CONSTRAINT "ck_we""ird_x" CHECK ("x" IN ('a"b')))"#,
    );
    check_ddl(
        table.create_indexes().remove(0),
        r#"CREATE INDEX "ix_we""ird_x" ON "we""ird" ("x")"#,
        r#"CREATE INDEX "ix_we""ird_x" ON "we""ird" ("x")"#,
    );
    check_ddl(
        table.drop(),
        r#"DROP TABLE "we""ird""#,
        r#"DROP TABLE "we""ird""#,
    );
}

// ---------------------------------------------------------------------------------------
// CREATE / DROP TABLE and INDEX
// ---------------------------------------------------------------------------------------

#[test]
fn create_table_if_not_exists_and_schema() {
    let table = Table::new("t").column(Column::new("a", SqlType::Integer));
    check_ddl(
        table.create().if_not_exists(),
        r#"CREATE TABLE IF NOT EXISTS "t" ("a" INTEGER)"#,
        r#"CREATE TABLE IF NOT EXISTS "t" ("a" INTEGER)"#,
    );
    let table = Table::new("t")
        .schema("app")
        .column(Column::new("a", SqlType::Integer));
    check_ddl(
        table.create(),
        r#"CREATE TABLE "app"."t" ("a" INTEGER)"#,
        r#"CREATE TABLE "app"."t" ("a" INTEGER)"#,
    );
}

#[test]
fn drop_table() {
    let table = Table::new("t").column(Column::new("a", SqlType::Integer));
    check_ddl(table.drop(), r#"DROP TABLE "t""#, r#"DROP TABLE "t""#);
    check_ddl(
        table.drop().if_exists(),
        r#"DROP TABLE IF EXISTS "t""#,
        r#"DROP TABLE IF EXISTS "t""#,
    );
    check_ddl(
        Table::new("t").schema("app").drop().if_exists(),
        r#"DROP TABLE IF EXISTS "app"."t""#,
        r#"DROP TABLE IF EXISTS "app"."t""#,
    );
}

#[test]
fn create_index_plain_unique_composite_if_not_exists() {
    let table = Table::new("posts")
        .column(Column::new("user_id", SqlType::BigInteger))
        .column(Column::new("title", SqlType::Text).index())
        .column(Column::new("score", SqlType::Integer))
        .index(Index::new(["user_id", "score"]).unique());
    let ix = table.create_indexes();
    assert_eq!(ix.len(), 2);
    check_ddl(
        ix[0].clone(),
        r#"CREATE INDEX "ix_posts_title" ON "posts" ("title")"#,
        r#"CREATE INDEX "ix_posts_title" ON "posts" ("title")"#,
    );
    check_ddl(
        ix[1].clone(),
        r#"CREATE UNIQUE INDEX "ix_posts_user_id_score" ON "posts" ("user_id", "score")"#,
        r#"CREATE UNIQUE INDEX "ix_posts_user_id_score" ON "posts" ("user_id", "score")"#,
    );
    check_ddl(
        ix[1].clone().if_not_exists(),
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "ix_posts_user_id_score" ON "posts" ("user_id", "score")"#,
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "ix_posts_user_id_score" ON "posts" ("user_id", "score")"#,
    );
    check_ddl(
        ix[0].clone().if_not_exists(),
        r#"CREATE INDEX IF NOT EXISTS "ix_posts_title" ON "posts" ("title")"#,
        r#"CREATE INDEX IF NOT EXISTS "ix_posts_title" ON "posts" ("title")"#,
    );
}

#[test]
fn drop_index() {
    check_ddl(
        DropIndex::new("ix_posts_title"),
        r#"DROP INDEX "ix_posts_title""#,
        r#"DROP INDEX "ix_posts_title""#,
    );
    check_ddl(
        DropIndex::new("ix_posts_title").if_exists(),
        r#"DROP INDEX IF EXISTS "ix_posts_title""#,
        r#"DROP INDEX IF EXISTS "ix_posts_title""#,
    );
    let mut qualified = DropIndex::new("ix_posts_title").if_exists();
    qualified.schema = Some("app".into());
    check_ddl(
        qualified,
        r#"DROP INDEX IF EXISTS "app"."ix_posts_title""#,
        r#"DROP INDEX IF EXISTS "app"."ix_posts_title""#,
    );
}

// ---------------------------------------------------------------------------------------
// Naming convention
// ---------------------------------------------------------------------------------------

fn posts_table() -> Table {
    Table::new("posts")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("user_id", SqlType::BigInteger).references("users", "id"))
        .column(Column::new("title", SqlType::Text).unique().index())
        .check("title_len", "length(title) > 0")
}

#[test]
fn default_naming_convention() {
    let mut md = MetaData::new();
    let t = md.add(posts_table());
    assert_eq!(t.primary_key_name, Some("pk_posts".into()));
    let names: Vec<&str> = t
        .constraints
        .iter()
        .map(|c| match c {
            Constraint::Unique { name, .. } | Constraint::Check { name, .. } => {
                name.as_ref().unwrap().as_str()
            }
            Constraint::ForeignKey(fk) => fk.name.as_ref().unwrap().as_str(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "fk_posts_user_id_users",
            "uq_posts_title",
            "ck_posts_title_len"
        ]
    );
    assert_eq!(t.indexes[0].name, Some("ix_posts_title".into()));
}

#[test]
fn custom_naming_convention_from_metadata() {
    let mut md = MetaData::with_naming_convention(NamingConvention {
        index: "{table}_{columns}_idx".into(),
        unique: "{table}_{columns}_key".into(),
        check: "{table}_{constraint_name}_check".into(),
        foreign_key: "{table}_{column_0}_{referred_table}_fkey".into(),
        primary_key: "{table}_pkey".into(),
    });
    let t = md.add(posts_table().unique(["user_id", "title"])).clone();
    check_ddl(
        t.create(),
        concat!(
            r#"CREATE TABLE "posts" ("id" INTEGER NOT NULL CONSTRAINT "posts_pkey" PRIMARY KEY, "user_id" BIGINT, "title" TEXT, "#,
            r#"CONSTRAINT "posts_user_id_users_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id"), "#,
            r#"CONSTRAINT "posts_title_key" UNIQUE ("title"), "#,
            r#"CONSTRAINT "posts_title_len_check" CHECK (length(title) > 0), "#,
            r#"CONSTRAINT "posts_user_id_title_key" UNIQUE ("user_id", "title"))"#,
        ),
        concat!(
            r#"CREATE TABLE "posts" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, "user_id" BIGINT, "title" TEXT, "#,
            r#"CONSTRAINT "posts_pkey" PRIMARY KEY ("id"), "#,
            r#"CONSTRAINT "posts_user_id_users_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id"), "#,
            r#"CONSTRAINT "posts_title_key" UNIQUE ("title"), "#,
            r#"CONSTRAINT "posts_title_len_check" CHECK (length(title) > 0), "#,
            r#"CONSTRAINT "posts_user_id_title_key" UNIQUE ("user_id", "title"))"#,
        ),
    );
    check_ddl(
        t.create_indexes().remove(0),
        r#"CREATE INDEX "posts_title_idx" ON "posts" ("title")"#,
        r#"CREATE INDEX "posts_title_idx" ON "posts" ("title")"#,
    );
}

#[test]
fn long_names_are_shortened_deterministically() {
    // "uq_account_membership_invitations_organization_identifier_invited_email_address" is
    // 79 bytes: its first 54 bytes, `_` and the FNV-1a hash of the whole name.
    let table = || {
        Table::new("account_membership_invitations")
            .column(Column::new("organization_identifier", SqlType::Integer))
            .column(Column::new("invited_email_address", SqlType::Text))
            .unique(["organization_identifier", "invited_email_address"])
            .index(Index::new([
                "organization_identifier",
                "invited_email_address",
            ]))
    };
    let uq = "uq_account_membership_invitations_organization_identif_a4ed670b";
    let ix = "ix_account_membership_invitations_organization_identif_1bfd784e";
    assert_eq!(uq.len(), 63);
    for _ in 0..2 {
        let mut md = MetaData::new();
        let t = md.add(table());
        assert_eq!(
            t.constraints[0],
            Constraint::Unique {
                name: Some(uq.into()),
                columns: vec![
                    "organization_identifier".into(),
                    "invited_email_address".into()
                ],
            }
        );
        assert_eq!(t.indexes[0].name, Some(ix.into()));
    }
    let expected = format!(
        r#"CREATE TABLE "account_membership_invitations" ("organization_identifier" INTEGER, "invited_email_address" TEXT, CONSTRAINT "{uq}" UNIQUE ("organization_identifier", "invited_email_address"))"#
    );
    check_ddl(table().create(), &expected, &expected);
    let expected = format!(
        r#"CREATE INDEX "{ix}" ON "account_membership_invitations" ("organization_identifier", "invited_email_address")"#
    );
    check_ddl(table().create_indexes().remove(0), &expected, &expected);

    // The cut never splits a UTF-8 character: "ck_" + 40 "é" (2 bytes each) + "_x" keeps
    // 25 "é" (53 bytes).
    let conv = NamingConvention::default();
    let long = "é".repeat(40) + "_x";
    let name = conv.render(&conv.check, &long[..long.len() - 2], &[], "", "x");
    assert_eq!(name.as_str(), format!("ck_{}_94d38423", "é".repeat(25)));
    assert_eq!(name.as_str().len(), 62);
    // Exactly 63 bytes is kept as is.
    let t63 = "t".repeat(60);
    assert_eq!(
        conv.render(&conv.primary_key, &t63, &[], "", "").as_str(),
        format!("pk_{t63}")
    );
}

#[test]
fn naming_is_idempotent() {
    let conv = NamingConvention::default();
    let mut t = posts_table();
    t.apply_naming(&conv);
    let once = t.clone();
    t.apply_naming(&conv);
    assert_eq!(t, once);
    // A later, different convention does not rename what is already named.
    t.apply_naming(&NamingConvention {
        index: "other_{table}".into(),
        unique: "other_{table}".into(),
        check: "other_{table}".into(),
        foreign_key: "other_{table}".into(),
        primary_key: "other_{table}".into(),
    });
    assert_eq!(t, once);
    // Adding an already named table to a MetaData keeps its names, and so does compiling.
    let mut md = MetaData::new();
    assert_eq!(md.add(once.clone()), &once);
    let from_md = md.table("posts").unwrap().create();
    assert_eq!(from_md.table, once);
    assert_eq!(
        oxalchemy_core::compile(&oxalchemy_core::Postgres, &from_md.clone().into()),
        oxalchemy_core::compile(&oxalchemy_core::Postgres, &posts_table().create().into()),
    );
}

#[test]
fn metadata_add_replaces_a_table_of_the_same_name() {
    let mut md = MetaData::new();
    md.add(Table::new("a").column(Column::new("x", SqlType::Integer)));
    md.add(Table::new("b"));
    md.add(Table::new("a").column(Column::new("y", SqlType::Integer)));
    let names: Vec<&str> = md.tables().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(md.table("a").unwrap().column_named("y").is_some());
    assert!(md.table("a").unwrap().column_named("x").is_none());
    assert!(md.table("c").is_none());
}

// ---------------------------------------------------------------------------------------
// sorted_tables
// ---------------------------------------------------------------------------------------

fn fk_table(name: &'static str, refs: &[&'static str]) -> Table {
    let mut t = Table::new(name).column(Column::new("id", SqlType::Integer).primary_key());
    for r in refs {
        t = t.column(Column::new(format!("{r}_id"), SqlType::Integer).references(*r, "id"));
    }
    t
}

fn sorted_names(md: &MetaData) -> Result<Vec<String>, DependencyCycle> {
    md.sorted_tables()
        .map(|ts| ts.iter().map(|t| t.name.to_string()).collect())
}

#[test]
fn sorted_tables_follow_foreign_keys() {
    let mut md = MetaData::new();
    md.add(fk_table("comments", &["posts", "users"]));
    md.add(fk_table("posts", &["users"]));
    md.add(fk_table("users", &["users"])); // self-reference is no dependency
    md.add(fk_table("tags", &["elsewhere"])); // a table outside the metadata is ignored
    md.add(fk_table("post_tags", &["tags", "posts"]));
    assert_eq!(
        sorted_names(&md).unwrap(),
        ["users", "posts", "comments", "tags", "post_tags"]
    );
    assert!(sorted_names(&MetaData::new()).unwrap().is_empty());
}

#[test]
fn sorted_tables_report_cycles() {
    let mut md = MetaData::new();
    md.add(fk_table("a", &["b"]));
    md.add(fk_table("b", &["a"]));
    md.add(fk_table("c", &[]));
    md.add(fk_table("d", &["a"]));
    let err = sorted_names(&md).unwrap_err();
    // DependencyCycle is #[non_exhaustive]: compared by its field.
    assert_eq!(err.tables, ["a", "b", "d"]);
    assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn function_server_defaults_are_parenthesised_for_sqlite() {
    let t = Table::new("t")
        .column(Column::new("at", SqlType::Text).server_default("datetime('now')"))
        .column(Column::new("n", SqlType::Integer).server_default("0"))
        .column(Column::new("p", SqlType::Integer).server_default("(1 + 2)"));
    for d in [&Sqlite as &dyn Dialect, &Postgres] {
        let c = compile(d, &t.create().into()).unwrap();
        assert!(
            c.sql.contains(r#""at" TEXT DEFAULT (datetime('now'))"#),
            "{}",
            c.sql
        );
        assert!(c.sql.contains(r#""n" INTEGER DEFAULT 0"#), "{}", c.sql);
        assert!(
            c.sql.contains(r#""p" INTEGER DEFAULT (1 + 2)"#),
            "{}",
            c.sql
        );
    }
}

#[test]
fn autoincrement_off_survives_primary_key() {
    let t = Table::new("t").column(
        Column::new("id", SqlType::Integer)
            .autoincrement(false)
            .primary_key(),
    );
    let c = compile(&Postgres, &t.create().into()).unwrap();
    assert!(!c.sql.contains("IDENTITY"), "{}", c.sql);
}

#[test]
fn native_enum_types_on_postgres_only() {
    let t = Table::new("people").column(Column::new(
        "mood",
        SqlType::Enum {
            name: "mood".into(),
            variants: vec!["happy".into(), "it's ok".into()],
            native: true,
        },
    ));
    let create = t.native_enums().remove(0);
    let c = compile(&Postgres, &create.clone().into()).unwrap();
    assert_eq!(c.sql, r#"CREATE TYPE "mood" AS ENUM ('happy', 'it''s ok')"#);
    assert!(c.binds.is_empty());
    assert!(matches!(
        compile(&Sqlite, &create.into()),
        Err(oxalchemy_core::CompileError::Unsupported(..))
    ));
    let c = compile(&Postgres, &t.create().into()).unwrap();
    assert_eq!(c.sql, r#"CREATE TABLE "people" ("mood" "mood")"#);
}

#[test]
fn composite_integer_keys_do_not_autoincrement() {
    let t = Table::new("pt")
        .column(Column::new("a", SqlType::BigInteger).primary_key())
        .column(Column::new("b", SqlType::BigInteger).primary_key());
    assert!(t.columns.iter().all(|c| !c.autoincrement));
    let single = Table::new("s").column(Column::new("id", SqlType::BigInteger).primary_key());
    assert!(single.columns[0].autoincrement);
}
