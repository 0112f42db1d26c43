//! The paths generated code names, kept in one place: together with the trait paths written
//! in the templates (`::oxalchemy::orm::{Fields, Model, …}`) they are the whole contract
//! between the derives and `oxalchemy-orm`.

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

/// `::oxalchemy::orm::__private`: the runtime helpers only generated code calls (column
/// builders, row decoding, values). Through the facade, so users depend on `oxalchemy` only.
pub(crate) fn private() -> TokenStream2 {
    quote!(::oxalchemy::orm::__private)
}
