//! oxalchemy's derives. They stay thin: they read attributes and emit calls into
//! `oxalchemy::orm` (through the facade), so errors point at the user's attribute and the
//! generated code is small.

use proc_macro::TokenStream;
use proc_macro2::{Group, Span, TokenStream as TokenStream2, TokenTree};
use quote::ToTokens;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Data, DeriveInput, Expr, Fields, GenericArgument, Ident, LitBool, LitInt,
    LitStr, Path, PathArguments, Type,
};

/// `#[derive(Model)]`: a struct becomes a table. See the `oxalchemy` crate docs.
#[proc_macro_derive(Model, attributes(model, column, relationship))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Kind::Model)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `#[derive(Mixin)]`: reusable columns, embedded in models with `#[model(flatten)]`.
#[proc_macro_derive(Mixin, attributes(model, column, relationship))]
pub fn derive_mixin(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Kind::Mixin)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `#[derive(DbEnum)]`: a fieldless enum stored as text (or a PostgreSQL enum type with
/// `#[db_enum(native)]`).
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_enum(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[cfg(test)]
fn expand_model(input: DeriveInput) -> syn::Result<TokenStream2> {
    expand(&input, Kind::Model)
}
#[cfg(test)]
fn expand_mixin(input: DeriveInput) -> syn::Result<TokenStream2> {
    expand(&input, Kind::Mixin)
}
#[cfg(test)]
fn expand_db_enum(input: DeriveInput) -> syn::Result<TokenStream2> {
    expand_enum(&input)
}
#[cfg(test)]
mod expand_tests;

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Model,
    Mixin,
}

const COLUMN_ATTRS: &str = "primary_key, autoincrement, length, unique, index, default, \
     server_default, onupdate, foreign_key, on_delete, on_update, json, jsonb, name, validate, \
     version, skip";
const MODEL_ATTRS: &str = "table, index, unique, check, validate";
const FIELD_MODEL_ATTRS: &str = "flatten, skip";
const RELATIONSHIP_ATTRS: &str =
    "back_populates, secondary, foreign_key, order_by, cascade, passive_deletes, lazy";

#[derive(Default)]
struct ColumnAttrs {
    primary_key: bool,
    autoincrement: Option<bool>,
    length: Option<u32>,
    unique: bool,
    index: bool,
    default: Option<Expr>,
    server_default: Option<LitStr>,
    onupdate: Option<Expr>,
    foreign_key: Option<LitStr>,
    on_delete: Option<LitStr>,
    on_update: Option<LitStr>,
    /// `json` or `jsonb`, with the attribute's span for error messages.
    json: Option<(bool, Span)>,
    name: Option<LitStr>,
    validate: Option<Path>,
    skip: bool,
    version: bool,
}

#[derive(Default)]
struct RelationshipAttrs {
    back_populates: Option<LitStr>,
    secondary: Option<LitStr>,
    foreign_key: Option<LitStr>,
    order_by: Option<LitStr>,
    cascade: Option<LitStr>,
    passive_deletes: bool,
    /// `lazy = "selectin"` / `"joined"`: loaded by every query (never implicitly later).
    lazy: Option<LitStr>,
}

enum FieldRole {
    Column(Box<ColumnAttrs>),
    Flatten,
    Skip,
    Relationship(Box<(RelationshipAttrs, RelKind, Type)>),
}

#[derive(Clone, Copy)]
enum RelKind {
    Many,
    One,
}

struct Field {
    ident: Ident,
    ty: Type,
    role: FieldRole,
}

struct IndexDecl {
    name: Option<LitStr>,
    columns: Vec<Ident>,
    unique: bool,
}

struct CheckDecl {
    name: LitStr,
    sql: LitStr,
}

#[derive(Default)]
struct ModelAttrs {
    table: Option<LitStr>,
    indexes: Vec<IndexDecl>,
    uniques: Vec<IndexDecl>,
    checks: Vec<CheckDecl>,
    validate: Option<Path>,
}

fn unknown(meta: &syn::meta::ParseNestedMeta<'_>, what: &str, expected: &str) -> syn::Error {
    let name = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| "?".into());
    meta.error(format!(
        "unknown {what} attribute `{name}`; expected one of: {expected}"
    ))
}

fn parse_column_list(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Vec<Ident>> {
    let mut cols = Vec::new();
    meta.parse_nested_meta(|m| {
        cols.push(
            m.path
                .get_ident()
                .cloned()
                .ok_or_else(|| m.error("expected a field name"))?,
        );
        Ok(())
    })?;
    Ok(cols)
}

fn parse_model_attrs(input: &DeriveInput) -> syn::Result<ModelAttrs> {
    let mut out = ModelAttrs::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                out.table = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("validate") {
                out.validate = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("index") || meta.path.is_ident("unique") {
                let is_index = meta.path.is_ident("index");
                let mut decl = IndexDecl {
                    name: None,
                    columns: Vec::new(),
                    unique: !is_index,
                };
                meta.parse_nested_meta(|m| {
                    if m.path.is_ident("name") {
                        decl.name = Some(m.value()?.parse()?);
                    } else if m.path.is_ident("columns") {
                        decl.columns = parse_column_list(&m)?;
                    } else if m.path.is_ident("unique") && is_index {
                        decl.unique = true;
                    } else {
                        return Err(unknown(&m, "index/unique", "name, columns(…), unique"));
                    }
                    Ok(())
                })?;
                if decl.columns.is_empty() {
                    return Err(meta.error("needs columns(field, …)"));
                }
                if is_index {
                    out.indexes.push(decl);
                } else {
                    out.uniques.push(decl);
                }
            } else if meta.path.is_ident("check") {
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
                    (Some(name), Some(sql)) => out.checks.push(CheckDecl { name, sql }),
                    _ => return Err(meta.error("check needs name = \"…\" and sql = \"…\"")),
                }
            } else {
                return Err(unknown(&meta, "model", MODEL_ATTRS));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// `Many<T>` / `One<T>` (any path ending in those names) and their `T`.
fn relationship_type(ty: &Type) -> Option<(RelKind, Type)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let kind = match last.ident.to_string().as_str() {
        "Many" => RelKind::Many,
        "One" => RelKind::One,
        _ => return None,
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some((kind, t.clone())),
        _ => None,
    }
}

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

fn parse_field(f: &syn::Field, kind: Kind) -> syn::Result<Field> {
    let ident = f
        .ident
        .clone()
        .ok_or_else(|| syn::Error::new(f.span(), "only structs with named fields"))?;
    let mut col = ColumnAttrs::default();
    let mut flatten = false;
    let mut skip = false;
    let mut rel: Option<RelationshipAttrs> = None;
    for attr in &f.attrs {
        if attr.path().is_ident("model") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("flatten") {
                    flatten = true;
                } else if meta.path.is_ident("skip") {
                    skip = true;
                } else {
                    return Err(unknown(&meta, "field model", FIELD_MODEL_ATTRS));
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("relationship") {
            if kind == Kind::Mixin {
                return Err(syn::Error::new_spanned(
                    attr,
                    "relationships belong on models, not mixins",
                ));
            }
            let mut r = RelationshipAttrs::default();
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("passive_deletes") {
                    r.passive_deletes = true;
                    return Ok(());
                }
                if meta.path.is_ident("lazy") {
                    let l: LitStr = meta.value()?.parse()?;
                    if !matches!(l.value().as_str(), "selectin" | "joined" | "raise") {
                        return Err(syn::Error::new(
                            l.span(),
                            "lazy takes \"selectin\" or \"joined\" (eager by default) or \"raise\" (the default: never loaded implicitly)",
                        ));
                    }
                    r.lazy = Some(l);
                    return Ok(());
                }
                if meta.path.is_ident("cascade") {
                    let c: LitStr = meta.value()?.parse()?;
                    for part in c.value().split(',').map(str::trim) {
                        if !matches!(
                            part,
                            "all" | "save-update" | "merge" | "delete" | "delete-orphan" | ""
                        ) {
                            return Err(syn::Error::new(
                                c.span(),
                                format!(
                                    "unknown cascade `{part}`; expected a list of: all, save-update, merge, delete, delete-orphan"
                                ),
                            ));
                        }
                    }
                    r.cascade = Some(c);
                    return Ok(());
                }
                let slot = if meta.path.is_ident("back_populates") {
                    &mut r.back_populates
                } else if meta.path.is_ident("secondary") {
                    &mut r.secondary
                } else if meta.path.is_ident("foreign_key") {
                    &mut r.foreign_key
                } else if meta.path.is_ident("order_by") {
                    &mut r.order_by
                } else {
                    return Err(unknown(&meta, "relationship", RELATIONSHIP_ATTRS));
                };
                *slot = Some(meta.value()?.parse()?);
                Ok(())
            })?;
            rel = Some(r);
        } else if attr.path().is_ident("column") {
            attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("primary_key") {
                    col.primary_key = true;
                } else if p.is_ident("autoincrement") {
                    col.autoincrement = Some(meta.value()?.parse::<LitBool>()?.value);
                } else if p.is_ident("length") {
                    col.length = Some(meta.value()?.parse::<LitInt>()?.base10_parse()?);
                } else if p.is_ident("unique") {
                    col.unique = true;
                } else if p.is_ident("index") {
                    col.index = true;
                } else if p.is_ident("default") {
                    col.default = Some(meta.value()?.parse()?);
                } else if p.is_ident("server_default") {
                    col.server_default = Some(meta.value()?.parse()?);
                } else if p.is_ident("onupdate") {
                    col.onupdate = Some(meta.value()?.parse()?);
                } else if p.is_ident("foreign_key") {
                    let fk: LitStr = meta.value()?.parse()?;
                    if !fk.value().contains('.') {
                        return Err(syn::Error::new(
                            fk.span(),
                            "foreign_key takes \"table.column\", e.g. foreign_key = \"users.id\"",
                        ));
                    }
                    col.foreign_key = Some(fk);
                } else if p.is_ident("on_delete") {
                    col.on_delete = Some(meta.value()?.parse()?);
                } else if p.is_ident("on_update") {
                    col.on_update = Some(meta.value()?.parse()?);
                } else if p.is_ident("json") {
                    col.json = Some((false, p.span()));
                } else if p.is_ident("jsonb") {
                    col.json = Some((true, p.span()));
                } else if p.is_ident("name") {
                    col.name = Some(meta.value()?.parse()?);
                } else if p.is_ident("validate") {
                    col.validate = Some(meta.value()?.parse()?);
                } else if p.is_ident("skip") {
                    col.skip = true;
                } else if p.is_ident("version") {
                    col.version = true;
                } else {
                    return Err(unknown(&meta, "column", COLUMN_ATTRS));
                }
                Ok(())
            })?;
        }
    }
    let role = if let Some(r) = rel {
        let (k, target) = relationship_type(&f.ty).ok_or_else(|| {
            syn::Error::new(
                f.ty.span(),
                "a #[relationship] field must be Many<Target> or One<Target>",
            )
        })?;
        FieldRole::Relationship(Box::new((r, k, target)))
    } else if flatten {
        FieldRole::Flatten
    } else if skip || col.skip {
        FieldRole::Skip
    } else if let Some((k, target)) = relationship_type(&f.ty) {
        // A Many/One field without attributes is still a relationship.
        if kind == Kind::Mixin {
            return Err(syn::Error::new(
                f.ty.span(),
                "relationships belong on models, not mixins",
            ));
        }
        FieldRole::Relationship(Box::new((RelationshipAttrs::default(), k, target)))
    } else {
        FieldRole::Column(Box::new(col))
    };
    Ok(Field {
        ident,
        ty: f.ty.clone(),
        role,
    })
}

fn referential_action(lit: &LitStr) -> syn::Result<TokenStream2> {
    let v = lit.value().to_ascii_lowercase().replace(['_', '-'], " ");
    let variant = match v.as_str() {
        "cascade" => quote!(Cascade),
        "set null" => quote!(SetNull),
        "set default" => quote!(SetDefault),
        "restrict" => quote!(Restrict),
        "no action" => quote!(NoAction),
        _ => return Err(syn::Error::new(
            lit.span(),
            "expected \"cascade\", \"set null\", \"set default\", \"restrict\" or \"no action\"",
        )),
    };
    Ok(quote!(::oxalchemy::orm::__private::ReferentialAction::#variant))
}

/// `default = now` → the library's `now()`; `default = some_fn` → `some_fn()`; any other
/// expression (a literal) → `Into::into(expr)`.
fn default_value(e: &Expr) -> TokenStream2 {
    match e {
        Expr::Path(p) if p.path.is_ident("now") => quote!(::oxalchemy::orm::defaults::now()),
        // A lower-case name is a function to call; `Status::Active` is a value.
        Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| {
                s.ident
                    .to_string()
                    .trim_start_matches("r#")
                    .starts_with(|c: char| c.is_lowercase())
            }) =>
        {
            quote!(#p())
        }
        other => quote!(::core::convert::Into::into(#other)),
    }
}

fn expand(input: &DeriveInput, kind: Kind) -> syn::Result<TokenStream2> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "models and mixins cannot be generic",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(Model)] and #[derive(Mixin)] work on structs",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(Model)] needs a struct with named fields",
        ));
    };
    let fields: Vec<Field> = named
        .named
        .iter()
        .map(|f| parse_field(f, kind))
        .collect::<syn::Result<_>>()?;
    let name = &input.ident;
    let p = quote!(::oxalchemy::orm::__private);

    // Mixin (flattened) columns come first, as in SQLAlchemy.
    let ordered: Vec<&Field> = fields
        .iter()
        .filter(|f| matches!(f.role, FieldRole::Flatten))
        .chain(
            fields
                .iter()
                .filter(|f| matches!(f.role, FieldRole::Column(_))),
        )
        .collect();

    let mut describe = Vec::new();
    let mut column_names = Vec::new();
    let mut reads = Vec::new();
    let mut insert_values = Vec::new();
    let mut update_values = Vec::new();
    let mut pk_values = Vec::new();
    let mut defaults = Vec::new();
    let mut onupdates = Vec::new();
    let mut validates = Vec::new();
    let mut versions = Vec::new();
    let mut set_versions = Vec::new();
    let mut generated_keys = Vec::new();
    let mut set_generated_keys = Vec::new();
    let mut set_columns = Vec::new();
    let mut consts = Vec::new();
    let mut mixin_impls = Vec::new();
    let assertions: Vec<TokenStream2> = Vec::new();
    let mut own_pk = false;
    let mut mixin_pk = Vec::new();
    let own_pk_count = ordered
        .iter()
        .filter(|f| matches!(&f.role, FieldRole::Column(c) if c.primary_key))
        .count();

    for f in &ordered {
        let ident = &f.ident;
        let ty = &f.ty;
        match &f.role {
            FieldRole::Flatten => {
                let fields_trait = quote!(::oxalchemy::orm::Fields);
                describe.push(quote!(<#ty as #fields_trait>::describe(out);));
                column_names.push(quote!(<#ty as #fields_trait>::column_names(out);));
                reads.push(quote!(let #ident = <#ty as #fields_trait>::read(row, idx)?;));
                insert_values.push(quote!(#fields_trait::insert_values(&self.#ident, out);));
                update_values.push(quote!(#fields_trait::update_values(&self.#ident, out);));
                pk_values.push(quote!(#fields_trait::primary_key_values(&self.#ident, out);));
                defaults.push(quote!(#fields_trait::apply_defaults(&mut self.#ident);));
                onupdates.push(quote!(#fields_trait::apply_onupdate(&mut self.#ident);));
                validates.push(quote!(#fields_trait::validate_fields(&self.#ident, model)?;));
                versions.push(quote! {
                    if let ::core::option::Option::Some(v) = #fields_trait::version(&self.#ident) {
                        return ::core::option::Option::Some(v);
                    }
                });
                set_versions.push(quote!(#fields_trait::set_version(&mut self.#ident, version);));
                generated_keys.push(quote! {
                    if let ::core::option::Option::Some(c) = <#ty as #fields_trait>::generated_key_column() {
                        return ::core::option::Option::Some(c);
                    }
                });
                set_generated_keys
                    .push(quote!(#fields_trait::set_generated_key(&mut self.#ident, key);));
                set_columns.push(quote! {
                    if #fields_trait::set_integer_column(&mut self.#ident, column, key) {
                        return true;
                    }
                });
                mixin_pk.push(quote!(<#ty as #fields_trait>::HAS_PRIMARY_KEY));
                // The mixin's column constants, on this model.
                if kind == Kind::Model {
                    // The mixin's blanket impl gives its column constants to every model
                    // that says it flattens the mixin; a non-mixin type is then reported as
                    // "not a mixin" by the `Fields` bound, not as a missing trait.
                    mixin_impls.push(quote!(impl ::oxalchemy::orm::Flattens<#ty> for #name {}));
                }
            }
            FieldRole::Column(c) => {
                let col_name = c
                    .name
                    .as_ref()
                    .map(LitStr::value)
                    .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
                let len = match c.length {
                    Some(n) => quote!(::core::option::Option::Some(#n)),
                    None => quote!(::core::option::Option::None),
                };
                let mut column = match c.json {
                    Some((binary, span)) => {
                        let _ = span;
                        let nullable = is_option(ty);
                        quote!(#p::json_column_for(#col_name, #binary, #nullable))
                    }
                    None => quote!(#p::column_for::<#ty>(#col_name, #len)),
                };
                if c.primary_key {
                    own_pk = true;
                    column = quote!(#column.primary_key());
                }
                if let Some(a) = c.autoincrement {
                    column = quote!(#column.autoincrement(#a));
                }
                if c.unique {
                    column = quote!(#column.unique());
                }
                if c.index {
                    column = quote!(#column.index());
                }
                if let Some(sd) = &c.server_default {
                    column = quote!(#column.server_default(#sd));
                }
                if c.foreign_key.is_some() {
                    set_columns.push(quote! {
                        if column == #col_name {
                            if let ::core::result::Result::Ok(v) = #p::key_from_i64::<#ty>(key) {
                                self.#ident = v;
                                return true;
                            }
                        }
                    });
                }
                if let Some(fk) = &c.foreign_key {
                    let v = fk.value();
                    let (t, col) = v.split_once('.').unwrap_or((&v, "id"));
                    column = quote!(#column.references(#t, #col));
                    if let Some(a) = &c.on_delete {
                        let a = referential_action(a)?;
                        column = quote!(#column.on_delete(#a));
                    }
                    if let Some(a) = &c.on_update {
                        let a = referential_action(a)?;
                        column = quote!(#column.on_update(#a));
                    }
                } else if let Some(a) = c.on_delete.as_ref().or(c.on_update.as_ref()) {
                    return Err(syn::Error::new(
                        a.span(),
                        "on_delete / on_update need a foreign_key = \"table.column\"",
                    ));
                }
                describe.push(quote!(out.push(#column);));
                column_names.push(quote!(out.push(#col_name);));
                let (read, value) = if let Some((_, span)) = c.json {
                    // The type carries the `json` span: a missing Serialize/Deserialize is
                    // reported at the attribute.
                    let ty_at = respan(ty.to_token_stream(), span);
                    (
                        quote!(#p::json_get::<#ty_at>(row, *idx)?),
                        quote!(#p::json_value::<#ty_at>(&self.#ident)),
                    )
                } else {
                    (
                        quote!(match row.decode::<#ty>(*idx) {
                            ::core::result::Result::Ok(v) => v,
                            ::core::result::Result::Err(e) => {
                                return ::core::result::Result::Err(row.decode_error::<#ty>(*idx, e))
                            }
                        }),
                        quote!(#p::ToValue::to_value(&self.#ident)),
                    )
                };
                reads.push(quote!(let #ident = #read; *idx += 1;));
                // A single integer key at its default (0) is left to the database to generate;
                // parts of a composite key are always written.
                let generated =
                    c.primary_key && c.autoincrement != Some(false) && own_pk_count == 1;
                if generated {
                    generated_keys.push(quote! {
                        if #p::is_integer_key::<#ty>() {
                            return ::core::option::Option::Some(#col_name);
                        }
                    });
                    set_generated_keys.push(quote! {
                        if let ::core::result::Result::Ok(v) = #p::key_from_i64::<#ty>(key) {
                            self.#ident = v;
                        }
                    });
                    insert_values.push(quote! {
                        if !(#p::is_integer_key::<#ty>() && #p::is_unset(&self.#ident)) {
                            out.push((#col_name, #value));
                        }
                    });
                } else {
                    insert_values.push(quote!(out.push((#col_name, #value));));
                }
                if c.primary_key {
                    pk_values.push(quote!(out.push((#col_name, #value));));
                } else {
                    update_values.push(quote!(out.push((#col_name, #value));));
                }
                if let Some(d) = &c.default {
                    let v = default_value(d);
                    defaults.push(quote!(if #p::is_unset(&self.#ident) { self.#ident = #v; }));
                }
                if c.version {
                    versions.push(quote! {
                        return ::core::option::Option::Some((#col_name, ::core::convert::Into::<i64>::into(self.#ident)));
                    });
                    set_versions.push(quote! {
                        if let ::core::result::Result::Ok(v) = ::core::convert::TryFrom::try_from(version) {
                            self.#ident = v;
                        }
                    });
                    // Rows start at version 1, as in SQLAlchemy.
                    defaults.push(quote! {
                        if #p::is_unset(&self.#ident) {
                            if let ::core::result::Result::Ok(v) = ::core::convert::TryFrom::try_from(1i64) {
                                self.#ident = v;
                            }
                        }
                    });
                }
                if let Some(u) = &c.onupdate {
                    let v = default_value(u);
                    onupdates.push(quote!(self.#ident = #v;));
                }
                if let Some(v) = &c.validate {
                    let field = ident.to_string();
                    validates.push(quote_spanned! {v.span()=>
                        let result: ::core::result::Result<(), _> = #v(&self.#ident);
                        if let ::core::result::Result::Err(message) = result {
                            return ::core::result::Result::Err(#p::ValidationError {
                                model,
                                field: ::core::option::Option::Some(#field),
                                message: ::std::string::ToString::to_string(&message),
                            });
                        }
                    });
                }
                consts.push(quote! {
                    #[allow(non_upper_case_globals)]
                    pub const #ident: ::oxalchemy::orm::TypedColumn<Self, #ty> =
                        ::oxalchemy::orm::TypedColumn::new(#col_name);
                });
            }
            FieldRole::Skip | FieldRole::Relationship(..) => {}
        }
    }

    // Fields that are not columns are rebuilt with Default when a row is read.
    let non_columns: Vec<&Ident> = fields
        .iter()
        .filter(|f| matches!(f.role, FieldRole::Skip | FieldRole::Relationship(..)))
        .map(|f| &f.ident)
        .collect();
    let all_idents: Vec<&Ident> = ordered.iter().map(|f| &f.ident).collect();
    let own_defaults = !defaults.is_empty();
    let mixin_defaults: Vec<TokenStream2> = ordered
        .iter()
        .filter(|f| matches!(f.role, FieldRole::Flatten))
        .map(|f| {
            let ty = &f.ty;
            quote!(<#ty as ::oxalchemy::orm::Fields>::HAS_DEFAULTS)
        })
        .collect();
    let has_defaults = quote!(#own_defaults #(|| #mixin_defaults)*);
    let has_pk = if mixin_pk.is_empty() {
        quote!(#own_pk)
    } else {
        quote!(#own_pk #(|| #mixin_pk)*)
    };

    let fields_impl = quote! {
        impl ::oxalchemy::orm::Fields for #name {
            const HAS_PRIMARY_KEY: bool = #has_pk;
            const HAS_DEFAULTS: bool = #has_defaults;
            fn describe(out: &mut ::std::vec::Vec<#p::Column>) { #(#describe)* }
            fn column_names(out: &mut ::std::vec::Vec<&'static str>) { #(#column_names)* }
            fn read(row: &#p::Row<'_>, idx: &mut usize) -> ::core::result::Result<Self, #p::Error> {
                #(#reads)*
                ::core::result::Result::Ok(Self {
                    #(#all_idents,)*
                    #(#non_columns: ::core::default::Default::default(),)*
                })
            }
            fn insert_values(&self, out: &mut ::std::vec::Vec<(&'static str, #p::Value)>) { #(#insert_values)* }
            fn update_values(&self, out: &mut ::std::vec::Vec<(&'static str, #p::Value)>) { #(#update_values)* }
            fn primary_key_values(&self, out: &mut ::std::vec::Vec<(&'static str, #p::Value)>) { #(#pk_values)* }
            fn apply_defaults(&mut self) { #(#defaults)* }
            fn apply_onupdate(&mut self) { #(#onupdates)* }
            fn validate_fields(&self, model: &'static str) -> ::core::result::Result<(), #p::ValidationError> {
                let _ = model;
                #(#validates)*
                ::core::result::Result::Ok(())
            }
            #[allow(unreachable_code)]
            fn version(&self) -> ::core::option::Option<(&'static str, i64)> {
                #(#versions)*
                ::core::option::Option::None
            }
            fn set_version(&mut self, version: i64) {
                let _ = version;
                #(#set_versions)*
            }
            #[allow(unreachable_code)]
            fn generated_key_column() -> ::core::option::Option<&'static str> {
                #(#generated_keys)*
                ::core::option::Option::None
            }
            fn set_generated_key(&mut self, key: i64) {
                let _ = key;
                #(#set_generated_keys)*
            }
            fn set_integer_column(&mut self, column: &str, key: i64) -> bool {
                let _ = (column, key);
                #(#set_columns)*
                false
            }
        }
    };

    if kind == Kind::Mixin {
        let cols_trait = format_ident!("{}Columns", name);
        let mixin_consts: Vec<TokenStream2> = ordered
            .iter()
            .filter_map(|f| match &f.role {
                FieldRole::Column(c) => {
                    let ident = &f.ident;
                    let ty = &f.ty;
                    let col_name = c
                        .name
                        .as_ref()
                        .map(LitStr::value)
                        .unwrap_or_else(|| ident.to_string());
                    Some(quote! {
                        #[allow(non_upper_case_globals)]
                        const #ident: ::oxalchemy::orm::TypedColumn<Self, #ty> =
                            ::oxalchemy::orm::TypedColumn::new(#col_name);
                    })
                }
                _ => None,
            })
            .collect();
        let doc = format!(
            "The column constants of the `{name}` mixin on every model that flattens it \
             (`Model::column`). Bring this trait into scope to use them."
        );
        let vis = &input.vis;
        return Ok(quote! {
            #fields_impl
            #(#assertions)*
            #[doc = #doc]
            #vis trait #cols_trait: ::oxalchemy::orm::Model {
                #(#mixin_consts)*
            }
            impl<M: ::oxalchemy::orm::Model + ::oxalchemy::orm::Flattens<#name>> #cols_trait for M {}
        });
    }

    // ---- Model
    let model_attrs = parse_model_attrs(input)?;
    let table = model_attrs
        .table
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_else(|| to_snake(&name.to_string()));
    if !own_pk && mixin_pk.is_empty() {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "model `{name}` has no primary key; mark a field #[column(primary_key)] \
                 (or flatten a mixin that has one)"
            ),
        ));
    }
    let pk_assert = if own_pk {
        quote!()
    } else {
        let mixins = ordered
            .iter()
            .filter(|f| matches!(f.role, FieldRole::Flatten))
            .map(|f| format!("`{}`", f.ty.to_token_stream()))
            .collect::<Vec<_>>()
            .join(", ");
        let msg = format!(
            "model `{name}` has no primary key: none of its flattened mixins ({mixins}) \
             declares one; mark a field #[column(primary_key)]"
        );
        quote_spanned!(name.span()=>
            const _: () =
                ::core::assert!(<#name as ::oxalchemy::orm::Fields>::HAS_PRIMARY_KEY, #msg);
        )
    };

    // Table-level declarations refer to fields; map field names to column names.
    let column_of = |id: &Ident| -> syn::Result<String> {
        let f = fields.iter().find(|f| f.ident == *id);
        match f.map(|f| &f.role) {
            Some(FieldRole::Column(c)) => Ok(c
                .name
                .as_ref()
                .map(LitStr::value)
                .unwrap_or_else(|| id.to_string())),
            // Mixin columns are named by their field names.
            None if ordered.iter().any(|f| matches!(f.role, FieldRole::Flatten)) => {
                Ok(id.to_string())
            }
            _ => Err(syn::Error::new(
                id.span(),
                format!("`{id}` is not a column of `{name}`"),
            )),
        }
    };
    let mut table_decls = Vec::new();
    for ix in &model_attrs.indexes {
        let cols = ix
            .columns
            .iter()
            .map(&column_of)
            .collect::<syn::Result<Vec<_>>>()?;
        let mut e = quote!(#p::Index::new([#(#cols),*]));
        if let Some(n) = &ix.name {
            e = quote!(#e.named(#n));
        }
        if ix.unique {
            e = quote!(#e.unique());
        }
        table_decls.push(quote!(t = t.index(#e);));
    }
    for u in &model_attrs.uniques {
        let cols = u
            .columns
            .iter()
            .map(&column_of)
            .collect::<syn::Result<Vec<_>>>()?;
        table_decls.push(match &u.name {
            Some(n) => quote!(t = t.unique_named(#n, [#(#cols),*]);),
            None => quote!(t = t.unique([#(#cols),*]);),
        });
    }
    for c in &model_attrs.checks {
        let (n, sql) = (&c.name, &c.sql);
        table_decls.push(quote!(t = t.check(#n, #sql);));
    }
    let model_validate = match &model_attrs.validate {
        Some(v) => quote_spanned! {v.span()=>
            let result: ::core::result::Result<(), _> = #v(self);
            if let ::core::result::Result::Err(message) = result {
                return ::core::result::Result::Err(#p::ValidationError {
                    model: Self::NAME,
                    field: ::core::option::Option::None,
                    message: ::std::string::ToString::to_string(&message),
                });
            }
        },
        None => quote!(),
    };

    let mut rels = Vec::new();
    let mut eager = Vec::new();
    for f in &fields {
        if let FieldRole::Relationship(rel) = &f.role {
            let (r, k, target) = &**rel;
            let rel_name = f.ident.to_string();
            let kind = match (k, &r.secondary) {
                (RelKind::One, Some(s)) => {
                    return Err(syn::Error::new(
                        s.span(),
                        "`secondary` makes a many-to-many relationship: use Many<Target>",
                    ))
                }
                (RelKind::One, None) => quote!(ManyToOne),
                (RelKind::Many, None) => quote!(OneToMany),
                (RelKind::Many, Some(_)) => quote!(ManyToMany),
            };
            let opt = |l: &Option<LitStr>| match l {
                Some(l) => quote!(::core::option::Option::Some(#l)),
                None => quote!(::core::option::Option::None),
            };
            let rel_ident = &f.ident;
            match r.lazy.as_ref().map(LitStr::value).as_deref() {
                Some("selectin") => eager.push(quote!(::std::sync::Arc::new(
                    ::oxalchemy::orm::selectinload(Self::#rel_ident)
                ))),
                Some("joined") => eager.push(quote!(::std::sync::Arc::new(
                    ::oxalchemy::orm::joinedload(Self::#rel_ident)
                ))),
                _ => {}
            }
            let cascade = r.cascade.as_ref().map(LitStr::value).unwrap_or_default();
            let parts: Vec<&str> = cascade.split(',').map(str::trim).collect();
            let cascade_delete = parts.iter().any(|p| matches!(*p, "all" | "delete"));
            let delete_orphan = parts.contains(&"delete-orphan");
            let passive = r.passive_deletes;
            let (bp, sec, fk, ob) = (
                opt(&r.back_populates),
                opt(&r.secondary),
                opt(&r.foreign_key),
                opt(&r.order_by),
            );
            let slot = match k {
                RelKind::Many => quote!(::oxalchemy::orm::RelationshipSlot::Many(
                    |m: &mut Self| -> &mut ::oxalchemy::orm::Many<#target> { &mut m.#rel_ident }
                )),
                RelKind::One => quote!(::oxalchemy::orm::RelationshipSlot::One(
                    |m: &mut Self| -> &mut ::oxalchemy::orm::One<#target> { &mut m.#rel_ident }
                )),
            };
            consts.push(quote! {
                #[allow(non_upper_case_globals)]
                pub const #rel_ident: ::oxalchemy::orm::Relationship<Self, #target> =
                    ::oxalchemy::orm::Relationship::new(#rel_name, #slot);
            });
            rels.push(quote! {
                ::oxalchemy::orm::RelationshipDef {
                    name: #rel_name,
                    kind: ::oxalchemy::orm::RelationshipKind::#kind,
                    target: <#target as ::oxalchemy::orm::Model>::TABLE,
                    back_populates: #bp,
                    secondary: #sec,
                    foreign_key: #fk,
                    order_by: #ob,
                    target_table: <#target as ::oxalchemy::orm::Model>::table,
                    cascade_delete: #cascade_delete,
                    delete_orphan: #delete_orphan,
                    passive_deletes: #passive,
                }
            });
        }
    }
    let n_rels = rels.len();
    let name_str = name.to_string();

    Ok(quote! {
        #fields_impl
        #(#assertions)*
        #pk_assert

        impl #name {
            #(#consts)*
        }
        #(#mixin_impls)*

        impl #p::FromRow for #name {
            #[inline]
            fn from_row(row: &#p::Row<'_>) -> ::core::result::Result<Self, #p::Error> {
                #p::read_model(row)
            }
        }

        impl ::oxalchemy::orm::Model for #name {
            const TABLE: &'static str = #table;
            const NAME: &'static str = #name_str;
            fn columns() -> &'static [&'static str] {
                static COLUMNS: #p::OnceLock<::std::vec::Vec<&'static str>> = #p::OnceLock::new();
                COLUMNS.get_or_init(|| {
                    let mut v = ::std::vec::Vec::new();
                    <Self as ::oxalchemy::orm::Fields>::column_names(&mut v);
                    v
                })
            }
            fn table() -> #p::Table {
                let mut columns = ::std::vec::Vec::new();
                <Self as ::oxalchemy::orm::Fields>::describe(&mut columns);
                let mut t = #p::Table::new(#table);
                for c in columns {
                    t = t.column(c);
                }
                #(#table_decls)*
                t
            }
            fn primary_key_columns() -> &'static [&'static str] {
                static KEY: #p::OnceLock<::std::vec::Vec<&'static str>> = #p::OnceLock::new();
                KEY.get_or_init(|| {
                    let mut columns = ::std::vec::Vec::new();
                    <Self as ::oxalchemy::orm::Fields>::describe(&mut columns);
                    columns
                        .iter()
                        .filter(|c| c.primary_key)
                        .map(|c| #p::leak_name(c.name.as_str()))
                        .collect()
                })
            }
            fn default_loaders() -> ::std::vec::Vec<::std::sync::Arc<dyn ::oxalchemy::orm::Loader<Self>>> {
                ::std::vec![#(#eager),*]
            }
            fn relationships() -> &'static [::oxalchemy::orm::RelationshipDef] {
                static RELATIONSHIPS: [::oxalchemy::orm::RelationshipDef; #n_rels] = [#(#rels),*];
                &RELATIONSHIPS
            }
            fn validate(&self) -> ::core::result::Result<(), #p::ValidationError> {
                <Self as ::oxalchemy::orm::Fields>::validate_fields(self, Self::NAME)?;
                #model_validate
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// `tokens` with every span set to `span`, so type errors point at an attribute.
fn respan(tokens: TokenStream2, span: Span) -> TokenStream2 {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut n = Group::new(g.delimiter(), respan(g.stream(), span));
                n.set_span(span);
                TokenTree::Group(n)
            }
            mut t => {
                t.set_span(span);
                t
            }
        })
        .collect()
}

fn to_snake(s: &str) -> String {
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

fn expand_enum(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(DbEnum)] works on enums with unit variants",
        ));
    };
    let name = &input.ident;
    let mut type_name = to_snake(&name.to_string());
    let mut native = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                type_name = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("native") {
                native = true;
            } else {
                return Err(unknown(&meta, "db_enum", "name, native"));
            }
            Ok(())
        })?;
    }
    let mut idents = Vec::new();
    let mut strings = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new(
                v.span(),
                "#[derive(DbEnum)] variants cannot carry data",
            ));
        }
        let mut s = v.ident.to_string();
        for attr in v.attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    s = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(unknown(&meta, "db_enum variant", "rename"))
                }
            })?;
        }
        idents.push(&v.ident);
        strings.push(s);
    }
    let p = quote!(::oxalchemy::orm::__private);
    let name_str = name.to_string();
    Ok(quote! {
        impl ::oxalchemy::orm::DbEnum for #name {
            const TYPE_NAME: &'static str = #type_name;
            const VARIANTS: &'static [&'static str] = &[#(#strings),*];
            const NATIVE: bool = #native;
            fn as_str(&self) -> &'static str {
                match self { #(Self::#idents => #strings,)* }
            }
            fn from_db_str(s: &str) -> ::core::option::Option<Self> {
                match s { #(#strings => ::core::option::Option::Some(Self::#idents),)* _ => ::core::option::Option::None }
            }
        }
        impl #p::ToValue for #name {
            fn to_value(&self) -> #p::Value {
                #p::Value::Text(::std::string::ToString::to_string(::oxalchemy::orm::DbEnum::as_str(self)))
            }
        }
        impl ::core::convert::From<#name> for #p::Value {
            fn from(v: #name) -> #p::Value {
                #p::ToValue::to_value(&v)
            }
        }
        impl #p::FromSql for #name {
            fn from_text(text: ::std::string::String) -> ::core::result::Result<Self, #p::DecodeError> {
                <Self as ::oxalchemy::orm::DbEnum>::from_db_str(&text).ok_or_else(|| {
                    #p::DecodeError(::std::format!("`{}` is not a variant of {}", text, #name_str))
                })
            }
        }
        impl ::oxalchemy::orm::SqlField for #name {
            fn sql_type(_length: ::core::option::Option<u32>) -> #p::SqlType {
                <Self as ::oxalchemy::orm::DbEnum>::enum_sql_type()
            }
        }
        impl ::oxalchemy::orm::Operand<#name> for #name {
            fn into_operand(self) -> #p::Expr { #p::Expr::Bind(#p::ToValue::to_value(&self)) }
        }
        impl ::oxalchemy::orm::Operand<::core::option::Option<#name>> for #name {
            fn into_operand(self) -> #p::Expr { #p::Expr::Bind(#p::ToValue::to_value(&self)) }
        }
    })
}
