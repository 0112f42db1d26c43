//! create blog tables
//!
//! Revision ID: 4c5a00763f37
//! Revises: <base>
//! Create Date: 2026-11-25

#![allow(unused_imports)]

use oxalchemy::core::schema::{Column, Constraint, ForeignKey, Index, ReferentialAction, Table};
use oxalchemy::core::{text, SqlType};
use oxalchemy::migrate::migration::Migration;
use oxalchemy::migrate::ops::{ColumnChange, Ops};

pub const MIGRATION: Migration = Migration {
    revision: "4c5a00763f37",
    down_revisions: &[],
    message: "create blog tables",
    created: "2026-11-25",
    upgrade,
    downgrade,
};

fn upgrade(ops: &mut Ops) {
    ops.create_table(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("created_at", SqlType::DateTime { timezone: true }).not_null())
            .column(Column::new("updated_at", SqlType::DateTime { timezone: true }).not_null())
            .column(Column::new("username", SqlType::String(Some(50))).not_null())
            .column(Column::new("email", SqlType::String(Some(255))).not_null())
            .column(
                Column::new("settings", SqlType::JsonB)
                    .not_null()
                    .server_default("'{}'"),
            )
            .column(
                Column::new("status", SqlType::String(Some(9)))
                    .not_null()
                    .server_default("'active'"),
            )
            .column(Column::new("karma", SqlType::Integer))
            .primary_key_name("pk_users")
            .unique_named("uq_users_username", ["username"])
            .unique_named("uq_users_email", ["email"])
            .check_named("ck_users_status", "\"status\" IN ('active', 'suspended')")
            .index(Index::new(["username", "email"]).named("idx_users_username_email")),
    );
    ops.create_table(
        Table::new("posts")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("created_at", SqlType::DateTime { timezone: true }).not_null())
            .column(Column::new("updated_at", SqlType::DateTime { timezone: true }).not_null())
            .column(Column::new("title", SqlType::String(Some(200))).not_null())
            .column(Column::new("content", SqlType::Text))
            .column(Column::new("author_id", SqlType::BigInteger).not_null())
            .primary_key_name("pk_posts")
            .foreign_key(
                ForeignKey::new(["author_id"], "users", ["id"])
                    .named("fk_posts_author_id_users")
                    .on_delete(ReferentialAction::Cascade),
            )
            .check_named("ck_posts_title_not_empty", "length(title) > 0")
            .index(Index::new(["author_id", "created_at"]).named("idx_posts_author_created")),
    );
    ops.create_table(
        Table::new("tags")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::String(Some(50))).not_null())
            .primary_key_name("pk_tags")
            .unique_named("uq_tags_name", ["name"]),
    );
    ops.create_table(
        Table::new("post_tags")
            .column(
                Column::new("post_id", SqlType::BigInteger)
                    .primary_key()
                    .autoincrement(false),
            )
            .column(
                Column::new("tag_id", SqlType::BigInteger)
                    .primary_key()
                    .autoincrement(false),
            )
            .primary_key_name("pk_post_tags")
            .foreign_key(
                ForeignKey::new(["post_id"], "posts", ["id"])
                    .named("fk_post_tags_post_id_posts")
                    .on_delete(ReferentialAction::Cascade),
            )
            .foreign_key(
                ForeignKey::new(["tag_id"], "tags", ["id"])
                    .named("fk_post_tags_tag_id_tags")
                    .on_delete(ReferentialAction::Cascade),
            ),
    );
}

fn downgrade(ops: &mut Ops) {
    ops.drop_table("post_tags");
    ops.drop_table("tags");
    ops.drop_table("posts");
    ops.drop_table("users");
}
