//! The statement compiler: one walk over a statement tree that writes SQL text and collects
//! bind values.
//!
//! The walk is split by statement kind, as diesel's `query_builder` is: [`select`] (SELECT,
//! joins, CTEs, set operations, LIMIT/OFFSET), [`dml`] (INSERT with ON CONFLICT, UPDATE,
//! DELETE, RETURNING), [`expr`] (expressions, functions, operators, CASE, casts), [`text`]
//! (`text()` SQL with named binds) and [`ddl`] (CREATE/DROP TABLE, INDEX, TYPE, column and
//! constraint definitions). This file holds the compiler's state and the entry points.
//!
//! Nothing here asks which database it compiles for: everything that differs is a
//! [`Dialect`] method, so a new dialect is a new `impl Dialect`, not new branches here.

mod ddl;
mod dml;
mod error;
mod expr;
mod prepared;
mod select;
mod text;

pub use error::CompileError;
pub(crate) use prepared::BindSource;
pub use prepared::{compile_prepared, Params, PreparedSql};

use super::Dialect;
use crate::expr::{Expr, Ident, TableRef};
use crate::query::Statement;
use crate::schema::{Column, Constraint, ForeignKey, Table};
use crate::value::Value;

/// A compiled statement: SQL text and its bind values, ready for the driver.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The SQL, with the dialect's placeholders (`?` / `$1`) where values go.
    pub sql: String,
    /// The values for the placeholders, in order, already in the dialect's wire encoding
    /// ([`Dialect::encode`]).
    pub binds: Vec<Value>,
}

/// A column definition for `ALTER TABLE … ADD COLUMN`: `"name" TYPE [NOT NULL] [DEFAULT …]`.
///
/// ```
/// use oxalchemy_core::{dialect::column_definition, Column, Postgres, SqlType};
///
/// let c = Column::new("active", SqlType::Boolean).not_null().server_default("true");
/// assert_eq!(
///     column_definition(&Postgres, &c).unwrap(),
///     r#""active" BOOLEAN NOT NULL DEFAULT true"#
/// );
/// ```
pub fn column_definition(dialect: &dyn Dialect, column: &Column) -> Result<String, CompileError> {
    let mut c = Compiler::new(dialect);
    c.ident(&column.name);
    c.push(" ");
    c.column_body(column)?;
    Ok(c.sql)
}

/// `COMMENT ON TABLE` / `COMMENT ON COLUMN` for the comments of `table`, where the dialect
/// keeps comments ([`Dialect::comment_on`]); none elsewhere. Run after `CREATE TABLE`.
///
/// ```
/// use oxalchemy_core::{dialect::comment_statements, Column, Postgres, Sqlite, SqlType, Table};
///
/// let t = Table::new("users")
///     .column(Column::new("name", SqlType::Text).comment("shown to others"))
///     .comment("people");
/// assert_eq!(
///     comment_statements(&Postgres, &t),
///     [
///         r#"COMMENT ON TABLE "users" IS 'people'"#,
///         r#"COMMENT ON COLUMN "users"."name" IS 'shown to others'"#,
///     ]
/// );
/// assert!(comment_statements(&Sqlite, &t).is_empty());
/// ```
pub fn comment_statements(dialect: &dyn Dialect, table: &crate::schema::Table) -> Vec<String> {
    if !dialect.comment_on() {
        return Vec::new();
    }
    let mut c = Compiler::new(dialect);
    c.table_ref(&table.as_ref());
    let t = c.sql;
    let mut out = Vec::new();
    if let Some(comment) = &table.comment {
        out.push(comment_on("TABLE", &t, Some(comment)));
    }
    for col in table.columns.iter().filter(|c| c.comment.is_some()) {
        let mut target = t.clone();
        target.push('.');
        super::quote_ident(&mut target, col.name.as_str());
        out.push(comment_on("COLUMN", &target, col.comment.as_deref()));
    }
    out
}

/// `COMMENT ON {kind} {target} IS 'text' | NULL`; `target` is already quoted.
pub fn comment_on(kind: &str, target: &str, comment: Option<&str>) -> String {
    let mut sql = format!("COMMENT ON {kind} {target} IS ");
    match comment {
        Some(c) => super::quote_literal(&mut sql, c),
        None => sql.push_str("NULL"),
    }
    sql
}

/// A table constraint for `ALTER TABLE … ADD`: `CONSTRAINT "n" UNIQUE (…)` and friends.
pub fn constraint_definition(
    dialect: &dyn Dialect,
    schema: Option<&Ident>,
    con: &Constraint,
) -> String {
    let mut c = Compiler::new(dialect);
    c.constraint(schema, con);
    c.sql
}

/// `ALTER TABLE t ADD CONSTRAINT … FOREIGN KEY …`: how `create_all` adds a foreign key that
/// closes a cycle between tables, once every table of the cycle exists.
pub fn foreign_key_add_sql(dialect: &dyn Dialect, table: &Table, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD {}",
        qualified_table(dialect, table),
        constraint_definition(
            dialect,
            table.schema.as_ref(),
            &Constraint::ForeignKey(fk.clone())
        )
    )
}

/// `ALTER TABLE t DROP CONSTRAINT "name"` (`DROP FOREIGN KEY` on MySQL): how `drop_all`
/// removes a foreign key that closes a cycle before dropping the tables.
pub fn foreign_key_drop_sql(dialect: &dyn Dialect, table: &Table, name: &str) -> String {
    let mut sql = format!(
        "ALTER TABLE {} {} ",
        qualified_table(dialect, table),
        dialect.drop_foreign_key_clause()
    );
    dialect.quote_ident(&mut sql, name);
    sql
}

/// `"schema"."table"`, or `"table"` in the default schema.
fn qualified_table(dialect: &dyn Dialect, table: &Table) -> String {
    let mut out = String::new();
    if let Some(schema) = &table.schema {
        dialect.quote_ident(&mut out, schema.as_str());
        out.push('.');
    }
    dialect.quote_ident(&mut out, table.name.as_str());
    out
}

/// Compiles any statement for `dialect`: the SQL text and its binds, or why the statement is
/// invalid. Pure: the same input always gives the same output, and nothing is sent anywhere.
///
/// ```
/// use oxalchemy_core::{col, compile, delete, table, Sqlite, Value};
///
/// let stmt = delete(table("sessions")).filter(col("expired").eq(true)).into();
/// let c = compile(&Sqlite, &stmt).unwrap();
/// assert_eq!(c.sql, r#"DELETE FROM "sessions" WHERE "expired" = ?"#);
/// assert_eq!(c.binds, [Value::I64(1)]); // SQLite stores booleans as 0 / 1
/// ```
pub fn compile(dialect: &dyn Dialect, stmt: &Statement) -> Result<Compiled, CompileError> {
    let c = compile_tracked(dialect, stmt, false)?;
    if !c.params.is_empty() {
        return Err(CompileError::UnpreparedParam);
    }
    Ok(Compiled {
        sql: c.sql,
        binds: c.binds,
    })
}

/// A compiled statement with where its binds came from.
pub(crate) struct Tracked {
    pub(crate) sql: String,
    pub(crate) binds: Vec<Value>,
    /// With tracking on, per bind: see `Compiler::origins`.
    pub(crate) origins: Vec<Option<*const Value>>,
    /// The bind positions of [`Expr::Param`] placeholders, in SQL order.
    pub(crate) params: Vec<usize>,
}

/// Compiles `stmt`, saying where each bind came from: with `track`, the address of the
/// tree's value it copies (for the statement cache); always, which binds are
/// [`Expr::Param`] placeholders.
pub(crate) fn compile_tracked(
    dialect: &dyn Dialect,
    stmt: &Statement,
    track: bool,
) -> Result<Tracked, CompileError> {
    let mut c = Compiler::new(dialect);
    c.track = track;
    c.sql.reserve(128);
    match stmt {
        Statement::Select(s) => c.select(s)?,
        Statement::Insert(s) => c.insert(s)?,
        Statement::Update(s) => c.update(s)?,
        Statement::Delete(s) => c.delete(s)?,
        Statement::Text(t) => c.text(t)?,
        Statement::CreateTable(s) => c.create_table(s)?,
        Statement::DropTable(s) => c.drop_table(s),
        Statement::CreateIndex(s) => c.create_index(s),
        Statement::DropIndex(s) => c.drop_index(s),
        Statement::CreateEnumType(s) => c.create_enum_type(s)?,
        Statement::DropEnumType(s) => c.drop_enum_type(s)?,
    }
    Ok(Tracked {
        sql: c.sql,
        binds: c.binds,
        origins: c.origins,
        params: c.params,
    })
}

/// How many bind parameters `e` compiles to (the same on every dialect). Used to chunk bulk
/// inserts under [`Dialect::max_binds`].
pub(crate) fn bind_count(e: &Expr) -> usize {
    match e {
        Expr::Bind(_) => 1,
        Expr::Column { .. } | Expr::Star(_) | Expr::Excluded(_) | Expr::CountStar => 0,
        e => {
            let mut c = Compiler::new(&super::Postgres);
            // An invalid expression fails when the statement itself is compiled.
            let _ = c.expr(e);
            c.binds.len()
        }
    }
}

/// Where an expression stands: labels render differently in each place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The select list: `expr AS "label"`.
    Column,
    /// ORDER BY / GROUP BY: a label is referred to by name.
    Ordering,
    /// Anywhere else: a label renders as its bare expression.
    Other,
}

/// The result of writing one piece of a statement.
type R = Result<(), CompileError>;

/// The compiler's state: the SQL written so far and the binds it refers to, in order.
struct Compiler<'d> {
    d: &'d dyn Dialect,
    sql: String,
    binds: Vec<Value>,
    /// Inside an expression made only of binds, where the database cannot infer their types.
    cast_binds: bool,
    /// Record in `origins` where each bind's value came from (the statement cache asks).
    track: bool,
    /// With `track`: per bind, the address of the tree's value it copies (an `Expr::Bind`
    /// or a `text()` value), or `None` for values the compiler made itself (LIMIT counts,
    /// LIKE escapes), which the statement's shape fixes.
    origins: Vec<Option<*const Value>>,
    /// The bind positions of [`Expr::Param`] placeholders, in SQL order.
    params: Vec<usize>,
}

impl<'d> Compiler<'d> {
    fn new(d: &'d dyn Dialect) -> Self {
        Compiler {
            d,
            sql: String::new(),
            binds: Vec::new(),
            cast_binds: false,
            track: false,
            origins: Vec::new(),
            params: Vec::new(),
        }
    }

    fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    fn ident(&mut self, name: &Ident) {
        self.d.quote_ident(&mut self.sql, name.as_str());
    }

    /// `"a", "b", …`
    fn idents(&mut self, names: &[Ident]) {
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(n);
        }
    }

    /// Appends `v` to the binds (in the dialect's wire encoding) and writes its placeholder,
    /// cast to the value's type where the database could not infer it.
    fn bind(&mut self, v: Value) {
        if self.track {
            self.origins.push(None);
        }
        self.bind_value(v);
    }

    /// [`Compiler::bind`] of a value copied from the statement tree, remembering where it
    /// came from when tracking.
    fn bind_from(&mut self, v: &Value) {
        if self.track {
            self.origins.push(Some(v as *const Value));
        }
        self.bind_value(v.clone());
    }

    /// A prepared statement's parameter: a placeholder whose value comes later (bound as
    /// NULL until then, never cast: the database infers its type from where it stands).
    fn param(&mut self) {
        if self.track {
            self.origins.push(None);
        }
        self.params.push(self.binds.len());
        self.binds.push(Value::Null);
        self.d.write_placeholder(&mut self.sql, self.binds.len());
    }

    fn bind_value(&mut self, v: Value) {
        let cast = if self.cast_binds {
            self.d.bind_cast(&v)
        } else {
            None
        };
        self.binds.push(self.d.encode(v));
        self.d.write_placeholder(&mut self.sql, self.binds.len());
        if let Some(ty) = cast {
            self.push("::");
            self.push(ty);
        }
    }

    /// A LIMIT or OFFSET count: bound as a BIGINT, which every database accepts there.
    fn bind_count(&mut self, n: u64) -> R {
        let n = i64::try_from(n).map_err(|_| CompileError::OutOfRange(n))?;
        self.bind(Value::I64(n));
        Ok(())
    }

    /// `"schema"."name" AS "alias"`
    fn table_ref(&mut self, t: &TableRef) {
        if let Some(s) = &t.schema {
            self.ident(s);
            self.push(".");
        }
        self.ident(&t.name);
        if let Some(a) = &t.alias {
            self.push(" AS ");
            self.ident(a);
        }
    }

    /// A table without its alias: DDL names tables, it does not alias them.
    fn unaliased_table_ref(&mut self, t: &TableRef) {
        let t = TableRef {
            alias: None,
            ..t.clone()
        };
        self.table_ref(&t);
    }

    /// ` WHERE cond`, if there is one.
    fn where_clause(&mut self, where_: Option<&Expr>) -> R {
        if let Some(w) = where_ {
            self.push(" WHERE ");
            self.expr(w)?;
        }
        Ok(())
    }
}
