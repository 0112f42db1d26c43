//! Alembic's `include_schemas`, `include_name` and `include_object`: what autogenerate
//! compares. An object left out is neither created, dropped nor altered; a schema or table
//! refused by name is not even read. On SQLite and PostgreSQL (schemas on PostgreSQL).

use oxalchemy_core::schema::{Column, Index, MetaData, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::{diff_including, Diff, Include, ObjectKind, ObjectRef};
use oxalchemy_migrate::ops::Op;
use oxalchemy_migrate::reflect::reflect_including;
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn kinds(d: &Diff) -> Vec<String> {
    d.upgrade
        .iter()
        .map(|op| {
            let s = format!("{op:?}");
            s.split('(').next().unwrap_or_default().to_owned()
        })
        .collect()
}

async fn autogenerate(db: &Database, models: &MetaData, include: &Include<'_>) -> Diff {
    let mut conn = db.connection().await.unwrap();
    let current = reflect_including(&mut conn, models, include).await.unwrap();
    diff_including(db.dialect(), models, &current, include)
}

/// The database has `if_keep` (with a `legacy` column and index the models dropped) and
/// `if_other` (another application's table); the models add a column to `if_keep`.
async fn filters_leave_objects_alone(label: &str, url: &str) {
    let db = Database::connect(url).await.unwrap();
    for sql in [
        "CREATE TABLE if_keep (id INTEGER PRIMARY KEY, name TEXT, legacy TEXT)",
        "CREATE INDEX ix_if_keep_legacy ON if_keep (legacy)",
        "CREATE TABLE if_other (id INTEGER PRIMARY KEY)",
    ] {
        db.execute(text(sql)).await.unwrap();
    }
    let mut models = MetaData::new();
    models.add(
        Table::new("if_keep")
            // A plain INTEGER key: the rowid on SQLite, no identity on PostgreSQL.
            .column(
                Column::new("id", SqlType::Integer)
                    .primary_key()
                    .autoincrement(false),
            )
            .column(Column::new("name", SqlType::Text))
            .column(Column::new("added", SqlType::Integer)),
    );

    // Unfiltered: the other table, the legacy column and its index go.
    let all = autogenerate(&db, &models, &Include::default()).await;
    assert_eq!(
        kinds(&all),
        ["AddColumn", "DropIndex", "DropColumn", "DropTable"],
        "{label}: {:#?}",
        all.upgrade
    );

    // include_object: leave out the other table and the legacy column and index.
    let seen = std::sync::Mutex::new(Vec::new());
    let object = |o: &ObjectRef<'_>| {
        seen.lock()
            .unwrap()
            .push((o.kind, o.name.to_owned(), o.reflected));
        !(o.kind == ObjectKind::Table && o.name == "if_other"
            || o.kind == ObjectKind::Column && o.name == "legacy"
            || o.kind == ObjectKind::Index && o.name == "ix_if_keep_legacy")
    };
    let include = Include {
        object: Some(&object),
        ..Include::default()
    };
    let d = autogenerate(&db, &models, &include).await;
    assert_eq!(kinds(&d), ["AddColumn"], "{label}: {:#?}", d.upgrade);
    let seen = seen.into_inner().unwrap();
    // Both sides are asked about, the models' objects as not reflected.
    assert!(
        seen.contains(&(ObjectKind::Column, "added".into(), false)),
        "{label}: {seen:?}"
    );
    assert!(
        seen.contains(&(ObjectKind::Column, "legacy".into(), true)),
        "{label}: {seen:?}"
    );
    assert!(
        seen.contains(&(ObjectKind::Table, "if_other".into(), true)),
        "{label}: {seen:?}"
    );

    // include_name: the same by name, on the reflected side; a table refused by name is
    // not read at all.
    let name = |o: &ObjectRef<'_>| {
        assert!(
            o.reflected,
            "include_name is asked about reflected names only"
        );
        !(o.name == "if_other" || o.name == "legacy" || o.name == "ix_if_keep_legacy")
    };
    let include = Include {
        name: Some(&name),
        ..Include::default()
    };
    let d = autogenerate(&db, &models, &include).await;
    assert_eq!(kinds(&d), ["AddColumn"], "{label}: {:#?}", d.upgrade);

    // The filtered upgrade applies and leaves the excluded objects as they were.
    let mut conn = db.connection().await.unwrap();
    let mut state = oxalchemy_migrate::reflect::reflect(&mut conn)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    oxalchemy_migrate::migration::execute_ops(&mut tx, &d.upgrade, &mut state)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    drop(conn);
    assert!(
        autogenerate(&db, &models, &include).await.is_empty(),
        "{label}"
    );
    db.execute(text("SELECT legacy FROM if_keep"))
        .await
        .unwrap_or_else(|e| panic!("{label}: the legacy column went: {e}"));
    db.execute(text("SELECT id FROM if_other"))
        .await
        .unwrap_or_else(|e| panic!("{label}: the other table went: {e}"));
}

#[tokio::test]
async fn include_filters_on_sqlite() {
    let file = TempSqliteFile::new("include_filters");
    filters_leave_objects_alone("sqlite", &file.url()).await;
}

#[tokio::test]
async fn include_filters_on_postgresql() {
    let Some(pg) = pg_schema("include_filters").await else {
        return;
    };
    filters_leave_objects_alone("postgresql", &pg.url).await;
    pg.drop().await;
}

/// `include_schemas`: a schema the models do not name is read only when asked, and
/// `include_name` keeps the schemas the application does not own out.
#[tokio::test]
async fn include_schemas_on_postgresql() {
    let Some(main) = pg_schema("include_schemas").await else {
        return;
    };
    let Some(other) = pg_schema("include_schemas_other").await else {
        return;
    };
    let Some(foreign) = pg_schema("include_schemas_foreign").await else {
        return;
    };
    let db = Database::connect(&main.url).await.unwrap();
    for sql in [
        format!(
            "CREATE TABLE \"{}\".is_log (id integer PRIMARY KEY)",
            other.schema
        ),
        format!(
            "CREATE TABLE \"{}\".is_old (id integer PRIMARY KEY)",
            other.schema
        ),
        format!(
            "CREATE TABLE \"{}\".is_theirs (id integer PRIMARY KEY)",
            foreign.schema
        ),
    ] {
        db.execute(text(sql)).await.unwrap();
    }
    let mut models = MetaData::new();
    models.add(
        Table::new("is_users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("email", SqlType::Text))
            .index(Index::new(["email"]).named("ix_is_users_email")),
    );
    // Our own schemas only: every test of the suite shares the database.
    let ours = [
        main.schema.clone(),
        other.schema.clone(),
        foreign.schema.clone(),
    ];
    let name = |o: &ObjectRef<'_>| o.kind != ObjectKind::Schema || ours.iter().any(|s| s == o.name);

    // Without include_schemas, the models name no other schema: only the new table.
    let narrow = Include {
        name: Some(&name),
        ..Include::default()
    };
    let d = autogenerate(&db, &models, &narrow).await;
    assert_eq!(kinds(&d), ["CreateTable"], "{:#?}", d.upgrade);

    // With it, the other schemas' tables are compared: not in the models, so dropped.
    let wide = Include {
        schemas: true,
        name: Some(&name),
        object: None,
    };
    let d = autogenerate(&db, &models, &wide).await;
    let mut dropped: Vec<&str> = d
        .upgrade
        .iter()
        .filter_map(|op| match op {
            Op::DropTable(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    dropped.sort();
    let mut expected = [
        format!("{}.is_log", other.schema),
        format!("{}.is_old", other.schema),
        format!("{}.is_theirs", foreign.schema),
    ];
    expected.sort();
    assert_eq!(dropped, expected, "{:#?}", d.upgrade);

    // The models keep `is_log` in the other schema; `foreign` is left out by name.
    models.add(
        Table::new("is_log").schema(other.schema.clone()).column(
            Column::new("id", SqlType::Integer)
                .primary_key()
                .autoincrement(false),
        ),
    );
    let only_ours = |o: &ObjectRef<'_>| {
        o.kind != ObjectKind::Schema || o.name == main.schema || o.name == other.schema
    };
    let wide = Include {
        schemas: true,
        name: Some(&only_ours),
        object: None,
    };
    let d = autogenerate(&db, &models, &wide).await;
    assert_eq!(kinds(&d), ["CreateTable", "DropTable"], "{:#?}", d.upgrade);
    assert!(
        matches!(&d.upgrade[1], Op::DropTable(t) if *t == format!("{}.is_old", other.schema)),
        "{:#?}",
        d.upgrade
    );
    // Applied, the schemas agree with the models; the foreign schema is untouched.
    let mut conn = db.connection().await.unwrap();
    let mut state = reflect_including(&mut conn, &models, &wide).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    oxalchemy_migrate::migration::execute_ops(&mut tx, &d.upgrade, &mut state)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    drop(conn);
    let again = autogenerate(&db, &models, &wide).await;
    assert!(again.is_empty(), "{:#?}", again.upgrade);
    db.execute(text(format!(
        "SELECT id FROM \"{}\".is_theirs",
        foreign.schema
    )))
    .await
    .unwrap();
    drop(db);
    main.drop().await;
    other.drop().await;
    foreign.drop().await;
}

/// A foreign key to a table of another schema (Alembic's cross-schema FK): created,
/// reflected with the referenced schema, compared (an action change is a drop and an add),
/// and written in the migration file with `.ref_schema(…)`.
#[tokio::test]
async fn foreign_key_to_another_schema_on_postgresql() {
    use oxalchemy_core::schema::ForeignKey;
    use oxalchemy_core::ReferentialAction;

    let Some(main) = pg_schema("fk_cross_schema").await else {
        return;
    };
    let Some(other) = pg_schema("fk_cross_schema_other").await else {
        return;
    };
    let db = Database::connect(&main.url).await.unwrap();
    let models = |action: Option<ReferentialAction>| {
        let mut fk = ForeignKey::new(["parent_id"], "xs_parent", ["id"])
            .named("fk_xs_child_parent")
            .ref_schema(other.schema.clone());
        if let Some(a) = action {
            fk = fk.on_delete(a);
        }
        let mut md = MetaData::new();
        md.add(
            Table::new("xs_parent")
                .schema(other.schema.clone())
                .column(Column::new("id", SqlType::BigInteger).primary_key()),
        );
        md.add(
            Table::new("xs_child")
                .column(Column::new("id", SqlType::BigInteger).primary_key())
                .column(Column::new("parent_id", SqlType::BigInteger))
                .foreign_key(fk),
        );
        md
    };
    let apply = |d: Diff, md: MetaData| {
        let db = &db;
        async move {
            let mut conn = db.connection().await.unwrap();
            let mut state = reflect_including(&mut conn, &md, &Include::default())
                .await
                .unwrap();
            let mut tx = conn.begin().await.unwrap();
            oxalchemy_migrate::migration::execute_ops(&mut tx, &d.upgrade, &mut state)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            d
        }
    };
    let plain = models(None);
    let d = autogenerate(&db, &plain, &Include::default()).await;
    assert_eq!(
        kinds(&d),
        ["CreateTable", "CreateTable"],
        "{:#?}",
        d.upgrade
    );
    let file = oxalchemy_migrate::script::migration_file(
        "xs1",
        &[],
        "cross",
        "2026-11-29",
        &d.upgrade,
        &d.downgrade,
        &[],
    );
    assert!(
        file.contains(&format!(".ref_schema({:?})", other.schema)),
        "{file}"
    );
    apply(d, models(None)).await;
    // The FK points into the other schema in the database.
    let target: String = db
        .query_scalar(text(
            "SELECT confrelid::regclass::text FROM pg_constraint \
             WHERE conname = 'fk_xs_child_parent'",
        ))
        .await
        .unwrap();
    assert_eq!(target, format!("{}.xs_parent", other.schema));
    let again = autogenerate(&db, &plain, &Include::default()).await;
    assert!(again.is_empty(), "{:#?}", again.upgrade);

    let cascade = models(Some(ReferentialAction::Cascade));
    let d = autogenerate(&db, &cascade, &Include::default()).await;
    assert_eq!(
        kinds(&d),
        ["DropConstraint", "AddConstraint"],
        "{:#?}",
        d.upgrade
    );
    let d = apply(d, models(Some(ReferentialAction::Cascade))).await;
    let again = autogenerate(&db, &cascade, &Include::default()).await;
    assert!(again.is_empty(), "{:#?}", again.upgrade);
    // And back.
    apply(
        Diff {
            upgrade: d.downgrade.clone(),
            ..Diff::default()
        },
        models(Some(ReferentialAction::Cascade)),
    )
    .await;
    let back = autogenerate(&db, &plain, &Include::default()).await;
    assert!(back.is_empty(), "{:#?}", back.upgrade);
    drop(db);
    main.drop().await;
    other.drop().await;
}
