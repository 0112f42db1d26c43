use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
}

fn main() {
    let _ = User::username.eq(5);
}
