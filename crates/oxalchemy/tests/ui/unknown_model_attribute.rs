use oxalchemy::prelude::*;

#[derive(Model, Default)]
#[model(tabel = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
