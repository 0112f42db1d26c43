use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct User {
    #[column(primary_ky)]
    pub id: i64,
}

fn main() {}
