//! An ephemeral PostgreSQL server for a test process: `initdb` into a temporary directory,
//! `pg_ctl start` on a free port, and a detached watchdog that stops the server and deletes
//! the directory when the test process exits (even when it is killed).
//!
//! Used when `TEST_DATABASE_URL` is not set, so `cargo test` works on a developer machine
//! that has PostgreSQL's binaries but no running server. As root, the binaries run as the
//! `postgres` user (initdb refuses root).

/// Environment variable that turns the ephemeral server off (`0`, `false` or `no`): for a
/// CI that must test against `TEST_DATABASE_URL` only, and for testing what happens when no
/// PostgreSQL can be had on a machine that has its binaries.
pub const EPHEMERAL_VAR: &str = "OXALCHEMY_TEST_EPHEMERAL";

/// Why [`start_ephemeral`] cannot work here, or `None` if it should.
#[doc(hidden)]
pub fn ephemeral_unavailable_reason() -> Option<String> {
    let off = std::env::var(EPHEMERAL_VAR).is_ok_and(|v| {
        let v = v.trim();
        v == "0" || v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("no")
    });
    if off {
        return Some(format!(
            "no TEST_DATABASE_URL, and ephemeral servers are turned off ({EPHEMERAL_VAR}=0)"
        ));
    }
    imp::unavailable_reason()
}

/// Starts a new ephemeral PostgreSQL server (ignoring `TEST_DATABASE_URL`) and returns
/// its URL. The server is stopped and its directory deleted when this process exits.
#[doc(hidden)]
pub fn start_ephemeral() -> Result<String, String> {
    imp::start(&Auth::Trust)
}

/// Like [`start_ephemeral`], but TCP connections must authenticate with `password`
/// (SCRAM-SHA-256) as `postgres`: for tests of what a wrong password does. The URL returned
/// carries the right password.
#[doc(hidden)]
pub fn start_ephemeral_with_password(password: &str) -> Result<String, String> {
    imp::start(&Auth::Password(password.to_owned()))
}

/// How the ephemeral server authenticates TCP clients.
enum Auth {
    /// Everyone is trusted (the default for tests).
    Trust,
    /// SCRAM-SHA-256 with this password for `postgres`.
    Password(String),
}

#[cfg(not(unix))]
mod imp {
    pub(super) fn unavailable_reason() -> Option<String> {
        Some("no TEST_DATABASE_URL, and ephemeral servers are only supported on Unix".into())
    }

    pub(super) fn start(_auth: &super::Auth) -> Result<String, String> {
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

    use super::Auth;

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

    pub(super) fn unavailable_reason() -> Option<String> {
        if find_bindir().is_none() {
            return Some(NOT_FOUND.to_owned());
        }
        privileges().err()
    }

    pub(super) fn start(auth: &Auth) -> Result<String, String> {
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
            crate::next_id()
        ));
        fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let dir_s = path_str(&dir)?;

        // Registered first so that the directory goes away even if we die mid-start.
        spawn_watchdog(&privileges.run_as, &pg_ctl, &dir_s)?;

        let result = init_and_start(&privileges, &dir, &dir_s, &initdb, &pg_ctl, auth);
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
        auth: &Auth,
    ) -> Result<String, String> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {dir_s}: {e}"))?;
        if let Some((uid, gid)) = privileges.owner {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot chown {dir_s} to postgres: {e}"))?;
        }

        let mut init_args = vec![
            "-D",
            dir_s,
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ];
        // Beside the data directory, which initdb wants empty; deleted once initdb has read it.
        let pwfile = format!("{dir_s}.pwfile");
        match auth {
            Auth::Trust => init_args.extend(["-A", "trust"]),
            Auth::Password(password) => {
                // initdb reads the superuser's password from a file the server user can read.
                fs::write(&pwfile, password).map_err(|e| format!("cannot write {pwfile}: {e}"))?;
                if let Some((uid, gid)) = privileges.owner {
                    std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))
                        .map_err(|e| format!("cannot chown {pwfile} to postgres: {e}"))?;
                }
                init_args.extend([
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--pwfile",
                    pwfile.as_str(),
                ]);
            }
        }
        let out = run(command(&privileges.run_as, initdb, &init_args).current_dir(dir));
        let _ = fs::remove_file(&pwfile);
        let out = out?;
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
                return Ok(match auth {
                    Auth::Trust => format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
                    Auth::Password(password) => format!(
                        "postgresql://postgres:{}@127.0.0.1:{port}/postgres",
                        crate::postgres::percent_encode(password)
                    ),
                });
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
