//! How a mixin's columns reach the models that flatten it: the mixin gets a
//! `<Name>Columns` trait with its column constants, implemented for every model that
//! `Flattens<Name>`, and each model says which mixins it flattens.

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};

use crate::columns::column_consts;
use crate::model::StructModel;

/// The mixin's `<Name>Columns` trait and its blanket impl.
pub(crate) fn columns_trait(mixin: &StructModel<'_>) -> TokenStream2 {
    let name = mixin.name;
    let vis = mixin.vis;
    let trait_name = format_ident!("{}Columns", name);
    let consts = column_consts(mixin, &quote!());
    let doc = format!(
        "The column constants of the `{name}` mixin on every model that flattens it \
         (`Model::column`). Bring this trait into scope to use them."
    );
    quote! {
        #[doc = #doc]
        #vis trait #trait_name: ::oxalchemy::orm::Model {
            #(#consts)*
        }
        impl<M: ::oxalchemy::orm::Model + ::oxalchemy::orm::Flattens<#name>> #trait_name for M {}
    }
}

/// `impl Flattens<Mixin> for Model` for each flattened field of a model.
///
/// The mixin's blanket impl gives its column constants to every model that says it flattens
/// the mixin; a non-mixin type is then reported as "not a mixin" by the `Fields` bound, not
/// as a missing trait.
pub(crate) fn flattens_impls(model: &StructModel<'_>) -> Vec<TokenStream2> {
    let name = model.name;
    model
        .flattened()
        .map(|f| {
            let ty = &f.ty;
            quote!(impl ::oxalchemy::orm::Flattens<#ty> for #name {})
        })
        .collect()
}
