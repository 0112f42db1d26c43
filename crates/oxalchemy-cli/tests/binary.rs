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
        assert!(out.starts_with(&format!("lint {rev}: [varchar]")), "{out}");
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
