//! `impl Model`: the table name, the `Table` definition (columns from `Fields`, then the
//! struct-level indexes, unique constraints and checks), the primary key, relationships,
//! eager loaders and the whole-object validator. Also the compile-time check that a model
//! whose key comes from mixins really has one.

use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use crate::model::{StructModel, TableModel};
use crate::paths::private;
use crate::relationships::Relationships;

/// The `impl ::oxalchemy::orm::Model for Name`.
pub(crate) fn model_impl(
    model: &StructModel<'_>,
    table: &TableModel,
    relationships: &Relationships,
) -> TokenStream2 {
    let p = private();
    let name = model.name;
    let name_str = name.to_string();
    let table_name = &table.name;
    let table_decls = table_decls(table);
    let validate = model_validator(table);
    // `#[model(hooks)]`: the session calls the model's `Hooks` methods; spanned at `hooks`
    // so a missing `impl Hooks` is reported there.
    let hooks = match table.hooks {
        Some(span) => quote_spanned! {span=>
            fn hook_fns() -> ::core::option::Option<::oxalchemy::orm::HookFns> {
                ::core::option::Option::Some(::oxalchemy::orm::HookFns::of::<Self>())
            }
        },
        None => quote!(),
    };
    let eager = &relationships.eager_loaders;
    let defs = &relationships.defs;
    let n_defs = defs.len();
    let plumbing = &relationships.plumbing;
    quote! {
        impl ::oxalchemy::orm::Model for #name {
            const TABLE: &'static str = #table_name;
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
                let mut t = #p::Table::new(#table_name);
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
                static RELATIONSHIPS: [::oxalchemy::orm::RelationshipDef; #n_defs] = [#(#defs),*];
                &RELATIONSHIPS
            }
            fn validate(&self) -> ::core::result::Result<(), #p::ValidationError> {
                <Self as ::oxalchemy::orm::Fields>::validate_fields(self, Self::NAME)?;
                #validate
                ::core::result::Result::Ok(())
            }
            #hooks
            #plumbing
        }
    }
}

/// A model without a key column of its own relies on its mixins; whether they declare one
/// is only known to the compiler, so it is a `const` assertion at the struct's name.
/// Empty when the model has its own key.
pub(crate) fn key_from_mixins_check(model: &StructModel<'_>) -> TokenStream2 {
    if model.own_key_columns() > 0 {
        return quote!();
    }
    let name = model.name;
    let mixins = model
        .flattened()
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
}

/// `t = t.index(…)`, `t = t.unique(…)`, `t = t.check(…)` in declaration order per kind.
fn table_decls(table: &TableModel) -> Vec<TokenStream2> {
    let p = private();
    let mut decls = Vec::new();
    for ix in &table.indexes {
        let cols = &ix.columns;
        let mut e = quote!(#p::Index::new([#(#cols),*]));
        if let Some(n) = &ix.name {
            e = quote!(#e.named(#n));
        }
        if ix.unique {
            e = quote!(#e.unique());
        }
        decls.push(quote!(t = t.index(#e);));
    }
    for u in &table.uniques {
        let cols = &u.columns;
        decls.push(match &u.name {
            Some(n) => quote!(t = t.unique_named(#n, [#(#cols),*]);),
            None => quote!(t = t.unique([#(#cols),*]);),
        });
    }
    for c in &table.checks {
        let (n, sql) = (&c.name, &c.sql);
        decls.push(quote!(t = t.check(#n, #sql);));
    }
    decls
}

/// The call of `#[model(validate = f)]`, spanned at `f` so a wrong signature is reported
/// there.
fn model_validator(table: &TableModel) -> TokenStream2 {
    let p = private();
    match &table.validate {
        Some(v) => quote_spanned! {v.span()=>
            let result: ::core::result::Result<(), _> = #v(self);
            if let ::core::result::Result::Err(message) = result {
                return ::core::result::Result::Err(#p::ValidationError::new(
                    Self::NAME,
                    ::core::option::Option::None,
                    ::std::string::ToString::to_string(&message),
                ));
            }
        },
        None => quote!(),
    }
}
