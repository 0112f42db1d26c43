//! The guide's §5 (Testing: "Test Fixtures", "Model Tests", and "Use factories for test
//! data") in Rust, on the guide's models: the README's "Testing" section is regions of this
//! file, and `tests/testing_kit_guide.rs` runs it on SQLite and PostgreSQL.
//!
//! Not an example program of its own: a module of tests, as it sits in a user's `tests/`.

use crate::blog::{Post, User};

// README: model_tests
use oxalchemy::orm::{Registry, Session};
use oxalchemy::prelude::*;

// The guide's `engine` and `tables` fixtures: the schema every test starts from.
fn tables() -> Registry {
    crate::blog::registry()
}

// The guide's `session` fixture is the attribute: a connection, BEGIN, a session bound to
// it, the test, then ROLLBACK — once per backend named (`test_user_creation::sqlite`, …).
#[oxalchemy::test(sqlite, postgres, schema = tables)]
async fn test_user_creation(mut session: Session) -> Result<(), Error> {
    let user = session.add(User {
        username: "test_user".into(),
        email: "test@example.com".into(),
        ..Default::default()
    });
    session.commit().await?; // a SAVEPOINT release: the fixture rolls everything back

    assert!(session[user].base.id > 0);
    assert!(session[user].ts.created_at.timestamp() > 0);

    let fetched = session.get::<User>(session[user].base.id).await?;
    assert_eq!(session[fetched.expect("committed")].username, "test_user");
    Ok(())
}

#[oxalchemy::test(sqlite, postgres, schema = tables)]
async fn test_user_posts_relationship(mut session: Session) -> Result<(), Error> {
    let user = session.add(User {
        username: "test_user".into(),
        email: "test@example.com".into(),
        ..Default::default()
    });
    let post = session.add(Post {
        title: "Test Post".into(),
        content: Some("Content".into()),
        ..Default::default()
    });
    session.link(post, Post::author, user)?;
    session.commit().await?;

    assert_eq!(session.children(user, User::posts), [post]); // post in user.posts
    assert_eq!(session.parent(post, Post::author), Some(user)); // post.author == user
    assert_eq!(session[post].author_id, session[user].base.id);
    Ok(())
}
// README: end

// README: factories
use oxalchemy::testing::{Factories, Factory, FactoryCtx, SubFactories};

impl Factory for User {
    fn defaults(f: &mut FactoryCtx<'_>) -> Self {
        User {
            username: format!("user{}", f.n()), // a sequence: user1, user2, …
            ..Default::default()
        }
    }
    // A lazy attribute, from the username unless the test set the email.
    fn lazy(&mut self, _f: &mut FactoryCtx<'_>) {
        if self.email.is_empty() {
            self.email = format!("{}@example.com", self.username);
        }
    }
}

impl Factory for Post {
    fn defaults(f: &mut FactoryCtx<'_>) -> Self {
        Post {
            title: format!("Post {}", f.n()),
            content: Some("Content".into()),
            ..Default::default()
        }
    }
    // A sub-factory: each post gets an author from User's factory, linked.
    fn sub_factories(subs: &mut SubFactories<Self>) {
        subs.parent(Post::author);
    }
}

#[oxalchemy::test(sqlite, postgres, schema = tables)]
async fn test_user_creation_with_factories(mut session: Session) -> Result<(), Error> {
    let mut factories = Factories::new(42); // same seed, same data
    let user = factories
        .of::<User>()
        .with(|u| u.username = "test_user".into())
        .create(&mut session)
        .await?;
    assert!(session[user].base.id > 0);
    assert_eq!(session[user].email, "test_user@example.com");
    Ok(())
}

#[oxalchemy::test(sqlite, postgres, schema = tables)]
async fn test_user_posts_relationship_with_factories(mut session: Session) -> Result<(), Error> {
    let mut factories = Factories::new(42);
    let post = factories.create::<Post>(&mut session).await?; // and its author
    let user = session
        .parent(post, Post::author)
        .expect("the sub-factory linked one");
    assert_eq!(session.children(user, User::posts), [post]);
    assert_eq!(session[post].author_id, session[user].base.id);
    Ok(())
}
// README: end
