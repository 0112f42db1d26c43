use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "users")]
    pub author_id: i64,
}

fn main() {}
