use oxalchemy::prelude::*;

#[derive(Model, Clone, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
}

fn rows(s: &mut Session) {
    let _ = s.query_models::<(User, String)>();
}

fn main() {}
