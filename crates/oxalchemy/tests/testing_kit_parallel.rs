//! Two hundred tests in the rollback fixture, run in parallel on one PostgreSQL (as many at
//! once as the test harness runs: `--test-threads=N`): each inserts its own number of rows,
//! lets the others run, and must count exactly its own — nothing another test wrote
//! (committed, in their view) is visible, and nothing it wrote stays.
//!
//! The cases are generated: `group!` makes a module of twenty `#[oxalchemy::test]`
//! functions, ten groups make two hundred.

use oxalchemy::orm::{Registry, Session};
use oxalchemy::prelude::*;

/// One row a test inserted.
#[derive(Model, Clone, Debug, Default)]
#[model(table = "kit_rows")]
pub(crate) struct KitRow {
    #[column(primary_key)]
    pub id: i64,
    /// The test that inserted it.
    pub test: String,
}

fn registry() -> Registry {
    Registry::new().model::<KitRow>()
}

/// 1 to 9 rows, from the test's name.
fn rows_for(test: &str) -> usize {
    test.bytes()
        .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
        % 9
        + 1
}

/// Inserts this test's rows (committed, as the code under test sees it), yields to the
/// other tests, and counts: exactly its own rows, all of them its own.
async fn isolated(s: &mut Session, test: &str) -> Result<(), Error> {
    let n = rows_for(test);
    for _ in 0..n {
        s.add(KitRow {
            test: test.to_owned(),
            ..Default::default()
        });
        s.commit().await?;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let rows = s.query::<KitRow>().all().await?;
    assert_eq!(rows.len(), n, "{test}");
    assert!(rows.iter().all(|h| s[*h].test == test), "{test}");
    Ok(())
}

macro_rules! case {
    ($name:ident) => {
        #[oxalchemy::test(postgres, schema = super::registry)]
        async fn $name(s: &mut Session) -> Result<(), Error> {
            isolated(s, concat!(module_path!(), "::", stringify!($name))).await
        }
    };
}

macro_rules! group {
    ($group:ident) => {
        mod $group {
            use super::*;

            case!(t00);
            case!(t01);
            case!(t02);
            case!(t03);
            case!(t04);
            case!(t05);
            case!(t06);
            case!(t07);
            case!(t08);
            case!(t09);
            case!(t10);
            case!(t11);
            case!(t12);
            case!(t13);
            case!(t14);
            case!(t15);
            case!(t16);
            case!(t17);
            case!(t18);
            case!(t19);
        }
    };
}

group!(g00);
group!(g01);
group!(g02);
group!(g03);
group!(g04);
group!(g05);
group!(g06);
group!(g07);
group!(g08);
group!(g09);
