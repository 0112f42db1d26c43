//! MySQL / MariaDB reflection from `information_schema` (`COLUMNS`, `TABLE_CONSTRAINTS`,
//! `KEY_COLUMN_USAGE`, `REFERENTIAL_CONSTRAINTS`, `CHECK_CONSTRAINTS`, `STATISTICS`) of the
//! connection's database (`DATABASE()`).
//!
//! Normalised so a table created from a `Table` reflects back without differences:
//!
//! * `TINYINT(1)` is a boolean, `CHAR(36)` a UUID, `DATETIME(n)` / `TIMESTAMP(n)` a datetime
//!   whatever the precision (the dialect writes `DATETIME(6)` for both `DateTime` kinds),
//!   display widths (`int(11)`) are ignored, and a column's collation is reported only
//!   where it differs from its table's (the dialect gives every table one collation, so
//!   only a collation the model names comes back).
//! * MariaDB's `JSON` is `LONGTEXT` with a column-level `CHECK (json_valid(col))` named after
//!   the column: reflected as JSON, and that CHECK is not reported. (CHECK clauses come
//!   back with names in double quotes when the session has `ANSI_QUOTES`.)
//! * `ENUM('a','b')` is a native enum named after its column.
//! * The primary key is always named `PRIMARY`: reflected unnamed. An index InnoDB created
//!   for a foreign key (named after the constraint) is not reported as an index.
//! * Defaults: MariaDB prints literals quoted (`'active'`) and `NULL` for "no default";
//!   MySQL 8 prints string literals bare, so they are quoted back.

use std::collections::{HashMap, HashSet};

use oxalchemy_core::schema::{Computed, ForeignKey, Index, ReferentialAction, Table};
use oxalchemy_core::{text, Ident, SqlType};
use oxalchemy_engine::Connection;

use super::{column, idents, split_type, Parts, ReflectError, Result};

/// The table where a MySQL / MariaDB runner records which operations of a migration ran
/// (also left out of reflection, like the version table).
pub(crate) const PROGRESS_TABLE: &str = "oxalchemy_migration_progress";

/// The tables [`super::reflect`] reads: base tables of `DATABASE()` except the version table
/// (bound as `:version`) and the runner's progress table.
pub(super) const TABLE_NAMES: &str = "SELECT CAST(TABLE_NAME AS CHAR) \
     FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
     AND TABLE_NAME <> :version AND TABLE_NAME <> 'oxalchemy_migration_progress' \
     ORDER BY TABLE_NAME";

/// A constraint's key column: (column, referred table, referred column).
type KeyColumn<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

/// `(name, data_type, column_type, is_nullable, default, extra, generation expression,
/// comment, collation)` rows of `COLUMNS`.
type ColumnRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
);

/// The type of a column from `DATA_TYPE` and `COLUMN_TYPE`; `None` when it has no
/// [`SqlType`].
fn map_type(data_type: &str, column_type: &str) -> Option<SqlType> {
    let dt = data_type.to_ascii_lowercase();
    let (_, args) = split_type(column_type.split_whitespace().next().unwrap_or(column_type))
        .unwrap_or_default();
    Some(match (dt.as_str(), args.as_slice()) {
        ("tinyint", [1]) | ("boolean", _) | ("bool", _) => SqlType::Boolean,
        ("tinyint" | "smallint", _) => SqlType::SmallInteger,
        ("mediumint" | "int" | "integer", _) => SqlType::Integer,
        ("bigint", _) => SqlType::BigInteger,
        ("float", _) => SqlType::Float,
        ("double" | "real", _) => SqlType::Double,
        ("decimal" | "numeric", [p, s]) => SqlType::Numeric(Some((*p, *s))),
        ("decimal" | "numeric", _) => SqlType::Numeric(None),
        ("char", [36]) => SqlType::Uuid,
        ("char", [n]) => SqlType::Char(*n),
        ("varchar", [n]) => SqlType::String(Some(*n)),
        ("tinytext" | "text" | "mediumtext" | "longtext", _) => SqlType::Text,
        ("blob" | "longblob" | "mediumblob" | "tinyblob" | "varbinary" | "binary", _) => {
            SqlType::Binary
        }
        ("date", _) => SqlType::Date,
        // The dialect writes `TIME(6)` / `DATETIME(6)` for the plain kinds; another
        // precision (none printed is 0) was asked for explicitly.
        ("time", [6]) => SqlType::Time,
        ("time", [p]) => SqlType::TimePrecision(*p),
        ("time", _) => SqlType::TimePrecision(0),
        ("datetime" | "timestamp", [6]) => SqlType::DateTime { timezone: false },
        ("datetime" | "timestamp", [p]) => SqlType::DateTimePrecision {
            timezone: false,
            precision: *p,
        },
        ("datetime" | "timestamp", _) => SqlType::DateTimePrecision {
            timezone: false,
            precision: 0,
        },
        ("json", _) => SqlType::Json,
        ("enum", _) => SqlType::Enum {
            name: String::new(),
            variants: enum_variants(column_type)?,
            native: true,
        },
        _ => return None,
    })
}

/// The labels of `enum('a','it''s')`, unquoted, in order.
fn enum_variants(column_type: &str) -> Option<Vec<String>> {
    let open = column_type.find('(')?;
    let close = column_type.rfind(')')?;
    let body = column_type.get(open + 1..close)?;
    let mut out = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        match chars.next() {
            None => break,
            Some('\'') => {
                let mut label = String::new();
                loop {
                    match chars.next()? {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                            label.push('\'');
                        }
                        '\'' => break,
                        '\\' => label.push(chars.next()?),
                        c => label.push(c),
                    }
                }
                out.push(label);
            }
            Some(_) => {} // commas and spaces between labels
        }
    }
    Some(out)
}

fn action(rule: &str) -> Option<ReferentialAction> {
    match rule.to_ascii_uppercase().as_str() {
        "CASCADE" => Some(ReferentialAction::Cascade),
        "SET NULL" => Some(ReferentialAction::SetNull),
        "SET DEFAULT" => Some(ReferentialAction::SetDefault),
        // InnoDB's NO ACTION is RESTRICT, and MariaDB reports the default as RESTRICT.
        _ => None,
    }
}

/// A default as `COLUMNS.COLUMN_DEFAULT` has it, as SQL text (`None`: no default).
fn normalize_default(
    mariadb: bool,
    raw: Option<String>,
    data_type: &str,
    extra: &str,
) -> Option<String> {
    let raw = raw?;
    // `CURRENT_TIMESTAMP` on a `DATETIME(6)` comes back with the column's precision.
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("current_timestamp(") && lower.ends_with(')') {
        return Some("CURRENT_TIMESTAMP".to_owned());
    }
    if mariadb {
        // MariaDB ≥ 10.2.7 prints SQL: `NULL` is "no default" (or DEFAULT NULL, the same).
        // It escapes quotes in a string literal with a backslash (`'it\'s'`) whatever the
        // session's sql_mode; written back the standard way, as the models write them.
        if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
            return Some(standard_literal(&raw[1..raw.len() - 1]));
        }
        return (!raw.eq_ignore_ascii_case("NULL")).then_some(raw);
    }
    // MySQL 8 prints a string literal bare; an expression is marked DEFAULT_GENERATED.
    let stringy = matches!(
        data_type.to_ascii_lowercase().as_str(),
        "char" | "varchar" | "enum" | "set" | "date" | "time" | "datetime" | "timestamp"
    );
    let expression = extra.to_ascii_uppercase().contains("DEFAULT_GENERATED")
        || raw.to_ascii_uppercase().starts_with("CURRENT_TIMESTAMP");
    if stringy && !expression {
        Some(format!("'{}'", raw.replace('\'', "''")))
    } else {
        Some(raw)
    }
}

/// The body of a MariaDB string literal (backslash escapes, `''`) as a standard SQL literal.
fn standard_literal(body: &str) -> String {
    let mut out = String::from("'");
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('0') => '\0',
                Some(other) => other,
                None => break,
            },
            '\'' => {
                // `''` inside the literal: one quote.
                chars.next();
                '\''
            }
            c => c,
        };
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A generated column's expression as the server prints it, without the backticks it puts
/// around names (`\`a\` * 2`), so it compares with the models' text.
fn unquote_names(sql: &str) -> String {
    let mut out = String::new();
    let mut in_literal = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_literal = !in_literal;
                out.push(c);
            }
            '`' if !in_literal => {}
            c => out.push(c),
        }
    }
    out
}

/// Table `name` of the connection's database, or `None` when it does not exist.
pub(super) async fn table(conn: &mut Connection, name: &str) -> Result<Option<Table>> {
    let mariadb = conn.dialect().name() == "mariadb";
    let cols: Vec<ColumnRow> = conn
        .query(
            text(
                "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), \
                 CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), \
                 CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR), \
                 CAST(GENERATION_EXPRESSION AS CHAR), CAST(COLUMN_COMMENT AS CHAR), \
                 CAST(COLLATION_NAME AS CHAR) \
                 FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t \
                 ORDER BY ORDINAL_POSITION",
            )
            .bind("t", name),
        )
        .await?;
    if cols.is_empty() {
        return Ok(None);
    }
    let table_info: Option<(String, Option<String>)> = conn
        .query_opt(
            text(
                "SELECT CAST(TABLE_COMMENT AS CHAR), CAST(TABLE_COLLATION AS CHAR) \
                 FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t",
            )
            .bind("t", name),
        )
        .await?;
    // (constraint, type) of TABLE_CONSTRAINTS.
    let cons: Vec<(String, String)> = conn
        .query(
            text(
                "SELECT CAST(CONSTRAINT_NAME AS CHAR), CAST(CONSTRAINT_TYPE AS CHAR) \
                 FROM information_schema.TABLE_CONSTRAINTS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t \
                 ORDER BY CONSTRAINT_NAME",
            )
            .bind("t", name),
        )
        .await?;
    // (constraint, column, referred table, referred column), in key order.
    let keys: Vec<(String, String, Option<String>, Option<String>)> = conn
        .query(
            text(
                "SELECT CAST(CONSTRAINT_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), \
                 CAST(REFERENCED_TABLE_NAME AS CHAR), CAST(REFERENCED_COLUMN_NAME AS CHAR) \
                 FROM information_schema.KEY_COLUMN_USAGE \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t \
                 ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
            )
            .bind("t", name),
        )
        .await?;
    let rules: Vec<(String, String, String)> = conn
        .query(
            text(
                "SELECT CAST(CONSTRAINT_NAME AS CHAR), CAST(DELETE_RULE AS CHAR), \
                 CAST(UPDATE_RULE AS CHAR) \
                 FROM information_schema.REFERENTIAL_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :t",
            )
            .bind("t", name),
        )
        .await?;
    // MariaDB names CHECKs per table (CHECK_CONSTRAINTS has TABLE_NAME); MySQL 8 per schema.
    let checks_sql = if mariadb {
        "SELECT CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :t ORDER BY CONSTRAINT_NAME"
    } else {
        "SELECT CAST(cc.CONSTRAINT_NAME AS CHAR), CAST(cc.CHECK_CLAUSE AS CHAR) \
         FROM information_schema.TABLE_CONSTRAINTS tc \
         JOIN information_schema.CHECK_CONSTRAINTS cc \
           ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
          AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
         WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = :t \
           AND tc.CONSTRAINT_TYPE = 'CHECK' ORDER BY cc.CONSTRAINT_NAME"
    };
    let checks: Vec<(String, String)> = conn.query(text(checks_sql).bind("t", name)).await?;
    // (index, non-unique, column), in key order; expression parts (MySQL 8) have no column.
    let stats: Vec<(String, i64, Option<String>)> = conn
        .query(
            text(
                "SELECT CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), \
                 CAST(COLUMN_NAME AS CHAR) \
                 FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t \
                 ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            )
            .bind("t", name),
        )
        .await?;

    let mut key_cols: HashMap<&str, Vec<KeyColumn<'_>>> = HashMap::new();
    for (con, col, rt, rc) in &keys {
        key_cols.entry(con.as_str()).or_default().push((
            col.as_str(),
            rt.as_deref(),
            rc.as_deref(),
        ));
    }
    let pk_cols: Vec<String> = key_cols
        .get("PRIMARY")
        .map(|v| v.iter().map(|(c, _, _)| (*c).to_owned()).collect())
        .unwrap_or_default();
    // MariaDB's JSON columns: LONGTEXT with `CHECK (json_valid(col))` named after the column.
    let json_checks: HashSet<String> = checks
        .iter()
        .filter(|(n, clause)| {
            let c = clause.to_ascii_lowercase().replace(['`', '"', ' '], "");
            c == format!("json_valid({})", n.to_ascii_lowercase())
        })
        .map(|(n, _)| n.clone())
        .collect();

    let mut table = Table::new(name.to_owned());
    // An empty TABLE_COMMENT is "no comment".
    let (table_comment, table_collation) = table_info.unwrap_or_default();
    table.comment = Some(table_comment).filter(|c| !c.is_empty());
    for (col, data_type, column_type, nullable, default, extra, generated, comment, collation) in
        cols
    {
        let mut ty =
            map_type(&data_type, &column_type).ok_or_else(|| ReflectError::UnsupportedType {
                table: name.to_owned(),
                column: col.clone(),
                ty: column_type.clone(),
            })?;
        if let SqlType::Enum { name: n, .. } = &mut ty {
            n.clone_from(&col);
        }
        if matches!(ty, SqlType::Text) && json_checks.contains(&col) {
            ty = SqlType::Json;
        }
        let in_pk = pk_cols.contains(&col);
        let autoincrement = extra.to_ascii_lowercase().contains("auto_increment");
        let extra_upper = extra.to_ascii_uppercase();
        let computed = generated
            .filter(|g| !g.is_empty() && extra_upper.contains("GENERATED"))
            .map(|g| Computed {
                sql: unquote_names(&g),
                stored: extra_upper.contains("STORED") || extra_upper.contains("PERSISTENT"),
            });
        // A generated column has no default (MariaDB prints NULL, MySQL the expression).
        let default = if computed.is_some() {
            None
        } else {
            normalize_default(mariadb, default, &data_type, &extra)
        };
        let mut c = column(
            col,
            ty,
            nullable.eq_ignore_ascii_case("YES"),
            in_pk,
            autoincrement,
            default,
        );
        c.computed = computed;
        // An empty COLUMN_COMMENT is "no comment" (MySQL cannot tell the two apart).
        c.comment = (!comment.is_empty()).then_some(comment);
        // The table's own collation is the dialect's, not the model's: only another one is
        // the column's. MariaDB's JSON (a LONGTEXT) always has `utf8mb4_bin`, its own.
        if !matches!(c.ty, SqlType::Json) {
            c.collation = collation.filter(|c| Some(c) != table_collation.as_ref());
        }
        table.columns.push(c);
    }

    let mut parts = Parts::default();
    let mut constraint_names: HashSet<String> = HashSet::new();
    let mut fk_names: HashSet<String> = HashSet::new();
    for (con, kind) in &cons {
        constraint_names.insert(con.clone());
        let cols = key_cols.get(con.as_str()).cloned().unwrap_or_default();
        match kind.to_ascii_uppercase().as_str() {
            "UNIQUE" => parts.uniques.push((
                Some(con.clone()),
                cols.iter().map(|(c, _, _)| (*c).to_owned()).collect(),
            )),
            "FOREIGN KEY" => {
                fk_names.insert(con.clone());
                let (del, upd) = rules
                    .iter()
                    .find(|r| &r.0 == con)
                    .map(|r| (action(&r.1), action(&r.2)))
                    .unwrap_or((None, None));
                let ref_table = cols.first().and_then(|c| c.1).unwrap_or_default();
                // MySQL / MariaDB check foreign keys at once: never DEFERRABLE.
                let mut fk = ForeignKey::new(
                    idents(cols.iter().map(|(c, _, _)| (*c).to_owned()).collect()),
                    Ident::from(ref_table.to_owned()),
                    idents(
                        cols.iter()
                            .map(|(_, _, rc)| rc.unwrap_or_default().to_owned())
                            .collect(),
                    ),
                )
                .named(Ident::from(con.clone()));
                fk.on_delete = del;
                fk.on_update = upd;
                parts.fks.push(fk);
            }
            _ => {} // PRIMARY KEY read with the columns; CHECKs below
        }
    }
    for (con, clause) in checks {
        if json_checks.contains(&con) {
            continue;
        }
        parts.checks.push((Some(con), clause));
    }

    let mut indexes: Vec<(String, bool, Vec<String>, bool)> = Vec::new();
    for (ix, non_unique, col) in stats {
        let expression = col.is_none();
        match indexes.last_mut() {
            Some(last) if last.0 == ix => {
                last.2.extend(col);
                last.3 |= expression;
            }
            _ => indexes.push((ix, non_unique == 0, col.into_iter().collect(), expression)),
        }
    }
    for (ix, unique, cols, expression) in indexes {
        // The primary key, UNIQUE constraints (indexes under the constraint's name), the
        // index InnoDB made for a foreign key (named after it), expression indexes.
        if ix == "PRIMARY" || constraint_names.contains(&ix) || fk_names.contains(&ix) {
            continue;
        }
        if expression {
            continue;
        }
        let mut index = Index::new(idents(cols)).named(ix);
        if unique {
            index = index.unique();
        }
        parts.indexes.push(index);
    }
    Ok(Some(parts.build(table)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_mysql_types() {
        assert_eq!(map_type("tinyint", "tinyint(1)"), Some(SqlType::Boolean));
        assert_eq!(
            map_type("tinyint", "tinyint(4)"),
            Some(SqlType::SmallInteger)
        );
        assert_eq!(map_type("int", "int(11)"), Some(SqlType::Integer));
        assert_eq!(
            map_type("bigint", "bigint(20) unsigned"),
            Some(SqlType::BigInteger)
        );
        assert_eq!(
            map_type("datetime", "datetime(6)"),
            Some(SqlType::DateTime { timezone: false })
        );
        assert_eq!(map_type("char", "char(36)"), Some(SqlType::Uuid));
        assert_eq!(
            map_type("varchar", "varchar(50)"),
            Some(SqlType::String(Some(50)))
        );
        assert_eq!(
            map_type("decimal", "decimal(10,2)"),
            Some(SqlType::Numeric(Some((10, 2))))
        );
        assert_eq!(map_type("geometry", "geometry"), None);
        assert_eq!(map_type("char", "char(2)"), Some(SqlType::Char(2)));
        assert_eq!(
            map_type("datetime", "datetime(3)"),
            Some(SqlType::DateTimePrecision {
                timezone: false,
                precision: 3
            })
        );
        assert_eq!(map_type("time", "time"), Some(SqlType::TimePrecision(0)));
        assert_eq!(map_type("time", "time(6)"), Some(SqlType::Time));
    }

    #[test]
    fn reads_enum_labels() {
        assert_eq!(
            enum_variants("enum('a','it''s','b,c')"),
            Some(vec!["a".into(), "it's".into(), "b,c".into()])
        );
    }

    #[test]
    fn normalizes_defaults() {
        assert_eq!(
            normalize_default(true, Some("NULL".into()), "int", ""),
            None
        );
        assert_eq!(
            normalize_default(true, Some("'active'".into()), "varchar", ""),
            Some("'active'".into())
        );
        assert_eq!(
            normalize_default(false, Some("active".into()), "varchar", ""),
            Some("'active'".into())
        );
        assert_eq!(
            normalize_default(false, Some("0".into()), "int", ""),
            Some("0".into())
        );
        assert_eq!(
            normalize_default(true, Some(r"'it\'s a \\ b'".into()), "longtext", ""),
            Some("'it''s a \\ b'".into())
        );
        assert_eq!(
            normalize_default(true, Some("current_timestamp(6)".into()), "datetime", ""),
            Some("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(unquote_names("`a` * 2 || '`'"), "a * 2 || '`'");
    }
}
