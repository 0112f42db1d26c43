//! Schema reflection: reads a live database's schema into core [`Table`]s, like SQLAlchemy's
//! `MetaData.reflect()` — the "database" side of autogenerate.
//!
//! What is read: the SQLite `main` database or PostgreSQL's `current_schema()`; every table
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

use std::collections::HashMap;

use oxalchemy_core::schema::{
    Column, ForeignKey, Index, MetaData, ReferentialAction, ServerDefault, Table,
};
use oxalchemy_core::{text, Ident, SqlType};
use oxalchemy_engine::Connection;

/// The migration version table, never reported by [`reflect`].
const VERSION_TABLE: &str = "oxalchemy_version";

/// Why reflection failed.
#[derive(Debug, thiserror::Error)]
pub enum ReflectError {
    #[error(transparent)]
    Engine(#[from] oxalchemy_engine::Error),
    #[error(
        "column {table}.{column} has type `{ty}`, which has no oxalchemy SqlType; \
         reflection cannot represent it"
    )]
    UnsupportedType {
        table: String,
        column: String,
        /// The type as the database reports it.
        ty: String,
    },
    #[error("schema reflection does not support the `{0}` dialect")]
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

/// The names of the tables [`reflect`] reads, sorted.
pub async fn table_names(conn: &mut Connection) -> Result<Vec<String>> {
    let sql = match conn.dialect().name() {
        "sqlite" => {
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> :version ORDER BY name"
        }
        "postgresql" => {
            "SELECT c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
             AND NOT c.relispartition AND c.relname <> :version ORDER BY c.relname"
        }
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
        "postgresql" => postgres::table(conn, name).await,
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

// ---- SQL text scanning (SQLite CREATE TABLE text, PostgreSQL expressions) ----

mod sql {
    /// A token of SQL text. Parenthesised groups are one opaque token.
    #[derive(Debug, Clone, PartialEq)]
    pub(super) enum Tok<'a> {
        Word(&'a str),
        /// A quoted identifier (`"x"`, `` `x` ``, `[x]`), unescaped.
        Quoted(String),
        /// A string literal, quotes included.
        Str(&'a str),
        /// The text inside a pair of parentheses.
        Group(&'a str),
        Punct(char),
    }

    impl Tok<'_> {
        /// The keyword, upper-cased, if this is a bare word.
        pub(super) fn keyword(&self) -> Option<String> {
            match self {
                Tok::Word(w) => Some(w.to_ascii_uppercase()),
                _ => None,
            }
        }
        /// The identifier this token names, if it can name one.
        pub(super) fn name(&self) -> Option<String> {
            match self {
                Tok::Word(w) => Some((*w).to_owned()),
                Tok::Quoted(q) => Some(q.clone()),
                // SQLite accepts a string literal where an identifier is expected.
                Tok::Str(s) => Some(s[1..s.len().saturating_sub(1).max(1)].replace("''", "'")),
                _ => None,
            }
        }
    }

    /// The end (exclusive) of the quoted span starting at `start` with quote `q` (a doubled
    /// quote is an escaped one); the text's length if it is unterminated.
    fn quoted_end(s: &str, start: usize, q: char) -> usize {
        let mut chars = s[start + q.len_utf8()..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == q {
                if q != ']' && chars.peek().map(|&(_, n)| n) == Some(q) {
                    chars.next();
                    continue;
                }
                return start + q.len_utf8() + i + c.len_utf8();
            }
        }
        s.len()
    }

    /// The index of the `)` matching the `(` at `start`, or the text's length.
    pub(super) fn group_end(s: &str, start: usize) -> usize {
        let mut depth = 0usize;
        let mut i = start;
        while i < s.len() {
            let c = s[i..].chars().next().unwrap_or(' ');
            match c {
                // Not `[`: PostgreSQL's ARRAY[…] is no quoted identifier.
                '\'' | '"' | '`' => {
                    i = quoted_end(s, i, c);
                    continue;
                }
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
            i += c.len_utf8();
        }
        s.len()
    }

    pub(super) fn tokenize(s: &str) -> Vec<Tok<'_>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            let rest = &s[i..];
            let c = rest.chars().next().unwrap_or(' ');
            if c.is_whitespace() {
                i += c.len_utf8();
                continue;
            }
            if rest.starts_with("--") {
                i = rest.find('\n').map_or(s.len(), |n| i + n + 1);
                continue;
            }
            if let Some(comment) = rest.strip_prefix("/*") {
                i = comment.find("*/").map_or(s.len(), |n| i + 2 + n + 2);
                continue;
            }
            match c {
                '\'' => {
                    let end = quoted_end(s, i, '\'');
                    out.push(Tok::Str(&s[i..end]));
                    i = end;
                }
                '"' | '`' | '[' => {
                    let close = if c == '[' { ']' } else { c };
                    let end = quoted_end(s, i, close);
                    let inner_end = if s[..end].ends_with(close) && end > i + 1 {
                        end - 1
                    } else {
                        end
                    };
                    let inner = &s[i + 1..inner_end];
                    let unescaped = if c == '[' {
                        inner.to_owned()
                    } else {
                        inner.replace(&format!("{c}{c}"), &c.to_string())
                    };
                    out.push(Tok::Quoted(unescaped));
                    i = end;
                }
                '(' => {
                    let end = group_end(s, i);
                    out.push(Tok::Group(&s[i + 1..end]));
                    i = (end + 1).min(s.len());
                }
                c if c.is_alphanumeric() || c == '_' || c == '$' => {
                    let end = rest
                        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
                        .map_or(s.len(), |n| i + n);
                    out.push(Tok::Word(&s[i..end]));
                    i = end;
                }
                c => {
                    out.push(Tok::Punct(c));
                    i += c.len_utf8();
                }
            }
        }
        out
    }

    /// Splits tokens at top-level commas.
    pub(super) fn split_commas<'t, 'a>(toks: &'t [Tok<'a>]) -> Vec<&'t [Tok<'a>]> {
        toks.split(|t| *t == Tok::Punct(',')).collect()
    }

    /// The column names of a `(a, "b" COLLATE x DESC, …)` list.
    pub(super) fn name_list(group: &str) -> Vec<String> {
        let toks = tokenize(group);
        split_commas(&toks)
            .into_iter()
            .filter_map(|item| item.first().and_then(Tok::name))
            .collect()
    }

    /// Drops every pair of parentheses around the whole of `s`.
    pub(super) fn unwrap_parens(mut s: &str) -> &str {
        s = s.trim();
        while s.starts_with('(') && group_end(s, 0) == s.len() - 1 {
            s = s[1..s.len() - 1].trim();
        }
        s
    }
}

// ---- SQLite ----

mod sqlite {
    use super::sql::{self, Tok};
    use super::*;

    /// Constraint names (and CHECK texts) parsed from a CREATE TABLE statement: SQLite keeps
    /// them nowhere else.
    #[derive(Debug, Default)]
    pub(super) struct Ddl {
        pub(super) pk_name: Option<String>,
        pub(super) uniques: Vec<(Option<String>, Vec<String>)>,
        pub(super) checks: Vec<(Option<String>, String)>,
        pub(super) fks: Vec<(Option<String>, Vec<String>)>,
    }

    pub(super) fn parse_create_table(create: &str) -> Ddl {
        let mut ddl = Ddl::default();
        let toks = sql::tokenize(create);
        let Some(body) = toks.iter().find_map(|t| match t {
            Tok::Group(g) => Some(*g),
            _ => None,
        }) else {
            return ddl;
        };
        let body = sql::tokenize(body);
        for item in sql::split_commas(&body) {
            parse_item(item, &mut ddl);
        }
        ddl
    }

    /// One column definition or table constraint.
    fn parse_item(toks: &[Tok<'_>], ddl: &mut Ddl) {
        let first = toks.first().and_then(Tok::keyword);
        let column = match first.as_deref() {
            Some("CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN") => None,
            _ => toks.first().and_then(Tok::name),
        };
        let next_group = |from: usize| {
            toks[from.min(toks.len())..]
                .iter()
                .position(|t| matches!(t, Tok::Group(_)))
                .map(|p| from + p)
        };
        let group_text = |at: usize| match &toks[at] {
            Tok::Group(g) => *g,
            _ => "",
        };
        let mut pending: Option<String> = None;
        let mut i = usize::from(column.is_some());
        while i < toks.len() {
            match toks[i].keyword().as_deref() {
                Some("CONSTRAINT") => {
                    pending = toks.get(i + 1).and_then(Tok::name);
                    i += 2;
                    continue;
                }
                Some("PRIMARY") => ddl.pk_name = pending.take(),
                Some("UNIQUE") => {
                    let name = pending.take();
                    match &column {
                        Some(c) => ddl.uniques.push((name, vec![c.clone()])),
                        None => {
                            if let Some(g) = next_group(i + 1) {
                                ddl.uniques.push((name, sql::name_list(group_text(g))));
                                i = g;
                            }
                        }
                    }
                }
                Some("CHECK") => {
                    if let Some(Tok::Group(g)) = toks.get(i + 1) {
                        ddl.checks.push((pending.take(), g.trim().to_owned()));
                        i += 1;
                    }
                }
                Some("FOREIGN") => {
                    let name = pending.take();
                    if let Some(g) = next_group(i + 1) {
                        ddl.fks.push((name, sql::name_list(group_text(g))));
                        i = g;
                    }
                    // Skip `REFERENCES table`, so it is not read as a column-level one.
                    if let Some(r) = toks[i..]
                        .iter()
                        .position(|t| t.keyword().as_deref() == Some("REFERENCES"))
                    {
                        i += r + 1;
                    }
                }
                Some("REFERENCES") => {
                    if let Some(c) = &column {
                        ddl.fks.push((pending.take(), vec![c.clone()]));
                    }
                    // The referred table's name is not a keyword, whatever it is spelt.
                    i += 1;
                }
                Some("DEFAULT") => {
                    pending = None;
                    i += 1;
                }
                Some("NOT" | "NULL" | "COLLATE" | "GENERATED" | "AS") => pending = None,
                _ => {}
            }
            i += 1;
        }
    }

    fn map_type(decl: &str) -> Option<SqlType> {
        let (base, args) = split_type(decl)?;
        Some(match (base.as_str(), args.as_slice()) {
            ("INTEGER" | "INT", []) => SqlType::Integer,
            ("BIGINT", []) => SqlType::BigInteger,
            ("SMALLINT", []) => SqlType::SmallInteger,
            ("BOOLEAN" | "BOOL", []) => SqlType::Boolean,
            ("REAL" | "FLOAT", []) => SqlType::Float,
            ("DOUBLE" | "DOUBLE PRECISION", []) => SqlType::Double,
            ("NUMERIC" | "DECIMAL", []) => SqlType::Numeric(None),
            ("NUMERIC" | "DECIMAL", [p]) => SqlType::Numeric(Some((*p, 0))),
            ("NUMERIC" | "DECIMAL", [p, s]) => SqlType::Numeric(Some((*p, *s))),
            ("VARCHAR" | "CHARACTER VARYING", [n]) => SqlType::String(Some(*n)),
            ("VARCHAR" | "CHARACTER VARYING", []) => SqlType::String(None),
            ("TEXT" | "CLOB", []) => SqlType::Text,
            ("BLOB", []) => SqlType::Binary,
            ("DATE", []) => SqlType::Date,
            ("TIME", []) => SqlType::Time,
            ("DATETIME" | "TIMESTAMP", []) => SqlType::DateTime { timezone: false },
            ("CHAR" | "CHARACTER", [36]) | ("UUID", []) => SqlType::Uuid,
            ("JSON", []) => SqlType::Json,
            _ => return None,
        })
    }

    /// `(name, type, notnull, dflt_value, pk)` rows of `pragma_table_info`.
    type ColumnRow = (String, String, i64, Option<String>, i64);

    async fn pk_columns(conn: &mut Connection, table: &str) -> Result<Vec<String>> {
        let rows: Vec<(String, i64)> = conn
            .query(
                text("SELECT name, pk FROM pragma_table_info(:t) WHERE pk > 0 ORDER BY pk")
                    .bind("t", table),
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    async fn index_columns(conn: &mut Connection, index: &str) -> Result<Vec<Option<String>>> {
        let rows: Vec<(Option<String>,)> = conn
            .query(text("SELECT name FROM pragma_index_info(:ix) ORDER BY seqno").bind("ix", index))
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    fn action(sql: &str) -> Option<ReferentialAction> {
        match sql.to_ascii_uppercase().as_str() {
            "CASCADE" => Some(ReferentialAction::Cascade),
            "SET NULL" => Some(ReferentialAction::SetNull),
            "SET DEFAULT" => Some(ReferentialAction::SetDefault),
            "RESTRICT" => Some(ReferentialAction::Restrict),
            _ => None, // NO ACTION, the default
        }
    }

    pub(super) async fn table(conn: &mut Connection, name: &str) -> Result<Option<Table>> {
        let found: Vec<(String, Option<String>)> = conn
            .query(
                text("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name = :t")
                    .bind("t", name),
            )
            .await?;
        let Some((name, create)) = found.into_iter().next() else {
            return Ok(None);
        };
        let mut ddl = parse_create_table(create.as_deref().unwrap_or(""));

        let cols: Vec<ColumnRow> = conn
            .query(
                text(
                    r#"SELECT name, type, "notnull", dflt_value, pk
                       FROM pragma_table_info(:t) ORDER BY cid"#,
                )
                .bind("t", name.as_str()),
            )
            .await?;
        // (name, unique, origin, partial)
        let index_list: Vec<(String, i64, String, i64)> = conn
            .query(
                text(r#"SELECT name, "unique", origin, partial FROM pragma_index_list(:t)"#)
                    .bind("t", name.as_str()),
            )
            .await?;
        // A lone `INTEGER PRIMARY KEY` aliases the rowid and has no index of its own
        // (`INTEGER PRIMARY KEY DESC` and WITHOUT ROWID tables do).
        let pk_count = cols.iter().filter(|c| c.4 > 0).count();
        let pk_index = index_list.iter().any(|ix| ix.2 == "pk");

        let mut table = Table::new(name.clone());
        for (col, ty, not_null, default, pk) in cols {
            let rowid = pk > 0 && pk_count == 1 && !pk_index && ty.eq_ignore_ascii_case("INTEGER");
            let sql_ty = map_type(&ty).ok_or_else(|| ReflectError::UnsupportedType {
                table: name.clone(),
                column: col.clone(),
                ty: ty.clone(),
            })?;
            let nullable = not_null == 0 && !rowid;
            table
                .columns
                .push(column(col, sql_ty, nullable, pk > 0, rowid, default));
        }
        if pk_count > 0 {
            table.primary_key_name = ddl.pk_name.take().map(Ident::from);
        }

        let mut parts = Parts::default();
        for (ix, unique, origin, partial) in index_list {
            let cols = index_columns(conn, &ix).await?;
            // An expression index has NULL names; it cannot be represented.
            let Some(cols) = cols.into_iter().collect::<Option<Vec<String>>>() else {
                continue;
            };
            match origin.as_str() {
                "u" => {
                    let pos = ddl.uniques.iter().position(|u| same_columns(&u.1, &cols));
                    let name = pos.and_then(|p| ddl.uniques.remove(p).0);
                    parts.uniques.push((name, cols));
                }
                "c" if partial == 0 => {
                    let mut index = Index::new(idents(cols)).named(ix);
                    if unique != 0 {
                        index = index.unique();
                    }
                    parts.indexes.push(index);
                }
                _ => {} // the primary key's index, partial indexes
            }
        }
        parts.checks = std::mem::take(&mut ddl.checks);

        // (id, table, from, to, on_update, on_delete), one row per column, in key order.
        type FkRow = (i64, String, String, Option<String>, String, String);
        let fk_rows: Vec<FkRow> = conn
            .query(
                text(
                    r#"SELECT id, "table", "from", "to", on_update, on_delete
                       FROM pragma_foreign_key_list(:t) ORDER BY id, seq"#,
                )
                .bind("t", name.as_str()),
            )
            .await?;
        let mut grouped: Vec<(i64, Vec<FkRow>)> = Vec::new();
        for row in fk_rows {
            match grouped.last_mut() {
                Some((id, rows)) if *id == row.0 => rows.push(row),
                _ => grouped.push((row.0, vec![row])),
            }
        }
        for (_, rows) in grouped {
            let ref_table = rows[0].1.clone();
            let columns: Vec<String> = rows.iter().map(|r| r.2.clone()).collect();
            // `REFERENCES t` without columns refers to t's primary key.
            let ref_columns = match rows.iter().map(|r| r.3.clone()).collect::<Option<Vec<_>>>() {
                Some(c) => c,
                None => pk_columns(conn, &ref_table).await?,
            };
            let pos = ddl.fks.iter().position(|f| same_columns(&f.1, &columns));
            let fk_name = pos.and_then(|p| ddl.fks.remove(p).0);
            parts.fks.push(ForeignKey {
                name: fk_name.map(Ident::from),
                columns: idents(columns),
                ref_table: Ident::from(ref_table),
                ref_columns: idents(ref_columns),
                on_delete: action(&rows[0].5),
                on_update: action(&rows[0].4),
            });
        }
        Ok(Some(parts.build(table)))
    }
}

// ---- PostgreSQL ----

mod postgres {
    use super::sql;
    use super::*;

    fn map_type(format_type: &str) -> Option<SqlType> {
        let (base, args) = split_type(format_type)?;
        Some(match (base.as_str(), args.as_slice()) {
            ("SMALLINT", []) => SqlType::SmallInteger,
            ("INTEGER", []) => SqlType::Integer,
            ("BIGINT", []) => SqlType::BigInteger,
            ("BOOLEAN", []) => SqlType::Boolean,
            ("REAL", []) => SqlType::Float,
            ("DOUBLE PRECISION", []) => SqlType::Double,
            ("NUMERIC", []) => SqlType::Numeric(None),
            ("NUMERIC", [p, s]) => SqlType::Numeric(Some((*p, *s))),
            ("CHARACTER VARYING", [n]) => SqlType::String(Some(*n)),
            ("CHARACTER VARYING", []) => SqlType::String(None),
            ("TEXT", []) => SqlType::Text,
            ("BYTEA", []) => SqlType::Binary,
            ("DATE", []) => SqlType::Date,
            ("TIME WITHOUT TIME ZONE", []) => SqlType::Time,
            ("TIMESTAMP WITHOUT TIME ZONE", []) => SqlType::DateTime { timezone: false },
            ("TIMESTAMP WITH TIME ZONE", []) => SqlType::DateTime { timezone: true },
            ("UUID", []) => SqlType::Uuid,
            ("JSON", []) => SqlType::Json,
            ("JSONB", []) => SqlType::JsonB,
            _ => return None,
        })
    }

    /// Types whose literal defaults PostgreSQL stores as `'-1'::integer`: written back bare.
    const NUMERIC_TYPES: [&str; 6] = [
        "smallint",
        "integer",
        "bigint",
        "numeric",
        "real",
        "double precision",
    ];

    /// A column default as `pg_get_expr` prints it, without the cast on a literal and without
    /// parentheses around the whole expression.
    pub(super) fn normalize_default(expr: &str) -> String {
        let e = sql::unwrap_parens(expr);
        if e.starts_with('\'') {
            let toks = sql::tokenize(e);
            if let Some(sql::Tok::Str(lit)) = toks.first() {
                let rest = e[lit.len()..].trim();
                if let Some(cast) = rest.strip_prefix("::") {
                    if !cast.contains(['\'', '(']) {
                        let inner = &lit[1..lit.len() - 1];
                        let number = !inner.is_empty()
                            && inner
                                .chars()
                                .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
                            && inner.parse::<f64>().is_ok();
                        if number && NUMERIC_TYPES.contains(&cast.trim()) {
                            return inner.to_owned();
                        }
                        return (*lit).to_owned();
                    }
                }
            }
        }
        e.to_owned()
    }

    /// `CHECK ((x > 0))` → `x > 0`.
    pub(super) fn normalize_check(def: &str) -> String {
        let def = def.trim();
        let def = def.strip_suffix("NOT VALID").unwrap_or(def).trim();
        let body = def
            .strip_prefix("CHECK")
            .map(str::trim)
            .filter(|b| b.starts_with('(') && sql::group_end(b, 0) == b.len() - 1)
            .map_or(def, |b| &b[1..b.len() - 1]);
        sql::unwrap_parens(body).to_owned()
    }

    fn action(code: &str) -> Option<ReferentialAction> {
        match code {
            "c" => Some(ReferentialAction::Cascade),
            "n" => Some(ReferentialAction::SetNull),
            "d" => Some(ReferentialAction::SetDefault),
            "r" => Some(ReferentialAction::Restrict),
            _ => None, // 'a': NO ACTION, the default
        }
    }

    /// (name, format_type, notnull, default, identity, generated, typtype, typname, type oid)
    type ColumnRow = (
        String,
        String,
        bool,
        Option<String>,
        String,
        String,
        String,
        String,
        i64,
    );

    pub(super) async fn table(conn: &mut Connection, name: &str) -> Result<Option<Table>> {
        let found: Vec<(i64, String)> = conn
            .query(
                text(
                    "SELECT c.oid::bigint, c.relname::text FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                     AND c.relname = :t",
                )
                .bind("t", name),
            )
            .await?;
        let Some((oid, name)) = found.into_iter().next() else {
            return Ok(None);
        };
        // `oid` comes from the catalog: an integer, safe to inline.
        let cols: Vec<ColumnRow> = conn
            .query(text(format!(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                        pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
                        a.attgenerated::text, t.typtype::text, t.typname::text,
                        a.atttypid::bigint
                 FROM pg_attribute a
                 JOIN pg_type t ON t.oid = a.atttypid
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE a.attrelid = {oid} AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum"
            )))
            .await?;
        // (constraint oid, name, kind, definition, referred table, on delete, on update)
        type ConRow = (i64, String, String, String, String, String, String);
        let cons: Vec<ConRow> = conn
            .query(text(format!(
                "SELECT c.oid::bigint, c.conname::text, c.contype::text,
                        pg_get_constraintdef(c.oid), coalesce(f.relname::text, ''),
                        c.confdeltype::text, c.confupdtype::text
                 FROM pg_constraint c LEFT JOIN pg_class f ON f.oid = c.confrelid
                 WHERE c.conrelid = {oid} AND c.contype IN ('p', 'u', 'c', 'f')
                 ORDER BY c.conname"
            )))
            .await?;
        // (constraint oid, 'l' local / 'r' referred, column), in key order.
        let con_cols: Vec<(i64, String, String)> = conn
            .query(text(format!(
                "SELECT c.oid::bigint, 'l'::text, a.attname::text, u.ord
                 FROM pg_constraint c
                 CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS u(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = u.attnum
                 WHERE c.conrelid = {oid}
                 UNION ALL
                 SELECT c.oid::bigint, 'r'::text, a.attname::text, u.ord
                 FROM pg_constraint c
                 CROSS JOIN LATERAL unnest(c.confkey) WITH ORDINALITY AS u(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = u.attnum
                 WHERE c.conrelid = {oid}
                 ORDER BY 1, 2, 4"
            )))
            .await
            .map(|rows: Vec<(i64, String, String, i64)>| {
                rows.into_iter().map(|(o, s, c, _)| (o, s, c)).collect()
            })?;
        let mut local: HashMap<i64, Vec<String>> = HashMap::new();
        let mut referred: HashMap<i64, Vec<String>> = HashMap::new();
        for (con, side, col) in con_cols {
            let map = if side == "l" {
                &mut local
            } else {
                &mut referred
            };
            map.entry(con).or_default().push(col);
        }

        let pk = cons.iter().find(|c| c.2 == "p");
        let pk_cols = pk
            .and_then(|c| local.get(&c.0))
            .cloned()
            .unwrap_or_default();
        let mut table = Table::new(name.clone());
        table.primary_key_name = pk.map(|c| Ident::from(c.1.clone()));
        let mut enum_labels: HashMap<i64, Vec<String>> = HashMap::new();
        for (col, ty, not_null, default, identity, generated, typtype, typname, typoid) in cols {
            let sql_ty = if typtype == "e" {
                let variants = match enum_labels.get(&typoid) {
                    Some(v) => v.clone(),
                    None => {
                        let labels: Vec<(String,)> = conn
                            .query(text(format!(
                                "SELECT enumlabel::text FROM pg_enum \
                                 WHERE enumtypid = {typoid} ORDER BY enumsortorder"
                            )))
                            .await?;
                        let v: Vec<String> = labels.into_iter().map(|l| l.0).collect();
                        enum_labels.insert(typoid, v.clone());
                        v
                    }
                };
                SqlType::Enum {
                    name: typname,
                    variants,
                    native: true,
                }
            } else {
                map_type(&ty).ok_or_else(|| ReflectError::UnsupportedType {
                    table: name.clone(),
                    column: col.clone(),
                    ty: ty.clone(),
                })?
            };
            let in_pk = pk_cols.contains(&col);
            let mut default = match generated.as_str() {
                // A generated column's expression is not a default.
                "" => default.map(|d| normalize_default(&d)),
                _ => None,
            };
            let mut autoincrement = !identity.is_empty();
            // A lone `serial` key is the pre-identity spelling of an autoincrement key.
            let serial = default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval("));
            if serial && in_pk && pk_cols.len() == 1 && sql_ty.is_integer() {
                autoincrement = true;
                default = None;
            }
            table.columns.push(column(
                col,
                sql_ty,
                !not_null,
                in_pk,
                autoincrement,
                default,
            ));
        }

        let mut parts = Parts::default();
        for (con, cname, kind, def, ref_table, del, upd) in cons {
            let cols = local.remove(&con).unwrap_or_default();
            match kind.as_str() {
                "u" => parts.uniques.push((Some(cname), cols)),
                "c" => parts.checks.push((Some(cname), normalize_check(&def))),
                "f" => parts.fks.push(ForeignKey {
                    name: Some(Ident::from(cname)),
                    columns: idents(cols),
                    ref_table: Ident::from(ref_table),
                    ref_columns: idents(referred.remove(&con).unwrap_or_default()),
                    on_delete: action(&del),
                    on_update: action(&upd),
                }),
                _ => {} // the primary key, read above
            }
        }

        // Indexes that back no constraint of this table, without expressions or predicates;
        // one row per key column.
        let index_rows: Vec<(String, bool, String)> = conn
            .query(text(format!(
                "SELECT i.relname::text, x.indisunique, a.attname::text
                 FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid
                 CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS u(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.attnum
                 WHERE x.indrelid = {oid} AND x.indexprs IS NULL AND x.indpred IS NULL
                   AND u.ord <= x.indnkeyatts
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                   WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
                 ORDER BY i.relname, u.ord"
            )))
            .await?;
        let mut indexes: Vec<(String, bool, Vec<String>)> = Vec::new();
        for (ix, unique, col) in index_rows {
            match indexes.last_mut() {
                Some(last) if last.0 == ix => last.2.push(col),
                _ => indexes.push((ix, unique, vec![col])),
            }
        }
        for (ix, unique, cols) in indexes {
            let mut index = Index::new(idents(cols)).named(ix);
            if unique {
                index = index.unique();
            }
            parts.indexes.push(index);
        }
        Ok(Some(parts.build(table)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_create_table() {
        let ddl = sqlite::parse_create_table(
            r#"CREATE TABLE "a b" (
                 "id" INTEGER NOT NULL CONSTRAINT "pk_a b" PRIMARY KEY,
                 x varchar(10) CONSTRAINT uq_x UNIQUE CHECK (x <> 'CHECK (,)'),
                 -- a comment, with a comma
                 y INT DEFAULT (1 + 2) REFERENCES "other" (id) ON DELETE CASCADE,
                 z NUMERIC(10, 2) constraint "ck ""z""" check ((z > 0)),
                 CONSTRAINT "uq_xy" UNIQUE (x, "y"),
                 UNIQUE (z),
                 CONSTRAINT fk_z FOREIGN KEY (z, x) REFERENCES other (a, b),
                 CHECK (length(x) > 0)
               )"#,
        );
        assert_eq!(ddl.pk_name.as_deref(), Some("pk_a b"));
        assert_eq!(
            ddl.uniques,
            vec![
                (Some("uq_x".into()), vec!["x".into()]),
                (Some("uq_xy".into()), vec!["x".into(), "y".into()]),
                (None, vec!["z".into()]),
            ]
        );
        assert_eq!(
            ddl.checks,
            vec![
                (None, "x <> 'CHECK (,)'".into()),
                (Some("ck \"z\"".into()), "(z > 0)".into()),
                (None, "length(x) > 0".into()),
            ]
        );
        assert_eq!(
            ddl.fks,
            vec![
                (None, vec!["y".into()]),
                (Some("fk_z".into()), vec!["z".into(), "x".into()]),
            ]
        );
    }

    #[test]
    fn normalizes_postgres_defaults_and_checks() {
        let d = postgres::normalize_default;
        assert_eq!(d("'active'::character varying"), "'active'");
        assert_eq!(d("'it''s'::text"), "'it''s'");
        assert_eq!(d("'-1'::integer"), "-1");
        assert_eq!(d("'-2.5'::numeric"), "-2.5");
        assert_eq!(d("'NaN'::double precision"), "'NaN'");
        assert_eq!(d("'{}'::jsonb"), "'{}'");
        assert_eq!(d("now()"), "now()");
        assert_eq!(d("lower('X'::text)"), "lower('X'::text)");
        assert_eq!(d("(1 + 2)"), "1 + 2");
        assert_eq!(d("(1) + (2)"), "(1) + (2)");
        let c = postgres::normalize_check;
        assert_eq!(c("CHECK ((b > 0))"), "b > 0");
        assert_eq!(c("CHECK (f(x))"), "f(x)");
        assert_eq!(c("CHECK ((a > 0)) NOT VALID"), "a > 0");
    }

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
