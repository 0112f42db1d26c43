use oxalchemy::prelude::*;

#[derive(Model, Clone, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
}

fn add(s: &mut Session) {
    let _ = s.add_all((User::default(), 5));
}

fn main() {}
