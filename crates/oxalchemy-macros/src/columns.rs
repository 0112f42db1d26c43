//! The typed column constants (`User::username: TypedColumn<User, String>`) that queries are
//! written with: inherent constants on a model, trait constants on a mixin's `<Name>Columns`.

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

use crate::model::StructModel;

/// One constant per own column, each prefixed with `vis` (`pub` on a model's inherent impl,
/// nothing inside a trait).
pub(crate) fn column_consts(model: &StructModel<'_>, vis: &TokenStream2) -> Vec<TokenStream2> {
    model
        .columns()
        .map(|(field, column)| {
            let (ident, ty, name) = (&field.ident, &field.ty, &column.name);
            quote! {
                #[allow(non_upper_case_globals, reason = "column constants are spelled like the fields: `User::username`")]
                #vis const #ident: ::oxalchemy::orm::TypedColumn<Self, #ty> =
                    ::oxalchemy::orm::TypedColumn::new(#name);
            }
        })
        .collect()
}
