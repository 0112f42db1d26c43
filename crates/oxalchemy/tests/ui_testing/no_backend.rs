use oxalchemy::orm::Session;

#[oxalchemy::test]
async fn creates_users(_s: Session) {}

fn main() {}
