//! The optional and composite column types round trip on SQLite (memory, file) and
//! PostgreSQL, NULLs and extremes included, and autogenerate finds nothing to change after
//! `create_all` of their models (reflection reads every new type back as itself).

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use ipnetwork::IpNetwork;
use oxalchemy::migrate::diff::diff;
use oxalchemy::migrate::reflect::reflect;
use oxalchemy::orm::{self, Cidr};
use oxalchemy::prelude::*;
use rust_decimal::Decimal;

/// A newtype is its inner type to the schema too (autogenerate included).
#[derive(DbType, Clone, Debug, Default, PartialEq)]
struct Label(String);

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "scalars")]
struct Scalars {
    #[column(primary_key)]
    id: i64,
    #[column(length = 40)]
    label: Label,
    ip: Option<IpAddr>,
    net: Option<IpNetwork>,
    cidr: Option<Cidr>,
    big: Option<BigDecimal>,
    day: Option<time::Date>,
    clock: Option<time::Time>,
    local: Option<time::PrimitiveDateTime>,
    instant: Option<time::OffsetDateTime>,
    #[column(default = now)]
    stamped: Option<time::OffsetDateTime>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "arrays")]
struct Arrays {
    #[column(primary_key)]
    id: i64,
    i16s: Vec<i16>,
    i32s: Vec<i32>,
    i64s: Vec<i64>,
    f32s: Vec<f32>,
    f64s: Vec<f64>,
    bools: Vec<bool>,
    texts: Vec<String>,
    uuids: Vec<uuid::Uuid>,
    decimals: Vec<Decimal>,
    dates: Vec<NaiveDate>,
    times: Vec<NaiveTime>,
    stamps: Vec<NaiveDateTime>,
    instants: Vec<DateTime<Utc>>,
    docs: Vec<serde_json::Value>,
    ips: Vec<IpAddr>,
    nets: Vec<IpNetwork>,
    bigs: Vec<BigDecimal>,
    days: Vec<time::Date>,
    clocks: Vec<time::Time>,
    locals: Vec<time::PrimitiveDateTime>,
    moments: Vec<time::OffsetDateTime>,
    cidrs: Vec<Cidr>,
    holes: Vec<Option<i32>>,
    maybe: Option<Vec<String>>,
    labels: Vec<Label>,
}

fn big(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap()
}

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

/// SQLite's NUMERIC affinity keeps 15 significant digits of a decimal (it stores a REAL);
/// PostgreSQL keeps every digit.
fn bigs(postgres: bool) -> Vec<BigDecimal> {
    let mut v = vec![big("0"), big("-1.5"), big("123456789.012345")];
    if postgres {
        v.extend([
            big("123456789012345678901234567890123456789.000000000000000000000000000001"),
            big("-0.00000000000000000000000000000000000001"),
            big("1e100"),
        ]);
    }
    v
}

fn scalar_rows(postgres: bool) -> Vec<Scalars> {
    use time::macros::{date, datetime, time};
    let extremes = Scalars {
        ip: Some(IpAddr::V6(Ipv6Addr::new(
            0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        ))),
        net: Some(net("2001:db8::1/32")),
        cidr: Some(Cidr(net("10.0.0.0/8"))),
        big: bigs(postgres).pop(),
        day: Some(date!(9999 - 12 - 31)),
        clock: Some(time!(23:59:59.999_999)),
        local: Some(datetime!(9999-12-31 23:59:59.999_999)),
        instant: Some(datetime!(2024-02-29 23:30:00.000_001 +05:30)),
        label: Label("extremes".into()),
        ..Default::default()
    };
    let lows = Scalars {
        ip: Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        net: Some(net("192.168.1.5/24")),
        cidr: Some(Cidr(net("::/0"))),
        big: Some(big("-0.5")),
        day: Some(date!(0001 - 01 - 01)),
        clock: Some(time!(0:00)),
        local: Some(datetime!(0001-01-01 0:00)),
        instant: Some(datetime!(1970-01-01 0:00 UTC)),
        ..Default::default()
    };
    vec![extremes, lows, Scalars::default()]
}

fn array_rows(postgres: bool) -> Vec<Arrays> {
    let full = Arrays {
        i16s: vec![i16::MIN, 0, i16::MAX],
        i32s: vec![i32::MIN, -1, i32::MAX],
        i64s: vec![i64::MIN, i64::MAX],
        f32s: vec![f32::MIN, 0.1, f32::MAX],
        f64s: vec![f64::MIN_POSITIVE, -2.5, f64::MAX],
        bools: vec![true, false],
        texts: vec![
            "".into(),
            "a,b".into(),
            "{}".into(),
            "\"quoted\" and \\".into(),
            "NULL".into(),
            "Ärger ✓".into(),
        ],
        uuids: vec![uuid::Uuid::nil(), uuid::Uuid::max()],
        decimals: vec![Decimal::MAX, Decimal::MIN, Decimal::new(1, 28)],
        dates: vec![
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
        ],
        times: vec![
            NaiveTime::MIN,
            NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap(),
        ],
        stamps: vec![NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_micro_opt(1, 2, 3, 4)
            .unwrap()],
        instants: vec![
            DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
            DateTime::<Utc>::from_timestamp(4_102_444_800, 123_000).unwrap(),
        ],
        docs: vec![
            serde_json::json!({"a": [1, "x"]}),
            serde_json::json!(null),
            serde_json::json!("s"),
        ],
        ips: vec![
            IpAddr::V4(Ipv4Addr::BROADCAST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ],
        nets: vec![net("10.1.2.3/8"), net("fe80::/10")],
        bigs: bigs(postgres),
        days: vec![time::macros::date!(2000 - 01 - 01)],
        clocks: vec![
            time::macros::time!(0:00),
            time::macros::time!(23:59:59.999_999),
        ],
        locals: vec![
            time::macros::datetime!(0001-01-01 0:00),
            time::macros::datetime!(9999-12-31 23:59:59.999_999),
        ],
        moments: vec![time::macros::datetime!(2024-02-29 23:30:00.000_001 -08:00)],
        cidrs: vec![Cidr(net("10.0.0.0/8")), Cidr(net("2001:db8::/32"))],
        holes: vec![None, Some(1), None],
        maybe: Some(vec!["only".into()]),
        labels: vec![Label("a".into()), Label("".into())],
        ..Default::default()
    };
    // Every array empty, and the nullable one NULL.
    vec![full, Arrays::default()]
}

#[tokio::test]
async fn new_scalar_types_round_trip() {
    for t in common::all_targets("types_scalars").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Scalars>().metadata())
            .await
            .unwrap();
        let rows = scalar_rows(t.is_postgres());
        let mut s = db.session();
        for r in rows.clone() {
            s.add(r);
        }
        s.commit().await.unwrap();
        s.close().await.unwrap();
        let back = orm::query::<Scalars>()
            .order_by(Scalars::id.asc())
            .all(&db)
            .await
            .unwrap();
        for (got, want) in back.iter().zip(&rows) {
            assert!(
                got.stamped.is_some(),
                "[{}] default = now on a time field",
                t.label
            );
            let got = Scalars {
                id: 0,
                stamped: None,
                ..got.clone()
            };
            assert_eq!(got, *want, "[{}]", t.label);
        }
        // Filters bind the same way.
        let hits = orm::query::<Scalars>()
            .filter(Scalars::net.eq(net("192.168.1.5/24")))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "[{}]", t.label);
        let hits = orm::query::<Scalars>()
            .filter(Scalars::day.gt(time::macros::date!(2000 - 01 - 01)))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "[{}]", t.label);
        // An INET with a netmask is not one address: a clear error, naming the column.
        let err = db
            .query::<(IpAddr,)>(
                select([col("net")])
                    .from(table("scalars"))
                    .filter(col("id").eq(back[1].id)),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Decode { column, .. } if column == "net"),
            "[{}] {err}",
            t.label
        );
        assert!(err.to_string().contains("IpNetwork"), "[{}] {err}", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn arrays_of_every_element_type_round_trip() {
    for t in common::all_targets("types_arrays").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Arrays>().metadata())
            .await
            .unwrap();
        let rows = array_rows(t.is_postgres());
        let mut s = db.session();
        for r in rows.clone() {
            s.add(r);
        }
        s.commit().await.unwrap();
        s.close().await.unwrap();
        let back = orm::query::<Arrays>()
            .order_by(Arrays::id.asc())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(back.len(), 2);
        for (got, want) in back.iter().zip(&rows) {
            assert_eq!(
                Arrays {
                    id: 0,
                    ..got.clone()
                },
                *want,
                "[{}]",
                t.label
            );
        }
        // An array compares as a whole.
        let hits = orm::query::<Arrays>()
            .filter(Arrays::i64s.eq(vec![i64::MIN, i64::MAX]))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "[{}]", t.label);
        // What SQLite cannot store is refused before writing, not stored as something else.
        if t.is_sqlite() {
            let err = orm::insert(
                &db,
                &mut Arrays {
                    f64s: vec![f64::NAN],
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, Error::UnstorableValue { .. }),
                "[{}] {err}",
                t.label
            );
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn autogenerate_sees_no_change_after_create_all_of_the_new_types() {
    for t in common::all_targets("types_autogen").await {
        let db = t.connect().await;
        let md = Registry::new()
            .model::<Scalars>()
            .model::<Arrays>()
            .metadata();
        db.create_all(&md).await.unwrap();
        let mut conn = db.connection().await.unwrap();
        let current = reflect(&mut conn).await.unwrap();
        for name in ["scalars", "arrays"] {
            let table = current.tables().iter().find(|tb| tb.name.as_str() == name);
            let table = table.unwrap_or_else(|| panic!("[{}] {name} reflected", t.label));
            // The key is SQLite's rowid alias (`INTEGER`); the diff knows that, so only the
            // new types are compared here, as their dialect renders them.
            for c in table.columns.iter().filter(|c| !c.primary_key) {
                let model = md
                    .tables()
                    .iter()
                    .flat_map(|tb| &tb.columns)
                    .find(|m| m.name == c.name);
                let model = model.unwrap_or_else(|| panic!("{}", c.name.as_str()));
                let render = |ty: &SqlType| {
                    let mut out = String::new();
                    db.dialect().write_type(&mut out, ty);
                    out
                };
                assert_eq!(
                    render(&c.ty),
                    render(&model.ty),
                    "[{}] {name}.{}",
                    t.label,
                    c.name.as_str()
                );
            }
        }
        let d = diff(db.dialect(), &md, &current, &|t| t != "oxalchemy_version");
        assert!(d.is_empty(), "[{}] a false diff: {:#?}", t.label, d.upgrade);
        drop(conn);
        t.finish().await;
    }
}
