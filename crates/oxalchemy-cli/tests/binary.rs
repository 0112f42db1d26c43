//! The `oxalchemy` binary driven as a user drives it, in a fresh cargo project that depends
//! on this checkout by path: `init` → edit the models → `revision --autogenerate` →
//! `cargo fmt --check` → `upgrade head` → `status` → `downgrade -1` → `check`, on SQLite and
//! PostgreSQL, asserting outputs and exit codes.
//!
//! Offline: the project gets this workspace's Cargo.lock, and cargo runs with
//! `CARGO_NET_OFFLINE`, so nothing is resolved or downloaded. Its builds share one target
//! directory inside this workspace's (`target/oxalchemy-e2e`), so only the first run compiles
//! the dependencies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oxalchemy_testing::{pg_schema, TempSqliteFile};

/// The projects share a target directory, where each one's migrate binary is the same file
/// (`debug/migrate`): one project at a time.
static ONE_PROJECT_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The workspace root (two levels above this crate).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// The shared target directory of the projects' builds.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                workspace().join(t)
            }
        })
        .unwrap_or_else(|| workspace().join("target"))
        .join("oxalchemy-e2e")
}

/// A new cargo project (library with one model) in a temporary directory.
fn new_project(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxalchemy-e2e-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let oxalchemy = workspace().join("crates/oxalchemy");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"e2e_app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\noxalchemy = {{ path = {:?} }}\n\n[workspace]\n",
            oxalchemy.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), "//! The app.\n\npub mod models;\n").unwrap();
    std::fs::write(dir.join("src/models.rs"), MODELS_V1).unwrap();
    dir
}

const MODELS_V1: &str = "//! The app's models.

use oxalchemy::prelude::*;

/// A user.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = \"accounts\")]
pub struct Account {
    /// Key.
    #[column(primary_key)]
    pub id: i64,
    /// Unique login.
    #[column(length = 50, unique)]
    pub login: String,
    /// Shown name.
    pub display_name: Option<String>,
}
";

/// Runs `oxalchemy ARGS` in `project` with `url` as DATABASE_URL.
fn oxalchemy(project: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxalchemy"))
        .args(args)
        .current_dir(project)
        .env("DATABASE_URL", url)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        // The projects are built once or twice each: incremental state would only take disk.
        .env("CARGO_INCREMENTAL", "0")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// stdout and the exit code, asserting the code.
fn expect(out: Output, code: i32, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout + &stderr
}

#[test]
fn a_user_session_on_both_databases() {
    let _one = ONE_PROJECT_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let file = TempSqliteFile::new("cli_e2e");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg = rt.block_on(pg_schema("cli_e2e"));
    let mut runs = vec![("sqlite", file.url())];
    if let Some(pg) = &pg {
        runs.push(("postgresql", pg.url.clone()));
    }
    for (label, url) in runs {
        session(label, &url);
    }
    if let Some(pg) = pg {
        rt.block_on(pg.drop());
    }
}

fn session(label: &str, url: &str) {
    let p = new_project(label);
    let ox = |args: &[&str]| oxalchemy(&p, url, args);

    // Before init there is no migrate binary to run.
    let out = expect(ox(&["status"]), 1, "status before init");
    assert!(out.contains("run `oxalchemy init` first"), "{out}");

    let out = expect(ox(&["init"]), 0, "init");
    assert!(out.contains("created src/migrations/mod.rs"), "{out}");
    assert!(out.contains("created src/bin/migrate.rs"), "{out}");
    assert!(p.join("src/bin/migrate.rs").is_file());
    // Zero migrations compile: the migrate binary runs.
    assert_eq!(expect(ox(&["heads"]), 0, "heads of nothing"), "");
    let out = expect(ox(&["current"]), 0, "current");
    assert_eq!(out, "<base>\n", "[{label}]");
    // init again keeps the files.
    let out = expect(ox(&["init"]), 0, "init again");
    assert!(out.contains("kept src/bin/migrate.rs"), "{out}");

    // Edit: register the model with the migrate binary.
    let bin = p.join("src/bin/migrate.rs");
    let text = std::fs::read_to_string(&bin).unwrap();
    let text = text.replace(
        "    Registry::new()\n",
        "    Registry::new().model::<e2e_app::models::Account>()\n",
    );
    std::fs::write(&bin, text).unwrap();

    let out = expect(
        ox(&["revision", "--autogenerate", "-m", "create accounts"]),
        0,
        "revision",
    );
    assert!(out.contains("(1 operations)"), "[{label}] {out}");
    let migration = std::fs::read_dir(p.join("src/migrations"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|f| f.file_name().is_some_and(|n| n != "mod.rs"))
        .unwrap();
    let code = std::fs::read_to_string(&migration).unwrap();
    assert!(code.contains("ops.create_table("), "{code}");
    let rev = code
        .lines()
        .find_map(|l| l.strip_prefix("//! Revision ID: "))
        .unwrap()
        .to_owned();

    // The user's CI: the generated files are formatted.
    let fmt = Command::new("cargo")
        .args(["fmt", "--check"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(
        fmt.status.success(),
        "cargo fmt --check: {}",
        String::from_utf8_lossy(&fmt.stdout)
    );

    let out = expect(ox(&["status"]), 0, "status before upgrade");
    assert!(out.contains("current: <base>"), "{out}");
    assert!(
        out.contains(&format!(
            "pending: 1 (run `upgrade heads`)\n  {rev} — create accounts"
        )),
        "{out}"
    );
    let out = expect(ox(&["check"]), 3, "check before upgrade");
    assert!(out.contains("not at head"), "{out}");

    let out = expect(ox(&["upgrade", "head"]), 0, "upgrade");
    assert!(
        out.ends_with(&format!("upgraded {rev}\n")),
        "[{label}] {out}"
    );
    if label == "postgresql" {
        // The pending migration's lints come first.
        assert!(
            out.starts_with(&format!("lint {rev}: warning [varchar]")),
            "{out}"
        );
    }
    let out = expect(ox(&["status"]), 0, "status at head");
    assert!(
        out.contains(&format!("current: {rev} — create accounts")),
        "{out}"
    );
    assert!(out.contains("pending: none (at head)"), "{out}");
    assert!(out.contains("models: match the database"), "{out}");
    let out = expect(ox(&["check"]), 0, "check at head");
    assert!(out.contains("models and database agree"), "{out}");
    let out = expect(ox(&["history"]), 0, "history");
    assert!(
        out.contains(&format!("<base> -> {rev} — create accounts")),
        "{out}"
    );

    let out = expect(ox(&["downgrade", "-1"]), 0, "downgrade");
    assert!(out.ends_with(&format!("downgraded {rev}\n")), "{out}");
    let out = expect(ox(&["check"]), 3, "check after downgrade");
    assert!(out.contains("not at head: 1 migrations to apply"), "{out}");
    assert_eq!(expect(ox(&["current"]), 0, "current"), "<base>\n");

    // Without DATABASE_URL the error names it; --database-url is the same as the variable.
    let bare = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_oxalchemy"));
        c.args(args)
            .current_dir(&p)
            .env_remove("DATABASE_URL")
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_INCREMENTAL", "0")
            .env("NO_COLOR", "1");
        c.output().unwrap()
    };
    let out = expect(bare(&["current"]), 1, "no database url");
    assert!(
        out.contains("error: no database URL: set DATABASE_URL"),
        "{out}"
    );
    let out = expect(
        bare(&["--database-url", url, "current"]),
        0,
        "--database-url",
    );
    assert_eq!(out, "<base>\n");
    // A migrate binary that does not build is exit code 4, after cargo's errors.
    let source = std::fs::read_to_string(&bin).unwrap();
    std::fs::write(
        &bin,
        format!("{source}\nfn broken() -> u8 {{ \"not a number\" }}\n"),
    )
    .unwrap();
    let out = expect(ox(&["heads"]), 4, "broken migrate binary");
    assert!(
        out.contains("mismatched types") && out.contains("could not build the migrate binary"),
        "{out}"
    );
    std::fs::write(&bin, source).unwrap();

    // The command line itself.
    let out = expect(ox(&["--help"]), 0, "help");
    assert!(
        out.contains("Exit codes:") && out.contains("status"),
        "{out}"
    );
    let out = expect(ox(&["upgrade", "--help"]), 0, "upgrade help");
    assert!(out.contains("Usage: oxalchemy upgrade"), "{out}");
    let out = expect(ox(&["frobnicate"]), 2, "unknown command");
    assert!(out.contains("frobnicate"), "{out}");
    let out = expect(ox(&["completions", "bash"]), 0, "completions");
    assert!(out.contains("_oxalchemy()"), "{out}");
    let _ = std::fs::remove_dir_all(&p);
}

/// A schema written by hand in SQL: composite keys, a self-reference, a many-to-many
/// association table, defaults, a CHECK, an index, a unique constraint (and a native enum on
/// PostgreSQL).
fn hand_written_schema(postgres: bool) -> String {
    let (id, int, status, status_default) = if postgres {
        (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "BIGINT",
            "article_status",
            "'draft'",
        )
    } else {
        ("INTEGER PRIMARY KEY", "INTEGER", "VARCHAR(9)", "'draft'")
    };
    let enum_type = if postgres {
        "CREATE TYPE article_status AS ENUM ('draft', 'published');\n"
    } else {
        ""
    };
    let boolean_default = if postgres { "true" } else { "1" };
    format!(
        "{enum_type}\
         CREATE TABLE authors (id {id}, name VARCHAR(100) NOT NULL, email VARCHAR(255) NOT NULL, \
           active BOOLEAN NOT NULL DEFAULT {boolean_default}, CONSTRAINT uq_authors_email UNIQUE (email));
         CREATE TABLE categories (id {id}, name TEXT NOT NULL, parent_id {int}, \
           CONSTRAINT fk_categories_parent_id_categories FOREIGN KEY (parent_id) REFERENCES categories (id) ON DELETE SET NULL);
         CREATE TABLE articles (id {id}, title VARCHAR(200) NOT NULL, body TEXT, \
           status {status} NOT NULL DEFAULT {status_default}, score DOUBLE PRECISION, author_id {int} NOT NULL, \
           category_id {int}, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
           CONSTRAINT fk_articles_author_id_authors FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE, \
           CONSTRAINT fk_articles_category_id_categories FOREIGN KEY (category_id) REFERENCES categories (id), \
           CONSTRAINT ck_articles_title_not_empty CHECK (length(title) > 0));
         CREATE INDEX ix_articles_author_id_created_at ON articles (author_id, created_at);
         CREATE TABLE tags (id {id}, name VARCHAR(50) NOT NULL, CONSTRAINT uq_tags_name UNIQUE (name));
         CREATE TABLE article_tags (article_id {int} NOT NULL, tag_id {int} NOT NULL, \
           CONSTRAINT pk_article_tags PRIMARY KEY (article_id, tag_id), \
           CONSTRAINT fk_article_tags_article_id_articles FOREIGN KEY (article_id) REFERENCES articles (id) ON DELETE CASCADE, \
           CONSTRAINT fk_article_tags_tag_id_tags FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE);
         CREATE TABLE revisions (article_id {int} NOT NULL, number INTEGER NOT NULL, note TEXT, \
           CONSTRAINT pk_revisions PRIMARY KEY (article_id, number), \
           CONSTRAINT fk_revisions_article_id_articles FOREIGN KEY (article_id) REFERENCES articles (id));"
    )
}

/// The guide's schema, as its example migration creates it (see the fixtures' header).
fn guide_schema(postgres: bool) -> &'static str {
    if postgres {
        include_str!("fixtures/guide_postgres.sql")
    } else {
        include_str!("fixtures/guide_sqlite.sql")
    }
}

/// One schema to adopt: its SQL per backend and what the generated models must contain.
struct Case {
    name: &'static str,
    sql: fn(bool) -> String,
    needles: &'static [&'static str],
}

const HAND_WRITTEN: &[&str] = &[
    "pub struct Article {",
    "#[relationship(foreign_key = \"author_id\", back_populates = \"articles\")]\n    pub author: One<Author>,",
    "#[relationship(foreign_key = \"author_id\", back_populates = \"author\")]\n    pub articles: Many<Article>,",
    "#[relationship(secondary = \"article_tags\")]\n    pub tags: Many<Tag>,",
    "#[relationship(secondary = \"article_tags\")]\n    pub articles: Many<Article>,",
    "pub parent: One<Category>,",
    "pub fn article_tags() -> Table {",
    "check(name = \"title_not_empty\", sql = \"length(",
    "name = \"ix_articles_author_id_created_at\"",
    "unique(columns(email), name = \"uq_authors_email\")",
    "#[column(primary_key)]\n    pub number: i32,",
    "#[column(foreign_key = \"categories.id\", on_delete = \"set null\")]",
    "pub body: Option<String>,",
    "note: the models use chrono",
];

const GUIDE: &[&str] = &[
    "pub struct User {",
    "pub struct Post {",
    "#[relationship(foreign_key = \"author_id\", back_populates = \"posts\")]\n    pub author: One<User>,",
    "#[relationship(foreign_key = \"author_id\", back_populates = \"author\")]\n    pub posts: Many<Post>,",
    "#[relationship(secondary = \"post_tags\")]\n    pub tags: Many<Tag>,",
    "pub fn post_tags() -> Table {",
    "unique(columns(username), name = \"uq_users_username\")",
    "name = \"idx_posts_author_created\"",
    "pub karma: Option<i32>,",
    "note: the models use chrono, serde_json",
];

/// `generate models` and `init --from-database` on live databases (the guide's schema and
/// one written by hand): the generated models compile and pass clippy, match the database
/// (`check` finds nothing to autogenerate), and the baseline migration builds the same
/// schema on an empty database.
#[test]
fn adopting_an_existing_database() {
    let _one = ONE_PROJECT_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cases = [
        Case {
            name: "hand",
            sql: hand_written_schema,
            needles: HAND_WRITTEN,
        },
        Case {
            name: "guide",
            sql: |pg| guide_schema(pg).to_owned(),
            needles: GUIDE,
        },
    ];
    for case in &cases {
        let live = TempSqliteFile::new(&format!("cli_adopt_{}", case.name));
        let empty = TempSqliteFile::new(&format!("cli_adopt_{}_empty", case.name));
        rusqlite::Connection::open(&live.path)
            .unwrap()
            .execute_batch(&(case.sql)(false))
            .unwrap();
        adopt(case, "sqlite", &live.url(), &empty.url(), &rt);
        if let Some(pg) = rt.block_on(pg_schema(&format!("cli_adopt_{}", case.name))) {
            let pg_empty = rt
                .block_on(pg_schema(&format!("cli_adopt_{}_empty", case.name)))
                .unwrap();
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&pg.url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client.batch_execute(&(case.sql)(true)).await.unwrap();
            });
            adopt(case, "postgresql", &pg.url, &pg_empty.url, &rt);
            rt.block_on(pg.drop());
            rt.block_on(pg_empty.drop());
        }
    }
}

fn adopt(case: &Case, label: &str, live: &str, empty: &str, rt: &tokio::runtime::Runtime) {
    let label = format!("{}-{label}", case.name);
    let p = new_project(&format!("adopt-{label}"));
    std::fs::remove_file(p.join("src/models.rs")).unwrap();
    std::fs::write(p.join("src/lib.rs"), "//! The app.\n").unwrap();
    // The generated models use chrono and serde_json, as the command says.
    let manifest = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
    std::fs::write(
        p.join("Cargo.toml"),
        manifest.replace(
            "[dependencies]\n",
            "[dependencies]\nchrono = \"0.4\"\nserde_json = \"1\"\n",
        ),
    )
    .unwrap();
    let ox = |url: &str, args: &[&str]| oxalchemy(&p, url, args);

    let out = expect(ox(live, &["generate", "models"]), 0, "generate models");
    for needle in case.needles {
        assert!(out.contains(needle), "[{label}] missing {needle}:\n{out}");
    }
    if label == "hand-postgresql" {
        assert!(
            out.contains("#[db_enum(name = \"article_status\", native)]\npub enum ArticleStatus {"),
            "{out}"
        );
        assert!(out.contains("pub status: ArticleStatus,"), "{out}");
    }
    if case.name == "hand" {
        let out = expect(
            ox(live, &["generate", "models", "--tables", "tags,authors"]),
            0,
            "generate some models",
        );
        assert!(
            out.contains("pub struct Tag {") && !out.contains("pub struct Article {"),
            "{out}"
        );
        let out = expect(
            ox(live, &["generate", "models", "--tables", "nope"]),
            1,
            "unknown table",
        );
        assert!(out.contains("no table `nope`"), "{out}");
    }

    let out = expect(
        ox(live, &["init", "--from-database"]),
        0,
        "init --from-database",
    );
    assert!(
        out.contains("created src/models.rs from the database"),
        "{out}"
    );
    assert!(out.contains("(baseline "), "{out}");
    assert!(out.contains("stamped head"), "{out}");
    let bin = std::fs::read_to_string(p.join("src/bin/migrate.rs")).unwrap();
    assert!(bin.contains("models::registry()"), "{bin}");
    // The generated models compile and equal the live schema: nothing to autogenerate.
    let out = expect(ox(live, &["check"]), 0, "check after adopting");
    assert!(out.contains("models and database agree"), "[{label}] {out}");
    let fmt = Command::new("cargo")
        .args(["fmt", "--check"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(
        fmt.status.success(),
        "cargo fmt --check: {}",
        String::from_utf8_lossy(&fmt.stdout)
    );
    // The generated code (models, migrate binary, baseline) passes the user's clippy.
    let clippy = Command::new("cargo")
        .args(["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"])
        .current_dir(&p)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .unwrap();
    assert!(
        clippy.status.success(),
        "[{label}] cargo clippy: {}",
        String::from_utf8_lossy(&clippy.stderr)
    );
    // Pictures of the live database and of the models agree on the relationships.
    let live_er = expect(ox(live, &["schema", "--database"]), 0, "schema --database");
    let models_er = expect(ox(live, &["schema", "--format", "mermaid"]), 0, "schema");
    let dot = expect(ox(live, &["schema", "--format", "dot"]), 0, "schema dot");
    let (edges, dot_edge): (&[&str], &str) = if case.name == "hand" {
        (
            &[
                "articles ||--o{ article_tags : \"article_id\"",
                "categories |o--o{ categories : \"parent_id\"",
            ],
            "\"articles\" -> \"authors\" [label=\"author_id\"];",
        )
    } else {
        (
            &[
                "users ||--o{ posts : \"author_id\"",
                "tags ||--o{ post_tags : \"tag_id\"",
            ],
            "\"posts\" -> \"users\" [label=\"author_id\"];",
        )
    };
    for er in [&live_er, &models_er] {
        for edge in edges {
            assert!(er.contains(edge), "[{label}] {edge}: {er}");
        }
    }
    assert!(dot.contains(dot_edge), "{dot}");
    // The baseline builds the same schema on an empty database, and the models match it.
    expect(
        ox(empty, &["upgrade", "head"]),
        0,
        "baseline on an empty database",
    );
    let out = expect(ox(empty, &["check"]), 0, "check of the rebuilt database");
    assert!(out.contains("models and database agree"), "[{label}] {out}");
    rt.block_on(async {
        use oxalchemy_migrate::{diff::diff, reflect::reflect};
        let a = oxalchemy_engine::Database::connect(live).await.unwrap();
        let b = oxalchemy_engine::Database::connect(empty).await.unwrap();
        let sa = reflect(&mut a.connection().await.unwrap()).await.unwrap();
        let sb = reflect(&mut b.connection().await.unwrap()).await.unwrap();
        let d = diff(a.dialect(), &sa, &sb, &|_| true);
        assert!(d.is_empty(), "[{label}] {:#?}", d.upgrade);
    });
    let _ = std::fs::remove_dir_all(&p);
}
