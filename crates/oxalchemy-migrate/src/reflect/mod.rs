//! Schema reflection: reads a live database's schema into core [`Table`]s, like SQLAlchemy's
//! `MetaData.reflect()` — the "database" side of autogenerate.
//!
//! What is read: the SQLite `main` database or PostgreSQL's `current_schema()` (and, with
//! [`reflect_for`] / [`reflect_schemas`], the PostgreSQL schemas the models name); every table
//! except SQLite's internal `sqlite_%` tables and the migration version table
//! (`oxalchemy_version`, left out by [`reflect`] only). For each table: columns in ordinal
//! order (type, nullability, server default, primary key, autoincrement), the primary key's
//! name, UNIQUE, CHECK and FOREIGN KEY constraints (with their names and actions) and the
//! indexes that do not back a constraint.
//!
//! Normalisation, so a reflected table compares equal to the `Table` that created it:
//!
//! * Server defaults are `ServerDefault::Sql` in the database's spelling, without parentheses
//!   around the whole expression. PostgreSQL's trailing cast on a literal is dropped
//!   (`'active'::character varying` → `'active'`, `'-1'::integer` → `-1`); function defaults
//!   (`now()`, `lower('x'::text)`) are kept as PostgreSQL prints them.
//! * `ON DELETE` / `ON UPDATE NO ACTION` (the default) reflects as `None`.
//! * PostgreSQL CHECK expressions are `pg_get_constraintdef` without the `CHECK (…)` wrapper
//!   and the parentheses around the whole expression: PostgreSQL stores a parsed expression,
//!   so casts may appear (`(status)::text = ANY (ARRAY[…])` for an `IN` list). SQLite keeps
//!   the CREATE TABLE text, so its CHECKs come back exactly as written.
//! * Autoincrement: SQLite's rowid alias (a lone `INTEGER PRIMARY KEY`, whatever declared it),
//!   PostgreSQL identity columns, and a lone PostgreSQL `serial` key (its `nextval(…)` default
//!   is then not reported). Everything else is `autoincrement(false)`.
//!
//! Not represented (skipped): partial and expression indexes, generated-column expressions,
//! column-level COLLATE, deferrability, and constraints' `MATCH` clauses. A column type with
//! no [`SqlType`] (e.g. PostgreSQL `interval`, arrays, domains) is a
//! [`ReflectError::UnsupportedType`].
//!
//! SQLite keeps constraint names only in the CREATE TABLE text, so names are parsed from it;
//! an unnamed constraint reflects with `name: None` from [`reflect_table`] (unnamed CHECKs are
//! labelled `1`, `2`, … in text order), and [`reflect`]'s `MetaData::add` then names it by the
//! default naming convention (`uq_t_a_b`, `ck_t_1`, `pk_t`, `fk_t_a_parent`).

pub(crate) mod mysql;
mod postgres;
mod sql_text;
mod sqlite;

use oxalchemy_core::schema::{Column, ForeignKey, Index, MetaData, ServerDefault, Table};
use oxalchemy_core::{text, Ident, SqlType};
use oxalchemy_engine::Connection;

use crate::diff::{Include, ObjectKind};
use crate::migration::VERSION_TABLE;

/// Why reflection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReflectError {
    /// The database failed to answer a catalog query (connection lost, permissions).
    #[error(transparent)]
    Engine(#[from] oxalchemy_engine::Error),
    /// A column's type has no [`SqlType`] (PostgreSQL `interval`, arrays, domains, …), so the
    /// table cannot be represented.
    #[error(
        "column {table}.{column} has type `{ty}`, which has no oxalchemy SqlType, so \
         reflection cannot represent it; leave the table out of autogenerate \
         (`Config::include_table`) or give the column a supported type"
    )]
    UnsupportedType {
        /// The table holding the column.
        table: String,
        /// The column's name.
        column: String,
        /// The type as the database reports it.
        ty: String,
    },
    /// The connection's dialect has no reflection (SQLite, PostgreSQL, MySQL and MariaDB
    /// do).
    #[error(
        "schema reflection does not support the `{0}` dialect; use a SQLite, PostgreSQL, \
         MySQL or MariaDB database"
    )]
    UnsupportedDialect(&'static str),
}

type Result<T, E = ReflectError> = std::result::Result<T, E>;

/// Reflects every table of the connection's schema (SQLite `main`, PostgreSQL
/// `current_schema()`) except internal tables and `oxalchemy_version`, into a [`MetaData`]
/// with the default naming convention (names found in the database are kept).
pub async fn reflect(conn: &mut Connection) -> Result<MetaData> {
    let mut md = MetaData::new();
    for name in table_names(conn).await? {
        if let Some(table) = reflect_table(conn, &name).await? {
            md.add(table);
        }
    }
    Ok(md)
}

/// Reflects what [`reflect`] does plus every table of the schemas `target`'s tables name
/// (`Table::schema`), so a schema-qualified model compares with its table. PostgreSQL only:
/// on SQLite a schema is an attached database, which is not read.
pub async fn reflect_for(conn: &mut Connection, target: &MetaData) -> Result<MetaData> {
    let mut schemas: Vec<String> = target
        .tables()
        .iter()
        .filter_map(|t| t.schema.as_ref().map(Ident::to_string))
        .collect();
    schemas.sort();
    schemas.dedup();
    reflect_schemas(conn, &schemas).await
}

/// Reflects what [`reflect`] does plus every table of each of `schemas` (PostgreSQL), with
/// their `Table::schema` set; one name in two schemas is two tables.
pub async fn reflect_schemas(conn: &mut Connection, schemas: &[String]) -> Result<MetaData> {
    let mut md = reflect(conn).await?;
    if conn.dialect().name() != "postgresql" {
        return Ok(md);
    }
    for schema in schemas {
        for name in postgres::schema_table_names(conn, schema, VERSION_TABLE).await? {
            if let Some(table) = postgres::table(conn, Some(schema), &name).await? {
                md.add(table);
            }
        }
    }
    Ok(md)
}

/// Reflects for [`crate::diff::diff_including`]: the default schema, the schemas `target`'s
/// tables name and, with [`Include::schemas`], every other schema of the database
/// (PostgreSQL; not `pg_*` nor `information_schema`). Schemas and tables that
/// [`Include::name`] refuses are not read, so a table reflection cannot represent can be
/// left out by name.
pub async fn reflect_including(
    conn: &mut Connection,
    target: &MetaData,
    include: &Include<'_>,
) -> Result<MetaData> {
    let mut md = MetaData::new();
    for name in table_names(conn).await? {
        if !include.admits_name(ObjectKind::Table, &name, None, None) {
            continue;
        }
        if let Some(table) = reflect_table(conn, &name).await? {
            md.add(table);
        }
    }
    if conn.dialect().name() != "postgresql" {
        return Ok(md);
    }
    let mut schemas: Vec<String> = target
        .tables()
        .iter()
        .filter_map(|t| t.schema.as_ref().map(Ident::to_string))
        .collect();
    if include.schemas {
        let rows: Vec<(String,)> = conn.query(text(postgres::OTHER_SCHEMAS)).await?;
        schemas.extend(rows.into_iter().map(|(s,)| s));
    }
    schemas.sort();
    schemas.dedup();
    for schema in schemas {
        if !include.admits_name(ObjectKind::Schema, &schema, None, None) {
            continue;
        }
        for name in postgres::schema_table_names(conn, &schema, VERSION_TABLE).await? {
            if !include.admits_name(ObjectKind::Table, &name, Some(&schema), None) {
                continue;
            }
            if let Some(table) = postgres::table(conn, Some(&schema), &name).await? {
                md.add(table);
            }
        }
    }
    Ok(md)
}

/// The names of the tables [`reflect`] reads, sorted.
pub async fn table_names(conn: &mut Connection) -> Result<Vec<String>> {
    let sql = match conn.dialect().name() {
        "sqlite" => sqlite::TABLE_NAMES,
        "postgresql" => postgres::TABLE_NAMES,
        "mysql" | "mariadb" => mysql::TABLE_NAMES,
        other => return Err(ReflectError::UnsupportedDialect(other)),
    };
    let rows: Vec<(String,)> = conn.query(text(sql).bind("version", VERSION_TABLE)).await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// Reflects one table of the connection's schema, or `None` when it does not exist.
/// Constraints the database keeps unnamed (SQLite only) have `name: None`.
pub async fn reflect_table(conn: &mut Connection, name: &str) -> Result<Option<Table>> {
    match conn.dialect().name() {
        "sqlite" => sqlite::table(conn, name).await,
        "postgresql" => postgres::table(conn, None, name).await,
        "mysql" | "mariadb" => mysql::table(conn, name).await,
        other => Err(ReflectError::UnsupportedDialect(other)),
    }
}

/// Reflects table `name` of PostgreSQL schema `schema` (its `Table::schema` set), or
/// `None` when it does not exist; SQLite has no schemas to read (always `None`).
pub async fn reflect_table_in(
    conn: &mut Connection,
    schema: &str,
    name: &str,
) -> Result<Option<Table>> {
    match conn.dialect().name() {
        "postgresql" => postgres::table(conn, Some(schema), name).await,
        "sqlite" => Ok(None),
        other => Err(ReflectError::UnsupportedDialect(other)),
    }
}

/// Pieces of a table collected in any order, then pushed through the `Table` builders in a
/// deterministic one: uniques, checks, foreign keys, indexes, each sorted by name.
#[derive(Default)]
struct Parts {
    uniques: Vec<(Option<String>, Vec<String>)>,
    checks: Vec<(Option<String>, String)>,
    fks: Vec<ForeignKey>,
    indexes: Vec<Index>,
}

impl Parts {
    fn build(mut self, mut table: Table) -> Table {
        let key = |n: &Option<String>| n.clone().unwrap_or_default();
        self.uniques
            .sort_by(|a, b| (key(&a.0), &a.1).cmp(&(key(&b.0), &b.1)));
        // Stable: unnamed CHECKs stay in text order.
        self.checks.sort_by_key(|c| key(&c.0));
        let ident_key = |n: &Option<Ident>| n.as_ref().map(|n| n.to_string()).unwrap_or_default();
        self.fks.sort_by_key(|fk| {
            (
                ident_key(&fk.name),
                fk.columns.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            )
        });
        self.indexes.sort_by_key(|ix| ident_key(&ix.name));
        for (name, cols) in self.uniques {
            table = match name {
                Some(n) => table.unique_named(n, cols),
                None => table.unique(cols),
            };
        }
        let mut unnamed = 0;
        for (name, sql) in self.checks {
            table = match name {
                Some(n) => table.check_named(n, sql),
                None => {
                    // The database stores no label: number them, so the naming convention
                    // gives distinct names (`ck_{table}_1`, `ck_{table}_2`, …).
                    unnamed += 1;
                    table.check(unnamed.to_string(), sql)
                }
            };
        }
        for fk in self.fks {
            table = table.foreign_key(fk);
        }
        for ix in self.indexes {
            table = table.index(ix);
        }
        table
    }
}

/// A reflected column: builders plus the fields they do not set directly.
fn column(
    name: String,
    ty: SqlType,
    nullable: bool,
    primary_key: bool,
    autoincrement: bool,
    default: Option<String>,
) -> Column {
    let mut c = Column::new(name, ty).autoincrement(autoincrement);
    c.nullable = nullable;
    c.primary_key = primary_key;
    c.server_default = default.map(ServerDefault::Sql);
    c
}

fn idents(names: Vec<String>) -> Vec<Ident> {
    names.into_iter().map(Ident::from).collect()
}

fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// A type name split into its upper-cased, space-normalised base and its numeric arguments:
/// `numeric(10, 2)` → (`NUMERIC`, [10, 2]). `None` for arguments that are not numbers.
fn split_type(decl: &str) -> Option<(String, Vec<u32>)> {
    let decl = decl.trim();
    let (base, args) = match decl.find('(') {
        Some(open) => {
            let close = decl.rfind(')')?;
            if close < open {
                return None;
            }
            let args = decl[open + 1..close]
                .split(',')
                .map(|a| a.trim().parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?;
            // `timestamp(3) with time zone`: keep what follows the arguments in the base.
            let base = format!("{} {}", &decl[..open], &decl[close + 1..]);
            (base, args)
        }
        None => (decl.to_owned(), Vec::new()),
    };
    let base = base
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    Some((base, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_type_names() {
        assert_eq!(
            split_type("numeric(10, 2)"),
            Some(("NUMERIC".into(), vec![10, 2]))
        );
        assert_eq!(
            split_type("timestamp(3) with time zone"),
            Some(("TIMESTAMP WITH TIME ZONE".into(), vec![3]))
        );
        assert_eq!(split_type("integer"), Some(("INTEGER".into(), vec![])));
    }
}
