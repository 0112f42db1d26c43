use oxalchemy::prelude::*;

#[derive(Model, Clone, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[relationship(back_populates = "author")]
    pub posts: Many<Post>,
}

#[derive(Model, Clone, Default)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "user.id")]
    pub author_id: i64,
    #[relationship(back_populates = "posts")]
    pub author: One<User>,
}

// `posts` holds posts: handles of users are not.
fn link(s: &mut Session, other: Handle<User>) {
    s.add(User {
        posts: vec![other].into(),
        ..Default::default()
    });
}

fn main() {}
