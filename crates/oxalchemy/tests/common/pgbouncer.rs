//! A throwaway PgBouncer in transaction pooling mode in front of the test PostgreSQL, one per
//! test that asks for it: its own configuration in its own directory, on a free port, killed
//! when the guard drops. Each database alias pins a schema with `connect_query` (PgBouncer
//! does not forward the `options` startup parameter that sets `search_path` directly).
//!
//! PgBouncer refuses to run as root; as root it is started with `-u nobody`.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Set to `1` to also run the shared integration cases through PgBouncer.
pub(crate) const PGBOUNCER_VAR: &str = "OXALCHEMY_TEST_PGBOUNCER";

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A running PgBouncer; killed on drop.
pub(crate) struct Bouncer {
    child: Child,
    dir: PathBuf,
    /// The port it listens on (127.0.0.1).
    pub(crate) port: u16,
}

impl Bouncer {
    /// Starts PgBouncer in front of the server of `base_url`, with one database alias per
    /// `(alias, schema)` whose server connections use `schema` as `search_path`, and at most
    /// `pool_size` server connections per alias.
    pub(crate) fn start(
        base_url: &str,
        aliases: &[(&str, &str)],
        pool_size: usize,
    ) -> Result<Bouncer, String> {
        let config: tokio_postgres::Config = base_url
            .parse()
            .map_err(|e| format!("cannot read {base_url}: {e}"))?;
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            other => return Err(format!("PgBouncer tests need a TCP host, not {other:?}")),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres").to_owned();
        let dbname = config.get_dbname().unwrap_or(&user).to_owned();
        let password = config
            .get_password()
            .map(|p| format!(" password={}", String::from_utf8_lossy(p)))
            .unwrap_or_default();

        let dir = std::env::temp_dir().join(format!(
            "oxalchemy-pgbouncer-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let listen_port = free_port()?;
        let mut ini = String::from("[databases]\n");
        for (alias, schema) in aliases {
            ini.push_str(&format!(
                "{alias} = host={host} port={port} dbname={dbname} user={user}{password} \
                 connect_query='SET search_path = \"{schema}\"'\n"
            ));
        }
        ini.push_str(&format!(
            "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {listen_port}\n\
             unix_socket_dir =\nauth_type = trust\nauth_file = {}\npool_mode = transaction\n\
             default_pool_size = {pool_size}\nmax_client_conn = 200\n\
             ignore_startup_parameters = extra_float_digits,options\n",
            dir.join("users.txt").display()
        ));
        let write = |name: &str, text: &str| {
            std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
        };
        write("pgbouncer.ini", &ini)?;
        write("users.txt", &format!("\"{user}\" \"\"\n"))?;
        permit_everyone(&dir)?;

        let mut cmd = Command::new("pgbouncer");
        if is_root() {
            cmd.args(["-u", "nobody"]);
        }
        let mut child = cmd
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start pgbouncer ({e}); install it (Debian: apt-get install -y \
                     pgbouncer) or unset {PGBOUNCER_VAR}"
                )
            })?;
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", listen_port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut log = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = err.read_to_string(&mut log);
                }
                return Err(format!("pgbouncer exited ({status}): {log}"));
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                return Err("pgbouncer did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Bouncer {
            child,
            dir,
            port: listen_port,
        })
    }

    /// A URL through the bouncer to `alias`, with `params` (`statement_cache_size=0`).
    pub(crate) fn url(&self, alias: &str, params: &str) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/{alias}?{params}",
            self.port
        )
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// PgBouncer reads its files after switching to `nobody`.
fn permit_everyone(dir: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let set = |p: &std::path::Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    set(dir, 0o755)?;
    set(&dir.join("pgbouncer.ini"), 0o644)?;
    set(&dir.join("users.txt"), 0o644)
}
