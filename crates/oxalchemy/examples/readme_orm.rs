//! The README's ORM sections (Models, Session, Loading relationships) as one program: the
//! README's code blocks are the regions between `// README:` markers here, and
//! `tests/readme.rs` checks that they match and runs this program on SQLite and PostgreSQL.
//!
//! ```text
//! cargo run --example readme_orm                      # a SQLite file in the temp directory
//! DATABASE_URL=postgresql://postgres@127.0.0.1/test cargo run --example readme_orm
//! ```
#![allow(
    missing_docs,
    reason = "the README shows models as users write them, without a doc comment on each field"
)]

// README: models
use oxalchemy::orm::{self, joinedload, selectinload};
use oxalchemy::prelude::*;

#[derive(Mixin, Clone, Debug, Default)]
pub struct Timestamps {
    #[column(default = now)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[column(default = now, onupdate = now)]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Model, Clone, Debug, Default)]
#[model(
    table = "users",
    index(name = "idx_users_username_email", columns(username, email))
)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50, unique, validate = not_blank)]
    pub username: String,
    #[column(length = 255, unique)]
    pub email: String,
    #[column(jsonb, server_default = "'{}'")]
    pub settings: serde_json::Value,
    pub karma: Option<i32>,
    #[model(flatten)] // mixin columns come first
    pub ts: Timestamps,
    #[relationship(back_populates = "author")]
    pub posts: Many<Post>,
}

fn not_blank(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("must not be blank".into());
    }
    Ok(())
}
// README: end

/// A post, written by one user, with tags (many-to-many through `post_tags`).
#[derive(Model, Clone, Debug, Default)]
#[model(table = "posts")]
pub struct Post {
    /// The key.
    #[column(primary_key)]
    pub id: i64,
    /// The title.
    #[column(length = 200)]
    pub title: String,
    /// Who wrote it.
    #[column(foreign_key = "users.id", on_delete = "cascade")]
    pub author_id: i64,
    /// The author, when loaded.
    #[relationship(back_populates = "posts")]
    pub author: One<User>,
    /// The tags, when loaded.
    #[relationship(secondary = "post_tags")]
    pub tags: Many<Tag>,
}

/// A tag.
#[derive(Model, Clone, Debug, Default)]
#[model(table = "tags")]
pub struct Tag {
    /// The key.
    #[column(primary_key)]
    pub id: i64,
    /// The tag's name.
    #[column(length = 50, unique)]
    pub name: String,
}

/// An event log row, streamed in batches.
#[derive(Model, Clone, Debug, Default)]
#[model(table = "events")]
pub struct Event {
    /// The key.
    #[column(primary_key)]
    pub id: i64,
    /// What happened.
    pub kind: String,
}

/// Every model and the association table.
pub fn registry() -> Registry {
    Registry::new()
        .model::<User>()
        .model::<Post>()
        .model::<Tag>()
        .model::<Event>()
        .table(
            Table::new("post_tags")
                .column(
                    Column::new("post_id", SqlType::BigInteger)
                        .primary_key()
                        .references("posts", "id"),
                )
                .column(
                    Column::new("tag_id", SqlType::BigInteger)
                        .primary_key()
                        .references("tags", "id"),
                ),
        )
}

/// Runs the README's ORM sections against `url`, creating (and first dropping) the tables.
pub async fn run(url: &str) -> Result<(), Error> {
    let db = Database::connect(url).await?;
    db.drop_all(&registry().metadata()).await?;

    // README: create
    let md = registry().metadata(); // User, Post, Tag and the post_tags table
    db.create_all(&md).await?;
    let mut user = User {
        username: "ann".into(),
        email: "ann@example.com".into(),
        ..Default::default()
    };
    orm::insert(&db, &mut user).await?; // defaults + validators, id read back
    let found: Vec<User> = orm::query::<User>()
        .filter(User::username.ilike("%an%")) // User::username.eq(5) does not compile
        .order_by(User::id.desc())
        .limit(20)
        .all(&db)
        .await?;
    // README: end
    assert_eq!(found.len(), 1);
    assert!(user.id > 0);

    // README: session
    let user = db
        .session_scope(async |s| {
            // commit on Ok, rollback on Err or panic
            let u = s.add(User {
                username: "bob".into(),
                email: "bob@example.com".into(),
                ..Default::default()
            });
            let p = s.add(Post {
                title: "Hello".into(),
                ..Default::default()
            });
            s.link(p, Post::author, u)?; // p.author_id is set at flush
            s.flush().await?; // INSERTs in foreign-key order, ids read back
            Ok::<_, Error>(s[u].clone())
        })
        .await?;

    let mut s = db.session();
    let h = s.get::<User>(user.id).await?.ok_or(Error::NotFound)?; // identity map: no 2nd SELECT
    s[h].karma = Some(5); // an UPDATE of the changed column only
    s.commit().await?;
    // README: end
    let update = &s.statements()[1];
    assert!(
        update.starts_with("UPDATE") && update.contains("karma"),
        "{update}"
    );
    assert!(
        !update.contains("username"),
        "only changed columns are written: {update}"
    );

    db.execute(insert(table("events")).columns(["kind"]).values(["signup"]))
        .await?;

    // README: loading
    let posts = s
        .query::<Post>()
        .options(joinedload(Post::author))
        .limit(20)
        .all()
        .await?; // 1 statement
    let users = orm::query::<User>()
        .filter(User::username.eq("bob"))
        .options(selectinload(User::posts).selectinload(Post::tags)) // 1 + 1 per level
        .all(&db)
        .await?;
    let tags = users[0].posts.get()?[0].tags.get()?; // an unloaded relationship is an error, never a query
    let writers = orm::query::<User>()
        .filter(User::posts.any(Post::title.like("%Hello%"))?)
        .all(&db)
        .await?;
    orm::query::<Event>()
        .for_each_batch(&db, 1000, |batch| {
            println!("{} events", batch.len()); // 1,000 at a time, never all in memory
            Ok(())
        })
        .await?;
    // README: end
    assert_eq!(posts.len(), 1);
    assert_eq!(
        s[posts[0]].author.get()?.as_ref().map(|u| u.id),
        Some(user.id)
    );
    assert!(tags.is_empty());
    assert_eq!(writers.len(), 1);
    s.close().await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join("oxalchemy-readme.db");
        format!("sqlite:///{}", path.display())
    });
    run(&url).await?;
    println!(
        "README ORM sections ran on {}",
        oxalchemy::engine::redact_url(&url)
    );
    Ok(())
}
