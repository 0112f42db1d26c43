use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[relationship(back_populates = "author")]
    pub posts: Vec<Post>,
}

#[derive(Model, Default)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "user.id")]
    pub author_id: i64,
}

fn main() {}
