//! Attribute parsing: `#[column(…)]`, `#[model(…)]`, `#[relationship(…)]` and `#[db_enum(…)]`
//! become typed values here, and nowhere else.
//!
//! Every check that needs only the attribute itself happens while parsing (a foreign key's
//! `table.column` form, a referential action, a cascade list, a `lazy` strategy), so each
//! error points at the token the user wrote. Checks that need the whole struct (an index
//! naming a field, a missing primary key) live in `field.rs` and `model.rs`.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprPath, Ident, LitBool, LitInt, LitStr, Path};

/// What one field's `#[column(…)]` attributes say (several attributes accumulate).
#[derive(Default)]
pub(crate) struct ColumnAttrs {
    /// `primary_key`.
    pub(crate) primary_key: bool,
    /// `autoincrement = bool`; unset lets a lone integer key be generated.
    pub(crate) autoincrement: Option<bool>,
    /// `length = n`, for `VARCHAR(n)`.
    pub(crate) length: Option<u32>,
    /// `unique`.
    pub(crate) unique: bool,
    /// `index`.
    pub(crate) index: bool,
    /// `default = …`, applied on insert while the field is unset.
    pub(crate) default: Option<DefaultValue>,
    /// `server_default = "sql"`.
    pub(crate) server_default: Option<LitStr>,
    /// `comment = "text"` (PostgreSQL `COMMENT ON COLUMN`).
    pub(crate) comment: Option<LitStr>,
    /// `collation = "name"`.
    pub(crate) collation: Option<LitStr>,
    /// `computed = "sql"`: a generated column, read and never written.
    pub(crate) computed: Option<LitStr>,
    /// `persisted = bool` (with `computed`): `STORED` (the default) or `VIRTUAL`.
    pub(crate) persisted: Option<LitBool>,
    /// `onupdate = …`, applied on every update.
    pub(crate) onupdate: Option<DefaultValue>,
    /// `foreign_key = "table.column"`.
    pub(crate) foreign_key: Option<ForeignKey>,
    /// `on_delete = "…"`.
    pub(crate) on_delete: Option<WithSpan<ReferentialAction>>,
    /// `on_update = "…"`.
    pub(crate) on_update: Option<WithSpan<ReferentialAction>>,
    /// `json` or `jsonb`.
    pub(crate) json: Option<Json>,
    /// `name = "column"`: the column's name when it differs from the field's.
    pub(crate) name: Option<LitStr>,
    /// `validate = path`: a `fn(&T) -> Result<(), impl ToString>`.
    pub(crate) validate: Option<Path>,
    /// `skip`: not a column (same as `#[model(skip)]`).
    pub(crate) skip: bool,
    /// `version`: the optimistic-concurrency counter.
    pub(crate) version: bool,
}

/// A value with the span of the literal it was parsed from, for later errors.
pub(crate) struct WithSpan<T> {
    /// The parsed value.
    pub(crate) value: T,
    /// Where the user wrote it.
    pub(crate) span: Span,
}

/// `default = …` / `onupdate = …`, by what the generated code does with it.
pub(crate) enum DefaultValue {
    /// `now`: the library's current timestamp.
    Now,
    /// A lower-case path (`new_token`): a function to call.
    Call(ExprPath),
    /// Anything else (`10`, `Status::Active`): a value converted with `Into`.
    Value(Expr),
}

/// A parsed `foreign_key = "table.column"`.
pub(crate) struct ForeignKey {
    /// The referenced table.
    pub(crate) table: String,
    /// The referenced column.
    pub(crate) column: String,
}

/// `on_delete` / `on_update` actions, named as `ReferentialAction`'s variants.
#[derive(Clone, Copy)]
pub(crate) enum ReferentialAction {
    /// `"cascade"`.
    Cascade,
    /// `"set null"`.
    SetNull,
    /// `"set default"`.
    SetDefault,
    /// `"restrict"`.
    Restrict,
    /// `"no action"`.
    NoAction,
}

/// `#[column(json)]` / `#[column(jsonb)]`.
#[derive(Clone, Copy)]
pub(crate) struct Json {
    /// `jsonb` (binary JSON on PostgreSQL).
    pub(crate) binary: bool,
    /// The attribute's span: serde errors on the field's type are reported there.
    pub(crate) span: Span,
}

/// A field-level `#[model(…)]`.
#[derive(Default)]
pub(crate) struct FieldModelAttrs {
    /// `flatten`: the field is a mixin whose columns are embedded.
    pub(crate) flatten: bool,
    /// `skip`: not a column; rebuilt with `Default` when a row is read.
    pub(crate) skip: bool,
}

/// What `#[relationship(…)]` says.
#[derive(Default)]
pub(crate) struct RelationshipAttrs {
    /// `back_populates = "field"`: the reverse relationship on the target.
    pub(crate) back_populates: Option<LitStr>,
    /// `secondary = "table"`: the association table of a many-to-many relationship.
    pub(crate) secondary: Option<LitStr>,
    /// `foreign_key = "column"`: when it cannot be inferred.
    pub(crate) foreign_key: Option<LitStr>,
    /// `order_by = "column"`: the target column a collection is ordered by.
    pub(crate) order_by: Option<LitStr>,
    /// `cascade = "…"`.
    pub(crate) cascade: Cascade,
    /// `passive_deletes`: leave child rows to the database's `ON DELETE CASCADE`.
    pub(crate) passive_deletes: bool,
    /// `lazy = "…"`.
    pub(crate) lazy: Lazy,
}

/// The parts of a `cascade = "…"` list that change what the library does; `save-update`
/// and `merge` are accepted for SQLAlchemy users and always on.
#[derive(Default, Clone, Copy)]
pub(crate) struct Cascade {
    /// `all` or `delete`: deleting the parent deletes its children.
    pub(crate) delete: bool,
    /// `delete-orphan`: a child unlinked from its parent is deleted.
    pub(crate) delete_orphan: bool,
}

/// `lazy = "…"`: when a relationship is loaded.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lazy {
    /// Only when a query asks (the default); reading it unloaded is an error, never a query.
    #[default]
    Raise,
    /// By every query of the model, with a second `SELECT … IN`.
    Selectin,
    /// By every query of the model, with a `JOIN`.
    Joined,
}

/// A struct-level `#[model(…)]` (several attributes accumulate).
#[derive(Default)]
pub(crate) struct ModelAttrs {
    /// `table = "name"`.
    pub(crate) table: Option<LitStr>,
    /// `index(…)`, in order.
    pub(crate) indexes: Vec<IndexDecl>,
    /// `unique(…)`, in order.
    pub(crate) uniques: Vec<IndexDecl>,
    /// `check(…)`, in order.
    pub(crate) checks: Vec<CheckDecl>,
    /// `validate = path`: a `fn(&Self) -> Result<(), impl ToString>`.
    pub(crate) validate: Option<Path>,
    /// `hooks`: the model implements `Hooks`, whose methods the session calls at flush.
    pub(crate) hooks: Option<proc_macro2::Span>,
}

/// `index(name = "…", columns(a, b), unique)` or `unique(name = "…", columns(a, b))`.
pub(crate) struct IndexDecl {
    /// The constraint or index name; unnamed ones are named by `MetaData`.
    pub(crate) name: Option<LitStr>,
    /// The fields it covers (resolved to column names in `model.rs`).
    pub(crate) columns: Vec<Ident>,
    /// A unique index (always true for `unique(…)`).
    pub(crate) unique: bool,
}

/// `check(name = "…", sql = "…")`.
pub(crate) struct CheckDecl {
    /// The constraint name.
    pub(crate) name: LitStr,
    /// The SQL condition.
    pub(crate) sql: LitStr,
}

/// An enum-level `#[db_enum(…)]`.
#[derive(Default)]
pub(crate) struct DbEnumAttrs {
    /// `name = "type"`: the database type name.
    pub(crate) name: Option<LitStr>,
    /// `native`: a PostgreSQL enum type instead of text with a CHECK.
    pub(crate) native: bool,
}

impl ColumnAttrs {
    /// Reads one key of a `#[column(…)]` attribute.
    pub(crate) fn parse_key(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let p = &meta.path;
        if p.is_ident("primary_key") {
            self.primary_key = true;
        } else if p.is_ident("autoincrement") {
            self.autoincrement = Some(meta.value()?.parse::<LitBool>()?.value);
        } else if p.is_ident("length") {
            self.length = Some(meta.value()?.parse::<LitInt>()?.base10_parse()?);
        } else if p.is_ident("unique") {
            self.unique = true;
        } else if p.is_ident("index") {
            self.index = true;
        } else if p.is_ident("default") {
            self.default = Some(DefaultValue::from_expr(meta.value()?.parse()?));
        } else if p.is_ident("server_default") {
            self.server_default = Some(meta.value()?.parse()?);
        } else if p.is_ident("comment") {
            self.comment = Some(meta.value()?.parse()?);
        } else if p.is_ident("collation") {
            self.collation = Some(meta.value()?.parse()?);
        } else if p.is_ident("computed") {
            self.computed = Some(meta.value()?.parse()?);
        } else if p.is_ident("persisted") {
            self.persisted = Some(meta.value()?.parse()?);
        } else if p.is_ident("onupdate") {
            self.onupdate = Some(DefaultValue::from_expr(meta.value()?.parse()?));
        } else if p.is_ident("foreign_key") {
            self.foreign_key = Some(ForeignKey::parse(&meta.value()?.parse()?)?);
        } else if p.is_ident("on_delete") {
            self.on_delete = Some(ReferentialAction::parse(&meta.value()?.parse()?)?);
        } else if p.is_ident("on_update") {
            self.on_update = Some(ReferentialAction::parse(&meta.value()?.parse()?)?);
        } else if p.is_ident("json") || p.is_ident("jsonb") {
            let binary = p.is_ident("jsonb");
            self.json = Some(Json {
                binary,
                span: p.span(),
            });
        } else if p.is_ident("name") {
            self.name = Some(meta.value()?.parse()?);
        } else if p.is_ident("validate") {
            self.validate = Some(meta.value()?.parse()?);
        } else if p.is_ident("skip") {
            self.skip = true;
        } else if p.is_ident("version") {
            self.version = true;
        } else {
            return Err(unknown(meta, "column", COLUMN_KEYS));
        }
        Ok(())
    }

    /// Checks that need all of a field's column keys: referential actions need a foreign key;
    /// a generated column is written by the database alone.
    pub(crate) fn check(&self) -> syn::Result<()> {
        if let (Some(p), None) = (&self.persisted, &self.computed) {
            return Err(syn::Error::new(
                p.span(),
                "persisted needs computed = \"sql\" (it chooses STORED or VIRTUAL)",
            ));
        }
        if let Some(sql) = &self.computed {
            let clash = [
                (self.primary_key, "primary_key"),
                (self.default.is_some(), "default"),
                (self.server_default.is_some(), "server_default"),
                (self.onupdate.is_some(), "onupdate"),
                (self.version, "version"),
            ];
            if let Some((_, key)) = clash.iter().find(|(set, _)| *set) {
                return Err(syn::Error::new(
                    sql.span(),
                    format!(
                        "a computed column is written by the database alone: remove `{key}` \
                         or `computed`"
                    ),
                ));
            }
        }
        if self.foreign_key.is_none() {
            if let Some(action) = self.on_delete.as_ref().or(self.on_update.as_ref()) {
                return Err(syn::Error::new(
                    action.span,
                    "on_delete / on_update need a foreign_key = \"table.column\"",
                ));
            }
        }
        Ok(())
    }
}

impl DefaultValue {
    /// `now` → the library's `now()`; `some_fn` → `some_fn()`; anything else is a value.
    fn from_expr(e: Expr) -> Self {
        match e {
            Expr::Path(p) if p.path.is_ident("now") => Self::Now,
            // A lower-case name is a function to call; `Status::Active` is a value.
            Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| {
                    s.ident
                        .to_string()
                        .trim_start_matches("r#")
                        .starts_with(|c: char| c.is_lowercase())
                }) =>
            {
                Self::Call(p)
            }
            other => Self::Value(other),
        }
    }
}

impl ForeignKey {
    /// `"table.column"`; anything without a dot is rejected at the literal.
    fn parse(lit: &LitStr) -> syn::Result<Self> {
        match lit.value().split_once('.') {
            Some((table, column)) => Ok(Self {
                table: table.to_owned(),
                column: column.to_owned(),
            }),
            None => Err(syn::Error::new(
                lit.span(),
                "foreign_key takes \"table.column\", e.g. foreign_key = \"users.id\"",
            )),
        }
    }
}

impl ReferentialAction {
    /// Case, `_` and `-` are ignored: `"SET_NULL"`, `"set-null"` and `"set null"` agree.
    fn parse(lit: &LitStr) -> syn::Result<WithSpan<Self>> {
        let v = lit.value().to_ascii_lowercase().replace(['_', '-'], " ");
        let value = match v.as_str() {
            "cascade" => Self::Cascade,
            "set null" => Self::SetNull,
            "set default" => Self::SetDefault,
            "restrict" => Self::Restrict,
            "no action" => Self::NoAction,
            _ => {
                return Err(syn::Error::new(
                    lit.span(),
                    "expected \"cascade\", \"set null\", \"set default\", \"restrict\" or \"no action\"",
                ))
            }
        };
        Ok(WithSpan {
            value,
            span: lit.span(),
        })
    }
}

impl FieldModelAttrs {
    /// Reads one key of a field-level `#[model(…)]`.
    pub(crate) fn parse_key(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("flatten") {
            self.flatten = true;
        } else if meta.path.is_ident("skip") {
            self.skip = true;
        } else {
            return Err(unknown(meta, "field model", FIELD_MODEL_KEYS));
        }
        Ok(())
    }
}

impl RelationshipAttrs {
    /// Reads one key of a `#[relationship(…)]`.
    pub(crate) fn parse_key(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let slot = if meta.path.is_ident("passive_deletes") {
            self.passive_deletes = true;
            return Ok(());
        } else if meta.path.is_ident("lazy") {
            self.lazy = Lazy::parse(&meta.value()?.parse()?)?;
            return Ok(());
        } else if meta.path.is_ident("cascade") {
            self.cascade = Cascade::parse(&meta.value()?.parse()?)?;
            return Ok(());
        } else if meta.path.is_ident("back_populates") {
            &mut self.back_populates
        } else if meta.path.is_ident("secondary") {
            &mut self.secondary
        } else if meta.path.is_ident("foreign_key") {
            &mut self.foreign_key
        } else if meta.path.is_ident("order_by") {
            &mut self.order_by
        } else {
            return Err(unknown(meta, "relationship", RELATIONSHIP_KEYS));
        };
        *slot = Some(meta.value()?.parse()?);
        Ok(())
    }
}

impl Lazy {
    fn parse(lit: &LitStr) -> syn::Result<Self> {
        match lit.value().as_str() {
            "selectin" => Ok(Self::Selectin),
            "joined" => Ok(Self::Joined),
            "raise" => Ok(Self::Raise),
            _ => Err(syn::Error::new(
                lit.span(),
                "lazy takes \"selectin\" or \"joined\" (eager by default) or \"raise\" (the default: never loaded implicitly)",
            )),
        }
    }
}

impl Cascade {
    /// A comma-separated list of SQLAlchemy's cascade names.
    fn parse(lit: &LitStr) -> syn::Result<Self> {
        let mut out = Self::default();
        for part in lit.value().split(',').map(str::trim) {
            match part {
                "all" | "delete" => out.delete = true,
                "delete-orphan" => out.delete_orphan = true,
                "save-update" | "merge" | "" => {}
                _ => {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "unknown cascade `{part}`; expected a list of: all, save-update, merge, delete, delete-orphan"
                        ),
                    ))
                }
            }
        }
        Ok(out)
    }
}

impl ModelAttrs {
    /// Reads every struct-level `#[model(…)]` of `attrs`.
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("model")) {
            attr.parse_nested_meta(|meta| out.parse_key(&meta))?;
        }
        Ok(out)
    }

    fn parse_key(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("table") {
            self.table = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("validate") {
            self.validate = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("hooks") {
            self.hooks = Some(meta.path.span());
        } else if meta.path.is_ident("index") {
            self.indexes.push(IndexDecl::parse(meta, Declared::Index)?);
        } else if meta.path.is_ident("unique") {
            self.uniques
                .push(IndexDecl::parse(meta, Declared::UniqueConstraint)?);
        } else if meta.path.is_ident("check") {
            self.checks.push(CheckDecl::parse(meta)?);
        } else {
            return Err(unknown(meta, "model", MODEL_KEYS));
        }
        Ok(())
    }
}

/// Which struct-level declaration an [`IndexDecl`] comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Declared {
    /// `index(…)`, where `unique` is an option.
    Index,
    /// `unique(…)`, a unique constraint.
    UniqueConstraint,
}

impl IndexDecl {
    /// `index(name = "…", columns(…), unique)` or `unique(name = "…", columns(…))`.
    fn parse(meta: &ParseNestedMeta<'_>, declared: Declared) -> syn::Result<Self> {
        let mut decl = Self {
            name: None,
            columns: Vec::new(),
            unique: declared == Declared::UniqueConstraint,
        };
        meta.parse_nested_meta(|m| {
            if m.path.is_ident("name") {
                decl.name = Some(m.value()?.parse()?);
            } else if m.path.is_ident("columns") {
                decl.columns = parse_field_list(&m)?;
            } else if m.path.is_ident("unique") && declared == Declared::Index {
                decl.unique = true;
            } else {
                return Err(unknown(&m, "index/unique", "name, columns(…), unique"));
            }
            Ok(())
        })?;
        if decl.columns.is_empty() {
            return Err(meta.error("needs columns(field, …)"));
        }
        Ok(decl)
    }
}

impl CheckDecl {
    fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Self> {
        let (mut name, mut sql) = (None, None);
        meta.parse_nested_meta(|m| {
            if m.path.is_ident("name") {
                name = Some(m.value()?.parse()?);
            } else if m.path.is_ident("sql") {
                sql = Some(m.value()?.parse()?);
            } else {
                return Err(unknown(&m, "check", "name, sql"));
            }
            Ok(())
        })?;
        match (name, sql) {
            (Some(name), Some(sql)) => Ok(Self { name, sql }),
            _ => Err(meta.error("check needs name = \"…\" and sql = \"…\"")),
        }
    }
}

impl DbEnumAttrs {
    /// Reads every enum-level `#[db_enum(…)]` of `attrs`.
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    out.name = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("native") {
                    out.native = true;
                } else {
                    return Err(unknown(&meta, "db_enum", "name, native"));
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// A variant's `#[db_enum(rename = "…")]`, if any.
pub(crate) fn variant_rename(attrs: &[Attribute]) -> syn::Result<Option<LitStr>> {
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                rename = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(unknown(&meta, "db_enum variant", "rename"))
            }
        })?;
    }
    Ok(rename)
}

/// `UserAccount` → `user_account`: the default table and enum type names.
pub(crate) fn to_snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `columns(a, b)`: field names.
fn parse_field_list(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<Ident>> {
    let mut fields = Vec::new();
    meta.parse_nested_meta(|m| {
        fields.push(
            m.path
                .get_ident()
                .cloned()
                .ok_or_else(|| m.error("expected a field name"))?,
        );
        Ok(())
    })?;
    Ok(fields)
}

/// The keys `#[column(…)]` accepts, for the "unknown attribute" message.
const COLUMN_KEYS: &str = "primary_key, autoincrement, length, unique, index, default, \
     server_default, comment, collation, computed, persisted, onupdate, foreign_key, on_delete, on_update, json, jsonb, name, validate, \
     version, skip";
/// The keys a struct-level `#[model(…)]` accepts.
const MODEL_KEYS: &str = "table, index, unique, check, validate, hooks";
/// The keys a field-level `#[model(…)]` accepts.
const FIELD_MODEL_KEYS: &str = "flatten, skip";
/// The keys `#[relationship(…)]` accepts.
const RELATIONSHIP_KEYS: &str =
    "back_populates, secondary, foreign_key, order_by, cascade, passive_deletes, lazy";

/// "unknown column attribute `primary_ky`; expected one of: …", at the misspelt key.
fn unknown(meta: &ParseNestedMeta<'_>, what: &str, expected: &str) -> syn::Error {
    let name = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| "?".into());
    meta.error(format!(
        "unknown {what} attribute `{name}`; expected one of: {expected}"
    ))
}
