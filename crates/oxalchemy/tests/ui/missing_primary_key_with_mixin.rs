use chrono::{DateTime, Utc};
use oxalchemy::prelude::*;

#[derive(Mixin, Default)]
pub struct Timestamps {
    #[column(default = now)]
    pub created_at: DateTime<Utc>,
}

#[derive(Model, Default)]
pub struct User {
    pub name: String,
    #[model(flatten)]
    pub ts: Timestamps,
}

fn main() {}
