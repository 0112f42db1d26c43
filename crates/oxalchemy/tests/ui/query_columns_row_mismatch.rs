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

fn rows(s: &mut Session) {
    // The model is selected at the first position, but the row reads a count there.
    let _ = s
        .query_columns((entity::<User>(), func::count(Post::id)))
        .all::<(i64, User)>();
}

fn main() {}
