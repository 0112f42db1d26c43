//! `impl FromRow` for a model: rows decode through the model's `Fields`, starting at column 0,
//! so `Database::fetch_all::<User>` and the session read models the same way.

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::Ident;

use crate::paths::private;

/// The `FromRow` impl of model `name`.
pub(crate) fn from_row_impl(name: &Ident) -> TokenStream2 {
    let p = private();
    quote! {
        impl #p::FromRow for #name {
            #[inline]
            fn from_row(row: &#p::Row<'_>) -> ::core::result::Result<Self, #p::Error> {
                #p::read_model(row)
            }
        }
    }
}
