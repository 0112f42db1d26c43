// Input:
//
// #[oxalchemy::test(
//     sqlite,
//     postgres,
//     schema = blog::registry,
//     fixtures("tests/users.sql", seed)
// )]
// #[should_panic]
// async fn creates_users(mut s: Session) -> Result<(), Error> {
//     s.add(new_user("ann"));
//     s.commit().await
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

#[cfg_attr(not(test), allow(dead_code))]
async fn creates_users(mut s: Session) -> Result<(), Error> {
    s.add(new_user("ann"));
    s.commit().await
}
#[cfg(test)]
#[doc(hidden)]
fn __oxalchemy_test_creates_users() -> ::oxalchemy::testing::TestCase {
    ::oxalchemy::testing::TestCase::new(
            ::core::concat!(::core::module_path!(), "::", "creates_users"),
        )
        .schema(blog::registry())
        .sql_fixture(
            "tests/users.sql",
            ::core::include_str!(
                ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/tests/users.sql")
            ),
        )
        .fixture(
            "seed",
            |__session| ::std::boxed::Box::pin(async move {
                ::oxalchemy::testing::TestResult::into_result(seed(__session).await)
            }),
        )
}
/// The test on each backend it names.
#[cfg(test)]
mod creates_users {
    #[test]
    #[should_panic]
    fn sqlite() {
        super::__oxalchemy_test_creates_users()
            .run(
                ::oxalchemy::testing::Backend::Sqlite,
                async |__ctx| {
                    super::creates_users(::oxalchemy::orm::SessionExt::session(__ctx))
                        .await
                },
            )
    }
    #[test]
    #[should_panic]
    fn postgres() {
        super::__oxalchemy_test_creates_users()
            .run(
                ::oxalchemy::testing::Backend::Postgres,
                async |__ctx| {
                    super::creates_users(::oxalchemy::orm::SessionExt::session(__ctx))
                        .await
                },
            )
    }
}
