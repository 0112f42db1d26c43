//! The field model: what one struct field of a model or mixin means. A field is a column, a
//! flattened mixin, a relationship, or skipped; everything after this file works from that
//! role and never looks at attributes again.

use syn::spanned::Spanned;
use syn::{GenericArgument, Ident, PathArguments, Type};

use crate::attrs::{ColumnAttrs, FieldModelAttrs, RelationshipAttrs};

/// Which derive is reading the struct; mixins cannot hold relationships.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeriveKind {
    /// `#[derive(Model)]`.
    Model,
    /// `#[derive(Mixin)]`.
    Mixin,
}

/// One named field and its role.
pub(crate) struct Field {
    /// The field's name (possibly a raw identifier such as `r#type`).
    pub(crate) ident: Ident,
    /// The field's type.
    pub(crate) ty: Type,
    /// What the field maps to.
    pub(crate) role: Role,
}

/// What a field maps to.
pub(crate) enum Role {
    /// A column of the table.
    Column(Box<Column>),
    /// `#[model(flatten)]`: a mixin whose columns come first in the table.
    Flatten,
    /// `#[model(skip)]` / `#[column(skip)]`: not stored; `Default` when a row is read.
    Skip,
    /// A `Many<T>` / `One<T>` field: loaded by the session, never a column.
    Relationship(Box<Relationship>),
}

/// A column field: its name in the database and its `#[column(…)]` options.
pub(crate) struct Column {
    /// The column's name: `name = "…"`, or the field's name without `r#`.
    pub(crate) name: String,
    /// The options.
    pub(crate) attrs: ColumnAttrs,
}

/// A relationship field.
pub(crate) struct Relationship {
    /// `#[relationship(…)]`, or the defaults for a bare `Many<T>` / `One<T>` field.
    pub(crate) attrs: RelationshipAttrs,
    /// `Many` or `One`.
    pub(crate) cardinality: Cardinality,
    /// The `T` of `Many<T>` / `One<T>`.
    pub(crate) target: Type,
}

/// The container of a relationship field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cardinality {
    /// `Many<T>`: one-to-many, or many-to-many with `secondary`.
    Many,
    /// `One<T>`: many-to-one; this table holds the foreign key.
    One,
}

impl Field {
    /// Reads a field's attributes and decides its role.
    pub(crate) fn parse(f: &syn::Field, kind: DeriveKind) -> syn::Result<Self> {
        let ident = f
            .ident
            .clone()
            .ok_or_else(|| syn::Error::new(f.span(), "only structs with named fields"))?;
        let mut column = ColumnAttrs::default();
        let mut model = FieldModelAttrs::default();
        let mut relationship: Option<RelationshipAttrs> = None;
        for attr in &f.attrs {
            if attr.path().is_ident("model") {
                attr.parse_nested_meta(|meta| model.parse_key(&meta))?;
            } else if attr.path().is_ident("relationship") {
                if kind == DeriveKind::Mixin {
                    return Err(syn::Error::new_spanned(
                        attr,
                        "relationships belong on models, not mixins",
                    ));
                }
                let mut r = RelationshipAttrs::default();
                attr.parse_nested_meta(|meta| r.parse_key(&meta))?;
                relationship = Some(r);
            } else if attr.path().is_ident("column") {
                attr.parse_nested_meta(|meta| column.parse_key(&meta))?;
            }
        }
        column.check()?;
        let role = if let Some(attrs) = relationship {
            let (cardinality, target) = relationship_type(&f.ty).ok_or_else(|| {
                syn::Error::new(
                    f.ty.span(),
                    "a #[relationship] field must be Many<Target> or One<Target>",
                )
            })?;
            Role::Relationship(Box::new(Relationship::new(attrs, cardinality, target)?))
        } else if model.flatten {
            Role::Flatten
        } else if model.skip || column.skip {
            Role::Skip
        } else if let Some((cardinality, target)) = relationship_type(&f.ty) {
            // A Many/One field without attributes is still a relationship.
            if kind == DeriveKind::Mixin {
                return Err(syn::Error::new(
                    f.ty.span(),
                    "relationships belong on models, not mixins",
                ));
            }
            let attrs = RelationshipAttrs::default();
            Role::Relationship(Box::new(Relationship::new(attrs, cardinality, target)?))
        } else {
            let name = match &column.name {
                Some(name) => name.value(),
                None => unraw(&ident),
            };
            Role::Column(Box::new(Column {
                name,
                attrs: column,
            }))
        };
        Ok(Self {
            ident,
            ty: f.ty.clone(),
            role,
        })
    }

    /// The field's column, if it is one.
    pub(crate) fn column(&self) -> Option<&Column> {
        match &self.role {
            Role::Column(c) => Some(c),
            _ => None,
        }
    }

    /// The field's relationship, if it is one.
    pub(crate) fn relationship(&self) -> Option<&Relationship> {
        match &self.role {
            Role::Relationship(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the field is a flattened mixin.
    pub(crate) fn is_flattened(&self) -> bool {
        matches!(self.role, Role::Flatten)
    }

    /// Whether the field is not stored (skipped, or a relationship).
    pub(crate) fn is_stored(&self) -> bool {
        matches!(self.role, Role::Column(_) | Role::Flatten)
    }
}

impl Relationship {
    fn new(attrs: RelationshipAttrs, cardinality: Cardinality, target: Type) -> syn::Result<Self> {
        if let (Cardinality::One, Some(secondary)) = (cardinality, &attrs.secondary) {
            return Err(syn::Error::new(
                secondary.span(),
                "`secondary` makes a many-to-many relationship: use Many<Target>",
            ));
        }
        Ok(Self {
            attrs,
            cardinality,
            target,
        })
    }
}

/// A field name as SQL sees it: `r#type` is the column `type`.
pub(crate) fn unraw(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_owned()
}

/// Whether `ty` is `Option<…>` (a nullable column).
pub(crate) fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// `Many<T>` / `One<T>` (any path ending in those names) and their `T`.
fn relationship_type(ty: &Type) -> Option<(Cardinality, Type)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let cardinality = match last.ident.to_string().as_str() {
        "Many" => Cardinality::Many,
        "One" => Cardinality::One,
        _ => return None,
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some((cardinality, t.clone())),
        _ => None,
    }
}
