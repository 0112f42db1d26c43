use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct Tag {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Model, Default)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[relationship(secondary = "post_tags")]
    pub tag: One<Tag>,
}

fn main() {}
