//! What autogenerate compares: Alembic's `include_schemas` / `include_name` /
//! `include_object` as [`Include`], and the metadata with the objects it leaves out.

use oxalchemy_core::expr::Ident;
use oxalchemy_core::schema::{Constraint, MetaData};

use super::{constraint_key, counterpart};

/// Which tables autogenerate looks at (Alembic's include_object): tables it does not own
/// (extensions, other applications) are left alone.
pub type TableFilter<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// The kind of schema object an [`Include`] filter is asked about (Alembic's `type_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A schema other than the default one (with [`Include::schemas`]).
    Schema,
    /// A table.
    Table,
    /// A column of a table.
    Column,
    /// An index.
    Index,
    /// A UNIQUE constraint.
    UniqueConstraint,
    /// A CHECK constraint.
    CheckConstraint,
    /// A FOREIGN KEY constraint.
    ForeignKey,
}

/// One object autogenerate is about to compare, as an [`Include`] filter sees it (Alembic's
/// `include_object(object, name, type_, reflected, compare_to)` and `include_name(name,
/// type_, parent_names)` arguments).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ObjectRef<'a> {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name (a schema's, a table's, a column's, …).
    pub name: &'a str,
    /// The schema of its table (`None`: the default schema).
    pub schema: Option<&'a str>,
    /// Its table, for columns, indexes and constraints.
    pub table: Option<&'a str>,
    /// Read from the database (`true`) or declared by the models (`false`).
    pub reflected: bool,
    /// Whether the other side has an object of that name (Alembic's `compare_to` is set).
    /// Always `false` for [`Include::name`], which runs before the comparison.
    pub has_counterpart: bool,
}

/// A filter over [`ObjectRef`]s: `true` keeps the object in the comparison.
pub type ObjectFilter<'a> = &'a (dyn Fn(&ObjectRef<'_>) -> bool + Sync);

/// What autogenerate compares, as Alembic's `include_schemas`, `include_name` and
/// `include_object` options say. An object a filter leaves out is neither created, dropped
/// nor altered: the database and the models may disagree about it.
///
/// ```
/// use oxalchemy_migrate::diff::{Include, ObjectKind, ObjectRef};
///
/// // Every schema but `audit`, and no table whose name starts with `tmp_`.
/// let name = |o: &ObjectRef<'_>| !(o.kind == ObjectKind::Schema && o.name == "audit");
/// let object = |o: &ObjectRef<'_>| !(o.kind == ObjectKind::Table && o.name.starts_with("tmp_"));
/// let include = Include { schemas: true, name: Some(&name), object: Some(&object) };
/// # let _ = include;
/// ```
#[derive(Clone, Copy, Default)]
pub struct Include<'a> {
    /// Also compare every schema of the database, not only the default one and those the
    /// models name (PostgreSQL; [`crate::reflect::reflect_including`] reads them). Leave
    /// out schemas the application does not own with `name`, or their tables are dropped.
    pub schemas: bool,
    /// Asked about each reflected schema, table, column, index and constraint by name
    /// (`reflected` is `true`); `false` leaves it unread where it can (schemas, tables) and
    /// out of the comparison.
    pub name: Option<ObjectFilter<'a>>,
    /// Asked about every object of both sides; `false` leaves it out of the comparison.
    pub object: Option<ObjectFilter<'a>>,
}

impl std::fmt::Debug for Include<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Include")
            .field("schemas", &self.schemas)
            .field("name", &self.name.is_some())
            .field("object", &self.object.is_some())
            .finish()
    }
}

impl Include<'_> {
    /// Whether `o` stays in the comparison: `name` for reflected objects, then `object`.
    pub fn admits(&self, o: &ObjectRef<'_>) -> bool {
        let by_name = || {
            let named = ObjectRef {
                has_counterpart: false,
                ..*o
            };
            self.name.is_none_or(|f| f(&named))
        };
        (!o.reflected || by_name()) && self.object.is_none_or(|f| f(o))
    }

    /// Whether the reflected object `name` of `kind` passes the `name` filter (before it is
    /// read).
    pub fn admits_name(
        &self,
        kind: ObjectKind,
        name: &str,
        schema: Option<&str>,
        table: Option<&str>,
    ) -> bool {
        let o = ObjectRef {
            kind,
            name,
            schema,
            table,
            reflected: true,
            has_counterpart: false,
        };
        self.name.is_none_or(|f| f(&o))
    }
}

/// `target` and `current` without the objects `include` leaves out. A table on one side
/// only keeps all of itself (it is created or dropped whole, as in Alembic); the columns,
/// indexes and constraints of a table on both sides are filtered one by one.
pub(super) fn filtered(
    target: &MetaData,
    current: &MetaData,
    include: &Include<'_>,
) -> (MetaData, MetaData) {
    let side = |md: &MetaData, other: &MetaData, reflected: bool| {
        let mut out = MetaData::with_naming_convention(md.naming_convention.clone());
        for t in md.tables() {
            let schema = t.schema.as_ref().map(Ident::as_str);
            let twin = counterpart(other, t);
            let table = ObjectRef {
                kind: ObjectKind::Table,
                name: t.name.as_str(),
                schema,
                table: None,
                reflected,
                has_counterpart: twin.is_some(),
            };
            if !include.admits(&table) {
                continue;
            }
            let Some(twin) = twin else {
                out.add(t.clone());
                continue;
            };
            let sub = |kind, name: &str, exists: bool| {
                include.admits(&ObjectRef {
                    kind,
                    name,
                    schema,
                    table: Some(t.name.as_str()),
                    reflected,
                    has_counterpart: exists,
                })
            };
            let mut kept = t.clone();
            kept.columns.retain(|c| {
                let exists = twin.column_named(c.name.as_str()).is_some();
                sub(ObjectKind::Column, c.name.as_str(), exists)
            });
            kept.indexes.retain(|ix| {
                let name = ix.name.as_ref().map(Ident::to_string).unwrap_or_default();
                let exists = twin
                    .indexes
                    .iter()
                    .any(|o| o.name.as_ref().map(Ident::as_str) == Some(&name));
                sub(ObjectKind::Index, &name, exists)
            });
            kept.constraints.retain(|c| {
                let name = constraint_key(c).unwrap_or_default();
                let exists = twin
                    .constraints
                    .iter()
                    .any(|o| constraint_key(o).as_deref() == Some(&name));
                let kind = match c {
                    Constraint::Unique { .. } => ObjectKind::UniqueConstraint,
                    Constraint::Check { .. } => ObjectKind::CheckConstraint,
                    Constraint::ForeignKey(_) => ObjectKind::ForeignKey,
                };
                sub(kind, &name, exists)
            });
            out.add(kept);
        }
        out
    };
    (side(target, current, false), side(current, target, true))
}
