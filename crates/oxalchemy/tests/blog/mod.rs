//! The guide's models (../shared/reference/sqlalchemy-standards.md §1) in Rust.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the guide's models"
)]

use chrono::{DateTime, Utc};
use oxalchemy::prelude::*;
use oxalchemy::ValidationMessage;

#[derive(Mixin, Clone, Debug, Default, PartialEq)]
pub(crate) struct IdMixin {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Mixin, Clone, Debug, Default, PartialEq)]
pub(crate) struct Timestamps {
    #[column(default = now)]
    pub created_at: DateTime<Utc>,
    #[column(default = now, onupdate = now)]
    pub updated_at: DateTime<Utc>,
}

#[derive(DbEnum, Clone, Copy, Debug, Default, PartialEq)]
#[db_enum(name = "user_status")]
pub(crate) enum Status {
    #[default]
    #[db_enum(rename = "active")]
    Active,
    #[db_enum(rename = "suspended")]
    Suspended,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(
    table = "users",
    index(name = "idx_users_username_email", columns(username, email)),
    validate = user_is_consistent
)]
pub(crate) struct User {
    #[model(flatten)]
    pub base: IdMixin,
    #[column(length = 50, unique, validate = not_blank)]
    pub username: String,
    #[column(length = 255, unique, validate = looks_like_email)]
    pub email: String,
    #[column(jsonb, server_default = "'{}'")]
    pub settings: serde_json::Value,
    #[column(default = Status::Active, server_default = "'active'")]
    pub status: Status,
    pub karma: Option<i32>,
    #[model(flatten)]
    pub ts: Timestamps,
    #[relationship(back_populates = "author")]
    pub posts: Many<Post>,
    /// Not a column.
    #[model(skip)]
    pub scratch: String,
}

pub(crate) fn not_blank(s: &str) -> ValidationMessage {
    if s.trim().is_empty() {
        Err("must not be blank".into())
    } else {
        Ok(())
    }
}

pub(crate) fn looks_like_email(s: &str) -> ValidationMessage {
    match s.split_once('@') {
        Some((a, b)) if !a.is_empty() && b.contains('.') => Ok(()),
        _ => Err(format!("`{s}` is not an email address")),
    }
}

pub(crate) fn user_is_consistent(u: &User) -> ValidationMessage {
    if u.karma.is_some_and(|k| k < 0) && u.status == Status::Active {
        return Err("an active user cannot have negative karma".into());
    }
    Ok(())
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(
    table = "posts",
    index(name = "idx_posts_author_created", columns(author_id, created_at)),
    check(name = "title_not_empty", sql = "length(title) > 0")
)]
pub(crate) struct Post {
    #[model(flatten)]
    pub base: IdMixin,
    #[column(length = 200)]
    pub title: String,
    pub content: Option<String>,
    #[column(foreign_key = "users.id", on_delete = "cascade")]
    pub author_id: i64,
    #[model(flatten)]
    pub ts: Timestamps,
    #[relationship(back_populates = "posts")]
    pub author: One<User>,
    #[relationship(secondary = "post_tags")]
    pub tags: Many<Tag>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "tags")]
pub(crate) struct Tag {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50, unique)]
    pub name: String,
}

/// The association table, declared without a struct (SQLAlchemy's `Table(...)`).
pub(crate) fn post_tags() -> Table {
    Table::new("post_tags")
        .column(
            Column::new("post_id", SqlType::BigInteger)
                .primary_key()
                .references("posts", "id")
                .on_delete(ReferentialAction::Cascade),
        )
        .column(
            Column::new("tag_id", SqlType::BigInteger)
                .primary_key()
                .references("tags", "id")
                .on_delete(ReferentialAction::Cascade),
        )
}

pub(crate) fn registry() -> Registry {
    Registry::new()
        .model::<User>()
        .model::<Post>()
        .model::<Tag>()
        .table(post_tags())
}

/// Creates the guide's tables on `db` and adds three authors: ann with posts a1 and a2,
/// bob with none, cyd with c1 (the rows the column and mixed-row queries are read from).
pub(crate) async fn three_authors(db: &Database) {
    db.create_all(&registry().metadata()).await.unwrap();
    let mut s = db.session();
    for (name, titles) in [
        ("ann", &["a1", "a2"][..]),
        ("bob", &[][..]),
        ("cyd", &["c1"][..]),
    ] {
        s.add(User {
            username: name.into(),
            email: format!("{name}@example.com"),
            settings: serde_json::json!({}),
            posts: titles
                .iter()
                .map(|t| Post {
                    title: (*t).into(),
                    ..Default::default()
                })
                .collect::<Vec<_>>()
                .into(),
            ..Default::default()
        });
    }
    s.commit().await.unwrap();
}
