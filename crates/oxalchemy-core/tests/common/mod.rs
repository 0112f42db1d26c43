//! Helpers shared by the compiler tests: every case is compiled on both dialects and the
//! exact SQL text and binds are compared.
#![allow(
    dead_code,
    reason = "each test (bench) binary uses a different part of this shared module"
)]

use oxalchemy_core::{
    compile, CompileError, Compiled, Dialect, Postgres, Sqlite, Statement, Value,
};

pub(crate) fn compile_on(dialect: &dyn Dialect, stmt: &Statement) -> Compiled {
    compile(dialect, stmt).unwrap_or_else(|e| panic!("{} failed to compile: {e}", dialect.name()))
}

#[track_caller]
fn assert_compiled(dialect: &dyn Dialect, stmt: &Statement, sql: &str, binds: &[Value]) {
    let c = compile_on(dialect, stmt);
    assert_eq!(c.sql, sql, "{} SQL", dialect.name());
    assert_eq!(c.binds, binds, "{} binds of {}", dialect.name(), c.sql);
}

/// Same binds on both dialects (values SQLite does not re-encode: i64, f64, text, bytes, NULL).
#[track_caller]
pub(crate) fn check(stmt: impl Into<Statement>, sqlite: &str, postgres: &str, binds: &[Value]) {
    let stmt = stmt.into();
    assert_compiled(&Sqlite, &stmt, sqlite, binds);
    assert_compiled(&Postgres, &stmt, postgres, binds);
}

/// Different binds per dialect.
#[track_caller]
pub(crate) fn check_each(
    stmt: impl Into<Statement>,
    sqlite: (&str, &[Value]),
    postgres: (&str, &[Value]),
) {
    let stmt = stmt.into();
    assert_compiled(&Sqlite, &stmt, sqlite.0, sqlite.1);
    assert_compiled(&Postgres, &stmt, postgres.0, postgres.1);
}

/// DDL: no binds on either dialect.
#[track_caller]
pub(crate) fn check_ddl(stmt: impl Into<Statement>, sqlite: &str, postgres: &str) {
    check(stmt, sqlite, postgres, &[]);
}

/// The same error on both dialects.
#[track_caller]
pub(crate) fn check_err(stmt: impl Into<Statement>, err: CompileError) {
    let stmt = stmt.into();
    assert_eq!(compile(&Sqlite, &stmt), Err(err.clone()), "sqlite");
    assert_eq!(compile(&Postgres, &stmt), Err(err), "postgresql");
}

pub(crate) fn i(n: i64) -> Value {
    Value::I64(n)
}

pub(crate) fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}
