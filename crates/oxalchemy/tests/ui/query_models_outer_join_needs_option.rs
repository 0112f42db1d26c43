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

// A user without posts has NULL in every column of `post`: `Post` cannot hold that row.
fn rows(s: &mut Session) {
    let _ = s.query_models::<(User, Post)>().outerjoin_related(User::posts);
}

fn main() {}
