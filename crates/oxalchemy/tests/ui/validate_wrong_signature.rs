use oxalchemy::prelude::*;

fn not_blank(s: &String) -> bool {
    !s.is_empty()
}

#[derive(Model, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(validate = not_blank)]
    pub name: String,
}

fn main() {}
