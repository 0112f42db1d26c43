//! [`text`]: raw SQL with named bind parameters, the one way to put hand-written SQL in a
//! statement without giving up bound values.

use crate::value::Value;

/// A raw SQL fragment with named bind parameters (`:name`), made by [`text`]. Usable as a
/// whole statement or as an expression inside one.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSql {
    /// The SQL as written, with `:name` placeholders.
    pub sql: String,
    /// The values for the placeholders, by name, in the order they were bound.
    pub binds: Vec<(String, Value)>,
}

/// Raw SQL with named binds.
///
/// `:name` placeholders are replaced by the dialect's bind markers. Colons inside comments
/// (`-- …`, `/* … */`), strings (`'…'`, `E'…'`, `$$…$$`, `$tag$…$tag$`) and quoted
/// identifiers (`"…"`) are left alone, as is `::` (a PostgreSQL cast); `\:` is a literal
/// colon. Compiling fails if a placeholder has no value or a value has no placeholder.
///
/// ```
/// use oxalchemy_core::{compile, text, Postgres, Value};
///
/// let stmt = text("SELECT * FROM t WHERE id = :id AND note = ':id' -- isn't :id")
///     .bind("id", 5i64);
/// let c = compile(&Postgres, &stmt.into()).unwrap();
/// assert_eq!(c.sql, "SELECT * FROM t WHERE id = $1 AND note = ':id' -- isn't :id");
/// assert_eq!(c.binds, [Value::I64(5)]);
/// ```
pub fn text(sql: impl Into<String>) -> TextSql {
    TextSql {
        sql: sql.into(),
        binds: Vec::new(),
    }
}

impl TextSql {
    /// Gives the value for every `:name` placeholder in the SQL.
    pub fn bind(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.binds.push((name.into(), value.into()));
        self
    }
}
