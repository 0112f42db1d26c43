use oxalchemy::prelude::*;

#[derive(Model, Clone, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[relationship(back_populates = "author")]
    pub posts: Many<Post>,
}

#[derive(Model, Clone, Default)]
pub struct Tag {
    #[column(primary_key)]
    pub id: i64,
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

// `author` holds a `User`: a `Tag` is not one.
fn new_post(tag: Tag) -> Post {
    Post {
        author: tag.into(),
        ..Default::default()
    }
}

fn main() {}
