//! Entity-relationship diagrams of a schema (the models' metadata or a reflected database):
//! Mermaid (`erDiagram`, rendered by GitHub and most documentation tools) and Graphviz DOT.
//! Keys are marked (PK, FK, UK), foreign keys are edges labelled with their columns, and a
//! nullable foreign key is an optional end.

use std::fmt::Write;

use oxalchemy_core::schema::{Constraint, ForeignKey, MetaData, Table};
use oxalchemy_core::SqlType;

/// The diagram formats of `schema --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Mermaid `erDiagram`.
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

/// The diagram of `md` in `format`.
pub(crate) fn render(md: &MetaData, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid(md),
        Format::Dot => dot(md),
    }
}

/// Mermaid `erDiagram` source.
pub(crate) fn mermaid(md: &MetaData) -> String {
    let mut s = String::from("erDiagram\n");
    for t in md.tables() {
        let _ = writeln!(s, "    {} {{", entity(t.name.as_str()));
        for c in &t.columns {
            let keys = keys(t, c.name.as_str());
            let keys = if keys.is_empty() {
                String::new()
            } else {
                format!(" {}", keys.join(", "))
            };
            let null = if c.nullable && !c.primary_key {
                " \"nullable\""
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "        {} {}{keys}{null}",
                type_word(&c.ty),
                attribute(c.name.as_str())
            );
        }
        s.push_str("    }\n");
    }
    for t in md.tables() {
        for fk in foreign_keys(t) {
            // Parent: exactly one (or zero or one when the key is nullable); child: many.
            let parent_end = if nullable_fk(t, fk) { "|o" } else { "||" };
            let _ = writeln!(
                s,
                "    {} {parent_end}--o{{ {} : \"{}\"",
                entity(fk.ref_table.as_str()),
                entity(t.name.as_str()),
                label(fk)
            );
        }
    }
    s
}

/// Graphviz DOT source: one record per table, an edge per foreign key (child → parent).
pub(crate) fn dot(md: &MetaData) -> String {
    let mut s = String::from(
        "digraph schema {\n    rankdir=LR;\n    node [shape=record, fontname=\"Helvetica\"];\n",
    );
    for t in md.tables() {
        let mut rows = Vec::new();
        for c in &t.columns {
            let keys = keys(t, c.name.as_str());
            let keys = if keys.is_empty() {
                String::new()
            } else {
                format!(" [{}]", keys.join(", "))
            };
            let null = if c.nullable && !c.primary_key {
                "?"
            } else {
                ""
            };
            rows.push(record_escape(&format!(
                "{}: {}{null}{keys}",
                c.name,
                type_word(&c.ty)
            )));
        }
        let _ = writeln!(
            s,
            "    {} [label=\"{{{}|{}\\l}}\"];",
            quoted(t.name.as_str()),
            record_escape(t.name.as_str()),
            rows.join("\\l")
        );
    }
    for t in md.tables() {
        for fk in foreign_keys(t) {
            let style = if nullable_fk(t, fk) {
                ", style=dashed"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "    {} -> {} [label={}{style}];",
                quoted(t.name.as_str()),
                quoted(fk.ref_table.as_str()),
                quoted(&label(fk))
            );
        }
    }
    s.push_str("}\n");
    s
}

/// PK, FK, UK marks of a column.
fn keys(t: &Table, column: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if t.columns
        .iter()
        .any(|c| c.primary_key && c.name.as_str() == column)
    {
        out.push("PK");
    }
    if foreign_keys(t).any(|fk| fk.columns.iter().any(|c| c.as_str() == column)) {
        out.push("FK");
    }
    let unique = t.constraints.iter().any(|c| {
        matches!(c, Constraint::Unique { columns, .. } if columns.len() == 1 && columns[0].as_str() == column)
    }) || t
        .indexes
        .iter()
        .any(|ix| ix.unique && ix.columns.len() == 1 && ix.columns[0].as_str() == column);
    if unique {
        out.push("UK");
    }
    out
}

fn foreign_keys(t: &Table) -> impl Iterator<Item = &ForeignKey> {
    t.constraints.iter().filter_map(|c| match c {
        Constraint::ForeignKey(fk) => Some(fk),
        _ => None,
    })
}

/// Whether every column of the foreign key may be NULL (the parent is optional).
fn nullable_fk(t: &Table, fk: &ForeignKey) -> bool {
    fk.columns.iter().all(|c| {
        t.column_named(c.as_str())
            .is_some_and(|col| col.nullable && !col.primary_key)
    })
}

/// The edge label: the foreign key's columns.
fn label(fk: &ForeignKey) -> String {
    fk.columns
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column type as one word (Mermaid attribute types cannot hold spaces or commas).
fn type_word(ty: &SqlType) -> String {
    match ty {
        SqlType::SmallInteger => "smallint".into(),
        SqlType::Integer => "integer".into(),
        SqlType::BigInteger => "bigint".into(),
        SqlType::Boolean => "boolean".into(),
        SqlType::Float => "real".into(),
        SqlType::Double => "double".into(),
        SqlType::Numeric(_) => "numeric".into(),
        SqlType::String(_) => "varchar".into(),
        SqlType::Text => "text".into(),
        SqlType::Binary => "binary".into(),
        SqlType::Date => "date".into(),
        SqlType::Time => "time".into(),
        SqlType::DateTime { timezone: true } => "timestamptz".into(),
        SqlType::DateTime { timezone: false } => "timestamp".into(),
        SqlType::Uuid => "uuid".into(),
        SqlType::Json => "json".into(),
        SqlType::JsonB => "jsonb".into(),
        SqlType::Enum { name, .. } => word(name),
        SqlType::Inet => "inet".into(),
        SqlType::Cidr => "cidr".into(),
        SqlType::Char(_) => "char".into(),
        SqlType::Interval => "interval".into(),
        SqlType::TimePrecision(_) => "time".into(),
        SqlType::DateTimePrecision { timezone: true, .. } => "timestamptz".into(),
        SqlType::DateTimePrecision {
            timezone: false, ..
        } => "timestamp".into(),
        // Brackets are not safe in every Mermaid version's attribute types.
        SqlType::Array(inner) => format!("{}_array", type_word(inner)),
    }
}

/// A Mermaid entity name: letters, digits, `_` and `-` (anything else becomes `_`).
fn entity(name: &str) -> String {
    word(name)
}

/// A Mermaid attribute name.
fn attribute(name: &str) -> String {
    word(name)
}

fn word(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        s.insert(0, '_');
    }
    s
}

/// A DOT string literal.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Text inside a DOT record label, where `{ } | < >` and spaces at the ends are syntax.
fn record_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '{' | '}' | '|' | '<' | '>' | '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
