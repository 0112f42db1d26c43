//! `#[derive(DbEnum)]`: a fieldless enum stored as text (with a CHECK of its variants) or as
//! a PostgreSQL enum type. The impls make it a column type (`SqlField`, `ToValue`,
//! `FromSql`) and a comparable operand in typed queries.

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::attrs::{to_snake, variant_rename, DbEnumAttrs};
use crate::paths::private;

/// The `DbEnum`, value and operand impls of an enum with unit variants.
pub(crate) fn expand_db_enum(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(DbEnum)] works on enums with unit variants",
        ));
    };
    let name = &input.ident;
    let attrs = DbEnumAttrs::parse(&input.attrs)?;
    let type_name = match &attrs.name {
        Some(n) => n.value(),
        None => to_snake(&name.to_string()),
    };
    let native = attrs.native;
    let mut idents = Vec::new();
    let mut strings = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new(
                v.span(),
                "#[derive(DbEnum)] variants cannot carry data",
            ));
        }
        let stored = match variant_rename(&v.attrs)? {
            Some(rename) => rename.value(),
            None => v.ident.to_string(),
        };
        idents.push(&v.ident);
        strings.push(stored);
    }
    let p = private();
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
                    #p::DecodeError::new(::std::format!("`{}` is not a variant of {}", text, #name_str))
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
