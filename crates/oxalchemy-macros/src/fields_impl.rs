//! `impl Fields`: everything about a struct's columns (definitions, decoding, values for
//! INSERT and UPDATE, defaults, onupdate, per-field validators, the version counter, generated
//! keys). Models and mixins both get it; a flattened mixin's part delegates to the mixin's own
//! impl, so mixins compose.

use proc_macro2::{Group, Span, TokenStream as TokenStream2, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::attrs::{DefaultValue, ReferentialAction};
use crate::field::{is_option, Column, Field};
use crate::model::StructModel;
use crate::paths::private;

/// The `impl ::oxalchemy::orm::Fields for Name` of a model or mixin.
pub(crate) fn fields_impl(model: &StructModel<'_>) -> TokenStream2 {
    // A single integer key at its default (0) is left to the database to generate; parts of
    // a composite key are always written.
    let single_key = model.own_key_columns() == 1;
    let mut parts = Parts::default();
    for field in model.stored() {
        match field.column() {
            Some(column) => parts.add_column(field, column, single_key),
            None => parts.add_flattened(field),
        }
    }
    parts.into_impl(model)
}

/// The statements of each `Fields` method, collected field by field in table order.
#[derive(Default)]
struct Parts {
    describe: Vec<TokenStream2>,
    column_names: Vec<TokenStream2>,
    reads: Vec<TokenStream2>,
    insert_values: Vec<TokenStream2>,
    /// `take_insert_values`: `insert_values` moving text and bytes out of the fields.
    take_insert_values: Vec<TokenStream2>,
    /// Whether a column of the struct's own is text or bytes (`String`, `Vec<u8>`, or an
    /// `Option` of one), so `take_insert_values` saves a copy and is generated.
    takes_text: bool,
    /// `take_insert_row`: `take_insert_values` pushing values alone, marking the columns
    /// left out as bits of its result.
    take_insert_row: Vec<TokenStream2>,
    /// The terms whose sum is the next field's first column position (`1` for a column,
    /// the mixin's column count for a flattened field).
    at: Vec<TokenStream2>,
    update_values: Vec<TokenStream2>,
    primary_key_values: Vec<TokenStream2>,
    defaults: Vec<TokenStream2>,
    /// `default_columns`: the columns `apply_defaults` may fill.
    default_columns: Vec<TokenStream2>,
    /// `onupdate_columns`: the columns `apply_onupdate` sets.
    onupdate_columns: Vec<TokenStream2>,
    onupdates: Vec<TokenStream2>,
    validates: Vec<TokenStream2>,
    versions: Vec<TokenStream2>,
    set_versions: Vec<TokenStream2>,
    generated_keys: Vec<TokenStream2>,
    set_generated_keys: Vec<TokenStream2>,
    set_integer_columns: Vec<TokenStream2>,
    /// `HAS_PRIMARY_KEY` terms: the struct's own key, then each mixin's.
    has_primary_key: Vec<TokenStream2>,
    /// `HAS_DEFAULTS` terms: the struct's own defaults, then each mixin's.
    has_defaults: Vec<TokenStream2>,
    /// `LAYOUT` statements, field by field in table order: each
    /// advances `at` past the field's columns and records the first key column it meets.
    positions: Vec<TokenStream2>,
    /// `read_present`'s first statement, when the struct's first stored field holds its
    /// first key column (an own key column, or a mixin that may hold it): it decodes that
    /// key once, as an `Option`, and returns `None` for an absent row.
    present_first: Option<TokenStream2>,
}

impl Parts {
    /// The value `take_insert_values` pushes for a column: moved out of a text or bytes
    /// field (`take_value` checks the type itself; the syntax only says whether to bother),
    /// else the same as `insert_values`.
    fn take_value(&mut self, field: &Field, column: &Column, value: &TokenStream2) -> TokenStream2 {
        if column.attrs.json.is_some() || !is_text_or_bytes(&field.ty) {
            return value.clone();
        }
        self.takes_text = true;
        let (p, ident, ty) = (private(), &field.ident, &field.ty);
        quote!(#p::take_value::<#ty>(&mut self.#ident))
    }

    /// The position of the next field's first column among the struct's columns, as a
    /// constant expression.
    fn at(&self) -> TokenStream2 {
        let terms = &self.at;
        quote!(0usize #(+ #terms)*)
    }

    /// A `#[model(flatten)]` field: every method delegates to the mixin's `Fields`.
    fn add_flattened(&mut self, field: &Field) {
        let (ident, ty) = (&field.ident, &field.ty);
        let fields = quote!(::oxalchemy::orm::Fields);
        let (p, at) = (private(), self.at());
        // The mixin's columns left out, moved to where its columns sit in this struct.
        self.take_insert_row.push(quote! {
            omitted |= #p::omitted_at(#fields::take_insert_row(&mut self.#ident, out), #at);
        });
        self.at.push(quote!(<#ty as #fields>::LAYOUT.columns));
        self.describe.push(quote!(<#ty as #fields>::describe(out);));
        self.column_names
            .push(quote!(<#ty as #fields>::column_names(out);));
        if self.reads.is_empty() {
            let p = private();
            // The mixin decides at compile time: it holds the first key at its own first
            // column, or the row is checked the general way.
            self.present_first = Some(quote! {
                if !::core::matches!(<#ty as #fields>::LAYOUT.first_key, ::core::option::Option::Some(0)) {
                    return #p::read_present_checked::<Self>(row, idx);
                }
                let #ident = match <#ty as #fields>::read_present(row, idx)? {
                    ::core::option::Option::Some(v) => v,
                    ::core::option::Option::None => {
                        *idx = start + <Self as #fields>::LAYOUT.columns;
                        return ::core::result::Result::Ok(::core::option::Option::None);
                    }
                };
            });
        }
        self.reads
            .push(quote!(let #ident = <#ty as #fields>::read(row, idx)?;));
        self.insert_values
            .push(quote!(#fields::insert_values(&self.#ident, out);));
        self.take_insert_values
            .push(quote!(#fields::take_insert_values(&mut self.#ident, out);));
        self.update_values
            .push(quote!(#fields::update_values(&self.#ident, out);));
        self.primary_key_values
            .push(quote!(#fields::primary_key_values(&self.#ident, out);));
        self.defaults
            .push(quote!(#fields::apply_defaults(&mut self.#ident);));
        self.default_columns
            .push(quote!(<#ty as #fields>::default_columns(out);));
        self.onupdate_columns
            .push(quote!(<#ty as #fields>::onupdate_columns(out);));
        self.onupdates
            .push(quote!(#fields::apply_onupdate(&mut self.#ident);));
        self.validates
            .push(quote!(#fields::validate_fields(&self.#ident, model)?;));
        self.versions.push(quote! {
            if let ::core::option::Option::Some(v) = #fields::version(&self.#ident) {
                return ::core::option::Option::Some(v);
            }
        });
        self.set_versions
            .push(quote!(#fields::set_version(&mut self.#ident, version);));
        self.generated_keys.push(quote! {
            if let ::core::option::Option::Some(c) = <#ty as #fields>::generated_key_column() {
                return ::core::option::Option::Some(c);
            }
        });
        self.set_generated_keys
            .push(quote!(#fields::set_generated_key(&mut self.#ident, key);));
        self.set_integer_columns.push(quote! {
            if #fields::set_integer_column(&mut self.#ident, column, key) {
                return true;
            }
        });
        self.has_primary_key
            .push(quote!(<#ty as #fields>::HAS_PRIMARY_KEY));
        self.has_defaults
            .push(quote!(<#ty as #fields>::HAS_DEFAULTS));
        self.positions.push(quote! {
            if first_key.is_none() {
                if let ::core::option::Option::Some(k) = <#ty as #fields>::LAYOUT.first_key {
                    first_key = ::core::option::Option::Some(at + k);
                }
            }
            at += <#ty as #fields>::LAYOUT.columns;
        });
    }

    /// A column field. `single_key`: the struct has exactly one primary-key column, which
    /// the database may generate.
    fn add_column(&mut self, field: &Field, column: &Column, single_key: bool) {
        let p = private();
        let (ident, ty, name) = (&field.ident, &field.ty, &column.name);
        let c = &column.attrs;
        self.describe.push(describe_column(field, column));
        self.column_names.push(quote!(out.push(#name);));
        let (read, value) = read_and_value(field, column);
        if self.reads.is_empty() && c.primary_key && c.json.is_none() {
            self.present_first = Some(quote! {
                let #ident = match row.decode::<::core::option::Option<#ty>>(*idx) {
                    ::core::result::Result::Ok(::core::option::Option::Some(v)) => v,
                    ::core::result::Result::Ok(::core::option::Option::None) => {
                        *idx = start + <Self as ::oxalchemy::orm::Fields>::LAYOUT.columns;
                        return ::core::result::Result::Ok(::core::option::Option::None);
                    }
                    ::core::result::Result::Err(e) => {
                        return ::core::result::Result::Err(
                            row.decode_error::<::core::option::Option<#ty>>(*idx, e),
                        )
                    }
                };
                *idx += 1;
            });
        }
        self.reads.push(quote!(let #ident = #read; *idx += 1;));
        self.positions.push(if c.primary_key {
            quote! {
                if first_key.is_none() {
                    first_key = ::core::option::Option::Some(at);
                }
                at += 1;
            }
        } else {
            quote!(at += 1;)
        });

        let at = self.at();
        self.at.push(quote!(1usize));
        if c.computed.is_some() {
            // Generated by the database: read like any column, never in INSERT or UPDATE
            // (both databases refuse a value for it).
            self.take_insert_row
                .push(quote!(omitted |= #p::omitted_at(1, #at);));
        } else if c.primary_key && c.autoincrement != Some(false) && single_key {
            self.generated_keys.push(quote! {
                if #p::is_integer_key::<#ty>() {
                    return ::core::option::Option::Some(#name);
                }
            });
            self.set_generated_keys.push(quote! {
                if let ::core::result::Result::Ok(v) = #p::key_from_i64::<#ty>(key) {
                    self.#ident = v;
                }
            });
            self.insert_values.push(quote! {
                if !(#p::is_integer_key::<#ty>() && #p::is_unset(&self.#ident)) {
                    out.push((#name, #value));
                }
            });
            let take = self.take_value(field, column, &value);
            self.take_insert_values.push(quote! {
                if !(#p::is_integer_key::<#ty>() && #p::is_unset(&self.#ident)) {
                    out.push((#name, #take));
                }
            });
            self.take_insert_row.push(quote! {
                if #p::is_integer_key::<#ty>() && #p::is_unset(&self.#ident) {
                    omitted |= #p::omitted_at(1, #at);
                } else {
                    out.push(#take);
                }
            });
        } else {
            self.insert_values.push(quote!(out.push((#name, #value));));
            let take = self.take_value(field, column, &value);
            self.take_insert_values
                .push(quote!(out.push((#name, #take));));
            self.take_insert_row.push(quote!(out.push(#take);));
        }
        if c.primary_key {
            self.primary_key_values
                .push(quote!(out.push((#name, #value));));
        } else if c.computed.is_none() {
            self.update_values.push(quote!(out.push((#name, #value));));
        }
        if c.foreign_key.is_some() {
            // Relationship sync at flush sets foreign keys from the parent's key.
            self.set_integer_columns.push(quote! {
                if column == #name {
                    if let ::core::result::Result::Ok(v) = #p::key_from_i64::<#ty>(key) {
                        self.#ident = v;
                        return true;
                    }
                }
            });
        }
        self.add_defaults(field, column);
        if let Some(v) = &c.validate {
            let field_name = ident.to_string();
            self.validates.push(quote_spanned! {v.span()=>
                let result: ::core::result::Result<(), _> = #v(&self.#ident);
                if let ::core::result::Result::Err(message) = result {
                    return ::core::result::Result::Err(#p::ValidationError::new(
                        model,
                        ::core::option::Option::Some(#field_name),
                        ::std::string::ToString::to_string(&message),
                    ));
                }
            });
        }
    }

    /// `default`, `onupdate` and `version`: what `apply_defaults` / `apply_onupdate` and the
    /// version methods do for a column.
    fn add_defaults(&mut self, field: &Field, column: &Column) {
        let p = private();
        let (ident, name, c) = (&field.ident, &column.name, &column.attrs);
        if c.default.is_some() || c.version {
            self.default_columns.push(quote!(out.push(#name);));
        }
        if let Some(d) = &c.default {
            let v = default_value(d);
            self.defaults
                .push(quote!(if #p::is_unset(&self.#ident) { self.#ident = #v; }));
        }
        if c.version {
            self.versions.push(quote! {
                return ::core::option::Option::Some((#name, ::core::convert::Into::<i64>::into(self.#ident)));
            });
            self.set_versions.push(quote! {
                if let ::core::result::Result::Ok(v) = ::core::convert::TryFrom::try_from(version) {
                    self.#ident = v;
                }
            });
            // Rows start at version 1, as in SQLAlchemy.
            self.defaults.push(quote! {
                if #p::is_unset(&self.#ident) {
                    if let ::core::result::Result::Ok(v) = ::core::convert::TryFrom::try_from(1i64) {
                        self.#ident = v;
                    }
                }
            });
        }
        if let Some(u) = &c.onupdate {
            self.onupdate_columns.push(quote!(out.push(#name);));
            let v = default_value(u);
            self.onupdates.push(quote!(self.#ident = #v;));
        }
    }

    fn into_impl(self, model: &StructModel<'_>) -> TokenStream2 {
        let p = private();
        let name = model.name;
        let own_key = model.own_key_columns() > 0;
        let own_defaults = model
            .columns()
            .any(|(_, c)| c.attrs.default.is_some() || c.attrs.version);
        let (mixin_keys, mixin_defaults) = (&self.has_primary_key, &self.has_defaults);
        let stored: Vec<_> = model.stored().map(|f| &f.ident).collect();
        // Fields that are not columns are rebuilt with Default when a row is read.
        let not_stored: Vec<_> = model
            .fields
            .iter()
            .filter(|f| !f.is_stored())
            .map(|f| {
                let ident = &f.ident;
                match &f.role {
                    // An unloaded relationship names its field when read (`User::posts`).
                    crate::field::Role::Relationship(_) => {
                        let ty = &f.ty;
                        let field = format!("{}::{}", name, ident.unraw());
                        quote!(#ident: <#ty>::unloaded_field(#field))
                    }
                    _ => quote!(#ident: ::core::default::Default::default()),
                }
            })
            .collect();
        let Parts {
            describe,
            column_names,
            reads,
            insert_values,
            take_insert_values,
            takes_text,
            take_insert_row,
            update_values,
            primary_key_values,
            defaults,
            onupdates,
            validates,
            versions,
            set_versions,
            generated_keys,
            set_generated_keys,
            set_integer_columns,
            default_columns,
            onupdate_columns,
            positions,
            present_first,
            ..
        } = &self;
        // Emitted when the first stored field holds the first key (see `present_first`);
        // elsewhere the default checks the key for NULL, then reads.
        let read_present_fn = present_first.as_ref().map(|first| {
            let rest = &reads[1..];
            quote! {
                fn read_present(row: &#p::Row<'_>, idx: &mut usize) -> ::core::result::Result<::core::option::Option<Self>, #p::Error> {
                    let start = *idx;
                    #first
                    #(#rest)*
                    ::core::result::Result::Ok(::core::option::Option::Some(Self {
                        #(#stored,)*
                        #(#not_stored,)*
                    }))
                }
            }
        });
        // Emitted only when some column has a default, so other expansions stay as they were.
        let default_columns_fn = (!default_columns.is_empty()).then(|| {
            quote! {
                fn default_columns(out: &mut ::std::vec::Vec<&'static str>) { #(#default_columns)* }
            }
        });
        let onupdate_columns_fn = (!onupdate_columns.is_empty()).then(|| {
            quote! {
                fn onupdate_columns(out: &mut ::std::vec::Vec<&'static str>) { #(#onupdate_columns)* }
            }
        });
        // Emitted only for structs with text or bytes columns (elsewhere the default,
        // `insert_values`, copies nothing worth saving).
        let take_insert_values_fn = takes_text.then(|| {
            quote! {
                fn take_insert_values(&mut self, out: &mut ::std::vec::Vec<(&'static str, #p::Value)>) { #(#take_insert_values)* }
            }
        });
        quote! {
            impl ::oxalchemy::orm::Fields for #name {
                const HAS_PRIMARY_KEY: bool = #own_key #(|| #mixin_keys)*;
                const HAS_DEFAULTS: bool = #own_defaults #(|| #mixin_defaults)*;
                const LAYOUT: #p::Layout = {
                    let mut at = 0usize;
                    let mut first_key: ::core::option::Option<usize> = ::core::option::Option::None;
                    #(#positions)*
                    #p::Layout { columns: at, first_key }
                };
                fn describe(out: &mut ::std::vec::Vec<#p::Column>) { #(#describe)* }
                fn column_names(out: &mut ::std::vec::Vec<&'static str>) { #(#column_names)* }
                fn read(row: &#p::Row<'_>, idx: &mut usize) -> ::core::result::Result<Self, #p::Error> {
                    #(#reads)*
                    ::core::result::Result::Ok(Self {
                        #(#stored,)*
                        #(#not_stored,)*
                    })
                }
                #read_present_fn
                fn insert_values(&self, out: &mut ::std::vec::Vec<(&'static str, #p::Value)>) { #(#insert_values)* }
                #take_insert_values_fn
                #[allow(unused_mut, reason = "a struct without a key to leave out marks nothing")]
                fn take_insert_row(&mut self, out: &mut ::std::vec::Vec<#p::Value>) -> u64 {
                    let mut omitted = 0u64;
                    #(#take_insert_row)*
                    omitted
                }
                fn update_values(&self, out: &mut ::std::vec::Vec<(&'static str, #p::Value)>) { #(#update_values)* }
                fn primary_key_values(&self, out: &mut ::std::vec::Vec<(&'static str, #p::Value)>) { #(#primary_key_values)* }
                fn apply_defaults(&mut self) { #(#defaults)* }
                #default_columns_fn
                fn apply_onupdate(&mut self) { #(#onupdates)* }
                #onupdate_columns_fn
                fn validate_fields(&self, model: &'static str) -> ::core::result::Result<(), #p::ValidationError> {
                    let _ = model;
                    #(#validates)*
                    ::core::result::Result::Ok(())
                }
                #[allow(unreachable_code, reason = "a version column returns early")]
                fn version(&self) -> ::core::option::Option<(&'static str, i64)> {
                    #(#versions)*
                    ::core::option::Option::None
                }
                fn set_version(&mut self, version: i64) {
                    let _ = version;
                    #(#set_versions)*
                }
                #[allow(unreachable_code, reason = "a generated key returns early")]
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
                    #(#set_integer_columns)*
                    false
                }
            }
        }
    }
}

/// The column's definition, built with the library's column builder.
fn describe_column(field: &Field, column: &Column) -> TokenStream2 {
    let p = private();
    let (ty, name, c) = (&field.ty, &column.name, &column.attrs);
    let mut def = match c.json {
        Some(json) => {
            let (binary, nullable) = (json.binary, is_option(ty));
            quote!(#p::json_column_for(#name, #binary, #nullable))
        }
        None => {
            let length = match c.length {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            quote!(#p::column_for::<#ty>(#name, #length))
        }
    };
    if c.primary_key {
        def = quote!(#def.primary_key());
    }
    if let Some(a) = c.autoincrement {
        def = quote!(#def.autoincrement(#a));
    }
    if c.unique {
        def = quote!(#def.unique());
    }
    if c.index {
        def = quote!(#def.index());
    }
    if let Some(sd) = &c.server_default {
        def = quote!(#def.server_default(#sd));
    }
    if let Some(comment) = &c.comment {
        def = quote!(#def.comment(#comment));
    }
    if let Some(collation) = &c.collation {
        def = quote!(#def.collation(#collation));
    }
    if let Some(sql) = &c.computed {
        let stored = c.persisted.as_ref().is_none_or(|p| p.value);
        def = quote!(#def.computed(#sql, #stored));
    }
    if let Some(fk) = &c.foreign_key {
        let (table, col) = (&fk.table, &fk.column);
        def = quote!(#def.references(#table, #col));
        if let Some(a) = &c.on_delete {
            let a = referential_action(a.value);
            def = quote!(#def.on_delete(#a));
        }
        if let Some(a) = &c.on_update {
            let a = referential_action(a.value);
            def = quote!(#def.on_update(#a));
        }
    }
    quote!(out.push(#def);)
}

/// How a column is decoded from a row, and its value for INSERT / UPDATE.
fn read_and_value(field: &Field, column: &Column) -> (TokenStream2, TokenStream2) {
    let p = private();
    let (ident, ty) = (&field.ident, &field.ty);
    match column.attrs.json {
        Some(json) => {
            // The type carries the `json` span: a missing Serialize/Deserialize is reported
            // at the attribute.
            let ty_at = respan(ty.to_token_stream(), json.span);
            (
                quote!(#p::json_get::<#ty_at>(row, *idx)?),
                quote!(#p::json_value::<#ty_at>(&self.#ident)),
            )
        }
        None => (
            quote!(match row.decode::<#ty>(*idx) {
                ::core::result::Result::Ok(v) => v,
                ::core::result::Result::Err(e) => {
                    return ::core::result::Result::Err(row.decode_error::<#ty>(*idx, e))
                }
            }),
            quote!(#p::ToValue::to_value(&self.#ident)),
        ),
    }
}

/// Whether `ty` is spelled `String`, `Vec<u8>` or an `Option` of one of them.
fn is_text_or_bytes(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let only_arg = || match &last.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
            Some(syn::GenericArgument::Type(t)) => Some(t),
            _ => None,
        },
        _ => None,
    };
    if last.ident == "String" {
        return last.arguments.is_empty();
    }
    if last.ident == "Vec" {
        return only_arg()
            .is_some_and(|t| matches!(t, syn::Type::Path(p) if p.path.is_ident("u8")));
    }
    if last.ident == "Option" {
        return only_arg().is_some_and(is_text_or_bytes);
    }
    false
}

/// The expression a `default = …` / `onupdate = …` stands for.
fn default_value(d: &DefaultValue) -> TokenStream2 {
    match d {
        DefaultValue::Now => quote!(::oxalchemy::orm::defaults::now()),
        DefaultValue::Call(f) => quote!(#f()),
        DefaultValue::Value(e) => quote!(::core::convert::Into::into(#e)),
    }
}

/// The library's `ReferentialAction` variant.
fn referential_action(a: ReferentialAction) -> TokenStream2 {
    let p = private();
    let variant = match a {
        ReferentialAction::Cascade => quote!(Cascade),
        ReferentialAction::SetNull => quote!(SetNull),
        ReferentialAction::SetDefault => quote!(SetDefault),
        ReferentialAction::Restrict => quote!(Restrict),
        ReferentialAction::NoAction => quote!(NoAction),
    };
    quote!(#p::ReferentialAction::#variant)
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
