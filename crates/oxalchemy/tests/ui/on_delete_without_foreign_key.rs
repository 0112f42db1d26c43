use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(on_delete = "cascade")]
    pub author_id: i64,
}

fn main() {}
