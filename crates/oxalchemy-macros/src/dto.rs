//! `#[derive(FromRow)]` for plain structs (DTOs) read from any query: joins, aggregates,
//! hand-written `text()`. A struct with named fields reads each field from the column of
//! the same name (`#[from_row(rename = "…")]` to read another), so column order does not
//! matter; a tuple struct reads its fields by position. A missing column is an error naming
//! it and listing the result's columns; a mistyped one names the column and the Rust type.

use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, ToTokens};
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::paths::private;

/// The `FromRow` impl of a DTO struct.
pub(crate) fn expand_from_row(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            name.span(),
            "#[derive(FromRow)] works on structs (use a tuple for positional rows)",
        ));
    };
    let p = private();
    let body = match &data.fields {
        Fields::Named(fields) => {
            let mut inits = Vec::new();
            for f in &fields.named {
                let attrs = FieldAttrs::parse(&f.attrs)?;
                let ident = f
                    .ident
                    .as_ref()
                    .map(ToTokens::to_token_stream)
                    .unwrap_or_default();
                let column = match attrs.rename {
                    Some(r) => r.value(),
                    None => ident.to_string().trim_start_matches("r#").to_owned(),
                };
                let ty = &f.ty;
                inits.push(if attrs.json {
                    quote!(#ident: #p::json_get_named::<#ty>(row, #column)?)
                } else {
                    quote!(#ident: row.get_named::<#ty>(#column)?)
                });
            }
            quote!(#name { #(#inits,)* })
        }
        Fields::Unnamed(fields) => {
            let mut inits = Vec::new();
            for (i, f) in fields.unnamed.iter().enumerate() {
                let attrs = FieldAttrs::parse(&f.attrs)?;
                if let Some(r) = attrs.rename {
                    return Err(syn::Error::new(
                        r.span(),
                        "a tuple struct reads its fields by position: `rename` needs named fields",
                    ));
                }
                let ty = &f.ty;
                inits.push(if attrs.json {
                    quote!(#p::json_get::<#ty>(row, #i)?)
                } else {
                    quote!(row.get::<#ty>(#i)?)
                });
            }
            quote!(#name( #(#inits,)* ))
        }
        Fields::Unit => quote!(#name),
    };
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #p::FromRow for #name #ty_generics #where_clause {
            fn from_row(row: &#p::Row<'_>) -> ::core::result::Result<Self, #p::Error> {
                ::core::result::Result::Ok(#body)
            }
        }
    })
}

/// A field's `#[from_row(…)]`.
#[derive(Default)]
struct FieldAttrs {
    /// `rename = "column"`: the column to read instead of the field's name.
    rename: Option<LitStr>,
    /// `json`: the column holds JSON decoded into the field's type through serde.
    json: bool,
}

impl FieldAttrs {
    fn parse(attrs: &[syn::Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("from_row")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    out.rename = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("json") {
                    out.json = true;
                } else {
                    let key = meta.path.to_token_stream().to_string();
                    return Err(meta.error(format!(
                        "unknown from_row attribute `{key}`; expected one of: rename, json"
                    )));
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}
