//! Every error core returns, reached through the public API: the variant, and a `Display`
//! that names the cause and says what to do.

use oxalchemy_core::dialect::column_definition;
use oxalchemy_core::schema::DependencyCycle;
use oxalchemy_core::{
    col, compile, excluded, insert, select, table, text, update, Column, CompileError, Dialect,
    IntoExpr, MetaData, Postgres, SqlType, Sqlite, Statement, Table,
};

/// Compiles on both dialects, expects the same error from each, and returns it.
#[track_caller]
fn err_on_both(stmt: impl Into<Statement>) -> CompileError {
    let stmt = stmt.into();
    let on_sqlite = compile(&Sqlite, &stmt).expect_err("sqlite compiled it");
    let on_postgres = compile(&Postgres, &stmt).expect_err("postgresql compiled it");
    assert_eq!(on_sqlite, on_postgres);
    on_sqlite
}

#[track_caller]
fn assert_mentions(err: &dyn std::error::Error, parts: &[&str]) {
    let msg = err.to_string();
    for part in parts {
        assert!(msg.contains(part), "{msg:?} does not mention {part:?}");
    }
}

#[test]
fn missing_bind() {
    let err = err_on_both(text("SELECT * FROM t WHERE id = :id"));
    assert_eq!(err, CompileError::MissingBind("id".into()));
    assert_mentions(&err, &[":id", "no value was bound", ".bind(\"id\", value)"]);
}

#[test]
fn unused_bind() {
    let err = err_on_both(text("SELECT 1").bind("idd", 1i64));
    assert_eq!(err, CompileError::UnusedBind("idd".into()));
    assert_mentions(&err, &[".bind(\"idd\"", "no :idd placeholder"]);
}

#[test]
fn row_length() {
    let stmt = insert(table("users"))
        .columns(["name", "age"])
        .values(["ann".into_expr(), 30i64.into_expr()])
        .values(["bob".into_expr()]);
    let err = err_on_both(stmt);
    assert_eq!(
        err,
        CompileError::RowLength {
            table: "users".into(),
            row: 1,
            expected: 2,
            got: 1,
        }
    );
    assert_mentions(&err, &["users", "row 1", "1 values", "2 columns"]);
}

#[test]
fn empty_insert() {
    let err = err_on_both(insert(table("users")).columns(["name"]));
    assert_eq!(err, CompileError::EmptyInsert("users".into()));
    assert_mentions(&err, &["users", "no rows", ".values("]);
}

#[test]
fn empty_update() {
    let err = err_on_both(update(table("users")).filter(col("id").eq(1i64)));
    assert_eq!(err, CompileError::EmptyUpdate("users".into()));
    assert_mentions(&err, &["users", "sets no columns", ".set("]);
}

#[test]
fn missing_conflict_target() {
    let stmt = insert(table("users"))
        .columns(["name"])
        .values(["ann"])
        .on_conflict_do_update(Vec::<&str>::new(), [("name", excluded("name"))]);
    let err = err_on_both(stmt);
    assert_eq!(err, CompileError::MissingConflictTarget);
    assert_mentions(&err, &["ON CONFLICT DO UPDATE", "conflict target columns"]);
}

#[test]
fn unsupported_names_the_feature_and_the_dialect() {
    // A UNION member's own LIMIT, on every dialect.
    let member = select([col("name")]).from(table("b")).limit(1);
    let stmt: Statement = select([col("name")]).from(table("a")).union(member).into();
    for d in [&Sqlite as &dyn Dialect, &Postgres] {
        let err = compile(d, &stmt).unwrap_err();
        assert!(matches!(err, CompileError::Unsupported(_, name) if name == d.name()));
        assert_mentions(&err, &["LIMIT", "UNION member", "subquery", d.name()]);
    }
    // Enum types where the database has none.
    let create = Table::new("t")
        .column(Column::new(
            "mood",
            SqlType::Enum {
                name: "mood".into(),
                variants: vec!["happy".into()],
                native: true,
            },
        ))
        .native_enums()
        .remove(0);
    let err = compile(&Sqlite, &create.into()).unwrap_err();
    assert!(matches!(err, CompileError::Unsupported(_, "sqlite")));
    assert_mentions(&err, &["CREATE TYPE", "sqlite", "non-native"]);
    let drop = oxalchemy_core::schema::DropEnumType {
        name: "mood".into(),
        if_exists: false,
    };
    let err = compile(&Sqlite, &drop.into()).unwrap_err();
    assert!(matches!(err, CompileError::Unsupported(_, "sqlite")));
    assert_mentions(&err, &["DROP TYPE", "sqlite"]);
}

#[test]
fn out_of_range() {
    let err = err_on_both(select([col("id")]).from(table("t")).offset(u64::MAX));
    assert_eq!(err, CompileError::OutOfRange(u64::MAX));
    assert_mentions(&err, &[&u64::MAX.to_string(), "i64::MAX"]);
}

#[test]
fn non_finite_literal() {
    let column = Column::new("f", SqlType::Double).server_default_value(f64::NAN);
    for d in [&Sqlite as &dyn Dialect, &Postgres] {
        let err = column_definition(d, &column).unwrap_err();
        assert!(matches!(err, CompileError::NonFiniteLiteral(f) if f.is_nan()));
        assert_mentions(
            &err,
            &["server default", "finite", "NaN", ".server_default("],
        );
    }
}

#[test]
fn dependency_cycle() {
    let mut md = MetaData::new();
    md.add(Table::new("standalone").column(Column::new("id", SqlType::BigInteger).primary_key()));
    md.add(
        Table::new("a")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("b_id", SqlType::BigInteger).references("b", "id")),
    );
    md.add(
        Table::new("b")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("a_id", SqlType::BigInteger).references("a", "id")),
    );
    let err: DependencyCycle = md.sorted_tables().unwrap_err();
    assert_eq!(err.tables, ["a", "b"]);
    assert_mentions(&err, &["cycle", "\"a\"", "\"b\"", "ALTER TABLE"]);
}
