//! A model's relationships: the `Relationship` constants loader options name
//! (`User::posts`), the `RelationshipDef` table `Model::relationships()` returns, and the
//! loaders of relationships declared eager.

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::ext::IdentExt;
use syn::LitStr;

use crate::attrs::Lazy;
use crate::field::{Cardinality, Field, Relationship};
use crate::model::StructModel;

/// What a model's relationships add to the generated code.
pub(crate) struct Relationships {
    /// `pub const posts: Relationship<Self, Post>` for the inherent impl.
    pub(crate) consts: Vec<TokenStream2>,
    /// One `RelationshipDef` literal each, in declaration order.
    pub(crate) defs: Vec<TokenStream2>,
    /// `selectinload(Self::x)` / `joinedload(Self::x)` for `lazy = "selectin"` / `"joined"`.
    pub(crate) eager_loaders: Vec<TokenStream2>,
    /// The session's plumbing methods (cascade, collections in step); empty without
    /// relationships (the trait's defaults do nothing).
    pub(crate) plumbing: TokenStream2,
}

impl Relationships {
    /// Collects the parts for every relationship field of `model`.
    pub(crate) fn new(model: &StructModel<'_>) -> Self {
        let mut out = Self {
            consts: Vec::new(),
            defs: Vec::new(),
            eager_loaders: Vec::new(),
            plumbing: plumbing(model),
        };
        for (field, rel) in model.relationships() {
            out.consts.push(relationship_const(field, rel));
            out.defs.push(relationship_def(field, rel));
            let ident = &field.ident;
            match rel.attrs.lazy {
                Lazy::Selectin => out.eager_loaders.push(quote!(::std::sync::Arc::new(
                    ::oxalchemy::orm::selectinload(Self::#ident)
                ))),
                Lazy::Joined => out.eager_loaders.push(quote!(::std::sync::Arc::new(
                    ::oxalchemy::orm::joinedload(Self::#ident)
                ))),
                Lazy::Raise => {}
            }
        }
        out
    }
}

/// `take_assigned`, `fill_relationship`, `take_relationships`, `restore_relationships`:
/// one call into `__private` per relationship field.
fn plumbing(model: &StructModel<'_>) -> TokenStream2 {
    let p = crate::paths::private();
    let rels: Vec<_> = model.relationships().collect();
    if rels.is_empty() {
        return quote!();
    }
    let mut take = Vec::new();
    let mut fill = Vec::new();
    let mut idents = Vec::new();
    let mut tys = Vec::new();
    let mut unloaded = Vec::new();
    for (field, rel) in &rels {
        let ident = &field.ident;
        let ty = &field.ty;
        // The name the `RelationshipDef` carries (the session matches on it).
        let name = ident.to_string();
        let (take_fn, fill_fn) = match rel.cardinality {
            Cardinality::Many => (quote!(take_many), quote!(fill_many)),
            Cardinality::One => (quote!(take_one), quote!(fill_one)),
        };
        take.push(quote!(#p::#take_fn(&mut self.#ident, #name, out);));
        fill.push(quote!(#name => #p::#fill_fn(&mut self.#ident, fill),));
        let qualified = format!("{}::{}", model.name, ident.unraw());
        unloaded.push(
            quote!(::core::mem::replace(&mut self.#ident, <#ty>::unloaded_field(#qualified))),
        );
        idents.push(ident);
        tys.push(ty);
    }
    quote! {
        fn take_assigned(&mut self, out: &mut #p::Assigned) {
            #(#take)*
        }
        fn fill_relationship(&mut self, name: &str, fill: &mut #p::Fill) {
            match name {
                #(#fill)*
                _ => {}
            }
        }
        fn take_relationships(&mut self) -> ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send> {
            ::std::boxed::Box::new((#(#unloaded,)*))
        }
        fn restore_relationships(&mut self, saved: ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send>) {
            if let ::core::result::Result::Ok(saved) = saved.downcast::<(#(#tys,)*)>() {
                let (#(#idents,)*) = *saved;
                #(self.#idents = #idents;)*
            }
        }
    }
}

/// The constant, with the accessor the session uses to fill the field.
fn relationship_const(field: &Field, rel: &Relationship) -> TokenStream2 {
    let (ident, target) = (&field.ident, &rel.target);
    let name = ident.to_string();
    let slot = match rel.cardinality {
        Cardinality::Many => quote!(::oxalchemy::orm::RelationshipSlot::Many(
            |m: &mut Self| -> &mut ::oxalchemy::orm::Many<#target> { &mut m.#ident }
        )),
        Cardinality::One => quote!(::oxalchemy::orm::RelationshipSlot::One(
            |m: &mut Self| -> &mut ::oxalchemy::orm::One<#target> { &mut m.#ident }
        )),
    };
    quote! {
        #[allow(non_upper_case_globals, reason = "relationship constants are spelled like the fields: `User::posts`")]
        pub const #ident: ::oxalchemy::orm::Relationship<Self, #target> =
            ::oxalchemy::orm::Relationship::new(#name, #slot);
    }
}

/// The `RelationshipDef` the session and `Registry::check` read.
fn relationship_def(field: &Field, rel: &Relationship) -> TokenStream2 {
    let (target, a) = (&rel.target, &rel.attrs);
    let name = field.ident.to_string();
    let kind = match (rel.cardinality, &a.secondary) {
        (Cardinality::One, _) => quote!(ManyToOne),
        (Cardinality::Many, None) => quote!(OneToMany),
        (Cardinality::Many, Some(_)) => quote!(ManyToMany),
    };
    let (back_populates, secondary, foreign_key, order_by) = (
        optional(&a.back_populates),
        optional(&a.secondary),
        optional(&a.foreign_key),
        optional(&a.order_by),
    );
    let (cascade_delete, delete_orphan) = (a.cascade.delete, a.cascade.delete_orphan);
    let passive_deletes = a.passive_deletes;
    quote! {
        ::oxalchemy::orm::RelationshipDef {
            name: #name,
            kind: ::oxalchemy::orm::RelationshipKind::#kind,
            target: <#target as ::oxalchemy::orm::Model>::TABLE,
            back_populates: #back_populates,
            secondary: #secondary,
            foreign_key: #foreign_key,
            order_by: #order_by,
            target_table: <#target as ::oxalchemy::orm::Model>::table,
            cascade_delete: #cascade_delete,
            delete_orphan: #delete_orphan,
            passive_deletes: #passive_deletes,
        }
    }
}

fn optional(lit: &Option<LitStr>) -> TokenStream2 {
    match lit {
        Some(l) => quote!(::core::option::Option::Some(#l)),
        None => quote!(::core::option::Option::None),
    }
}
