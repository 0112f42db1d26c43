//! The struct-level model: the fields of a model or mixin in table order, and for a model its
//! table (name, indexes, unique constraints, checks, whole-object validator) with every field
//! a declaration names resolved to its column.

use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path, Visibility};

use crate::attrs::{to_snake, CheckDecl, IndexDecl, ModelAttrs};
use crate::field::{unraw, Column, DeriveKind, Field, Relationship};

/// A `#[derive(Model)]` or `#[derive(Mixin)]` struct, read.
pub(crate) struct StructModel<'a> {
    /// The struct's name.
    pub(crate) name: &'a Ident,
    /// The struct's visibility (a mixin's `<Name>Columns` trait gets the same).
    pub(crate) vis: &'a Visibility,
    /// The fields in declaration order.
    pub(crate) fields: Vec<Field>,
}

/// A model's table: what `Model::table()` adds after the columns.
pub(crate) struct TableModel {
    /// `#[model(table = "…")]`, or the struct's name in snake case.
    pub(crate) name: String,
    /// `index(…)`, with column names.
    pub(crate) indexes: Vec<TableIndex>,
    /// `unique(…)`, with column names.
    pub(crate) uniques: Vec<TableIndex>,
    /// `check(…)`.
    pub(crate) checks: Vec<CheckDecl>,
    /// `validate = path`.
    pub(crate) validate: Option<Path>,
    /// `hooks`, where it was written.
    pub(crate) hooks: Option<proc_macro2::Span>,
}

/// An index or unique constraint over columns.
pub(crate) struct TableIndex {
    /// Its name, if the user gave one.
    pub(crate) name: Option<LitStr>,
    /// The column names.
    pub(crate) columns: Vec<String>,
    /// A unique index (for `index(…, unique)`).
    pub(crate) unique: bool,
}

impl<'a> StructModel<'a> {
    /// Reads a non-generic struct with named fields.
    pub(crate) fn parse(input: &'a DeriveInput, kind: DeriveKind) -> syn::Result<Self> {
        if !input.generics.params.is_empty() {
            return Err(syn::Error::new_spanned(
                &input.generics,
                "models and mixins cannot be generic",
            ));
        }
        if kind == DeriveKind::Mixin {
            if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("model")) {
                return Err(syn::Error::new_spanned(
                    attr,
                    "a mixin has no table of its own: put table, index, unique, check and \
                     validate on the models that flatten it",
                ));
            }
        }
        let Data::Struct(data) = &input.data else {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(Model)] and #[derive(Mixin)] work on structs",
            ));
        };
        let Fields::Named(named) = &data.fields else {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(Model)] needs a struct with named fields",
            ));
        };
        let fields = named
            .named
            .iter()
            .map(|f| Field::parse(f, kind))
            .collect::<syn::Result<_>>()?;
        Ok(Self {
            name: &input.ident,
            vis: &input.vis,
            fields,
        })
    }

    /// The stored fields in table order: flattened mixins first (as in SQLAlchemy), then
    /// the struct's own columns.
    pub(crate) fn stored(&self) -> impl Iterator<Item = &Field> {
        let flattened = self.fields.iter().filter(|f| f.is_flattened());
        flattened.chain(self.fields.iter().filter(|f| f.column().is_some()))
    }

    /// The flattened mixin fields.
    pub(crate) fn flattened(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_flattened())
    }

    /// The struct's own columns, in declaration order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = (&Field, &Column)> {
        self.fields
            .iter()
            .filter_map(|f| f.column().map(|c| (f, c)))
    }

    /// The relationship fields, in declaration order.
    pub(crate) fn relationships(&self) -> impl Iterator<Item = (&Field, &Relationship)> {
        self.fields
            .iter()
            .filter_map(|f| f.relationship().map(|r| (f, r)))
    }

    /// How many of the struct's own columns are part of the primary key.
    pub(crate) fn own_key_columns(&self) -> usize {
        self.columns().filter(|(_, c)| c.attrs.primary_key).count()
    }

    /// The column a struct-level declaration means by `field`.
    fn column_of(&self, field: &Ident) -> syn::Result<String> {
        let field_of_struct = self.fields.iter().find(|f| f.ident == *field);
        match field_of_struct.and_then(Field::column) {
            Some(column) => return Ok(column.name.clone()),
            // Mixin columns are named by their field names; the mixin's `Fields` is not
            // visible to the derive, so the name is taken as written.
            None if field_of_struct.is_none() && self.flattened().next().is_some() => {
                return Ok(unraw(field))
            }
            None => {}
        }
        Err(syn::Error::new(
            field.span(),
            format!("`{field}` is not a column of `{}`", self.name),
        ))
    }
}

impl TableModel {
    /// Reads the struct-level `#[model(…)]` of a model, checks that it has a primary key,
    /// and resolves the fields its declarations name.
    pub(crate) fn parse(input: &DeriveInput, model: &StructModel<'_>) -> syn::Result<Self> {
        let attrs = ModelAttrs::parse(&input.attrs)?;
        let name = model.name;
        if model.own_key_columns() == 0 && model.flattened().next().is_none() {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "model `{name}` has no primary key; mark a field #[column(primary_key)] \
                     (or flatten a mixin that has one)"
                ),
            ));
        }
        let resolve = |decls: &[IndexDecl]| -> syn::Result<Vec<TableIndex>> {
            decls
                .iter()
                .map(|d| {
                    Ok(TableIndex {
                        name: d.name.clone(),
                        columns: d
                            .columns
                            .iter()
                            .map(|c| model.column_of(c))
                            .collect::<syn::Result<_>>()?,
                        unique: d.unique,
                    })
                })
                .collect()
        };
        Ok(Self {
            name: match &attrs.table {
                Some(table) => table.value(),
                None => to_snake(&name.to_string()),
            },
            indexes: resolve(&attrs.indexes)?,
            uniques: resolve(&attrs.uniques)?,
            checks: attrs.checks,
            validate: attrs.validate,
            hooks: attrs.hooks,
        })
    }
}
