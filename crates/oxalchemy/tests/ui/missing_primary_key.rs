use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct User {
    pub id: i64,
    pub name: String,
}

fn main() {}
