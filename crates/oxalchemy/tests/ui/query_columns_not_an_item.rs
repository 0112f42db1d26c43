use oxalchemy::prelude::*;

#[derive(Model, Clone, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
}

fn rows(s: &mut Session) {
    let _ = s.query_columns((User::username, 5));
}

fn main() {}
