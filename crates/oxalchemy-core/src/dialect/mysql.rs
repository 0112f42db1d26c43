//! The MySQL / MariaDB dialect: backtick-quoted names, `?` placeholders, `AUTO_INCREMENT`
//! keys, `ON DUPLICATE KEY UPDATE` upserts, ILIKE as `LOWER(x) LIKE LOWER(p)`, and
//! RETURNING as a capability (MariaDB 10.5+ has `INSERT`/`DELETE … RETURNING`, MySQL has
//! none; neither has `UPDATE … RETURNING`).
//!
//! Types: booleans are `TINYINT(1)`; timestamps `DATETIME(6)` (microseconds; a timestamp
//! with time zone is stored converted to UTC, because `TIMESTAMP` ends in 2038 and converts
//! through the session time zone); UUIDs `CHAR(36)` text (readable in any tool and sorted
//! like the text form, as on SQLite; `BINARY(16)` would halve the index but show bytes);
//! JSON `JSON`; an unbounded `NUMERIC` `DECIMAL(65, 20)` (MySQL's own default, `(10, 0)`,
//! would round every fraction away); arrays, addresses as text; native enums `ENUM('a', …)`
//! inline in the column (MySQL has no `CREATE TYPE`).
//!
//! The engine opens every connection with `utf8mb4` and `sql_mode` including `ANSI_QUOTES`
//! (`"name"` is a name, as in standard SQL and in CHECKs this library writes),
//! `NO_BACKSLASH_ESCAPES` (string literals escape only `'`, as [`super::quote_literal`]
//! writes them) and `PIPES_AS_CONCAT` and `NO_AUTO_VALUE_ON_ZERO`; tables are created with a binary
//! collation without padding (`utf8mb4_nopad_bin` on MariaDB, `utf8mb4_0900_bin` on MySQL),
//! so `=` and `LIKE` compare exactly as on PostgreSQL and SQLite and `ilike` is the
//! case-insensitive operator.

use super::Dialect;
use crate::value::{SqlType, Value};

/// MySQL 8 or MariaDB. The differences the compiler sees are [`Dialect::insert_returning`]
/// ([`MySql::MARIADB`] has `INSERT`/`DELETE … RETURNING`, [`MySql::MYSQL`] does not) and
/// the collation tables are created with. The engine picks one from the server's version: MariaDB 10.5
/// or later gets [`MySql::MARIADB`]; older MariaDB, or any with `returning=off` in its URL,
/// [`MySql::MARIADB_NO_RETURNING`]; MySQL [`MySql::MYSQL`].
///
/// # Generated keys without RETURNING
///
/// Where the dialect has no RETURNING ([`MySql::MYSQL`], [`MySql::MARIADB_NO_RETURNING`]),
/// the keys of AUTO_INCREMENT rows come from
/// `LAST_INSERT_ID()` (the first row of the connection's last INSERT) and the row count:
///
/// - one row per INSERT is always exact;
/// - several rows per INSERT only when the connection read `@@innodb_autoinc_lock_mode`
///   as 0 ("traditional") or 1 ("consecutive", MariaDB's default) when it opened: InnoDB
///   then gives one simple INSERT's rows consecutive values (stepped by
///   `@@auto_increment_increment`). Under mode 2 ("interleaved", MySQL 8's default) a
///   concurrent INSERT may take values in between, so the session's flush sends such rows
///   one INSERT each (and a multi-row INSERT whose keys are asked for is refused);
/// - rows whose key is given are inserted in multi-row INSERTs on every mode.
///
/// `persist::insert` and `insert_many`, which return the stored row, then SELECT each row
/// by its key (server defaults included) on the same connection; the session reads back
/// only keys, as with RETURNING.
///
/// ```
/// use oxalchemy_core::{col, compile, select, table, MySql};
///
/// let q = select([col("id")]).from(table("users")).filter(col("name").ilike("a%"));
/// let c = compile(&MySql::MARIADB, &q.into()).unwrap();
/// assert_eq!(c.sql, "SELECT `id` FROM `users` WHERE LOWER(`name`) LIKE LOWER(?)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MySql {
    mariadb: bool,
    returning: bool,
}

impl MySql {
    /// MariaDB (10.5 and later): `INSERT … RETURNING` and `DELETE … RETURNING` exist.
    pub const MARIADB: MySql = MySql {
        mariadb: true,
        returning: true,
    };
    /// MariaDB without RETURNING: before 10.5, or with `returning=off` in the URL. Keys
    /// come from `LAST_INSERT_ID()` as on MySQL; tables still get MariaDB's collation.
    pub const MARIADB_NO_RETURNING: MySql = MySql {
        mariadb: true,
        returning: false,
    };
    /// MySQL (8.0): no RETURNING; generated keys come from `LAST_INSERT_ID()`.
    pub const MYSQL: MySql = MySql {
        mariadb: false,
        returning: false,
    };
}

impl Default for MySql {
    fn default() -> Self {
        MySql::MARIADB
    }
}

/// What an OFFSET without a LIMIT needs: MySQL has no "no limit", so the largest count.
const NO_LIMIT: &str = " LIMIT 18446744073709551615";

impl Dialect for MySql {
    fn capabilities(&self) -> super::Capabilities {
        super::Capabilities::MYSQL
    }
    fn name(&self) -> &'static str {
        if self.mariadb {
            "mariadb"
        } else {
            "mysql"
        }
    }
    fn write_placeholder(&self, out: &mut String, _index: usize) {
        out.push('?');
    }
    fn max_binds(&self) -> usize {
        // The binary protocol counts parameters in a u16.
        65535
    }
    fn native_ilike(&self) -> bool {
        false
    }
    fn case_fold_function(&self) -> &'static str {
        // Unicode-aware on utf8mb4 text (unlike SQLite's).
        "LOWER"
    }
    fn now_sql(&self) -> &'static str {
        "CURRENT_TIMESTAMP(6)"
    }
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "TRUE"
        } else {
            "FALSE"
        }
    }
    fn write_type(&self, out: &mut String, ty: &SqlType) {
        use std::fmt::Write;
        match ty {
            SqlType::SmallInteger => out.push_str("SMALLINT"),
            SqlType::Integer => out.push_str("INT"),
            SqlType::BigInteger => out.push_str("BIGINT"),
            SqlType::Boolean => out.push_str("TINYINT(1)"),
            SqlType::Float => out.push_str("FLOAT"),
            SqlType::Double => out.push_str("DOUBLE"),
            SqlType::Numeric(None) => out.push_str("DECIMAL(65, 20)"),
            SqlType::Numeric(Some((p, s))) => {
                let _ = write!(out, "DECIMAL({p}, {s})");
            }
            SqlType::String(Some(n)) => {
                let _ = write!(out, "VARCHAR({n})");
            }
            // LONGTEXT: unbounded like PostgreSQL's TEXT (TEXT stops at 64 KB).
            SqlType::String(None) | SqlType::Text => out.push_str("LONGTEXT"),
            SqlType::Binary => out.push_str("LONGBLOB"),
            SqlType::Date => out.push_str("DATE"),
            SqlType::Time => out.push_str("TIME(6)"),
            SqlType::DateTime { .. } => out.push_str("DATETIME(6)"),
            // MySQL's fractional seconds stop at 6 digits; time zones are not stored (values
            // are kept in UTC, as for DATETIME(6)).
            SqlType::TimePrecision(p) => {
                let _ = write!(out, "TIME({})", (*p).min(6));
            }
            SqlType::DateTimePrecision { precision, .. } => {
                let _ = write!(out, "DATETIME({})", (*precision).min(6));
            }
            SqlType::Char(n) => {
                let _ = write!(out, "CHAR({n})");
            }
            // MySQL has no interval type: the interval's text (PostgreSQL's output form).
            SqlType::Interval => out.push_str("VARCHAR(64)"),
            SqlType::Uuid => out.push_str("CHAR(36)"),
            SqlType::Json | SqlType::JsonB => out.push_str("JSON"),
            // The longest IPv6 address with a prefix: 39 + 4.
            SqlType::Inet | SqlType::Cidr => out.push_str("VARCHAR(43)"),
            // A JSON array, as on SQLite.
            SqlType::Array(_) => out.push_str("JSON"),
            SqlType::Enum {
                variants,
                native: true,
                ..
            } => {
                out.push_str("ENUM(");
                for (i, v) in variants.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    super::quote_literal(out, v);
                }
                out.push(')');
            }
            SqlType::Enum { variants, .. } => {
                let len = variants.iter().map(|v| v.len()).max().unwrap_or(1);
                let _ = write!(out, "VARCHAR({len})");
            }
        }
    }
    fn write_cast_type(&self, out: &mut String, ty: &SqlType) {
        use std::fmt::Write;
        // CAST takes its own type names: no INT / BIGINT / TEXT / VARCHAR there.
        match ty {
            SqlType::SmallInteger | SqlType::Integer | SqlType::BigInteger | SqlType::Boolean => {
                out.push_str("SIGNED")
            }
            SqlType::String(Some(n)) => {
                let _ = write!(out, "CHAR({n})");
            }
            SqlType::String(None)
            | SqlType::Text
            | SqlType::Uuid
            | SqlType::Inet
            | SqlType::Cidr
            | SqlType::Enum { .. }
            | SqlType::Json
            | SqlType::JsonB
            | SqlType::Array(_)
            | SqlType::Interval => out.push_str("CHAR"),
            SqlType::Binary => out.push_str("BINARY"),
            ty => self.write_type(out, ty),
        }
    }
    fn write_autoincrement_column(&self, out: &mut String, ty: &SqlType, _pk_name: &str) -> bool {
        self.write_type(out, ty);
        out.push_str(" AUTO_INCREMENT");
        false
    }
    /// UUIDs, addresses and arrays become text (arrays a JSON array), a timestamp with time
    /// zone its UTC wall time; the driver sends the rest in MySQL's binary protocol types.
    fn encode(&self, value: Value) -> Value {
        match value {
            Value::Uuid(u) => Value::Text(u.hyphenated().to_string()),
            Value::Inet { addr, prefix } => {
                Value::Text(crate::value_types::inet_text(&addr, prefix))
            }
            Value::DateTimeTz(t) => Value::DateTime(t.naive_utc()),
            // The JSON array SQLite stores, element by element in SQLite's encoding, so
            // both read arrays back the same way.
            v @ Value::Array(_) => super::Sqlite.encode(v),
            v => v,
        }
    }
    fn offset_requires_limit(&self) -> bool {
        true
    }
    fn no_limit_sql(&self) -> &'static str {
        NO_LIMIT
    }
    fn native_enums(&self) -> bool {
        // ENUM is a column type, written inline; there is no CREATE TYPE.
        false
    }
    fn quote_ident(&self, out: &mut String, name: &str) {
        out.reserve(name.len() + 2);
        out.push('`');
        let mut parts = name.split('`');
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        for part in parts {
            out.push_str("``");
            out.push_str(part);
        }
        out.push('`');
    }
    fn max_identifier_length(&self) -> usize {
        64
    }
    fn insert_returning(&self) -> bool {
        self.returning
    }
    fn update_returning(&self) -> bool {
        false
    }
    fn on_duplicate_key_update(&self) -> bool {
        true
    }
    fn native_nulls_order(&self) -> bool {
        false
    }
    fn default_values_sql(&self) -> &'static str {
        " () VALUES ()"
    }
    fn indexes_in_create_table(&self) -> bool {
        true
    }
    fn drop_foreign_key_clause(&self) -> &'static str {
        "DROP FOREIGN KEY"
    }
    fn current_schema_sql(&self) -> &'static str {
        "DATABASE()"
    }
    /// TEXT, BLOB and JSON index columns are indexed on their first 255 characters (1,020
    /// bytes in utf8mb4, under InnoDB's 3,072-byte key limit). A UNIQUE *index* on such a
    /// column therefore compares only that prefix; a UNIQUE *constraint* (`unique` on a
    /// column) stays exact on MariaDB (a hash key). Give the column a length (`VARCHAR(n)`)
    /// to index it whole.
    fn index_prefix_length(&self, ty: &SqlType) -> Option<u32> {
        match ty {
            SqlType::String(None)
            | SqlType::Text
            | SqlType::Binary
            | SqlType::Json
            | SqlType::JsonB
            | SqlType::Array(_) => Some(255),
            _ => None,
        }
    }
    fn inline_comments(&self) -> bool {
        true
    }
    fn computed_not_null(&self) -> bool {
        // MySQL 8 takes `… STORED NOT NULL`; MariaDB's generated columns are always nullable.
        !self.mariadb
    }
    /// An unbounded string that is part of a key is `VARCHAR(255)`: InnoDB keys only a
    /// prefix of TEXT, so a LONGTEXT primary key, UNIQUE or foreign key cannot be declared,
    /// and 255 characters (1,020 bytes in utf8mb4) stay under its 3,072-byte key limit. Give
    /// the column a length (`#[column(length = n)]`, `SqlType::String(Some(n))`) to choose.
    fn key_column_type(&self, ty: &SqlType) -> Option<SqlType> {
        matches!(ty, SqlType::String(None) | SqlType::Text).then_some(SqlType::String(Some(255)))
    }
    fn create_table_suffix(&self) -> &'static str {
        // Binary, without trailing-space padding: `'a' = 'a '` is false, as elsewhere.
        if self.mariadb {
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"
        } else {
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, lit, table};
    use crate::query::{delete, insert, select, update};
    use crate::schema::{Column, Table};
    use crate::{compile, CompileError};

    fn sql(d: &MySql, stmt: crate::Statement) -> String {
        compile(d, &stmt).unwrap().sql
    }

    #[test]
    fn names_are_backticked_and_backticks_doubled() {
        let mut out = String::new();
        MySql::MARIADB.quote_ident(&mut out, "we`ird");
        assert_eq!(out, "`we``ird`");
        let q = select([col("a")])
            .from(table("t"))
            .filter(col("b").eq(1i64));
        assert_eq!(
            sql(&MySql::MARIADB, q.into()),
            "SELECT `a` FROM `t` WHERE `b` = ?"
        );
    }

    #[test]
    fn offset_without_limit_gets_the_largest_limit() {
        let q = select([col("a")]).from(table("t")).offset(5);
        let c = compile(&MySql::MARIADB, &q.into()).unwrap();
        assert_eq!(
            c.sql,
            "SELECT `a` FROM `t` LIMIT 18446744073709551615 OFFSET ?"
        );
        assert_eq!(c.binds, [Value::I64(5)]);
    }

    #[test]
    fn upsert_is_on_duplicate_key_update() {
        let stmt = insert(table("t"))
            .columns(["id", "n"])
            .values([lit(1i64), lit(2i64)])
            .on_conflict_do_update(
                ["id"],
                [(crate::expr::Ident::from("n"), crate::expr::excluded("n"))],
            );
        assert_eq!(
            sql(&MySql::MARIADB, stmt.into()),
            "INSERT INTO `t` (`id`, `n`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `n` = VALUES(`n`)"
        );
        let stmt = insert(table("t"))
            .columns(["id"])
            .values([lit(1i64)])
            .on_conflict_do_nothing(["id"]);
        assert_eq!(
            sql(&MySql::MARIADB, stmt.into()),
            "INSERT INTO `t` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = `id`"
        );
        // Refused rather than wrong: RETURNING would return the skipped rows too, and a
        // constraint's name can be neither checked nor used by ON DUPLICATE KEY.
        for stmt in [
            insert(table("t"))
                .columns(["id"])
                .values([lit(1i64)])
                .on_conflict_do_nothing(["id"])
                .returning([col("id")]),
            insert(table("t"))
                .columns(["id"])
                .values([lit(1i64)])
                .on_constraint_do_nothing("uq_t_id"),
        ] {
            assert!(matches!(
                compile(&MySql::MARIADB, &stmt.into()),
                Err(CompileError::Unsupported(_, "mariadb"))
            ));
        }
    }

    #[test]
    fn mariadb_without_returning_keeps_its_name_and_collation() {
        let d = MySql::MARIADB_NO_RETURNING;
        assert!(!d.insert_returning());
        assert_eq!(d.name(), "mariadb");
        assert!(d.create_table_suffix().ends_with("utf8mb4_nopad_bin"));
        assert!(MySql::MYSQL
            .create_table_suffix()
            .ends_with("utf8mb4_0900_bin"));
        let ins = insert(table("t"))
            .columns(["n"])
            .values([lit(1i64)])
            .returning([col("id")]);
        assert!(compile(&d, &ins.into()).is_err());
    }

    #[test]
    fn returning_is_a_capability() {
        let ins = insert(table("t"))
            .columns(["n"])
            .values([lit(1i64)])
            .returning([col("id")]);
        assert_eq!(
            sql(&MySql::MARIADB, ins.clone().into()),
            "INSERT INTO `t` (`n`) VALUES (?) RETURNING `id`"
        );
        assert!(matches!(
            compile(&MySql::MYSQL, &ins.into()),
            Err(CompileError::Unsupported(_, "mysql"))
        ));
        let del = delete(table("t")).returning([col("id")]);
        assert_eq!(
            sql(&MySql::MARIADB, del.into()),
            "DELETE FROM `t` RETURNING `id`"
        );
        let upd = update(table("t")).set("n", 2i64).returning([col("id")]);
        assert!(matches!(
            compile(&MySql::MARIADB, &upd.into()),
            Err(CompileError::Unsupported(_, "mariadb"))
        ));
    }

    #[test]
    fn nulls_order_is_emulated() {
        let q = select([col("a")])
            .from(table("t"))
            .order_by(col("a").desc().nulls_last());
        assert_eq!(
            sql(&MySql::MARIADB, q.into()),
            "SELECT `a` FROM `t` ORDER BY `a` IS NULL, `a` DESC"
        );
    }

    #[test]
    fn create_table_is_innodb_utf8mb4_with_auto_increment() {
        let t = Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("ok", SqlType::Boolean).not_null())
            .column(Column::new("at", SqlType::DateTime { timezone: true }));
        assert_eq!(
            sql(&MySql::MARIADB, t.create().into()),
            "CREATE TABLE `users` (`id` BIGINT AUTO_INCREMENT NOT NULL, `ok` TINYINT(1) NOT NULL, \
             `at` DATETIME(6), CONSTRAINT `pk_users` PRIMARY KEY (`id`)) ENGINE=InnoDB \
             DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"
        );
    }

    #[test]
    fn indexes_are_declared_in_create_table_with_prefixes_on_blobs() {
        let t = Table::new("docs")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("body", SqlType::Binary))
            .column(Column::new("code", SqlType::String(Some(8))).index())
            .index(
                crate::schema::Index::new(["body", "id"])
                    .named("ix_body")
                    .unique(),
            );
        let sql = sql(&MySql::MARIADB, t.create().into());
        assert!(
            sql.contains(
                ", INDEX `ix_docs_code` (`code`), UNIQUE INDEX `ix_body` (`body`(255), `id`))"
            ),
            "{sql}"
        );
    }

    #[test]
    fn unbounded_strings_in_keys_are_varchar_255_and_comments_inline() {
        let t = Table::new("tags")
            .column(Column::new("name", SqlType::Text).primary_key())
            .column(Column::new("slug", SqlType::Text).unique())
            .column(Column::new("owner", SqlType::String(None)).references("users", "login"))
            .column(Column::new("kind", SqlType::Text).index())
            .column(Column::new("code", SqlType::String(Some(20))).unique())
            .column(Column::new("note", SqlType::Text).comment("it's free"))
            .comment("labels");
        let sql = sql(&MySql::MARIADB, t.create().into());
        for part in [
            "`name` VARCHAR(255) NOT NULL",
            "`slug` VARCHAR(255),",
            "`owner` VARCHAR(255),",
            "`kind` VARCHAR(255),",
            "`code` VARCHAR(20),",
            "`note` LONGTEXT COMMENT 'it''s free',",
            "INDEX `ix_tags_kind` (`kind`)",
            "COLLATE=utf8mb4_nopad_bin COMMENT='labels'",
        ] {
            assert!(sql.contains(part), "no {part} in {sql}");
        }
    }

    #[test]
    fn an_empty_insert_is_empty_values() {
        let stmt = insert(table("t"));
        assert_eq!(
            sql(&MySql::MARIADB, stmt.into()),
            "INSERT INTO `t` () VALUES ()"
        );
    }
}
