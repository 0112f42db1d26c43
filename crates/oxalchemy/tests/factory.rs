//! Factories (`oxalchemy::testing::Factory`) on SQLite (memory and file) and PostgreSQL:
//! sequences unique across a batch, lazy attributes, traits and overrides, sub-factories
//! making (or reusing) parents linked and flushed parents first, `create_batch(1000)` in
//! one flush, and the same seed building the same objects.

mod blog;

use std::collections::HashSet;

use blog::*;
use oxalchemy::orm::Session;
use oxalchemy::prelude::*;
use oxalchemy::testing::{Factories, Factory, FactoryCtx, SubFactories};

impl Factory for User {
    fn defaults(f: &mut FactoryCtx<'_>) -> Self {
        User {
            username: format!("user{}", f.n()),
            settings: serde_json::json!({}),
            karma: Some(f.int(0..100) as i32),
            ..Default::default()
        }
    }

    // A lazy attribute: derived from the username unless the call set the email itself.
    fn lazy(&mut self, _f: &mut FactoryCtx<'_>) {
        if self.email.is_empty() {
            self.email = format!("{}@example.com", self.username);
        }
    }
}

/// Traits: named variants of a user.
fn suspended(u: &mut User) {
    u.status = Status::Suspended;
}

fn trusted(u: &mut User) {
    u.karma = Some(1000);
}

impl Factory for Post {
    fn defaults(f: &mut FactoryCtx<'_>) -> Self {
        Post {
            title: format!("post {}", f.n()),
            ..Default::default()
        }
    }

    fn sub_factories(subs: &mut SubFactories<Self>) {
        subs.parent(Post::author);
    }
}

async fn count(s: &mut Session, table: &str) -> Result<i64, Error> {
    let rows: Vec<(i64,)> = s
        .select(text(format!("SELECT count(*) FROM {table}")))
        .await?;
    Ok(rows[0].0)
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, schema = blog::registry)]
async fn sequences_are_unique_across_a_batch(s: &mut Session) -> Result<(), Error> {
    let mut factories = Factories::new(7);
    let users = factories.of::<User>().create_batch(s, 50).await?;
    let names: HashSet<String> = users.iter().map(|u| s[*u].username.clone()).collect();
    assert_eq!(names.len(), 50);
    assert!(
        names.contains("user1") && names.contains("user50"),
        "{names:?}"
    );
    // The sequence goes on in the next call.
    let next = factories.create::<User>(s).await?;
    assert_eq!(s[next].username, "user51");
    assert_eq!(s[next].email, "user51@example.com");
    assert_eq!(count(s, "users").await?, 51);
    Ok(())
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, schema = blog::registry)]
async fn traits_and_overrides_are_applied_before_lazy_attributes(
    s: &mut Session,
) -> Result<(), Error> {
    let mut factories = Factories::new(7);
    let ann = factories
        .of::<User>()
        .with(suspended)
        .with(trusted)
        .with(|u| u.username = "ann".into())
        .create(s)
        .await?;
    let stored = s
        .get::<User>(s[ann].base.id)
        .await?
        .expect("ann was flushed");
    let ann = &s[stored];
    assert_eq!(ann.status, Status::Suspended);
    assert_eq!(ann.karma, Some(1000));
    assert_eq!(ann.username, "ann");
    // The lazy email follows the overridden username …
    assert_eq!(ann.email, "ann@example.com");
    // … and an overridden email wins over the lazy one.
    let bob = factories
        .of::<User>()
        .with(|u| u.email = "bob@elsewhere.org".into())
        .build();
    assert_eq!(bob.email, "bob@elsewhere.org");
    assert_eq!(bob.base.id, 0, "build does not save");
    assert_eq!(bob.status, Status::Active, "no trait, the default status");
    Ok(())
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, schema = blog::registry)]
async fn sub_factories_make_linked_parents_flushed_first(s: &mut Session) -> Result<(), Error> {
    let mut factories = Factories::new(7);
    let before = s.statements().len();
    let posts = factories.of::<Post>().create_batch(s, 3).await?;
    let ran = s.statements()[before..].to_vec();
    // One author per post, each post pointing at its own.
    let authors: HashSet<i64> = posts.iter().map(|p| s[*p].author_id).collect();
    assert_eq!(authors.len(), 3);
    assert!(authors.iter().all(|id| *id > 0), "{authors:?}");
    assert_eq!(count(s, "users").await?, 3);
    // Foreign-key order: users are inserted before the posts that point at them.
    let users_at = ran
        .iter()
        .position(|sql| sql.contains("INSERT INTO \"users\""));
    let posts_at = ran
        .iter()
        .position(|sql| sql.contains("INSERT INTO \"posts\""));
    assert!(
        matches!((users_at, posts_at), (Some(u), Some(p)) if u < p),
        "{ran:#?}"
    );

    // A given parent is reused instead of a new one per post.
    let ann = factories
        .of::<User>()
        .with(|u| u.username = "ann".into())
        .create(s)
        .await?;
    let ann_id = s[ann].base.id;
    let posts = factories
        .of::<Post>()
        .parent(Post::author, ann)
        .create_batch(s, 4)
        .await?;
    assert!(posts.iter().all(|p| s[*p].author_id == ann_id));
    assert_eq!(count(s, "users").await?, 4);
    assert_eq!(count(s, "posts").await?, 7);
    Ok(())
}

#[oxalchemy::test(sqlite, sqlite_file, postgres, schema = blog::registry)]
async fn create_batch_of_1000_is_one_flush(s: &mut Session) -> Result<(), Error> {
    let mut factories = Factories::new(7);
    // The session's transaction is open before the batch, so its log is the flush's alone.
    count(s, "users").await?;
    let before = s.statements().len();
    let users = factories.of::<User>().create_batch(s, 1000).await?;
    let ran = s.statements()[before..].to_vec();
    assert_eq!(users.len(), 1000);
    // One flush: nothing but a few multi-row INSERTs (chunked under the bind limit), where
    // a flush per object would be a thousand.
    let heads: Vec<String> = ran
        .iter()
        .map(|sql| sql.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        (1..=20).contains(&heads.len()) && heads.iter().all(|h| h == "INSERT INTO \"users\""),
        "{heads:?}"
    );
    assert_eq!(count(s, "users").await?, 1000);
    Ok(())
}

#[test]
fn the_same_seed_builds_the_same_objects() {
    let build = |seed| {
        let mut factories = Factories::new(seed);
        factories.of::<User>().build_batch(20)
    };
    let karma = |users: Vec<User>| users.into_iter().map(|u| u.karma).collect::<Vec<_>>();
    assert_eq!(karma(build(1)), karma(build(1)));
    assert_ne!(karma(build(1)), karma(build(2)));
}

/// Tags named with fake data (feature `fake`), from the factories' seeded generator.
impl Factory for Tag {
    fn defaults(f: &mut FactoryCtx<'_>) -> Self {
        use oxalchemy::testing::fake::faker::name::en::Name;
        Tag {
            name: f.fake(Name()),
            ..Default::default()
        }
    }
}

#[test]
fn fake_data_is_realistic_and_follows_the_seed() {
    let names = |seed| {
        let mut factories = Factories::new(seed);
        let tags = factories.of::<Tag>().build_batch(5);
        tags.into_iter().map(|t| t.name).collect::<Vec<_>>()
    };
    let first = names(3);
    assert_eq!(first, names(3));
    assert_ne!(first, names(4));
    // Full names: a first and a last name.
    assert!(first.iter().all(|n| n.contains(' ')), "{first:?}");
}
