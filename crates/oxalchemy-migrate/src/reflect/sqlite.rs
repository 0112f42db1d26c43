//! SQLite reflection: `pragma_table_info`, `pragma_index_list` and `pragma_foreign_key_list`
//! give the structure; constraint names and CHECK texts exist only in the `CREATE TABLE`
//! text in `sqlite_schema`, so that text is parsed ([`parse_create_table`]) and its names
//! matched to the pragmas' constraints by column list.

use oxalchemy_core::schema::{Computed, ForeignKey, Index, ReferentialAction, Table};
use oxalchemy_core::{text, Ident, SqlType};
use oxalchemy_engine::Connection;

use super::sql_text::{self as sql, Tok};
use super::{column, idents, same_columns, split_type, Parts, ReflectError, Result};

/// The tables [`super::reflect`] reads: all but SQLite's internal ones and the version table
/// (bound as `:version`).
pub(super) const TABLE_NAMES: &str = "SELECT name FROM sqlite_schema WHERE type = 'table' \
     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> :version ORDER BY name";

/// Constraint names (and CHECK texts) parsed from a CREATE TABLE statement: SQLite keeps
/// them nowhere else.
#[derive(Debug, Default)]
pub(super) struct Ddl {
    pub(super) pk_name: Option<String>,
    pub(super) uniques: Vec<(Option<String>, Vec<String>)>,
    pub(super) checks: Vec<(Option<String>, String)>,
    pub(super) fks: Vec<(Option<String>, Vec<String>)>,
    /// `(DEFERRABLE, INITIALLY DEFERRED)` of each of `fks`, in the same order.
    pub(super) fk_deferral: Vec<(bool, bool)>,
    /// Per column: its `COLLATE` name and its generated expression.
    pub(super) columns: Vec<ColumnDdl>,
}

/// A column's name, `COLLATE` name and generated expression (`AS (…)`, and whether
/// `STORED`), from the CREATE TABLE text.
pub(super) type ColumnDdl = (String, Option<String>, Option<(String, bool)>);

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
    let kw = |i: usize| toks.get(i).and_then(Tok::keyword);
    // Deferral applies to the item's foreign key (one per column or table constraint).
    let deferral = {
        let mut d = (false, false);
        for i in 0..toks.len() {
            match kw(i).as_deref() {
                Some("DEFERRABLE") if kw(i.wrapping_sub(1)).as_deref() != Some("NOT") => {
                    d.0 = true;
                }
                Some("INITIALLY") if kw(i + 1).as_deref() == Some("DEFERRED") => d.1 = true,
                _ => {}
            }
        }
        (d.0, d.0 && d.1)
    };
    if let Some(c) = &column {
        let mut collation = None;
        let mut generated = None;
        for i in 0..toks.len() {
            match kw(i).as_deref() {
                Some("COLLATE") => collation = toks.get(i + 1).and_then(Tok::name),
                Some("AS") => {
                    if let Some(Tok::Group(g)) = toks.get(i + 1) {
                        let stored = kw(i + 2).as_deref() == Some("STORED");
                        generated = Some((sql::unwrap_parens(g).to_owned(), stored));
                    }
                }
                _ => {}
            }
        }
        ddl.columns.push((c.clone(), collation, generated));
    }
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
                    ddl.fk_deferral.push(deferral);
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
                    ddl.fk_deferral.push(deferral);
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
    // `INTEGER ARRAY`, `VARCHAR ARRAY(20)`: how the SQLite dialect declares arrays.
    if let Some(elem) = base.strip_suffix(" ARRAY") {
        return Some(SqlType::Array(Box::new(map_parts(elem, &args)?)));
    }
    map_parts(&base, &args)
}

/// A type from its upper-cased base name and numeric arguments.
fn map_parts(base: &str, args: &[u32]) -> Option<SqlType> {
    Some(match (base, args) {
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
        ("CHAR" | "CHARACTER", [n]) => SqlType::Char(*n),
        ("INTERVAL", []) => SqlType::Interval,
        ("TIME", [p]) => SqlType::TimePrecision(*p),
        ("DATETIME" | "TIMESTAMP", [p]) => SqlType::DateTimePrecision {
            timezone: false,
            precision: *p,
        },
        ("JSON", []) => SqlType::Json,
        ("INET", []) => SqlType::Inet,
        ("CIDR", []) => SqlType::Cidr,
        _ => return None,
    })
}

/// `(name, type, notnull, dflt_value, pk, hidden)` rows of `pragma_table_xinfo` (hidden 2:
/// a VIRTUAL generated column, 3: a STORED one).
type ColumnRow = (String, String, i64, Option<String>, i64, i64);

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
    // (name, unique, origin, partial)
    let index_list: Vec<IndexRow> = conn
        .query(
            text(r#"SELECT name, "unique", origin, partial FROM pragma_index_list(:t)"#)
                .bind("t", name.as_str()),
        )
        .await?;
    let mut table = Table::new(name.clone());
    let pk_count = columns(conn, &mut table, &index_list, &ddl).await?;
    if pk_count > 0 {
        table.primary_key_name = ddl.pk_name.take().map(Ident::from);
    }
    let mut parts = Parts::default();
    indexes(conn, index_list, &mut ddl, &mut parts).await?;
    parts.checks = std::mem::take(&mut ddl.checks);
    foreign_keys(conn, &name, &mut ddl, &mut parts).await?;
    Ok(Some(parts.build(table)))
}

/// `(name, unique, origin, partial)` rows of `pragma_index_list`.
type IndexRow = (String, i64, String, i64);

/// Reads the columns into `table`; returns how many make up the primary key.
async fn columns(
    conn: &mut Connection,
    table: &mut Table,
    index_list: &[IndexRow],
    ddl: &Ddl,
) -> Result<usize> {
    let name = table.name.to_string();
    let cols: Vec<ColumnRow> = conn
        .query(
            text(
                r#"SELECT name, type, "notnull", dflt_value, pk, hidden
                   FROM pragma_table_xinfo(:t) WHERE hidden IN (0, 2, 3) ORDER BY cid"#,
            )
            .bind("t", name.as_str()),
        )
        .await?;
    // A lone `INTEGER PRIMARY KEY` aliases the rowid and has no index of its own
    // (`INTEGER PRIMARY KEY DESC` and WITHOUT ROWID tables do).
    let pk_count = cols.iter().filter(|c| c.4 > 0).count();
    let pk_index = index_list.iter().any(|ix| ix.2 == "pk");
    for (col, ty, not_null, default, pk, hidden) in cols {
        let parsed = ddl.columns.iter().find(|c| c.0.eq_ignore_ascii_case(&col));
        let collation = parsed.and_then(|c| c.1.clone());
        let computed = parsed
            .and_then(|c| c.2.clone())
            .filter(|_| hidden >= 2)
            .map(|(sql, _)| Computed {
                sql,
                stored: hidden == 3,
            });
        let rowid = pk > 0 && pk_count == 1 && !pk_index && ty.eq_ignore_ascii_case("INTEGER");
        let sql_ty = map_type(&ty).ok_or_else(|| ReflectError::UnsupportedType {
            table: name.clone(),
            column: col.clone(),
            ty: ty.clone(),
        })?;
        let nullable = not_null == 0 && !rowid;
        let mut c = column(col, sql_ty, nullable, pk > 0, rowid, default);
        c.collation = collation;
        c.computed = computed;
        table.columns.push(c);
    }
    Ok(pk_count)
}

/// Sorts the table's indexes into UNIQUE constraints (named from the CREATE TABLE text) and
/// plain indexes; the primary key's, partial and expression indexes are skipped.
async fn indexes(
    conn: &mut Connection,
    index_list: Vec<IndexRow>,
    ddl: &mut Ddl,
    parts: &mut Parts,
) -> Result<()> {
    for (ix, unique, origin, partial) in index_list {
        let cols = index_columns(conn, &ix).await?;
        // An expression key has no name, and a partial index has a WHERE: both are read
        // from the CREATE INDEX text.
        let Some(cols) = cols
            .into_iter()
            .collect::<Option<Vec<String>>>()
            .filter(|_| partial == 0)
        else {
            if origin == "c" {
                if let Some(index) = index_from_sql(conn, &ix, unique != 0).await? {
                    parts.indexes.push(index);
                }
            }
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
    Ok(())
}

/// An index read from its `CREATE INDEX` text: key columns, key expressions and `WHERE`.
async fn index_from_sql(conn: &mut Connection, name: &str, unique: bool) -> Result<Option<Index>> {
    let rows: Vec<(Option<String>,)> = conn
        .query(
            text("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = :ix")
                .bind("ix", name),
        )
        .await?;
    let Some(create) = rows.into_iter().next().and_then(|r| r.0) else {
        return Ok(None);
    };
    Ok(
        parse_create_index(&create).map(|(columns, expressions, where_clause)| {
            let mut index = Index::new(idents(columns)).named(name.to_owned());
            index.unique = unique;
            index.expressions = expressions;
            index.where_clause = where_clause;
            index
        }),
    )
}

/// `CREATE [UNIQUE] INDEX ix ON t (keys) [WHERE …]` → (columns, expressions, predicate).
fn parse_create_index(create: &str) -> Option<(Vec<String>, Vec<String>, Option<String>)> {
    let open = create.find('(')?;
    let close = sql::group_end(create, open);
    let keys = create.get(open + 1..close)?;
    let rest = create.get(close + 1..).unwrap_or("").trim();
    let where_clause = rest
        .get(..5)
        .filter(|w| w.eq_ignore_ascii_case("WHERE"))
        .map(|_| rest[5..].trim().to_owned());
    let (mut columns, mut expressions) = (Vec::new(), Vec::new());
    for key in sql::split_top_level(keys) {
        let toks = sql::tokenize(key);
        let plain = toks.first().and_then(Tok::name).filter(|_| {
            !matches!(toks.first(), Some(Tok::Str(_)))
                && toks[1..].iter().all(|t| t.keyword().is_some())
                && !matches!(toks.get(1), Some(Tok::Group(_)))
        });
        match plain {
            Some(c) => columns.push(c),
            None => expressions.push(sql::unwrap_parens(key).to_owned()),
        }
    }
    Some((columns, expressions, where_clause))
}

/// `(id, table, from, to, on_update, on_delete)` rows of `pragma_foreign_key_list`, one per
/// column, in key order.
type FkRow = (i64, String, String, Option<String>, String, String);

/// Reads the foreign keys, named from the CREATE TABLE text.
async fn foreign_keys(
    conn: &mut Connection,
    table: &str,
    ddl: &mut Ddl,
    parts: &mut Parts,
) -> Result<()> {
    let fk_rows: Vec<FkRow> = conn
        .query(
            text(
                r#"SELECT id, "table", "from", "to", on_update, on_delete
                   FROM pragma_foreign_key_list(:t) ORDER BY id, seq"#,
            )
            .bind("t", table),
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
        let (deferrable, initially_deferred) = pos
            .filter(|p| *p < ddl.fk_deferral.len())
            .map(|p| ddl.fk_deferral.remove(p))
            .unwrap_or_default();
        let mut fk = ForeignKey::new(idents(columns), ref_table, idents(ref_columns));
        fk.name = fk_name.map(Ident::from);
        fk.on_delete = action(&rows[0].5);
        fk.on_update = action(&rows[0].4);
        fk.deferrable = deferrable;
        fk.initially_deferred = initially_deferred;
        parts.fks.push(fk);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_create_table() {
        let ddl = parse_create_table(
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
}
