use oxalchemy::prelude::*;

#[derive(Model, Default)]
#[model(index(columns(usernme)))]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    pub username: String,
}

fn main() {}
