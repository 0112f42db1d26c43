//! `create_all` read back from each database's own catalog: every table, column (type,
//! nullability, server default, identity), primary key, unique constraint, check constraint,
//! foreign key (with its actions) and index the blog models declare is there, by name, and
//! nothing else is. Expectations are derived from the MetaData, plus hard-coded spot checks.

mod blog;
mod common;

use std::collections::BTreeSet;

use oxalchemy::core::expr::Ident;
use oxalchemy::core::schema::{Constraint, ReferentialAction, ServerDefault};
use oxalchemy::prelude::*;

/// One normalised catalog fact per line, e.g. `column users.username varchar(50) not null`.
type Facts = BTreeSet<String>;

#[tokio::test]
async fn catalog_matches_metadata() {
    let md = blog::registry().metadata();
    for t in common::all_targets("catalog").await {
        let db = t.connect().await;
        db.create_all(&md).await.unwrap();
        let pg = t.is_postgres();
        let my = t.is_mysql();
        let expected = expected_facts(&md, db_kind(&t));
        let actual = if pg {
            pg_facts(&db).await
        } else if my {
            mysql_facts(&db).await
        } else {
            sqlite_facts(&db).await
        };
        let missing: Vec<_> = expected.difference(&actual).collect();
        let extra: Vec<_> = actual.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "[{}] catalog differs from metadata\nmissing: {missing:#?}\nunexpected: {extra:#?}",
            t.label
        );

        // Spot checks, independent of how the expectations above are derived.
        let (varchar, json, id, int, pk) = if pg {
            let id = "bigint not null identity";
            ("character varying", "jsonb", id, "integer", "pk_post_tags")
        } else if my {
            // MySQL names every primary key PRIMARY.
            let id = "bigint not null auto_increment";
            ("varchar", "json", id, "int", "PRIMARY")
        } else {
            let id = "integer not null rowid";
            ("varchar", "json", id, "integer", "pk_post_tags")
        };
        for fact in [
            format!("column users.id {id}"),
            format!("column users.username {varchar}(50) not null"),
            format!("column users.settings {json} not null default '{{}}'"),
            format!("column users.status {varchar}(9) not null default 'active'"),
            format!("column users.karma {int}"),
            "column post_tags.post_id bigint not null".into(),
            "check users ck_users_status status in ('active', 'suspended')".into(),
            "check posts ck_posts_title_not_empty length(title) > 0".into(),
            "foreign key posts fk_posts_author_id_users (author_id) -> users (id) \
             on delete cascade on update no action"
                .into(),
            "index users idx_users_username_email (username, email)".into(),
            "unique users uq_users_username (username)".into(),
            format!("primary key post_tags {pk} (post_id, tag_id)"),
        ] {
            assert!(
                actual.contains(&fact),
                "[{}] no `{fact}` in {actual:#?}",
                t.label
            );
        }
        if t.is_sqlite() {
            // A rowid alias has no separate primary-key index; a composite key does.
            let pk_index = |table: &'static str| {
                db.query_scalar::<i64>(
                    text("SELECT count(*) FROM pragma_index_list(:t) WHERE origin = 'pk'")
                        .bind("t", table),
                )
            };
            assert_eq!(pk_index("users").await.unwrap(), 0, "[{}]", t.label);
            assert_eq!(pk_index("post_tags").await.unwrap(), 1, "[{}]", t.label);
        }
        t.finish().await;
    }
}

// ---- expectations from the MetaData ----

/// Which catalog a target has.
#[derive(Clone, Copy, PartialEq)]
enum Db {
    Sqlite,
    Postgres,
    Mysql,
}

fn db_kind(t: &common::Target) -> Db {
    if t.is_postgres() {
        Db::Postgres
    } else if t.is_mysql() {
        Db::Mysql
    } else {
        Db::Sqlite
    }
}

fn expected_facts(md: &MetaData, db: Db) -> Facts {
    let pg = db == Db::Postgres;
    let mut facts = Facts::new();
    for t in md.tables() {
        let tn = t.name.as_str();
        facts.insert(format!("table {tn}"));
        let pk: Vec<&str> = t.primary_key().map(|c| c.name.as_str()).collect();
        // Columns of a key (primary, unique, foreign, index): MySQL keys no whole LONGTEXT,
        // so an unbounded string there is VARCHAR(255) by design.
        let mut keyed: BTreeSet<&str> = pk.iter().copied().collect();
        for con in &t.constraints {
            match con {
                Constraint::Unique { columns, .. } => {
                    keyed.extend(columns.iter().map(Ident::as_str))
                }
                Constraint::ForeignKey(fk) => keyed.extend(fk.columns.iter().map(Ident::as_str)),
                Constraint::Check { .. } => {}
            }
        }
        for ix in &t.indexes {
            keyed.extend(ix.columns.iter().map(Ident::as_str));
        }
        for c in &t.columns {
            // Only a single-column integer primary key is generated by the database. The
            // metadata's `autoincrement` flag alone is not enough: `Column::primary_key()` sets
            // it on every integer key column, so post_tags' columns claim it too.
            let identity = c.autoincrement && c.primary_key && pk.len() == 1 && c.ty.is_integer();
            let unbounded = matches!(c.ty, SqlType::String(None) | SqlType::Text);
            let ty = match (identity, db) {
                (true, Db::Sqlite) => "integer".to_owned(),
                (_, Db::Mysql) if unbounded && keyed.contains(c.name.as_str()) => {
                    "varchar(255)".to_owned()
                }
                (_, Db::Mysql) => mysql_type_name(&c.ty),
                _ => type_name(&c.ty, pg),
            };
            let default = c.server_default.as_ref().map(|d| match d {
                ServerDefault::Sql(sql) => norm_default(sql),
                ServerDefault::Value(v) => panic!("add a literal rendering for {v:?}"),
            });
            let identity = identity.then_some(match db {
                Db::Postgres => "identity",
                Db::Mysql => "auto_increment",
                Db::Sqlite => "rowid",
            });
            let name = c.name.as_str();
            facts.insert(column_fact(tn, name, &ty, !c.nullable, default, identity));
        }
        if !pk.is_empty() {
            let name = match db {
                // MySQL names every primary key PRIMARY, whatever the DDL said.
                Db::Mysql => "PRIMARY",
                _ => t.primary_key_name.as_ref().map_or("?", |n| n.as_str()),
            };
            facts.insert(format!("primary key {tn} {name} ({})", pk.join(", ")));
        }
        for con in &t.constraints {
            let name = |n: Option<&Ident>| n.map_or("?", |n| n.as_str()).to_owned();
            facts.insert(match con {
                Constraint::Unique { name: n, columns } => {
                    format!("unique {tn} {} ({})", name(n.as_ref()), join(columns))
                }
                Constraint::Check { name: n, sql, .. } => {
                    format!("check {tn} {} {}", name(n.as_ref()), norm_check(sql))
                }
                Constraint::ForeignKey(fk) => {
                    let act = |a| match db {
                        Db::Mysql => mysql_action(&action(a)),
                        _ => action(a),
                    };
                    fk_fact(
                        tn,
                        &name(fk.name.as_ref()),
                        &join(&fk.columns),
                        fk.ref_table.as_str(),
                        &join(&fk.ref_columns),
                        act(fk.on_delete),
                        act(fk.on_update),
                    )
                }
            });
        }
        for ix in &t.indexes {
            let name = ix.name.as_ref().map_or("?", |n| n.as_str());
            facts.insert(index_fact(tn, name, &join(&ix.columns), ix.unique));
        }
    }
    facts
}

/// The type name the catalog reports: PostgreSQL's `information_schema.columns.data_type`
/// (with its length), SQLite's declared type, both lower-cased.
fn type_name(ty: &SqlType, pg: bool) -> String {
    let enum_len = |v: &[String]| v.iter().map(String::len).max().unwrap_or(1) as u32;
    let s = match (ty, pg) {
        (SqlType::SmallInteger, _) => "smallint",
        (SqlType::Integer, _) => "integer",
        (SqlType::BigInteger, _) => "bigint",
        (SqlType::Boolean, _) => "boolean",
        (SqlType::Float, _) => "real",
        (SqlType::Double, true) => "double precision",
        (SqlType::Double, false) => "double",
        (SqlType::Numeric(Some((p, s))), false) => return format!("numeric({p}, {s})"),
        (SqlType::Numeric(_), _) => "numeric",
        (SqlType::String(Some(n)), _) => return varchar(*n, pg),
        (SqlType::String(None), true) => "character varying",
        (SqlType::String(None) | SqlType::Text, _) => "text",
        (SqlType::Binary, true) => "bytea",
        (SqlType::Binary, false) => "blob",
        (SqlType::Date, _) => "date",
        (SqlType::Time, true) => "time without time zone",
        (SqlType::Time, false) => "time",
        (SqlType::DateTime { timezone: true }, true) => "timestamp with time zone",
        (SqlType::DateTime { timezone: false }, true) => "timestamp without time zone",
        (SqlType::DateTime { .. }, false) => "datetime",
        (SqlType::Uuid, true) => "uuid",
        (SqlType::Uuid, false) => "char(36)",
        (SqlType::JsonB, true) => "jsonb",
        (SqlType::Json | SqlType::JsonB, _) => "json",
        (
            SqlType::Enum {
                name, native: true, ..
            },
            true,
        ) => return name.to_lowercase(),
        (SqlType::Enum { variants, .. }, _) => return varchar(enum_len(variants), pg),
        (SqlType::Inet, _) => "inet",
        (SqlType::Cidr, _) => "cidr",
        (SqlType::Array(_), true) => "array",
        (SqlType::Array(elem), false) => return format!("{} array", type_name(elem, pg)),
        (SqlType::Char(_), true) => "character",
        (SqlType::Char(n), false) => return format!("char({n})"),
        (SqlType::Interval, _) => "interval",
        (SqlType::TimePrecision(_), true) => "time without time zone",
        (SqlType::TimePrecision(p), false) => return format!("time({p})"),
        (SqlType::DateTimePrecision { timezone: true, .. }, true) => "timestamp with time zone",
        (SqlType::DateTimePrecision { .. }, true) => "timestamp without time zone",
        (SqlType::DateTimePrecision { precision, .. }, false) => {
            return format!("datetime({precision})")
        }
    };
    s.to_owned()
}

/// The type as MariaDB's `information_schema.columns.column_type` reports it, lower-cased,
/// integer display widths dropped (`int(11)` → `int`), JSON as `json` (see [`mysql_facts`]).
fn mysql_type_name(ty: &SqlType) -> String {
    match ty {
        SqlType::SmallInteger => "smallint".into(),
        SqlType::Integer => "int".into(),
        SqlType::BigInteger => "bigint".into(),
        SqlType::Boolean => "tinyint(1)".into(),
        SqlType::Float => "float".into(),
        SqlType::Double => "double".into(),
        SqlType::Numeric(None) => "decimal(65,20)".into(),
        SqlType::Numeric(Some((p, s))) => format!("decimal({p},{s})"),
        SqlType::String(Some(n)) => format!("varchar({n})"),
        SqlType::String(None) | SqlType::Text => "longtext".into(),
        SqlType::Binary => "longblob".into(),
        SqlType::Date => "date".into(),
        SqlType::Time => "time(6)".into(),
        SqlType::DateTime { .. } => "datetime(6)".into(),
        SqlType::TimePrecision(p) => format!("time({})", (*p).min(6)),
        SqlType::DateTimePrecision { precision, .. } => {
            format!("datetime({})", (*precision).min(6))
        }
        SqlType::Char(n) => format!("char({n})"),
        SqlType::Interval => "varchar(64)".into(),
        SqlType::Uuid => "char(36)".into(),
        SqlType::Json | SqlType::JsonB | SqlType::Array(_) => "json".into(),
        SqlType::Inet | SqlType::Cidr => "varchar(43)".into(),
        SqlType::Enum {
            variants,
            native: true,
            ..
        } => {
            let v: Vec<String> = variants.iter().map(|v| format!("'{v}'")).collect();
            format!("enum({})", v.join(","))
        }
        SqlType::Enum { variants, .. } => {
            let len = variants.iter().map(String::len).max().unwrap_or(1);
            format!("varchar({len})")
        }
    }
}

fn varchar(n: u32, pg: bool) -> String {
    match pg {
        true => format!("character varying({n})"),
        false => format!("varchar({n})"),
    }
}

fn action(a: Option<ReferentialAction>) -> String {
    a.unwrap_or(ReferentialAction::NoAction)
        .sql()
        .to_lowercase()
}

fn join(idents: &[Ident]) -> String {
    let v: Vec<&str> = idents.iter().map(Ident::as_str).collect();
    v.join(", ")
}

// ---- fact lines, shared by both sides ----

fn column_fact(
    table: &str,
    col: &str,
    ty: &str,
    not_null: bool,
    default: Option<String>,
    identity: Option<&str>,
) -> String {
    let mut s = format!("column {table}.{col} {}", ty.to_lowercase());
    if not_null {
        s.push_str(" not null");
    }
    if let Some(d) = default {
        s.push_str(" default ");
        s.push_str(&d);
    }
    if let Some(i) = identity {
        s.push(' ');
        s.push_str(i);
    }
    s
}

fn fk_fact(
    t: &str,
    name: &str,
    cols: &str,
    rt: &str,
    rcols: &str,
    del: String,
    upd: String,
) -> String {
    format!("foreign key {t} {name} ({cols}) -> {rt} ({rcols}) on delete {del} on update {upd}")
}

fn index_fact(table: &str, name: &str, cols: &str, unique: bool) -> String {
    let kind = if unique { "unique index" } else { "index" };
    format!("{kind} {table} {name} ({cols})")
}

// ---- normalisation ----

/// Removes PostgreSQL casts (`'{}'::jsonb`, `(x)::text`, `::character varying[]`) outside
/// string literals.
fn strip_casts(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    let mut quoted = false;
    while let Some(ch) = rest.chars().next() {
        if !quoted && rest.starts_with("::") {
            rest = rest[2..].trim_start_matches(|c: char| c.is_alphanumeric() || "_\"".contains(c));
            let suffixes = [
                " varying",
                " precision",
                " with time zone",
                " without time zone",
                "[]",
            ];
            while let Some(r) = suffixes.iter().find_map(|s| rest.strip_prefix(s)) {
                rest = r;
            }
            continue;
        }
        quoted ^= ch == '\'';
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

/// Drops every pair of parentheses that wraps the whole expression.
fn unwrap_parens(mut s: &str) -> &str {
    while let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        match inner_list(s) {
            Some(list) if list.len() == inner.len() => s = inner.trim(),
            _ => break,
        }
    }
    s
}

fn norm_default(sql: &str) -> String {
    unwrap_parens(strip_casts(sql).trim()).to_owned()
}

/// A CHECK expression in one canonical spelling: casts and redundant parentheses dropped,
/// identifiers unquoted, keywords lower-cased, and PostgreSQL's `x = ANY (ARRAY[a, b])`
/// written back as `x in (a, b)`.
fn norm_check(sql: &str) -> String {
    let s = strip_casts(sql.trim());
    let s = s.strip_prefix("CHECK").unwrap_or(&s).trim();
    let mut out = String::new();
    let mut quoted = false;
    for ch in unwrap_parens(s).chars() {
        quoted ^= ch == '\'';
        match ch {
            '"' if !quoted => {}
            _ if quoted || ch == '\'' => out.push(ch),
            _ => out.extend(ch.to_lowercase()),
        }
    }
    let out = drop_redundant_parens(unwrap_parens(&out));
    out.replace(" = any (array[", " in (").replace("])", ")")
}

/// `((x))` → `(x)`, and `(word)` → `word` unless it is a call's argument list.
fn drop_redundant_parens(s: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = s;
    while let Some(ch) = rest.chars().next() {
        let group = if ch == '(' { inner_list(rest) } else { None };
        let Some(list) = group else {
            // A string literal is copied whole.
            let len = match ch {
                '\'' => rest[1..].find('\'').map_or(rest.len(), |i| i + 2),
                _ => ch.len_utf8(),
            };
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        };
        let inner = drop_redundant_parens(unwrap_parens(list));
        if !inner.is_empty() && inner.chars().all(word) && !out.ends_with(word) {
            out.push_str(&inner);
        } else {
            out.push('(');
            out.push_str(&inner);
            out.push(')');
        }
        rest = &rest[list.len() + 2..];
    }
    out
}

/// The text inside the parentheses `s` starts with (quotes respected), if they close.
fn inner_list(s: &str) -> Option<&str> {
    let mut depth = 0;
    let mut quote = None;
    for (i, ch) in s.char_indices() {
        match (quote, ch) {
            (Some(q), _) if ch == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[1..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `("a", b)` anywhere in `s` → `a, b`: the first parenthesised identifier list.
fn ident_list(s: &str) -> String {
    let list = s.find('(').and_then(|i| inner_list(&s[i..])).unwrap_or("");
    let v: Vec<&str> = list
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    v.join(", ")
}

// ---- SQLite catalog ----

/// Named `CONSTRAINT "name" …` clauses of a CREATE TABLE statement: (name, clause after the
/// name). SQLite keeps constraint names nowhere else.
fn sqlite_named_constraints(create: &str) -> Vec<(String, String)> {
    let body = create
        .find('(')
        .and_then(|i| inner_list(&create[i..]))
        .unwrap();
    let mut items = vec![String::new()];
    let (mut depth, mut quote) = (0, None);
    for ch in body.chars() {
        match (quote, ch) {
            (Some(q), _) if ch == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(String::new());
                continue;
            }
            _ => {}
        }
        items.last_mut().unwrap().push(ch);
    }
    items
        .iter()
        .filter_map(|item| {
            let at = item.to_uppercase().find("CONSTRAINT ")?;
            let rest = item[at + "CONSTRAINT ".len()..].trim_start();
            let (name, clause) = match rest.strip_prefix('"') {
                Some(r) => r.split_once('"')?,
                None => rest.split_once(' ')?,
            };
            Some((name.to_owned(), clause.trim().to_owned()))
        })
        .collect()
}

async fn sqlite_facts(db: &Database) -> Facts {
    let mut facts = Facts::new();
    let tables: Vec<(String, String)> = db
        .query(text(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        ))
        .await
        .unwrap();
    for (t, create) in tables {
        facts.insert(format!("table {t}"));
        let named = sqlite_named_constraints(&create);
        let name_of = |kind: &str, cols: &str| {
            named
                .iter()
                .find(|(_, c)| {
                    c.to_uppercase().starts_with(kind) && (cols.is_empty() || ident_list(c) == cols)
                })
                .map_or("?".to_owned(), |(n, _)| n.clone())
        };
        let cols: Vec<(String, String, i64, Option<String>, i64)> = db
            .query(
                text(
                    r#"SELECT name, type, "notnull", dflt_value, pk
                       FROM pragma_table_info(:t) ORDER BY cid"#,
                )
                .bind("t", t.as_str()),
            )
            .await
            .unwrap();
        let mut pk: Vec<(i64, &str)> = cols
            .iter()
            .filter(|c| c.4 > 0)
            .map(|c| (c.4, c.0.as_str()))
            .collect();
        pk.sort();
        for (name, ty, not_null, default, in_pk) in &cols {
            // `INTEGER PRIMARY KEY`, and only that spelling, aliases the rowid.
            let rowid = *in_pk > 0 && pk.len() == 1 && ty.eq_ignore_ascii_case("integer");
            let default = default.as_deref().map(norm_default);
            let identity = rowid.then_some("rowid");
            facts.insert(column_fact(&t, name, ty, *not_null != 0, default, identity));
        }
        if !pk.is_empty() {
            let cols: Vec<&str> = pk.iter().map(|p| p.1).collect();
            facts.insert(format!(
                "primary key {t} {} ({})",
                name_of("PRIMARY KEY", ""),
                cols.join(", ")
            ));
        }
        let indexes: Vec<(String, i64, String)> = db
            .query(
                text(r#"SELECT name, "unique", origin FROM pragma_index_list(:t)"#)
                    .bind("t", t.as_str()),
            )
            .await
            .unwrap();
        for (ix, unique, origin) in indexes {
            let cols: Vec<(String,)> = db
                .query(
                    text("SELECT name FROM pragma_index_info(:ix) ORDER BY seqno")
                        .bind("ix", ix.as_str()),
                )
                .await
                .unwrap();
            let cols = cols.into_iter().map(|c| c.0).collect::<Vec<_>>().join(", ");
            match origin.as_str() {
                "c" => facts.insert(index_fact(&t, &ix, &cols, unique != 0)),
                "u" => facts.insert(format!("unique {t} {} ({cols})", name_of("UNIQUE", &cols))),
                _ => false, // the primary key's own index
            };
        }
        // One row per foreign key, its columns in key order.
        let fks: Vec<(String, String, String, String, String)> = db
            .query(
                text(
                    r#"SELECT "table", group_concat("from", ', '), group_concat("to", ', '),
                              on_delete, on_update
                       FROM (SELECT * FROM pragma_foreign_key_list(:t) ORDER BY id, seq)
                       GROUP BY id"#,
                )
                .bind("t", t.as_str()),
            )
            .await
            .unwrap();
        for (rt, cols, rcols, del, upd) in fks {
            let (del, upd) = (del.to_lowercase(), upd.to_lowercase());
            let name = name_of("FOREIGN KEY", &cols);
            facts.insert(fk_fact(&t, &name, &cols, &rt, &rcols, del, upd));
        }
        for (name, clause) in &named {
            if clause.to_uppercase().starts_with("CHECK") {
                facts.insert(format!("check {t} {name} {}", norm_check(clause)));
            }
        }
    }
    facts
}

// ---- PostgreSQL catalog ----

async fn pg_facts(db: &Database) -> Facts {
    let mut facts = Facts::new();
    let tables: Vec<(String,)> = db
        .query(text(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        ))
        .await
        .unwrap();
    facts.extend(tables.into_iter().map(|(t,)| format!("table {t}")));

    type S = String;
    // The type as `data_type(length)`, or the type's own name for enums and domains.
    let cols: Vec<(S, S, S, S, Option<S>, S)> = db
        .query(text(
            "SELECT table_name::text, column_name::text,
                    CASE data_type WHEN 'USER-DEFINED' THEN udt_name::text
                         ELSE data_type || coalesce('(' || character_maximum_length || ')', '')
                    END,
                    is_nullable::text, column_default::text, is_identity::text
             FROM information_schema.columns WHERE table_schema = current_schema()",
        ))
        .await
        .unwrap();
    for (t, c, ty, nullable, default, identity) in cols {
        let identity = (identity == "YES").then_some("identity");
        let default = default.as_deref().map(norm_default);
        let not_null = nullable == "NO";
        facts.insert(column_fact(&t, &c, &ty, not_null, default, identity));
    }

    // Constraint columns from information_schema, the rest from pg_constraint.
    type ConstraintRow = (S, S, S, S, S, S, S, S, S);
    let constraints: Vec<ConstraintRow> = db
        .query(text(
            "SELECT cl.relname::text, c.conname::text, c.contype::text,
                    pg_get_constraintdef(c.oid),
                    coalesce((SELECT string_agg(k.column_name::text, ', '
                                                ORDER BY k.ordinal_position)
                              FROM information_schema.table_constraints tc
                              JOIN information_schema.key_column_usage k
                                ON k.constraint_schema = tc.constraint_schema
                               AND k.constraint_name = tc.constraint_name
                               AND k.table_name = tc.table_name
                              WHERE tc.table_schema = n.nspname
                                AND tc.table_name = cl.relname
                                AND tc.constraint_name = c.conname), ''),
                    coalesce(fr.relname::text, ''),
                    coalesce((SELECT string_agg(a.attname::text, ', ' ORDER BY u.ord)
                              FROM unnest(c.confkey) WITH ORDINALITY u(attnum, ord)
                              JOIN pg_attribute a
                                ON a.attrelid = c.confrelid AND a.attnum = u.attnum), ''),
                    c.confdeltype::text, c.confupdtype::text
             FROM pg_constraint c
             JOIN pg_namespace n ON n.oid = c.connamespace
             JOIN pg_class cl ON cl.oid = c.conrelid
             LEFT JOIN pg_class fr ON fr.oid = c.confrelid
             WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'c', 'f')",
        ))
        .await
        .unwrap();
    let pg_action = |code: &str| match code {
        "a" => "no action",
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        other => panic!("unknown referential action {other}"),
    };
    let mut constraint_names = BTreeSet::new();
    for (t, name, kind, def, cols, rt, rcols, del, upd) in constraints {
        facts.insert(match kind.as_str() {
            "p" => format!("primary key {t} {name} ({cols})"),
            "u" => format!("unique {t} {name} ({cols})"),
            "c" => format!("check {t} {name} {}", norm_check(&def)),
            _ => fk_fact(
                &t,
                &name,
                &cols,
                &rt,
                &rcols,
                pg_action(&del).into(),
                pg_action(&upd).into(),
            ),
        });
        constraint_names.insert(name);
    }

    let indexes: Vec<(String, String, String)> = db
        .query(text(
            "SELECT tablename::text, indexname::text, indexdef FROM pg_indexes \
             WHERE schemaname = current_schema()",
        ))
        .await
        .unwrap();
    for (t, name, def) in indexes {
        // Primary keys and unique constraints bring indexes of their own name.
        if constraint_names.contains(&name) {
            continue;
        }
        let using = def.find(" USING ").expect("indexdef has USING");
        let unique = def.starts_with("CREATE UNIQUE INDEX");
        facts.insert(index_fact(&t, &name, &ident_list(&def[using..]), unique));
    }
    facts
}

// ---- MariaDB / MySQL catalog ----

/// Strips the backquotes of MySQL identifiers outside string literals (the session's
/// ANSI_QUOTES gives double quotes instead, which [`norm_check`] strips), spaces list commas
/// as the metadata does, and spells MariaDB's `octet_length` as the `length` it was written.
fn mysql_norm_check(clause: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = clause.chars().peekable();
    while let Some(ch) = chars.next() {
        quoted ^= ch == '\'';
        match ch {
            '`' if !quoted => {}
            ',' if !quoted => {
                out.push_str(", ");
                while chars.next_if(|c| *c == ' ').is_some() {}
            }
            _ => out.push(ch),
        }
    }
    norm_check(&out.replace("octet_length(", "length("))
}

/// A referential action as InnoDB means it: it checks keys at once, so RESTRICT (what
/// MariaDB reports for an action left out) and NO ACTION are one action there.
fn mysql_action(a: &str) -> String {
    match a.to_lowercase().as_str() {
        "restrict" => "no action".into(),
        other => other.into(),
    }
}

async fn mysql_facts(db: &Database) -> Facts {
    type S = String;
    let mut facts = Facts::new();
    // Every table must have a utf8mb4 collation; another one is a fact of its own.
    let tables: Vec<(S, Option<S>)> = db
        .query(text(
            "SELECT table_name, table_collation FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
        ))
        .await
        .unwrap();
    for (t, collation) in tables {
        match collation.as_deref() {
            Some(c) if c.starts_with("utf8mb4") => facts.insert(format!("table {t}")),
            other => facts.insert(format!("table {t} collation {other:?}")),
        };
    }

    // CHECKs: MariaDB declares a JSON column as LONGTEXT with a `json_valid(col)` CHECK
    // named after the column; that pair is read back as one `json` column.
    let checks: Vec<(S, S, S)> = db
        .query(text(
            "SELECT table_name, constraint_name, check_clause \
             FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()",
        ))
        .await
        .unwrap();
    let mut json_columns = BTreeSet::new();
    for (t, name, clause) in checks {
        let bare = clause.replace(['`', '"'], "");
        if bare.eq_ignore_ascii_case(&format!("json_valid({name})")) {
            json_columns.insert((t, name));
            continue;
        }
        facts.insert(format!("check {t} {name} {}", mysql_norm_check(&clause)));
    }

    let cols: Vec<(S, S, S, S, Option<S>, S)> = db
        .query(text(
            "SELECT table_name, column_name, column_type, is_nullable, column_default, extra \
             FROM information_schema.columns WHERE table_schema = DATABASE()",
        ))
        .await
        .unwrap();
    for (t, c, ty, nullable, default, extra) in cols {
        let mut ty = ty.to_lowercase();
        // Integer display widths (`int(11)`) are not part of the type; TINYINT(1) is the
        // boolean and keeps its width.
        for int in ["smallint", "int", "bigint"] {
            if ty.starts_with(&format!("{int}(")) && ty.ends_with(')') {
                ty = int.to_owned();
            }
        }
        if ty == "longtext" && json_columns.contains(&(t.clone(), c.clone())) {
            ty = "json".into();
        }
        // MariaDB reports "no default" of a nullable column as the expression NULL.
        let default = default.filter(|d| d != "NULL").as_deref().map(norm_default);
        let identity = extra
            .to_lowercase()
            .contains("auto_increment")
            .then_some("auto_increment");
        facts.insert(column_fact(
            &t,
            &c,
            &ty,
            nullable == "NO",
            default,
            identity,
        ));
    }

    // Primary keys, UNIQUE constraints and foreign keys, with their columns in key order.
    let keys: Vec<(S, S, S, S, S, S)> = db
        .query(text(
            "SELECT tc.table_name, tc.constraint_name, tc.constraint_type,
                    group_concat(k.column_name ORDER BY k.ordinal_position SEPARATOR ', '),
                    coalesce(max(k.referenced_table_name), ''),
                    coalesce(group_concat(k.referenced_column_name
                                          ORDER BY k.ordinal_position SEPARATOR ', '), '')
             FROM information_schema.table_constraints tc
             JOIN information_schema.key_column_usage k
               ON k.constraint_schema = tc.constraint_schema
              AND k.table_name = tc.table_name
              AND k.constraint_name = tc.constraint_name
             WHERE tc.table_schema = DATABASE()
               AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
             GROUP BY tc.table_name, tc.constraint_name, tc.constraint_type",
        ))
        .await
        .unwrap();
    let rules: Vec<(S, S, S, S)> = db
        .query(text(
            "SELECT table_name, constraint_name, delete_rule, update_rule \
             FROM information_schema.referential_constraints \
             WHERE constraint_schema = DATABASE()",
        ))
        .await
        .unwrap();
    // (table, name, columns) of every key: their indexes are the keys themselves.
    let mut key_indexes = BTreeSet::new();
    for (t, name, kind, cols, rt, rcols) in keys {
        key_indexes.insert((t.clone(), name.clone(), cols.clone()));
        facts.insert(match kind.as_str() {
            "PRIMARY KEY" => format!("primary key {t} {name} ({cols})"),
            "UNIQUE" => format!("unique {t} {name} ({cols})"),
            _ => {
                let (del, upd) = rules
                    .iter()
                    .find(|r| r.0 == t && r.1 == name)
                    .map(|r| (mysql_action(&r.2), mysql_action(&r.3)))
                    .unwrap_or_else(|| panic!("no referential constraint {t}.{name}"));
                fk_fact(&t, &name, &cols, &rt, &rcols, del, upd)
            }
        });
    }

    let indexes: Vec<(S, S, i64, S)> = db
        .query(text(
            "SELECT table_name, index_name, max(non_unique),
                    group_concat(column_name ORDER BY seq_in_index SEPARATOR ', ')
             FROM information_schema.statistics WHERE table_schema = DATABASE()
             GROUP BY table_name, index_name",
        ))
        .await
        .unwrap();
    for (t, name, non_unique, cols) in indexes {
        // A key's own index, or the one InnoDB adds for a foreign key (the key's name, on
        // exactly its columns).
        if key_indexes.contains(&(t.clone(), name.clone(), cols.clone())) {
            continue;
        }
        facts.insert(index_fact(&t, &name, &cols, non_unique == 0));
    }
    facts
}
