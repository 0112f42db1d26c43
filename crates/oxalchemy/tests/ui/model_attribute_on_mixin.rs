use oxalchemy::prelude::*;

// A mixin has no table: a struct-level #[model(…)] on it would be silently ignored.
#[derive(Mixin, Default)]
#[model(index(columns(created_by)))]
pub struct Audit {
    pub created_by: String,
}

fn main() {}
