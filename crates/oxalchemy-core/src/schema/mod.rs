//! Schema metadata: tables, columns, constraints, indexes, the naming convention that names
//! them, and the DDL statements built from them.
//!
//! A [`Table`] is plain data built with chained calls; a [`MetaData`] holds the tables of one
//! schema, names their unnamed constraints with its [`NamingConvention`] (so names are stable
//! and migrations can refer to them) and orders them for creation. The ORM's registry builds a
//! `MetaData` from the models; migrations diff it against a live database.
//!
//! | file | owns |
//! | --- | --- |
//! | `table.rs` | [`Table`] and the naming of its constraints |
//! | `column.rs` | [`Column`], [`ServerDefault`], [`ReferentialAction`] |
//! | `constraint.rs` | [`Constraint`], [`ForeignKey`], [`Index`] |
//! | `naming.rs` | [`NamingConvention`] and long-name shortening |
//! | `metadata.rs` | [`MetaData`] and creation order ([`DependencyCycle`]) |
//! | `ddl.rs` | the DDL statements ([`CreateTable`], [`DropTable`], …) |

mod column;
mod constraint;
mod ddl;
mod metadata;
mod naming;
mod table;

pub use column::{Column, Computed, Identity, ReferentialAction, ServerDefault};
pub use constraint::{Constraint, ForeignKey, Index};
pub use ddl::{CreateEnumType, CreateIndex, CreateTable, DropEnumType, DropIndex, DropTable};
pub use metadata::{CreationOrder, DependencyCycle, MetaData};
pub use naming::{NamingConvention, MAX_IDENTIFIER_LEN};
pub use table::Table;
