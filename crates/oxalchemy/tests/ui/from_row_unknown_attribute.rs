use oxalchemy::prelude::*;

#[derive(FromRow)]
pub struct PostCount {
    #[from_row(renamed = "n")]
    pub posts: i64,
}

fn main() {}
