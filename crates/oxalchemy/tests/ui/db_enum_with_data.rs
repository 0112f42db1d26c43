use oxalchemy::prelude::*;

#[derive(DbEnum)]
pub enum Status {
    Active,
    Suspended(String),
}

fn main() {}
