//! Reflected tables as `#[derive(Model)]` source: one struct per table (association tables
//! of many-to-many relationships become `Table` functions, as in the guide), a `DbEnum` per
//! PostgreSQL enum type, relationships both ways, and a `registry()` listing everything.
//!
//! Everything the derive can say is said with the reflected names, so `create_all` of the
//! models builds the same schema: indexes and unique constraints are declared on the struct
//! with their names; what the derive cannot express (a composite foreign key, a constraint
//! whose name the naming convention would not produce, NUMERIC precision) is written as a
//! `// NOTE:` comment where it belongs, and listed by [`Generated::notes`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use oxalchemy_core::schema::{
    Column, Constraint, ForeignKey, MetaData, ReferentialAction, ServerDefault, Table,
};
use oxalchemy_core::SqlType;
use oxalchemy_migrate::script::table_code;

use super::names::{association_column, enum_name, field_name, struct_name, variant_name};

/// Generated source and what could not be expressed.
#[derive(Debug)]
pub(crate) struct Generated {
    /// The Rust source (not yet formatted).
    pub(crate) source: String,
    /// Crates the source names besides oxalchemy (`chrono`, `uuid`, …).
    pub(crate) crates: BTreeSet<&'static str>,
    /// What the derive cannot express, one line each.
    pub(crate) notes: Vec<String>,
}

/// The models for every table of `md`.
pub(crate) fn models_source(md: &MetaData) -> Generated {
    let g = Gen::new(md);
    g.render()
}

/// A relationship field to write on a struct.
struct Rel {
    field: String,
    ty: String,
    attrs: Vec<String>,
}

struct Gen<'m> {
    md: &'m MetaData,
    /// Association tables, with their two foreign keys.
    associations: BTreeMap<String, (ForeignKey, ForeignKey)>,
    /// Struct name per model table.
    names: BTreeMap<String, String>,
    crates: BTreeSet<&'static str>,
    notes: Vec<String>,
}

impl<'m> Gen<'m> {
    fn new(md: &'m MetaData) -> Self {
        let associations: BTreeMap<String, (ForeignKey, ForeignKey)> = md
            .tables()
            .iter()
            .filter_map(|t| association(md, t).map(|fks| (t.name.to_string(), fks)))
            .collect();
        let mut names = BTreeMap::new();
        let mut used = BTreeSet::new();
        for t in md.tables() {
            if associations.contains_key(t.name.as_str()) {
                continue;
            }
            let mut name = struct_name(t.name.as_str());
            while !used.insert(name.clone()) {
                name.push_str("Row");
            }
            names.insert(t.name.to_string(), name);
        }
        Gen {
            md,
            associations,
            names,
            crates: BTreeSet::new(),
            notes: Vec::new(),
        }
    }

    fn render(mut self) -> Generated {
        let mut s = String::from(
            "//! Models generated from the database by `oxalchemy generate models`: review them,\n\
             //! then register them (`registry()`) with your migrate binary.\n\n\
             #![allow(missing_docs)]\n\nuse oxalchemy::prelude::*;\n",
        );
        if !self.associations.is_empty() {
            s.push_str("use oxalchemy::core::schema::ForeignKey;\n");
        }
        for (name, variants) in self.enums() {
            s.push('\n');
            s.push_str(&enum_source(&name, &variants));
        }
        for t in self.md.tables() {
            s.push('\n');
            if self.associations.contains_key(t.name.as_str()) {
                let _ = writeln!(
                    s,
                    "/// The association table `{}` (many-to-many).\npub fn {}() -> Table {{\n    {}\n}}",
                    t.name,
                    fn_name(t.name.as_str()),
                    table_code(t)
                );
            } else {
                let text = self.model_source(t);
                s.push_str(&text);
            }
        }
        s.push_str("\n/// Every model and association table above.\npub fn registry() -> Registry {\n    Registry::new()");
        for t in self.md.tables() {
            match self.names.get(t.name.as_str()) {
                Some(name) => {
                    let _ = write!(s, "\n        .model::<{name}>()");
                }
                None => {
                    let _ = write!(s, "\n        .table({}())", fn_name(t.name.as_str()));
                }
            }
        }
        s.push_str("\n}\n");
        Generated {
            source: s,
            crates: self.crates,
            notes: self.notes,
        }
    }

    /// The PostgreSQL enum types the columns use, by name.
    fn enums(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for t in self.md.tables() {
            for c in &t.columns {
                if let SqlType::Enum {
                    name,
                    variants,
                    native: true,
                } = &c.ty
                {
                    out.insert(name.clone(), variants.clone());
                }
            }
        }
        out
    }

    fn model_source(&mut self, t: &Table) -> String {
        let table = t.name.as_str();
        let name = self.names[table].clone();
        let mut model_attrs = vec![format!("table = {table:?}")];
        let mut notes: Vec<String> = Vec::new();
        let single_pk = t.primary_key().count() == 1;
        if let Some(pk_name) = &t.primary_key_name {
            let expected = format!("pk_{table}");
            if pk_name.as_str() != expected {
                notes.push(format!(
                    "the primary key is named `{pk_name}`; the naming convention names it `{expected}`"
                ));
            }
        }
        for c in &t.constraints {
            match c {
                Constraint::Unique { name, columns } => {
                    let cols = self.column_fields(columns);
                    let named = name
                        .as_ref()
                        .map(|n| format!(", name = {:?}", n.as_str()))
                        .unwrap_or_default();
                    model_attrs.push(format!("unique(columns({cols}){named})"));
                }
                Constraint::Check { name, label, sql } => {
                    let prefix = format!("ck_{table}_");
                    let label = match name {
                        Some(n) => match n.as_str().strip_prefix(&prefix) {
                            Some(l) => l.to_owned(),
                            None => {
                                notes.push(format!(
                                    "the CHECK `{n}` will be named `{prefix}{n}` by the naming convention"
                                ));
                                n.to_string()
                            }
                        },
                        None => label.clone(),
                    };
                    model_attrs.push(format!("check(name = {label:?}, sql = {sql:?})"));
                }
                Constraint::ForeignKey(fk) if fk.columns.len() > 1 => {
                    notes.push(format!(
                        "composite foreign key ({}) -> {}({}) is not expressible in #[derive(Model)]; \
                         keep it in a migration",
                        join(&fk.columns),
                        fk.ref_table,
                        join(&fk.ref_columns)
                    ));
                }
                Constraint::ForeignKey(fk) => {
                    let expected = format!("fk_{table}_{}_{}", fk.columns[0], fk.ref_table);
                    if let Some(n) = &fk.name {
                        if n.as_str() != expected {
                            notes.push(format!(
                                "the foreign key `{n}` will be named `{expected}` by the naming convention"
                            ));
                        }
                    }
                }
            }
        }
        for ix in &t.indexes {
            let cols = self.column_fields(&ix.columns);
            let named = ix
                .name
                .as_ref()
                .map(|n| format!(", name = {:?}", n.as_str()))
                .unwrap_or_default();
            let unique = if ix.unique { ", unique" } else { "" };
            model_attrs.push(format!("index(columns({cols}){named}{unique})"));
        }
        let mut s = format!(
            "/// The table `{table}`.\n#[derive(Model, Clone, Debug, Default, PartialEq)]\n#[model(\n    {}\n)]\npub struct {name} {{\n",
            model_attrs.join(",\n    ")
        );
        for n in &notes {
            let _ = writeln!(s, "    // NOTE: {n}");
            self.notes.push(format!("{table}: {n}"));
        }
        let fields: BTreeSet<String> = t
            .columns
            .iter()
            .map(|c| field_name(c.name.as_str()).0)
            .collect();
        for c in &t.columns {
            s.push_str(&self.field_source(t, c, single_pk));
        }
        for rel in self.relationships(t, &fields) {
            let _ = writeln!(
                s,
                "    #[relationship({})]\n    pub {}: {},",
                rel.attrs.join(", "),
                rel.field,
                rel.ty
            );
        }
        s.push_str("}\n");
        s
    }

    /// A column as a field with its `#[column(…)]` attribute.
    fn field_source(&mut self, t: &Table, c: &Column, single_pk: bool) -> String {
        let (field, renamed) = field_name(c.name.as_str());
        let mut attrs = Vec::new();
        let mut s = String::new();
        if c.primary_key {
            attrs.push("primary_key".to_owned());
            if single_pk && c.ty.is_integer() && !c.autoincrement {
                attrs.push("autoincrement = false".to_owned());
            }
        }
        if renamed {
            attrs.push(format!("name = {:?}", c.name.as_str()));
        }
        let (ty, extra, note) = self.rust_type(&c.ty);
        attrs.extend(extra);
        if let Some(n) = note {
            let _ = writeln!(s, "    // NOTE: {n}");
            self.notes.push(format!("{}.{}: {n}", t.name, c.name));
        }
        match &c.server_default {
            Some(ServerDefault::Sql(sql)) => attrs.push(format!("server_default = {sql:?}")),
            Some(ServerDefault::Value(v)) => {
                let mut lit = String::new();
                match v {
                    oxalchemy_core::Value::Text(t) => {
                        oxalchemy_core::dialect::quote_literal(&mut lit, t)
                    }
                    other => lit = format!("{other:?}"),
                }
                attrs.push(format!("server_default = {lit:?}"));
            }
            None => {}
        }
        for fk in foreign_keys(t) {
            if fk.columns.len() == 1 && fk.columns[0] == c.name {
                attrs.push(format!(
                    "foreign_key = \"{}.{}\"",
                    fk.ref_table, fk.ref_columns[0]
                ));
                if let Some(a) = fk.on_delete {
                    attrs.push(format!("on_delete = {:?}", action(a)));
                }
                if let Some(a) = fk.on_update {
                    attrs.push(format!("on_update = {:?}", action(a)));
                }
            }
        }
        let ty = if c.nullable && !c.primary_key {
            format!("Option<{ty}>")
        } else {
            ty
        };
        if !attrs.is_empty() {
            let _ = writeln!(s, "    #[column({})]", attrs.join(", "));
        }
        let _ = writeln!(s, "    pub {field}: {ty},");
        s
    }

    /// The Rust type of a column, the `#[column]` keys the type needs, and a note when the
    /// derive cannot say the same type.
    fn rust_type(&mut self, ty: &SqlType) -> (String, Vec<String>, Option<String>) {
        let mut extra = Vec::new();
        let mut note = None;
        let t = match ty {
            SqlType::SmallInteger => "i16".to_owned(),
            SqlType::Integer => "i32".to_owned(),
            SqlType::BigInteger => "i64".to_owned(),
            SqlType::Boolean => "bool".to_owned(),
            SqlType::Float => "f32".to_owned(),
            SqlType::Double => "f64".to_owned(),
            SqlType::Numeric(p) => {
                self.crates.insert("rust_decimal");
                if let Some((p, s)) = p {
                    note = Some(format!(
                        "NUMERIC({p}, {s}) in the database; the derive declares NUMERIC without precision"
                    ));
                }
                "rust_decimal::Decimal".to_owned()
            }
            SqlType::String(Some(n)) => {
                extra.push(format!("length = {n}"));
                "String".to_owned()
            }
            SqlType::String(None) => {
                note = Some("VARCHAR without a length; the derive declares TEXT".to_owned());
                "String".to_owned()
            }
            SqlType::Text => "String".to_owned(),
            SqlType::Binary => "Vec<u8>".to_owned(),
            SqlType::Date => self.chrono("NaiveDate"),
            SqlType::Time | SqlType::TimePrecision(_) => self.chrono("NaiveTime"),
            SqlType::DateTime { timezone: false }
            | SqlType::DateTimePrecision {
                timezone: false, ..
            } => self.chrono("NaiveDateTime"),
            SqlType::DateTime { timezone: true }
            | SqlType::DateTimePrecision { timezone: true, .. } => {
                self.chrono("DateTime<chrono::Utc>")
            }
            SqlType::Char(_) => "String".to_owned(),
            SqlType::Interval => {
                note = Some("INTERVAL has no oxalchemy value type yet: map it by hand".to_owned());
                "String".to_owned()
            }
            SqlType::Uuid => {
                self.crates.insert("uuid");
                "uuid::Uuid".to_owned()
            }
            SqlType::Json | SqlType::JsonB => {
                self.crates.insert("serde_json");
                extra.push(
                    if matches!(ty, SqlType::JsonB) {
                        "jsonb"
                    } else {
                        "json"
                    }
                    .into(),
                );
                "serde_json::Value".to_owned()
            }
            SqlType::Enum {
                name, native: true, ..
            } => enum_name(name),
            SqlType::Enum { variants, .. } => {
                let n = variants.iter().map(String::len).max().unwrap_or(1);
                extra.push(format!("length = {n}"));
                "String".to_owned()
            }
            SqlType::Inet => "std::net::IpAddr".to_owned(),
            SqlType::Cidr => {
                note = Some("CIDR needs oxalchemy's `ipnetwork` feature".to_owned());
                "oxalchemy::orm::Cidr".to_owned()
            }
            SqlType::Array(inner) => {
                let (inner, _, inner_note) = self.rust_type(inner);
                note = note.or(inner_note);
                format!("Vec<{inner}>")
            }
        };
        (t, extra, note)
    }

    fn chrono(&mut self, ty: &str) -> String {
        self.crates.insert("chrono");
        format!("chrono::{ty}")
    }

    /// The relationships of model table `t`: many-to-one for each of its single-column
    /// foreign keys, one-to-many for each referencing it, many-to-many through
    /// association tables.
    fn relationships(&self, t: &Table, fields: &BTreeSet<String>) -> Vec<Rel> {
        let mut out = Vec::new();
        let mut taken = fields.clone();
        let mut unique = |base: String| {
            let mut name = base;
            while !taken.insert(name.clone()) {
                name.push_str("_rel");
            }
            name
        };
        // Every single-column foreign key between two model tables, once, with the names of
        // both ends computed the same way from either side.
        for (child, fk) in self.model_fks() {
            let parent = fk.ref_table.as_str();
            let col = fk.columns[0].as_str();
            let (one_name, many_name) = rel_names(child, fk);
            if child.name == t.name {
                out.push(Rel {
                    field: unique(one_name.clone()),
                    ty: format!("One<{}>", self.names[parent]),
                    attrs: vec![
                        format!("foreign_key = {col:?}"),
                        format!("back_populates = {many_name:?}"),
                    ],
                });
            }
            if parent == t.name.as_str() {
                out.push(Rel {
                    field: unique(many_name.clone()),
                    ty: format!("Many<{}>", self.names[child.name.as_str()]),
                    attrs: vec![
                        format!("foreign_key = {col:?}"),
                        format!("back_populates = {one_name:?}"),
                    ],
                });
            }
        }
        for (assoc, (a, b)) in &self.associations {
            for (mine, other) in [(a, b), (b, a)] {
                if mine.ref_table == t.name && other.ref_table != t.name {
                    out.push(Rel {
                        field: unique(other.ref_table.to_string()),
                        ty: format!("Many<{}>", self.names[other.ref_table.as_str()]),
                        attrs: vec![format!("secondary = {assoc:?}")],
                    });
                }
            }
        }
        out
    }

    /// Single-column foreign keys from a model table to a model table.
    fn model_fks(&self) -> Vec<(&'m Table, &'m ForeignKey)> {
        let mut out = Vec::new();
        for t in self.md.tables() {
            if !self.names.contains_key(t.name.as_str()) {
                continue;
            }
            for fk in foreign_keys(t) {
                if fk.columns.len() == 1 && self.names.contains_key(fk.ref_table.as_str()) {
                    out.push((t, fk));
                }
            }
        }
        out
    }

    /// Column names as the fields listed in `columns(…)`.
    fn column_fields(&self, columns: &[oxalchemy_core::Ident]) -> String {
        columns
            .iter()
            .map(|c| field_name(c.as_str()).0)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `(many-to-one name on the child, one-to-many name on the parent)` for `fk` of `child`:
/// `author_id` → `author`; the parent's side is the child table's name, qualified by the
/// relationship when the child has several foreign keys to the same parent.
fn rel_names(child: &Table, fk: &ForeignKey) -> (String, String) {
    let col = fk.columns[0].as_str();
    let base = col
        .strip_suffix("_id")
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{col}_ref"));
    let one = field_name(&base).0;
    let several = foreign_keys(child)
        .filter(|f| f.columns.len() == 1 && f.ref_table == fk.ref_table)
        .count()
        > 1;
    let many = if several || child.name == fk.ref_table {
        format!("{}_by_{}", child.name, one)
    } else {
        child.name.to_string()
    };
    (one, field_name(&many).0)
}

/// A table that only joins two others: two single-column foreign keys whose columns are the
/// whole table and its primary key, named as the ORM expects (`post_id`, `tag_id`).
fn association(md: &MetaData, t: &Table) -> Option<(ForeignKey, ForeignKey)> {
    let fks: Vec<&ForeignKey> = foreign_keys(t).collect();
    let [a, b] = fks.as_slice() else {
        return None;
    };
    let simple = |fk: &ForeignKey| {
        fk.columns.len() == 1
            && fk.columns[0].as_str() == association_column(fk.ref_table.as_str())
            && md.table(fk.ref_table.as_str()).is_some()
    };
    let only_keys = t.columns.len() == 2 && t.columns.iter().all(|c| c.primary_key);
    (simple(a) && simple(b) && only_keys && a.ref_table != b.ref_table)
        .then(|| ((*a).clone(), (*b).clone()))
}

fn foreign_keys(t: &Table) -> impl Iterator<Item = &ForeignKey> {
    t.constraints.iter().filter_map(|c| match c {
        Constraint::ForeignKey(fk) => Some(fk),
        _ => None,
    })
}

fn action(a: ReferentialAction) -> &'static str {
    match a {
        ReferentialAction::Cascade => "cascade",
        ReferentialAction::SetNull => "set null",
        ReferentialAction::SetDefault => "set default",
        ReferentialAction::Restrict => "restrict",
        ReferentialAction::NoAction => "no action",
    }
}

fn join(idents: &[oxalchemy_core::Ident]) -> String {
    idents
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A function name for an association table.
fn fn_name(table: &str) -> String {
    field_name(table).0
}

/// A `#[derive(DbEnum)]` for a PostgreSQL enum type.
fn enum_source(type_name: &str, variants: &[String]) -> String {
    let mut s = format!(
        "/// The PostgreSQL enum type `{type_name}`.\n#[derive(DbEnum, Clone, Copy, Debug, Default, PartialEq)]\n#[db_enum(name = {type_name:?}, native)]\npub enum {} {{\n",
        enum_name(type_name)
    );
    for (i, v) in variants.iter().enumerate() {
        if i == 0 {
            s.push_str("    #[default]\n");
        }
        let _ = writeln!(
            s,
            "    #[db_enum(rename = {v:?})]\n    {},",
            variant_name(v)
        );
    }
    s.push_str("}\n");
    s
}
