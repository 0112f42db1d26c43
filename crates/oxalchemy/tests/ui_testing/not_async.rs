use oxalchemy::orm::Session;

#[oxalchemy::test(sqlite)]
fn creates_users(_s: Session) {}

fn main() {}
