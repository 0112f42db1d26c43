//! PostgreSQL reflection from the system catalogs (`pg_class`, `pg_attribute`,
//! `pg_constraint`, `pg_index`, `pg_enum`) of `current_schema()` or a named schema, with PostgreSQL's printed
//! defaults and CHECKs normalised to the spelling a `Table` would have written.

use std::collections::HashMap;

use oxalchemy_core::schema::{Computed, ForeignKey, Identity, Index, ReferentialAction, Table};
use oxalchemy_core::{text, Ident, SqlType};
use oxalchemy_engine::Connection;

use super::sql_text as sql;
use super::{column, idents, split_type, Parts, ReflectError, Result};

/// The tables [`super::reflect`] reads: ordinary and partitioned (not partition) tables of
/// `current_schema()` except the version table (bound as `:version`).
pub(super) const TABLE_NAMES: &str = "SELECT c.relname::text FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
     AND NOT c.relispartition AND c.relname <> :version ORDER BY c.relname";

/// The schemas other than `current_schema()` that hold user tables: not PostgreSQL's own
/// (`pg_*`, `information_schema`).
pub(super) const OTHER_SCHEMAS: &str = "SELECT nspname::text FROM pg_namespace \
     WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' \
     AND nspname <> current_schema() ORDER BY nspname";

/// The same tables of the schema bound as `:schema`.
const SCHEMA_TABLE_NAMES: &str = "SELECT c.relname::text FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') \
     AND NOT c.relispartition AND c.relname <> :version ORDER BY c.relname";

/// The tables of schema `schema` (not the version table), sorted.
pub(super) async fn schema_table_names(
    conn: &mut Connection,
    schema: &str,
    version_table: &str,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = conn
        .query(
            text(SCHEMA_TABLE_NAMES)
                .bind("schema", schema)
                .bind("version", version_table),
        )
        .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

fn map_type(format_type: &str) -> Option<SqlType> {
    // `integer[]`, `character varying(20)[]`: a one-dimensional array of the element type.
    if let Some(elem) = format_type.trim_end().strip_suffix("[]") {
        return Some(SqlType::Array(Box::new(map_type(elem)?)));
    }
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
        ("CHARACTER", [n]) => SqlType::Char(*n),
        ("INTERVAL", []) => SqlType::Interval,
        ("TIME WITHOUT TIME ZONE", [p]) => SqlType::TimePrecision(*p),
        ("TIMESTAMP WITHOUT TIME ZONE", [p]) => SqlType::DateTimePrecision {
            timezone: false,
            precision: *p,
        },
        ("TIMESTAMP WITH TIME ZONE", [p]) => SqlType::DateTimePrecision {
            timezone: true,
            precision: *p,
        },
        ("JSON", []) => SqlType::Json,
        ("INET", []) => SqlType::Inet,
        ("CIDR", []) => SqlType::Cidr,
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

/// `(name, format_type, notnull, default, identity, generated, typtype, typname, type oid,
/// collation, comment, identity "start increment")` rows of `pg_attribute`.
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
    Option<String>,
    Option<String>,
    Option<String>,
);

/// `(constraint oid, name, kind, definition, referred table, on delete, on update,
/// deferrable, initially deferred, referred table's schema when not the table's own)` rows
/// of `pg_constraint`.
type ConRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    bool,
    Option<String>,
);

/// The key columns of the table's constraints, by constraint oid: the local columns and the
/// referred ones (foreign keys), each in key order.
#[derive(Default)]
struct ConstraintColumns {
    local: HashMap<i64, Vec<String>>,
    referred: HashMap<i64, Vec<String>>,
}

/// Table `name` of `schema` (`None`: `current_schema()`), its `schema` field set when given.
pub(super) async fn table(
    conn: &mut Connection,
    schema: Option<&str>,
    name: &str,
) -> Result<Option<Table>> {
    let found: Vec<(i64, String)> = conn
        .query(
            text(
                "SELECT c.oid::bigint, c.relname::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = coalesce(CAST(:s AS text), current_schema()) \
                 AND c.relkind IN ('r', 'p') AND c.relname = :t",
            )
            .bind("s", schema.map(str::to_owned))
            .bind("t", name),
        )
        .await?;
    let Some((oid, name)) = found.into_iter().next() else {
        return Ok(None);
    };
    // `oid` comes from the catalog: an integer, safe to inline in the queries below.
    let cons: Vec<ConRow> = conn
        .query(text(format!(
            "SELECT c.oid::bigint, c.conname::text, c.contype::text,
                    pg_get_constraintdef(c.oid), coalesce(f.relname::text, ''),
                    c.confdeltype::text, c.confupdtype::text,
                    c.condeferrable, c.condeferred,
                    CASE WHEN f.relnamespace <> t.relnamespace THEN fs.nspname::text END
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
             LEFT JOIN pg_class f ON f.oid = c.confrelid
             LEFT JOIN pg_namespace fs ON fs.oid = f.relnamespace
             WHERE c.conrelid = {oid} AND c.contype IN ('p', 'u', 'c', 'f')
             ORDER BY c.conname"
        )))
        .await?;
    let mut con_cols = constraint_columns(conn, oid).await?;
    let pk = cons.iter().find(|c| c.2 == "p");
    let pk_cols = pk
        .and_then(|c| con_cols.local.get(&c.0))
        .cloned()
        .unwrap_or_default();
    let mut table = Table::new(name);
    let comment: Vec<(Option<String>,)> = conn
        .query(text(format!(
            "SELECT obj_description({oid}::oid, 'pg_class')"
        )))
        .await?;
    table.comment = comment.into_iter().next().and_then(|c| c.0);
    table.schema = schema.map(|s| Ident::from(s.to_owned()));
    table.primary_key_name = pk.map(|c| Ident::from(c.1.clone()));
    columns(conn, oid, &mut table, &pk_cols).await?;
    let mut parts = Parts::default();
    constraints(cons, &mut con_cols, &mut parts);
    indexes(conn, oid, &mut parts).await?;
    Ok(Some(parts.build(table)))
}

/// The key columns of every constraint of table `oid`.
async fn constraint_columns(conn: &mut Connection, oid: i64) -> Result<ConstraintColumns> {
    // (constraint oid, 'l' local / 'r' referred, column, position), in key order.
    let rows: Vec<(i64, String, String, i64)> = conn
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
        .await?;
    let mut out = ConstraintColumns::default();
    for (con, side, col, _) in rows {
        let map = if side == "l" {
            &mut out.local
        } else {
            &mut out.referred
        };
        map.entry(con).or_default().push(col);
    }
    Ok(out)
}

/// Reads the columns of table `oid` into `table`; `pk_cols` are its primary key's.
async fn columns(
    conn: &mut Connection,
    oid: i64,
    table: &mut Table,
    pk_cols: &[String],
) -> Result<()> {
    let cols: Vec<ColumnRow> = conn
        .query(text(format!(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
                    a.attgenerated::text, t.typtype::text, t.typname::text,
                    a.atttypid::bigint,
                    CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
                    col_description(a.attrelid, a.attnum),
                    (SELECT s.seqstart || ' ' || s.seqincrement FROM pg_depend dep
                     JOIN pg_sequence s ON s.seqrelid = dep.objid
                     WHERE dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
                       AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'i')
             FROM pg_attribute a
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_collation co ON co.oid = a.attcollation
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = {oid} AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum"
        )))
        .await?;
    let mut enum_labels: HashMap<i64, Vec<String>> = HashMap::new();
    for row in cols {
        let (col, ty, not_null, default, identity, generated, typtype, typname, typoid) = (
            row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
        );
        let (collation, comment, sequence) = (row.9, row.10, row.11);
        let sql_ty = if typtype == "e" {
            let variants = match enum_labels.get(&typoid) {
                Some(v) => v.clone(),
                None => {
                    let v = enum_variants(conn, typoid).await?;
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
                table: table.name.to_string(),
                column: col.clone(),
                ty: ty.clone(),
            })?
        };
        let in_pk = pk_cols.contains(&col);
        // A generated column's expression is kept where its default would be.
        let computed = match generated.as_str() {
            "" => None,
            g => default.as_deref().map(|d| Computed {
                sql: sql::unwrap_parens(d).to_owned(),
                stored: g == "s",
            }),
        };
        let mut default = match generated.as_str() {
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
        let mut c = column(col, sql_ty, !not_null, in_pk, autoincrement, default);
        c.computed = computed;
        c.collation = collation;
        c.comment = comment;
        if !identity.is_empty() {
            let mut nums = sequence
                .as_deref()
                .unwrap_or("")
                .split(' ')
                .map(|n| n.parse::<i64>().ok());
            let (start, increment) = (nums.next().flatten(), nums.next().flatten());
            let options = Identity {
                always: identity == "a",
                start: start.filter(|n| *n != 1),
                increment: increment.filter(|n| *n != 1),
            };
            // Without options the key reads back as a plain autoincrement key, as written.
            c.identity = (!options.is_default()).then_some(options);
        }
        table.columns.push(c);
    }
    Ok(())
}

/// The labels of native enum type `typoid`, in their declared order.
async fn enum_variants(conn: &mut Connection, typoid: i64) -> Result<Vec<String>> {
    // `typoid` comes from the catalog: an integer, safe to inline.
    let labels: Vec<(String,)> = conn
        .query(text(format!(
            "SELECT enumlabel::text FROM pg_enum \
             WHERE enumtypid = {typoid} ORDER BY enumsortorder"
        )))
        .await?;
    Ok(labels.into_iter().map(|l| l.0).collect())
}

/// Sorts the UNIQUE, CHECK and FOREIGN KEY constraints into `parts` (the primary key is read
/// with the columns).
fn constraints(cons: Vec<ConRow>, con_cols: &mut ConstraintColumns, parts: &mut Parts) {
    for (con, cname, kind, def, ref_table, del, upd, deferrable, deferred, ref_schema) in cons {
        let cols = con_cols.local.remove(&con).unwrap_or_default();
        match kind.as_str() {
            "u" => parts.uniques.push((Some(cname), cols)),
            "c" => parts.checks.push((Some(cname), normalize_check(&def))),
            "f" => {
                let mut fk = ForeignKey::new(
                    idents(cols),
                    Ident::from(ref_table),
                    idents(con_cols.referred.remove(&con).unwrap_or_default()),
                )
                .named(Ident::from(cname));
                fk.on_delete = action(&del);
                fk.on_update = action(&upd);
                fk.deferrable = deferrable;
                fk.initially_deferred = deferred;
                fk.ref_schema = ref_schema.map(Ident::from);
                parts.fks.push(fk);
            }
            _ => {} // the primary key, read above
        }
    }
}

/// One row per index key: (index, unique, column or NULL for an expression, key text,
/// predicate).
type IndexKeyRow = (String, bool, Option<String>, String, Option<String>);

/// Indexes of table `oid` that back no constraint: key columns, key expressions (as
/// `pg_get_indexdef` prints them) and the partial index's predicate.
async fn indexes(conn: &mut Connection, oid: i64, parts: &mut Parts) -> Result<()> {
    let index_rows: Vec<IndexKeyRow> = conn
        .query(text(format!(
            "SELECT i.relname::text, x.indisunique, a.attname::text,
                    pg_get_indexdef(x.indexrelid, u.ord::int, true),
                    pg_get_expr(x.indpred, x.indrelid, true)
             FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid
             CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS u(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.attnum
                                     AND u.attnum > 0
             WHERE x.indrelid = {oid} AND u.ord <= x.indnkeyatts
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                               WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
             ORDER BY i.relname, u.ord"
        )))
        .await?;
    let mut indexes: Vec<Index> = Vec::new();
    for (ix, unique, col, key, pred) in index_rows {
        if indexes
            .last()
            .and_then(|l| l.name.as_ref())
            .map(Ident::as_str)
            != Some(ix.as_str())
        {
            let mut index = Index::new(Vec::<Ident>::new()).named(ix);
            index.unique = unique;
            index.where_clause = pred;
            indexes.push(index);
        }
        let Some(index) = indexes.last_mut() else {
            continue;
        };
        match col {
            Some(c) => index.columns.push(Ident::from(c)),
            None => index.expressions.push(sql::unwrap_parens(&key).to_owned()),
        }
    }
    parts.indexes.extend(indexes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_postgres_defaults_and_checks() {
        let d = normalize_default;
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
        let c = normalize_check;
        assert_eq!(c("CHECK ((b > 0))"), "b > 0");
        assert_eq!(c("CHECK (f(x))"), "f(x)");
        assert_eq!(c("CHECK ((a > 0)) NOT VALID"), "a > 0");
    }
}
