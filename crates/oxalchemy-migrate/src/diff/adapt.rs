//! The models' side made comparable with what a database reflects: the shapes each
//! database keeps a declared object in (key column types, MySQL's unique keys, actions and
//! boolean defaults).

use oxalchemy_core::dialect::{key_sized, Dialect};
use oxalchemy_core::schema::{Constraint, Index, MetaData, ServerDefault};
use oxalchemy_core::{ReferentialAction, SqlType, Value};

/// The models' tables as the database will keep them, so they compare with what it
/// reflects: key columns in the type the dialect keys them in ([`key_sized`]: MySQL's
/// `VARCHAR(255)` for an unbounded string), and on MySQL a foreign key's `RESTRICT` as the
/// default it is there (InnoDB's NO ACTION is RESTRICT) and a boolean default as the `1` /
/// `0` the server prints.
pub(super) fn adapt_target(d: &dyn Dialect, target: &MetaData) -> MetaData {
    let mysql = crate::ops::mysql::is_mysql(d);
    let mut md = MetaData::with_naming_convention(target.naming_convention.clone());
    for t in target.tables() {
        let mut t = key_sized(d, t);
        if !d.computed_not_null() {
            // The database keeps such a column nullable whatever the model says (MariaDB).
            for c in t.columns.iter_mut().filter(|c| c.computed.is_some()) {
                c.nullable = true;
            }
        }
        if mysql {
            // A UNIQUE index and a UNIQUE constraint are one thing there (a unique key, which
            // the server reports as a constraint): compare and create it as a constraint.
            let (unique, rest): (Vec<Index>, Vec<Index>) =
                std::mem::take(&mut t.indexes).into_iter().partition(|ix| {
                    ix.unique
                        && ix.name.is_some()
                        && ix.expressions.is_empty()
                        && ix.where_clause.is_none()
                });
            t.indexes = rest;
            for ix in unique {
                t.constraints.push(Constraint::Unique {
                    name: ix.name,
                    columns: ix.columns,
                });
            }
            let restrict = |a: &mut Option<ReferentialAction>| {
                if matches!(
                    a,
                    Some(ReferentialAction::Restrict | ReferentialAction::NoAction)
                ) {
                    *a = None;
                }
            };
            for con in &mut t.constraints {
                if let Constraint::ForeignKey(fk) = con {
                    restrict(&mut fk.on_delete);
                    restrict(&mut fk.on_update);
                }
            }
            for c in &mut t.columns {
                if c.ty != SqlType::Boolean {
                    continue;
                }
                let bit = match &c.server_default {
                    Some(ServerDefault::Value(Value::Bool(b))) => Some(*b),
                    Some(ServerDefault::Sql(s)) if s.eq_ignore_ascii_case("true") => Some(true),
                    Some(ServerDefault::Sql(s)) if s.eq_ignore_ascii_case("false") => Some(false),
                    _ => None,
                };
                if let Some(b) = bit {
                    c.server_default = Some(ServerDefault::Sql(if b { "1" } else { "0" }.into()));
                }
            }
        }
        md.add(t);
    }
    md
}
