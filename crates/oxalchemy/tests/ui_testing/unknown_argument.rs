use oxalchemy::orm::Session;

#[oxalchemy::test(sqlite, mysql)]
async fn creates_users(_s: Session) {}

fn main() {}
