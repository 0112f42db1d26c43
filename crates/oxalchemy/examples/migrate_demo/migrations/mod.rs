//! Migrations, listed by `migrate` (regenerated on `revision`; do not edit by hand).

pub mod m20261125_4c5a00763f37_create_blog_tables;

/// Every migration of this project.
pub const ALL: &[oxalchemy::migrate::migration::Migration] =
    &[m20261125_4c5a00763f37_create_blog_tables::MIGRATION];
