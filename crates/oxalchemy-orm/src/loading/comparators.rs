//! Relationship comparators: `User::posts.any(cond)` and `Post::author.has(cond)` build
//! `EXISTS` subqueries, and `join_path` gives the joins of `join_related`.

use oxalchemy_core::query::{select, FromItem};
use oxalchemy_core::{Expr, Value};
use oxalchemy_engine::Error;

use super::{
    association_column, foreign_key_to, no_relationship, one_to_many_fk, qualified,
    single_column_key, unsupported,
};
use crate::errors::missing_secondary;
use crate::model::{Model, RelationshipKind};
use crate::relation::Relationship;

impl<M: Model, T: Model> Relationship<M, T> {
    /// `EXISTS` a related `T` matching `cond` (SQLAlchemy's `User.posts.any(…)`), for
    /// one-to-many and many-to-many relationships.
    pub fn any(&self, cond: Expr) -> Result<Expr, Error> {
        let def = self
            .def()
            .ok_or_else(|| no_relationship::<M>(self.name()))?;
        let parent_key = match M::primary_key_columns() {
            [one] => *one,
            _ => return Err(unsupported(def, "any() needs a single-column primary key")),
        };
        let sub = match def.kind {
            RelationshipKind::OneToMany => {
                let fk = one_to_many_fk::<M, T>(def)?;
                select([Expr::Bind(Value::I64(1))])
                    .from(oxalchemy_core::table(T::TABLE))
                    .filter(qualified(T::TABLE, &fk).eq(qualified(M::TABLE, parent_key)))
                    .filter(cond)
            }
            RelationshipKind::ManyToMany => {
                let secondary = def.secondary.ok_or_else(|| missing_secondary(def))?;
                let target_key = single_column_key::<T>(def)?;
                select([Expr::Bind(Value::I64(1))])
                    .from(oxalchemy_core::table(secondary))
                    .join(
                        oxalchemy_core::table(T::TABLE),
                        qualified(T::TABLE, target_key)
                            .eq(qualified(secondary, &association_column(T::TABLE))),
                    )
                    .filter(
                        qualified(secondary, &association_column(M::TABLE))
                            .eq(qualified(M::TABLE, parent_key)),
                    )
                    .filter(cond)
            }
            RelationshipKind::ManyToOne => {
                return Err(unsupported(def, "use has() for a many-to-one relationship"))
            }
        };
        Ok(oxalchemy_core::exists(sub))
    }

    /// `EXISTS` the related parent matching `cond` (SQLAlchemy's `Post.author.has(…)`), for
    /// many-to-one relationships.
    pub fn has(&self, cond: Expr) -> Result<Expr, Error> {
        let def = self
            .def()
            .ok_or_else(|| no_relationship::<M>(self.name()))?;
        if def.kind != RelationshipKind::ManyToOne {
            return Err(unsupported(def, "use any() for a collection relationship"));
        }
        let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
        let target_key = single_column_key::<T>(def)?;
        Ok(oxalchemy_core::exists(
            select([Expr::Bind(Value::I64(1))])
                .from(oxalchemy_core::table(T::TABLE))
                .filter(qualified(T::TABLE, target_key).eq(qualified(M::TABLE, &fk)))
                .filter(cond),
        ))
    }
}

impl<M: Model, T: Model> Relationship<M, T> {
    /// The joins that go from `M` to `T` along this relationship (two for many-to-many,
    /// through the association table).
    pub fn join_path(&self) -> Result<Vec<(FromItem, Expr)>, Error> {
        let def = self
            .def()
            .ok_or_else(|| no_relationship::<M>(self.name()))?;
        let key_of = |cols: &'static [&'static str], what: &str| match cols {
            [one] => Ok(*one),
            _ => Err(unsupported(
                def,
                &format!("joining needs a single-column key on {what}"),
            )),
        };
        Ok(match def.kind {
            RelationshipKind::ManyToOne => {
                let fk = foreign_key_to(def.foreign_key, &M::table(), T::TABLE)?;
                let pk = key_of(T::primary_key_columns(), T::NAME)?;
                vec![(
                    FromItem::Table(oxalchemy_core::table(T::TABLE)),
                    qualified(T::TABLE, pk).eq(qualified(M::TABLE, &fk)),
                )]
            }
            RelationshipKind::OneToMany => {
                let fk = one_to_many_fk::<M, T>(def)?;
                let pk = key_of(M::primary_key_columns(), M::NAME)?;
                vec![(
                    FromItem::Table(oxalchemy_core::table(T::TABLE)),
                    qualified(T::TABLE, &fk).eq(qualified(M::TABLE, pk)),
                )]
            }
            RelationshipKind::ManyToMany => {
                let secondary = def.secondary.ok_or_else(|| missing_secondary(def))?;
                let mpk = key_of(M::primary_key_columns(), M::NAME)?;
                let tpk = key_of(T::primary_key_columns(), T::NAME)?;
                vec![
                    (
                        FromItem::Table(oxalchemy_core::table(secondary)),
                        qualified(secondary, &association_column(M::TABLE))
                            .eq(qualified(M::TABLE, mpk)),
                    ),
                    (
                        FromItem::Table(oxalchemy_core::table(T::TABLE)),
                        qualified(T::TABLE, tpk)
                            .eq(qualified(secondary, &association_column(T::TABLE))),
                    ),
                ]
            }
        })
    }
}
