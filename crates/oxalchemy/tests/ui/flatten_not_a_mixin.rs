use oxalchemy::prelude::*;

#[derive(Default)]
pub struct Audit {
    pub note: String,
}

#[derive(Model, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[model(flatten)]
    pub audit: Audit,
}

fn main() {}
