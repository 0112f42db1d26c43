//! `#[derive(DbType)]`: a single-field struct (`struct Email(String)`) stored exactly as the
//! type it wraps. The impls delegate every conversion to the inner type: the column type
//! (`SqlField`), binding (`ToValue`), decoding (`FromSql`, through the engine's
//! `__impl_transparent_from_sql!`), and typed comparisons (`Operand`). A wrapper of `String`
//! also gets the text operators (`like`, `ilike`, `contains`).

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Type};

use crate::paths::private;

/// The impls of a transparent newtype.
pub(crate) fn expand_db_type(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(DbType)] works on structs without generic parameters",
        ));
    }
    let wrong_shape = || {
        syn::Error::new(
            name.span(),
            "#[derive(DbType)] works on a struct with exactly one field: `struct Email(String);`",
        )
    };
    let Data::Struct(data) = &input.data else {
        return Err(wrong_shape());
    };
    let (inner, access, wrap) = match &data.fields {
        Fields::Unnamed(f) if f.unnamed.len() == 1 => {
            (&f.unnamed[0].ty, quote!(0), quote!(|inner| #name(inner)))
        }
        Fields::Named(f) if f.named.len() == 1 => {
            let field = f.named[0].ident.as_ref().ok_or_else(wrong_shape)?;
            (
                &f.named[0].ty,
                quote!(#field),
                quote!(|inner| #name { #field: inner }),
            )
        }
        _ => return Err(wrong_shape()),
    };
    let p = private();
    let text_ops = is_string(inner).then(|| {
        quote! {
            impl ::oxalchemy::orm::TextType for #name {}
        }
    });
    Ok(quote! {
        impl #p::ToValue for #name {
            #[inline]
            fn to_value(&self) -> #p::Value {
                #p::ToValue::to_value(&self.#access)
            }
        }
        impl ::core::convert::From<#name> for #p::Value {
            #[inline]
            fn from(v: #name) -> #p::Value {
                #p::ToValue::to_value(&v.#access)
            }
        }
        #p::__impl_transparent_from_sql!(#name, #inner, #wrap);
        impl ::oxalchemy::orm::SqlField for #name {
            fn sql_type(length: ::core::option::Option<u32>) -> #p::SqlType {
                <#inner as ::oxalchemy::orm::SqlField>::sql_type(length)
            }
            const NULLABLE: bool = <#inner as ::oxalchemy::orm::SqlField>::NULLABLE;
        }
        // An array element as its inner type is (`Vec<Email>` is `TEXT[]`).
        impl #p::ArrayElement for #name {}
        impl ::oxalchemy::orm::Operand<#name> for #name {
            fn into_operand(self) -> #p::Expr { #p::Expr::Bind(#p::ToValue::to_value(&self)) }
        }
        impl ::oxalchemy::orm::Operand<::core::option::Option<#name>> for #name {
            fn into_operand(self) -> #p::Expr { #p::Expr::Bind(#p::ToValue::to_value(&self)) }
        }
        #text_ops
    })
}

/// Whether `ty` is spelled `String` (or `std::string::String`): only then can the wrapper
/// take the text operators (a false trait bound cannot be written on a concrete type).
fn is_string(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.is_none()
                && p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "String" && s.arguments.is_empty())
        }
        _ => false,
    }
}
