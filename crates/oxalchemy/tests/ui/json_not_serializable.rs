use oxalchemy::prelude::*;

#[derive(Default)]
pub struct Prefs {
    pub theme: String,
}

#[derive(Model, Default)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(json)]
    pub prefs: Prefs,
}

fn main() {}
