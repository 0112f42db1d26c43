//! The guide's declarative models (User, Post, Tag, post_tags with Timestamp and ID mixins)
//! in Rust: create_all, insert with defaults and validators, typed queries.
//!
//!     cargo run --example guide_models
//!     DATABASE_URL=postgresql://postgres@127.0.0.1/test cargo run --example guide_models

#[path = "../tests/blog/mod.rs"]
mod blog;

use blog::{IdMixinColumns, Post, TimestampsColumns, User};
use oxalchemy::orm;
use oxalchemy::prelude::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let db = Database::connect(&url).await?;
    let registry = blog::registry();
    if let Err(e) = registry.check() {
        eprintln!("model declarations are inconsistent: {e}");
    }
    let metadata = registry.metadata();
    db.drop_all(&metadata).await?;
    db.create_all(&metadata).await?;

    // create_user: defaults (timestamps) applied, id generated and written back.
    let mut ann = User {
        username: "ann".into(),
        email: "ann@example.com".into(),
        settings: serde_json::json!({"theme": "dark"}),
        ..Default::default()
    };
    orm::insert(&db, &mut ann).await?;
    println!("created user id={} at {}", ann.base.id, ann.ts.created_at);

    // Validators run before anything is written.
    let mut bad = User {
        username: "bob".into(),
        email: "not-an-email".into(),
        ..Default::default()
    };
    if let Err(e) = orm::insert(&db, &mut bad).await {
        println!("rejected: {e}");
    }

    for title in ["Hello", "Second post"] {
        let mut post = Post {
            title: title.into(),
            content: Some("…".into()),
            author_id: ann.base.id,
            ..Default::default()
        };
        orm::insert(&db, &mut post).await?;
    }

    // UserRepository.search_users
    let keyword = "AN";
    let found = orm::query::<User>()
        .filter(or_([
            User::username.ilike(format!("%{keyword}%")),
            User::email.ilike(format!("%{keyword}%")),
        ]))
        .order_by(User::created_at.desc())
        .offset(0)
        .limit(20)
        .all(&db)
        .await?;
    println!(
        "search {keyword:?}: {:?}",
        found.iter().map(|u| &u.username).collect::<Vec<_>>()
    );

    // get_posts_count_by_author, with typed columns in a Core select.
    let counts: Vec<(String, i64)> = db
        .query(
            select([
                User::username.expr(),
                func::count(Post::id).label("post_count"),
            ])
            .from(table("users"))
            .join(table("posts"), User::id.eq(Post::author_id))
            .group_by([User::username.expr()]),
        )
        .await?;
    println!("posts per author: {counts:?}");
    let n = orm::query::<Post>()
        .filter(Post::author_id.eq(ann.base.id))
        .count(&db)
        .await?;
    println!("ann has {n} posts");
    Ok(())
}
