use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct Wrapper<T> {
    #[column(primary_key)]
    pub id: i64,
    pub value: T,
}

fn main() {}
