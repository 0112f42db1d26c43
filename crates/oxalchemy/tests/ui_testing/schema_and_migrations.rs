use oxalchemy::orm::{Registry, Session};

fn registry() -> Registry {
    Registry::new()
}

const ALL: &[oxalchemy::migrate::migration::Migration] = &[];

#[oxalchemy::test(sqlite, schema = registry, migrations = ALL)]
async fn creates_users(_s: Session) {}

fn main() {}
