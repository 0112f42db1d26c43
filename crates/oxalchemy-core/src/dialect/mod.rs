//! Dialects: how one statement tree becomes SQL text and binds for one database.
//!
//! [`compile`] walks the tree once (the compiler, split by statement kind in `compiler/`);
//! a [`Dialect`] supplies every piece that differs between databases: placeholders (`?` /
//! `$1`), type names, ILIKE, identity columns, LIMIT/OFFSET quirks and the wire encoding of
//! values. [`Sqlite`], [`Postgres`] and [`MySql`] (MySQL and MariaDB) are the dialects. Compilation is pure (no I/O), so
//! it is tested on its output text and binds.
//!
//! [`bulk`] builds the ORM's high-volume INSERT / UPDATE / DELETE text without a tree.
//!
//! ```
//! use oxalchemy_core::{col, compile, select, table, Postgres, Sqlite};
//!
//! let q = select([col("id")]).from(table("users")).filter(col("name").ilike("a%"));
//! let stmt = q.into();
//! assert_eq!(
//!     compile(&Postgres, &stmt).unwrap().sql,
//!     r#"SELECT "id" FROM "users" WHERE "name" ILIKE $1"#
//! );
//! assert_eq!(
//!     compile(&Sqlite, &stmt).unwrap().sql,
//!     r#"SELECT "id" FROM "users" WHERE oxalchemy_lower("name") LIKE oxalchemy_lower(?)"#
//! );
//! ```

pub mod bulk;
mod capabilities;
mod compiler;
mod mysql;
mod postgres;
mod sqlite;

pub use capabilities::Capabilities;
pub(crate) use compiler::bind_count;
pub mod cache;

pub use cache::{CacheStats, StatementCache};
pub use compiler::{
    column_definition, comment_on, comment_statements, compile, compile_prepared,
    constraint_definition, foreign_key_add_sql, foreign_key_drop_sql, CompileError, Compiled,
    Params, PreparedSql,
};
pub use mysql::MySql;
pub use postgres::Postgres;
pub use sqlite::{Sqlite, SQLITE_DATETIME_FORMAT, SQLITE_UNICODE_LOWER};

use crate::value::{SqlType, Value};

/// One database's SQL flavour: everything the compiler writes differently per database.
///
/// Implemented by [`Sqlite`] and [`Postgres`]; the engine picks one per connection URL. The
/// compiler asks these methods instead of testing which database it compiles for, so a new
/// database is a new implementation. Methods with a default describe the SQL standard's (and
/// usually SQLite's) behaviour.
pub trait Dialect: Send + Sync + std::fmt::Debug {
    /// The database's name as used in URLs and messages: `"sqlite"`, `"postgresql"`.
    fn name(&self) -> &'static str;
    /// The features of this database that oxalchemy relies on (advisory locks,
    /// transactional DDL, …). The default is [`Capabilities::SQLITE`], the most
    /// conservative of the presets; every dialect states its own.
    fn capabilities(&self) -> Capabilities {
        Capabilities::SQLITE
    }
    /// Writes the marker of the `index`-th (1-based) bind parameter.
    fn write_placeholder(&self, out: &mut String, index: usize);
    /// The largest number of bind parameters one statement may carry; bulk paths chunk to it.
    fn max_binds(&self) -> usize;
    /// The most rows a multi-row INSERT should carry even where [`Dialect::max_binds`]
    /// allows more. The default is no cap: a server pays a round trip per statement, so
    /// the fewest statements win.
    fn insert_rows_cap(&self) -> usize {
        usize::MAX
    }
    /// Whether `ILIKE` exists; otherwise it is compiled as `f(x) LIKE f(pattern)` with
    /// `f` = [`Dialect::case_fold_function`].
    fn native_ilike(&self) -> bool;
    /// The function that lower-cases both sides of an emulated ILIKE. The default is SQL's
    /// `lower`; SQLite's `lower` only knows ASCII, so its dialect names a Unicode-aware
    /// function the engine registers on every connection.
    fn case_fold_function(&self) -> &'static str {
        "lower"
    }
    /// The SQL for the current timestamp.
    fn now_sql(&self) -> &'static str;
    /// Literal true / false, used for empty AND / OR lists.
    fn bool_literal(&self, value: bool) -> &'static str;
    /// Writes a column type for DDL and CAST.
    fn write_type(&self, out: &mut String, ty: &SqlType);
    /// Writes the target type of a CAST; the DDL type unless the dialect's CAST needs another.
    fn write_cast_type(&self, out: &mut String, ty: &SqlType) {
        self.write_type(out, ty);
    }
    /// Writes a column definition's type and identity clause for an autoincrementing integer
    /// primary key; returns true when the primary key is declared inline by this clause.
    fn write_autoincrement_column(&self, out: &mut String, ty: &SqlType, pk_name: &str) -> bool;
    /// [`Dialect::write_autoincrement_column`] with identity options (PostgreSQL `GENERATED
    /// ALWAYS`, `START WITH`, `INCREMENT BY`). Databases without identity options (SQLite's
    /// rowid) ignore them: the default does.
    fn write_identity_column(
        &self,
        out: &mut String,
        ty: &SqlType,
        pk_name: &str,
        identity: &crate::schema::Identity,
    ) -> bool {
        let _ = identity;
        self.write_autoincrement_column(out, ty, pk_name)
    }
    /// The type a bind is cast to where the database cannot infer it from context (a bind in
    /// the select list, `$1 + $2`): PostgreSQL otherwise rejects or mistypes such parameters.
    fn bind_cast(&self, _value: &Value) -> Option<&'static str> {
        None
    }
    /// The wire encoding of a bind value (e.g. booleans as 0/1 on SQLite).
    fn encode(&self, value: Value) -> Value;
    /// Whether OFFSET needs a LIMIT before it (SQLite: `LIMIT -1 OFFSET n`).
    fn offset_requires_limit(&self) -> bool;
    /// Whether LIMIT and OFFSET are written as integer literals instead of binds.
    ///
    /// SQLite (built with STAT4, as the bundled build is) reads a bound LIMIT's value while
    /// planning and marks the statement to be re-prepared whenever that parameter is bound
    /// again: every `.one()` on a cached statement would recompile it (~44,000 instructions).
    /// PostgreSQL plans a bound LIMIT generically, and binding keeps one prepared statement
    /// for every page of a pagination.
    fn inline_limits(&self) -> bool {
        false
    }
    /// Whether `CREATE TYPE … AS ENUM` exists.
    fn native_enums(&self) -> bool;
    /// Whether tables and columns keep comments set with `COMMENT ON` (PostgreSQL). A
    /// database without comments (SQLite) leaves them out of its DDL.
    fn comment_on(&self) -> bool {
        false
    }
    /// Whether an upsert may name its conflict target by constraint
    /// (`ON CONFLICT ON CONSTRAINT name`, PostgreSQL); elsewhere it names the columns.
    fn conflict_on_constraint(&self) -> bool {
        false
    }
    /// Writes a byte string as an inline literal (a server default in DDL). The default is
    /// the SQL standard's `X'0a1b'`.
    fn write_bytes_literal(&self, out: &mut String, bytes: &[u8]) {
        out.push_str("X'");
        push_hex(out, bytes);
        out.push('\'');
    }
    /// Writes `name` as a quoted identifier. The default is the SQL standard's double quotes
    /// ([`quote_ident`]); MySQL uses backticks.
    fn quote_ident(&self, out: &mut String, name: &str) {
        quote_ident(out, name);
    }
    /// The longest identifier (table, column, constraint, index name) in bytes: 63 on
    /// PostgreSQL, 64 on MySQL. Names over it are refused or truncated by the database.
    fn max_identifier_length(&self) -> usize {
        63
    }
    /// Whether `INSERT … RETURNING` and `DELETE … RETURNING` exist (MariaDB 10.5+ has them,
    /// MySQL does not: generated keys come from `LAST_INSERT_ID()` there).
    fn insert_returning(&self) -> bool {
        true
    }
    /// Whether `UPDATE … RETURNING` exists (neither MariaDB nor MySQL has it: callers
    /// re-read the rows by key).
    fn update_returning(&self) -> bool {
        true
    }
    /// Whether an upsert is `ON DUPLICATE KEY UPDATE` (MySQL) instead of
    /// `ON CONFLICT (…) DO …`; the conflict target is then implied by the table's unique
    /// keys, and the proposed row's values are `VALUES("col")`.
    fn on_duplicate_key_update(&self) -> bool {
        false
    }
    /// Whether `NULLS FIRST` / `NULLS LAST` exist in ORDER BY; otherwise they are emulated
    /// with a leading `expr IS NULL` sort key.
    fn native_nulls_order(&self) -> bool {
        true
    }
    /// What an OFFSET without a LIMIT gets before it where
    /// [`Dialect::offset_requires_limit`]: SQLite's `LIMIT -1` by default.
    fn no_limit_sql(&self) -> &'static str {
        " LIMIT -1"
    }
    /// How an INSERT of a row of defaults only is written: ` DEFAULT VALUES` by default,
    /// ` () VALUES ()` on MySQL.
    fn default_values_sql(&self) -> &'static str {
        " DEFAULT VALUES"
    }
    /// Whether `CREATE TABLE` declares the table's indexes itself (`INDEX "ix" ("a")` among
    /// the columns; MySQL), so that a column's type is known where its index is written
    /// (see [`Dialect::index_prefix_length`]); `create_all` then creates no separate indexes.
    fn indexes_in_create_table(&self) -> bool {
        false
    }
    /// The prefix length an index column of this type needs (MySQL cannot index a whole
    /// TEXT or BLOB: `"a"(255)`); `None` indexes the whole value.
    fn index_prefix_length(&self, _ty: &crate::value::SqlType) -> Option<u32> {
        None
    }
    /// Table options written after `CREATE TABLE …(…)` (MySQL: `ENGINE=InnoDB`, the
    /// character set); none by default.
    fn create_table_suffix(&self) -> &'static str {
        ""
    }
    /// Whether `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY` exists. `create_all` adds the
    /// foreign keys that close a cycle between tables this way after the CREATEs; without
    /// it (SQLite) they stay inline, which works there because references are checked when
    /// rows are written, not when a table is created.
    fn alter_foreign_keys(&self) -> bool {
        true
    }
    /// The `ALTER TABLE` clause that drops a foreign key by name: `DROP CONSTRAINT` (the
    /// standard), `DROP FOREIGN KEY` on MySQL.
    fn drop_foreign_key_clause(&self) -> &'static str {
        "DROP CONSTRAINT"
    }
    /// A statement that defers every foreign-key check to the end of the transaction, for
    /// dropping tables whose rows reference each other where the foreign keys cannot be
    /// dropped first (SQLite: `PRAGMA defer_foreign_keys = ON`, reset at COMMIT); `None`
    /// where [`Dialect::alter_foreign_keys`] drops them instead.
    fn defer_foreign_keys_sql(&self) -> Option<&'static str> {
        None
    }
    /// The SQL expression naming the schema unqualified tables live in, for catalog
    /// queries (`information_schema`): `current_schema()`, `DATABASE()` on MySQL.
    fn current_schema_sql(&self) -> &'static str {
        "current_schema()"
    }
    /// Whether comments are part of the DDL itself (`COMMENT '…'` after a column's
    /// definition, `COMMENT = '…'` after the table's; MySQL) rather than `COMMENT ON`
    /// statements ([`Dialect::comment_on`]).
    fn inline_comments(&self) -> bool {
        false
    }
    /// Whether a generated (computed) column may be declared NOT NULL. MariaDB refuses it
    /// (its generated columns are always nullable), so there the constraint is left out of
    /// the DDL and autogenerate compares such a column as nullable.
    fn computed_not_null(&self) -> bool {
        true
    }
    /// The type a column of type `ty` takes when it is part of a key (primary key, UNIQUE,
    /// index, foreign key); `None` keeps `ty`. MySQL cannot key a whole TEXT, so an
    /// unbounded string there is `VARCHAR(255)` (see [`key_sized`]).
    fn key_column_type(&self, _ty: &SqlType) -> Option<SqlType> {
        None
    }
}

/// `table` with the columns of its keys (primary key, UNIQUE constraints, indexes, foreign
/// keys) in the type [`Dialect::key_column_type`] gives them: on MySQL an unbounded
/// `String` / `Text` key column is `VARCHAR(255)` (a length given on the column,
/// `SqlType::String(Some(n))`, is kept). `CREATE TABLE` and autogenerate both use it, so
/// the two agree. Unchanged on dialects that key any type.
///
/// ```
/// use oxalchemy_core::dialect::key_sized;
/// use oxalchemy_core::{Column, MySql, Postgres, SqlType, Table};
///
/// let t = Table::new("tags")
///     .column(Column::new("name", SqlType::Text).primary_key())
///     .column(Column::new("note", SqlType::Text));
/// let my = key_sized(&MySql::MARIADB, &t);
/// assert_eq!(my.columns[0].ty, SqlType::String(Some(255)));
/// assert_eq!(my.columns[1].ty, SqlType::Text);
/// assert_eq!(key_sized(&Postgres, &t).columns[0].ty, SqlType::Text);
/// ```
pub fn key_sized(d: &dyn Dialect, table: &crate::schema::Table) -> crate::schema::Table {
    use crate::schema::Constraint;
    let mut out = table.clone();
    let mut keyed: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name.as_str())
        .collect();
    for con in &table.constraints {
        match con {
            Constraint::Unique { columns, .. } => keyed.extend(columns.iter().map(|c| c.as_str())),
            Constraint::ForeignKey(fk) => keyed.extend(fk.columns.iter().map(|c| c.as_str())),
            Constraint::Check { .. } => {}
        }
    }
    for ix in &table.indexes {
        keyed.extend(ix.columns.iter().map(|c| c.as_str()));
    }
    for c in &mut out.columns {
        if keyed.contains(&c.name.as_str()) {
            if let Some(ty) = d.key_column_type(&c.ty) {
                c.ty = ty;
            }
        }
    }
    out
}

/// Writes `name` as a double-quoted identifier, doubling embedded quotes (both dialects).
///
/// ```
/// let mut out = String::new();
/// oxalchemy_core::dialect::quote_ident(&mut out, r#"my "table""#);
/// assert_eq!(out, r#""my ""table""""#);
/// ```
pub fn quote_ident(out: &mut String, name: &str) {
    out.reserve(name.len() + 2);
    out.push('"');
    // Split at each quote and double it; a name without one (nearly all) is copied whole,
    // not pushed char by char (this runs for every identifier of every statement).
    let mut parts = name.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push_str("\"\"");
        out.push_str(part);
    }
    out.push('"');
}

/// Writes `s` as a single-quoted SQL string literal, doubling embedded quotes. Only DDL uses
/// literals (server defaults, enum checks); statements bind every value.
///
/// ```
/// let mut out = String::new();
/// oxalchemy_core::dialect::quote_literal(&mut out, "it's");
/// assert_eq!(out, "'it''s'");
/// ```
pub fn quote_literal(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
}

/// Writes `bytes` as lowercase hex digits, two per byte.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    use std::fmt::Write;
    out.reserve(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}
