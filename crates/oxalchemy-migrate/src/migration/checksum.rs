//! Migration checksums: SHA-256 of a canonical, versioned text of the operations, written
//! field by field here (never `Debug` text, which changes whenever a type grows a field).
//!
//! A checksum reads `2:` and the first 30 hex digits of the hash (it fits the version
//! table's 32 characters; 120 bits). Version tables written before this format hold the
//! legacy checksum (16 hex digits, FNV-1a 64 of the operations' `Debug` text): the runner
//! accepts one that matches [`legacy`] and rewrites it to the current format once.
//!
//! Changing what the canonical writer (`canonical`) writes changes every checksum: bump [`FORMAT`] and keep the
//! previous writer to upgrade from, as for the legacy one.

use std::fmt::Write;

use oxalchemy_core::schema::{Column, Constraint, Index, ServerDefault, Table};
use oxalchemy_core::Value;
use sha2::{Digest, Sha256};

use crate::ops::{ColumnChange, Op};
use crate::script::sql_type;

/// The version of the canonical text, the checksum's prefix.
pub const FORMAT: &str = "2";

/// The checksum of a migration's upgrade and downgrade operations.
pub fn checksum(up: &[Op], down: &[Op]) -> String {
    let mut text = format!("oxalchemy-ops/{FORMAT}\nupgrade\n");
    for op in up {
        canonical(&mut text, op);
    }
    text.push_str("downgrade\n");
    for op in down {
        canonical(&mut text, op);
    }
    let hash = Sha256::digest(text.as_bytes());
    let mut out = format!("{FORMAT}:");
    for b in hash.iter().take(15) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The checksum version tables recorded before [`FORMAT`] 2: FNV-1a 64 of the operations'
/// `Debug` text (the types' `Debug` keeps that text for everything that existed then).
pub fn legacy(up: &[Op], down: &[Op]) -> String {
    use std::hash::Hasher;
    let text = format!("{up:?}|{down:?}");
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(text.as_bytes());
    format!("{:016x}", hasher.finish())
}

/// Whether a recorded checksum is in the legacy format (16 hex digits, no version prefix).
pub fn is_legacy(recorded: &str) -> bool {
    recorded.len() == 16 && recorded.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A string, length-prefixed so no content can imitate a separator.
fn s(out: &mut String, v: &str) {
    let _ = write!(out, "{}:{v};", v.len());
}

fn opt(out: &mut String, v: Option<&str>) {
    match v {
        Some(v) => s(out, v),
        None => out.push_str("-;"),
    }
}

fn list<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('[');
    for i in items {
        s(out, i);
    }
    out.push(']');
}

fn value(out: &mut String, v: &Value) {
    let text = match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("bool {b}"),
        Value::I16(n) => format!("i16 {n}"),
        Value::I32(n) => format!("i32 {n}"),
        Value::I64(n) => format!("i64 {n}"),
        Value::F32(f) => format!("f32 {:08x}", f.to_bits()),
        Value::F64(f) => format!("f64 {:016x}", f.to_bits()),
        Value::Text(t) => format!("text {t}"),
        Value::Bytes(b) => format!(
            "bytes {}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
        Value::Json(j) => format!("json {j}"),
        Value::Uuid(u) => format!("uuid {}", u.hyphenated()),
        Value::Date(d) => format!("date {d}"),
        Value::Time(t) => format!("time {t}"),
        Value::DateTime(t) => format!("datetime {t}"),
        Value::DateTimeTz(t) => format!("datetimetz {}", t.to_rfc3339()),
        Value::Decimal(d) => format!("decimal {d}"),
        Value::Numeric(n) => format!("numeric {n}"),
        Value::Inet { addr, prefix } => format!("inet {addr}/{prefix}"),
        Value::Array(items) => {
            out.push_str("array[");
            for i in items {
                value(out, i);
            }
            out.push(']');
            return;
        }
    };
    s(out, &text);
}

fn column(out: &mut String, c: &Column) {
    out.push_str("column{");
    s(out, c.name.as_str());
    s(out, &sql_type(&c.ty));
    let _ = write!(
        out,
        "{}{}{};",
        u8::from(c.nullable),
        u8::from(c.primary_key),
        u8::from(c.autoincrement)
    );
    match &c.server_default {
        None => out.push_str("-;"),
        Some(ServerDefault::Sql(sql)) => {
            out.push_str("sql ");
            s(out, sql);
        }
        Some(ServerDefault::Value(v)) => {
            out.push_str("value ");
            value(out, v);
        }
    }
    match &c.computed {
        None => out.push_str("-;"),
        Some(x) => {
            s(out, &x.sql);
            out.push_str(if x.stored { "stored;" } else { "virtual;" });
        }
    }
    match &c.identity {
        None => out.push_str("-;"),
        Some(i) => {
            let _ = write!(out, "{} {:?} {:?};", i.always, i.start, i.increment);
        }
    }
    opt(out, c.comment.as_deref());
    opt(out, c.collation.as_deref());
    out.push('}');
}

fn constraint(out: &mut String, c: &Constraint) {
    match c {
        Constraint::Unique { name, columns } => {
            out.push_str("unique{");
            opt(out, name.as_ref().map(|n| n.as_str()));
            list(out, columns.iter().map(|c| c.as_str()));
        }
        Constraint::Check { name, label, sql } => {
            out.push_str("check{");
            opt(out, name.as_ref().map(|n| n.as_str()));
            s(out, label);
            s(out, sql);
        }
        Constraint::ForeignKey(fk) => {
            out.push_str("fk{");
            opt(out, fk.name.as_ref().map(|n| n.as_str()));
            list(out, fk.columns.iter().map(|c| c.as_str()));
            s(out, fk.ref_table.as_str());
            list(out, fk.ref_columns.iter().map(|c| c.as_str()));
            opt(out, fk.on_delete.map(|a| a.sql()));
            opt(out, fk.on_update.map(|a| a.sql()));
            let _ = write!(
                out,
                "{}{};",
                u8::from(fk.deferrable),
                u8::from(fk.initially_deferred)
            );
            // Written only when set, so the checksums of migrations without it stay.
            if let Some(schema) = &fk.ref_schema {
                out.push_str("ref_schema=");
                s(out, schema.as_str());
            }
        }
    }
    out.push('}');
}

fn index(out: &mut String, ix: &Index) {
    out.push_str("index{");
    opt(out, ix.name.as_ref().map(|n| n.as_str()));
    list(out, ix.columns.iter().map(|c| c.as_str()));
    let _ = write!(out, "{};", u8::from(ix.unique));
    list(out, ix.expressions.iter().map(String::as_str));
    opt(out, ix.where_clause.as_deref());
    out.push('}');
}

fn table(out: &mut String, t: &Table) {
    out.push_str("table{");
    opt(out, t.schema.as_ref().map(|n| n.as_str()));
    s(out, t.name.as_str());
    for c in &t.columns {
        column(out, c);
    }
    opt(out, t.primary_key_name.as_ref().map(|n| n.as_str()));
    for c in &t.constraints {
        constraint(out, c);
    }
    for ix in &t.indexes {
        index(out, ix);
    }
    opt(out, t.comment.as_deref());
    out.push('}');
}

fn change(out: &mut String, c: &ColumnChange) {
    out.push_str("change{");
    opt(out, c.ty.as_ref().map(sql_type).as_deref());
    opt(out, c.nullable.map(|n| if n { "null" } else { "not null" }));
    match &c.server_default {
        None => out.push_str("-;"),
        Some(d) => {
            out.push_str("set ");
            opt(out, d.as_deref());
        }
    }
    opt(out, c.rename_to.as_deref());
    for o in [&c.comment, &c.collation] {
        match o {
            None => out.push_str("-;"),
            Some(v) => {
                out.push_str("set ");
                opt(out, v.as_deref());
            }
        }
    }
    match &c.identity {
        None => out.push_str("-;"),
        Some(i) => {
            let _ = write!(out, "{} {:?} {:?};", i.always, i.start, i.increment);
        }
    }
    out.push('}');
}

/// One operation's canonical text, one line.
fn canonical(out: &mut String, op: &Op) {
    match op {
        Op::CreateTable(t) => {
            out.push_str("create_table ");
            table(out, t);
        }
        Op::DropTable(t) => {
            out.push_str("drop_table ");
            s(out, t);
        }
        Op::RenameTable { from, to } => {
            out.push_str("rename_table ");
            s(out, from);
            s(out, to);
        }
        Op::AddColumn { table, column: c } => {
            out.push_str("add_column ");
            s(out, table);
            column(out, c);
        }
        Op::DropColumn { table, column } => {
            out.push_str("drop_column ");
            s(out, table);
            s(out, column);
        }
        Op::AlterColumn {
            table,
            column,
            change: c,
        } => {
            out.push_str("alter_column ");
            s(out, table);
            s(out, column);
            change(out, c);
        }
        Op::CreateIndex { table, index: ix } => {
            out.push_str("create_index ");
            s(out, table);
            index(out, ix);
        }
        Op::DropIndex { table, name } => {
            out.push_str("drop_index ");
            s(out, table);
            s(out, name);
        }
        Op::AddConstraint {
            table,
            constraint: c,
        } => {
            out.push_str("add_constraint ");
            s(out, table);
            constraint(out, c);
        }
        Op::DropConstraint { table, name } => {
            out.push_str("drop_constraint ");
            s(out, table);
            s(out, name);
        }
        Op::SetTableComment { table, comment } => {
            out.push_str("set_table_comment ");
            s(out, table);
            opt(out, comment.as_deref());
        }
        Op::Execute(t) => {
            out.push_str("execute ");
            s(out, &t.sql);
            for (name, v) in &t.binds {
                s(out, name);
                value(out, v);
            }
        }
        Op::Run { label, .. } => {
            out.push_str("run ");
            s(out, label);
        }
    }
    out.push('\n');
}
