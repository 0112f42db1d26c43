//! Test fixtures for oxalchemy.
//!
//! * [`pg_schema`] hands every test its own PostgreSQL schema on a shared server, so
//!   PostgreSQL tests can run in parallel. The server is `TEST_DATABASE_URL` when set,
//!   otherwise an ephemeral server started once per test process with `initdb`/`pg_ctl`
//!   (see [`postgres_base_url`]).
//! * [`TempSqliteFile`] is a uniquely named SQLite file that is deleted on drop.
//!
//! The base URL is resolved synchronously and cached in a [`OnceLock`]: every
//! `#[tokio::test]` runs on its own runtime, so no client or task outlives a call.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use tokio_postgres::NoTls;

/// Environment variable naming the PostgreSQL server tests should use.
const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Per-process counter so that names built from the same test name never collide.
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn next_id() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// How the base URL was obtained.
struct Resolved {
    url: Result<String, String>,
    /// `TEST_DATABASE_URL` was set: failures must fail the test, never skip it.
    explicit: bool,
}

fn resolved() -> &'static Resolved {
    static BASE: OnceLock<Resolved> = OnceLock::new();
    BASE.get_or_init(|| match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.trim().is_empty() => Resolved {
            url: Ok(url.trim().to_owned()),
            explicit: true,
        },
        _ => Resolved {
            url: match ephemeral_unavailable_reason() {
                Some(reason) => Err(reason),
                None => start_ephemeral(),
            },
            explicit: false,
        },
    })
}

/// The base server URL tests use, or the reason there is none.
///
/// Resolved once per process: `TEST_DATABASE_URL` if set and non-empty, otherwise an
/// ephemeral server started with `initdb`/`pg_ctl` (stopped and deleted when the test
/// process exits), otherwise an error.
pub fn postgres_base_url() -> Result<String, String> {
    resolved().url.clone()
}

/// A PostgreSQL schema created for one test, so tests can run in parallel on one server.
#[derive(Debug)]
pub struct PgSchema {
    /// Connection string whose connections use [`PgSchema::schema`] as `search_path`.
    pub url: String,
    /// The (unquoted) schema name, built only from `[a-z0-9_]`.
    pub schema: String,
    admin_url: String,
}

/// Returns a fresh, empty schema for this test, or `None` (after printing a visible
/// `SKIPPED PostgreSQL case ...` line) when no PostgreSQL is available.
///
/// Panics instead of skipping when `TEST_DATABASE_URL` is set but unusable, so CI
/// cannot silently skip PostgreSQL tests.
pub async fn pg_schema(test_name: &str) -> Option<PgSchema> {
    let resolved = resolved();
    let base = match &resolved.url {
        Ok(url) => url.clone(),
        Err(reason) => {
            print_skip(test_name, reason);
            return None;
        }
    };
    let schema = schema_name(test_name);
    let create = format!("CREATE SCHEMA {}", quote_ident(&schema));
    if let Err(e) = execute(&base, &create).await {
        let reason = format!("cannot create schema `{schema}` on {}: {e}", redact(&base));
        if resolved.explicit {
            panic!("PostgreSQL case `{test_name}`: {TEST_DATABASE_URL} is set but {reason}");
        }
        print_skip(test_name, &reason);
        return None;
    }
    Some(PgSchema {
        url: with_search_path(&base, &schema),
        schema,
        admin_url: base,
    })
}

/// Writes the skip notice straight to the stderr handle: `eprintln!` goes through libtest's
/// output capture and would only show for failing tests.
fn print_skip(test_name: &str, reason: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED PostgreSQL case `{test_name}`: {reason}"
    );
}

impl PgSchema {
    /// Drops the schema (CASCADE). Call at the end of a test.
    ///
    /// A failure is reported on stderr but does not fail the test.
    pub async fn drop(self) {
        let sql = format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&self.schema)
        );
        if let Err(e) = execute(&self.admin_url, &sql).await {
            eprintln!(
                "warning: could not drop PostgreSQL schema `{}`: {e}",
                self.schema
            );
        }
    }
}

/// Connects to `url`, runs `sql` (simple query protocol), and disconnects.
async fn execute(url: &str, sql: &str) -> Result<(), String> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(|e| error_chain(&e))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let (client, connection) = config.connect(NoTls).await.map_err(|e| error_chain(&e))?;
    let conn = tokio::spawn(connection);
    let result = client.batch_execute(sql).await.map_err(|e| error_chain(&e));
    drop(client);
    // The connection future finishes once the client is gone; its own error (if any)
    // is less useful than the query's.
    let _ = conn.await;
    result
}

/// `error: cause: cause...` (tokio-postgres hides the interesting part in `source()`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = cause.source();
    }
    msg
}

/// `t_<sanitized test name, max 30 chars>_<pid>_<counter>`.
fn schema_name(test_name: &str) -> String {
    format!(
        "t_{}_{}_{}",
        sanitize(test_name, 30),
        std::process::id(),
        next_id()
    )
}

/// Lower-cases `name` and maps everything outside `[a-z0-9_]` to `_`, keeping at most
/// `max` characters.
fn sanitize(name: &str, max: usize) -> String {
    let s: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    if s.is_empty() {
        "test".to_owned()
    } else {
        s
    }
}

fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn is_url(conn: &str) -> bool {
    conn.starts_with("postgres://") || conn.starts_with("postgresql://")
}

/// Adds `options=-c search_path=<schema>` to a connection string (URL or key=value).
fn with_search_path(base: &str, schema: &str) -> String {
    let options = format!("-c search_path={schema}");
    if is_url(base) {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options={}", percent_encode(&options))
    } else {
        format!("{} options='{options}'", base.trim_end())
    }
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Hides the password of a URL-style connection string for messages.
fn redact(conn: &str) -> String {
    if !is_url(conn) {
        return "the configured server".to_owned();
    }
    let Some(scheme_end) = conn.find("://").map(|i| i + 3) else {
        return conn.to_owned();
    };
    let rest = &conn[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &conn[..scheme_end],
                &authority[..colon],
                &rest[at..]
            ),
            None => conn.to_owned(),
        },
        None => conn.to_owned(),
    }
}

/// A unique temp-file SQLite path for a test; the file (and its `-wal`/`-shm`/`-journal`
/// siblings) is deleted when the guard drops. The file itself is not created.
#[derive(Debug)]
pub struct TempSqliteFile {
    pub path: PathBuf,
}

impl TempSqliteFile {
    pub fn new(test_name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let file = format!(
            "oxalchemy-{}-{}-{}-{nanos}.sqlite3",
            sanitize(test_name, 40),
            std::process::id(),
            next_id()
        );
        TempSqliteFile {
            path: std::env::temp_dir().join(file),
        }
    }

    /// `sqlite://<path>`.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

impl Drop for TempSqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut sibling = self.path.clone().into_os_string();
            sibling.push(suffix);
            let _ = std::fs::remove_file(sibling);
        }
    }
}

/// Why [`start_ephemeral`] cannot work here, or `None` if it should.
#[doc(hidden)]
pub fn ephemeral_unavailable_reason() -> Option<String> {
    imp::unavailable_reason()
}

/// Starts a new ephemeral PostgreSQL server (ignoring `TEST_DATABASE_URL`) and returns
/// its URL. The server is stopped and its directory deleted when this process exits.
#[doc(hidden)]
pub fn start_ephemeral() -> Result<String, String> {
    imp::start()
}

#[cfg(not(unix))]
mod imp {
    pub fn unavailable_reason() -> Option<String> {
        Some("no TEST_DATABASE_URL, and ephemeral servers are only supported on Unix".into())
    }

    pub fn start() -> Result<String, String> {
        Err(unavailable_reason().unwrap_or_default())
    }
}

#[cfg(unix)]
mod imp {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output, Stdio};

    const NOT_FOUND: &str = "no TEST_DATABASE_URL and no initdb/pg_ctl found";

    /// How server binaries are run: directly, or as `postgres` when we are root
    /// (initdb and pg_ctl refuse to run as root).
    enum RunAs {
        Me,
        Runuser(PathBuf),
        Su(PathBuf),
    }

    struct Privileges {
        run_as: RunAs,
        /// uid/gid of `postgres` when running as root.
        owner: Option<(u32, u32)>,
    }

    pub fn unavailable_reason() -> Option<String> {
        if find_bindir().is_none() {
            return Some(NOT_FOUND.to_owned());
        }
        privileges().err()
    }

    pub fn start() -> Result<String, String> {
        let bindir = find_bindir().ok_or_else(|| NOT_FOUND.to_owned())?;
        let privileges = privileges()?;
        let initdb = path_str(&bindir.join("initdb"))?;
        let pg_ctl = path_str(&bindir.join("pg_ctl"))?;

        // The postgres user must be able to reach the directory, and the socket path
        // must stay short: use /tmp when root.
        let parent = if privileges.owner.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = parent.join(format!(
            "oxalchemy-pg-{}-{}-{nanos}",
            std::process::id(),
            super::next_id()
        ));
        fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let dir_s = path_str(&dir)?;

        // Registered first so that the directory goes away even if we die mid-start.
        spawn_watchdog(&privileges.run_as, &pg_ctl, &dir_s)?;

        let result = init_and_start(&privileges, &dir, &dir_s, &initdb, &pg_ctl);
        match &result {
            Ok(url) => {
                eprintln!("oxalchemy-testing: ephemeral PostgreSQL at {url} (data in {dir_s})")
            }
            Err(_) => {
                let stop = ["stop", "-m", "immediate", "-D", dir_s.as_str()];
                let _ = command(&privileges.run_as, &pg_ctl, &stop)
                    .current_dir(&dir)
                    .output();
                let _ = fs::remove_dir_all(&dir);
            }
        }
        result
    }

    fn init_and_start(
        privileges: &Privileges,
        dir: &Path,
        dir_s: &str,
        initdb: &str,
        pg_ctl: &str,
    ) -> Result<String, String> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {dir_s}: {e}"))?;
        if let Some((uid, gid)) = privileges.owner {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot chown {dir_s} to postgres: {e}"))?;
        }

        let init_args = [
            "-D",
            dir_s,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ];
        let out = run(command(&privileges.run_as, initdb, &init_args).current_dir(dir))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}): {}",
                out.status,
                output_text(&out)
            ));
        }

        let log = format!("{dir_s}/log");
        let mut last_error = String::new();
        // A port picked by binding :0 can be taken before the server binds it: retry.
        for _ in 0..3 {
            let port = free_port()?;
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                shell_quote(dir_s)
            );
            let args = [
                "-D",
                dir_s,
                "-o",
                opts.as_str(),
                "-w",
                "start",
                "-l",
                log.as_str(),
            ];
            let out = run(command(&privileges.run_as, pg_ctl, &args).current_dir(dir))?;
            if out.status.success() {
                return Ok(format!("postgresql://postgres@127.0.0.1:{port}/postgres"));
            }
            let log_text = fs::read_to_string(&log).unwrap_or_default();
            last_error = format!(
                "pg_ctl start failed ({}): {}\nserver log:\n{}",
                out.status,
                output_text(&out),
                log_text.trim()
            );
            if !log_text.contains("already in use") {
                break;
            }
        }
        Err(last_error)
    }

    /// Detached `sh` that waits for this process to exit, then stops the server and
    /// deletes its directory.
    fn spawn_watchdog(run_as: &RunAs, pg_ctl: &str, dir: &str) -> Result<(), String> {
        let stop = argv(run_as, pg_ctl, &["stop", "-m", "immediate", "-D", dir]);
        let stop = stop
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}; rm -rf {dir}",
            pid = std::process::id(),
            dir = shell_quote(dir),
        );
        // The outer shell backgrounds the loop and exits at once, so the loop is
        // re-parented (nothing to reap here) and, in its own process group, survives
        // a Ctrl-C aimed at the test run.
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("( {script} ) </dev/null >/dev/null 2>&1 &"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .status()
            .map_err(|e| format!("cannot spawn cleanup watchdog: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "cannot spawn cleanup watchdog: sh exited with {status}"
            ))
        }
    }

    fn free_port() -> Result<u16, String> {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("cannot find a free TCP port: {e}"))
    }

    fn privileges() -> Result<Privileges, String> {
        if !is_root() {
            return Ok(Privileges {
                run_as: RunAs::Me,
                owner: None,
            });
        }
        let give_up = |why: &str| {
            format!("running as root (initdb refuses root) and {why}; set TEST_DATABASE_URL")
        };
        let uid =
            id_of(&["-u", "postgres"]).ok_or_else(|| give_up("there is no `postgres` user"))?;
        let gid =
            id_of(&["-g", "postgres"]).ok_or_else(|| give_up("there is no `postgres` user"))?;
        let run_as = if let Some(p) = find_in_path("runuser", &["/usr/sbin", "/sbin"]) {
            RunAs::Runuser(p)
        } else if let Some(p) = find_in_path("su", &["/usr/bin", "/bin"]) {
            RunAs::Su(p)
        } else {
            return Err(give_up("neither runuser nor su is available"));
        };
        Ok(Privileges {
            run_as,
            owner: Some((uid, gid)),
        })
    }

    fn is_root() -> bool {
        id_of(&["-u"]) == Some(0)
    }

    fn id_of(args: &[&str]) -> Option<u32> {
        let out = Command::new("id")
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    /// A directory holding both `initdb` and `pg_ctl`: `PATH` first, then the newest
    /// `/usr/lib/postgresql/*/bin`.
    fn find_bindir() -> Option<PathBuf> {
        let has_both = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
        if let Some(path) = std::env::var_os("PATH") {
            if let Some(d) = std::env::split_paths(&path).find(|d| has_both(d)) {
                return Some(d);
            }
        }
        let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| {
                let version = e
                    .file_name()
                    .to_string_lossy()
                    .split('.')
                    .map(|p| p.parse().unwrap_or(0))
                    .collect();
                (version, e.path().join("bin"))
            })
            .filter(|(_, bin)| has_both(bin))
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    }

    fn find_in_path(name: &str, fallback: &[&str]) -> Option<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain(fallback.iter().map(PathBuf::from))
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }

    /// The argument vector running `program args` as the right user.
    fn argv(run_as: &RunAs, program: &str, args: &[&str]) -> Vec<String> {
        let plain = || {
            std::iter::once(program)
                .chain(args.iter().copied())
                .map(str::to_owned)
        };
        match run_as {
            RunAs::Me => plain().collect(),
            RunAs::Runuser(runuser) => [runuser.display().to_string(), "-u".into()]
                .into_iter()
                .chain(["postgres".to_owned(), "--".to_owned()])
                .chain(plain())
                .collect(),
            RunAs::Su(su) => {
                let cmd = plain()
                    .map(|a| shell_quote(&a))
                    .collect::<Vec<_>>()
                    .join(" ");
                vec![
                    su.display().to_string(),
                    "postgres".into(),
                    "-s".into(),
                    "/bin/sh".into(),
                    "-c".into(),
                    cmd,
                ]
            }
        }
    }

    fn command(run_as: &RunAs, program: &str, args: &[&str]) -> Command {
        let argv = argv(run_as, program, args);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).stdin(Stdio::null());
        cmd
    }

    fn run(cmd: &mut Command) -> Result<Output, String> {
        cmd.output()
            .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))
    }

    fn output_text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .trim()
        .to_owned()
    }

    fn path_str(p: &Path) -> Result<String, String> {
        p.to_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("path is not UTF-8: {}", p.display()))
    }

    fn shell_quote(s: &str) -> String {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_safe_identifiers() {
        let name = schema_name("Tests::Foo-Bar baz/ÄÖ and a very long tail indeed");
        assert!(
            name.starts_with("t_tests__foo_bar_baz____and_a_ve_"),
            "{name}"
        );
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        assert!(name.len() <= 63);
        assert_ne!(schema_name("x"), schema_name("x"));
    }

    #[test]
    fn search_path_is_appended_to_urls() {
        let url = with_search_path("postgresql://postgres@127.0.0.1:5432/test", "t_a_1_2");
        assert_eq!(
            url,
            "postgresql://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dt_a_1_2"
        );
        let config = tokio_postgres::Config::from_str(&url).expect("URL parses");
        assert_eq!(config.get_options(), Some("-c search_path=t_a_1_2"));
        assert_eq!(config.get_dbname(), Some("test"));

        let url = with_search_path("postgres://u:p@h/db?sslmode=disable", "s");
        assert_eq!(
            url,
            "postgres://u:p@h/db?sslmode=disable&options=-c%20search_path%3Ds"
        );
        let config = tokio_postgres::Config::from_str(&url).expect("URL parses");
        assert_eq!(config.get_options(), Some("-c search_path=s"));
    }

    #[test]
    fn search_path_is_appended_to_key_value_strings() {
        let conn = with_search_path("host=127.0.0.1 user=postgres dbname=test", "t_b_1_2");
        assert_eq!(
            conn,
            "host=127.0.0.1 user=postgres dbname=test options='-c search_path=t_b_1_2'"
        );
        let config = tokio_postgres::Config::from_str(&conn).expect("key=value parses");
        assert_eq!(config.get_options(), Some("-c search_path=t_b_1_2"));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgresql://u:secret@h:5432/db?x=y"),
            "postgresql://u:***@h:5432/db?x=y"
        );
        assert_eq!(redact("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(redact("host=h password=x"), "the configured server");
    }
}
