//! A throwaway PostgreSQL primary and streaming standby for the replica and failover tests:
//! `initdb`, `pg_basebackup -R`, each on its own free port, in a temporary directory, run as
//! `postgres` when the tests run as root (initdb refuses root), as the test kit's ephemeral
//! server does. A detached watchdog stops both servers and deletes the directory when the
//! test process exits, even if it is killed; `Drop` does it at once.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    pub(crate) primary_port: u16,
    pub(crate) standby_port: u16,
    as_postgres: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn bindir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("pg_basebackup").is_file() && b.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// Starts the primary and a standby streaming from it; `None` (after a notice) where
    /// PostgreSQL's binaries are missing.
    pub(crate) fn start(name: &str) -> Option<Cluster> {
        let Some(bin) = bindir() else {
            eprintln!("SKIPPED {name}: no PostgreSQL binaries under /usr/lib/postgresql");
            return None;
        };
        let as_postgres = is_root();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = PathBuf::from(format!(
            "/tmp/replicas-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).expect("cluster directory");
        let c = Cluster {
            dir,
            bin,
            primary_port: free_port(),
            standby_port: free_port(),
            as_postgres,
        };
        if as_postgres {
            c.run("chown", &["postgres:postgres", c.dir_s()], false);
        }
        c.watchdog();
        let primary = c.data("primary");
        c.pg(
            "initdb",
            &[
                "-D",
                &primary,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        let conf = format!(
            "\nwal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nfsync = off\n\
             listen_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             wal_receiver_status_interval = 1s\n",
            c.dir_s()
        );
        let conf_path = format!("{primary}/postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).expect("postgresql.conf");
        text.push_str(&conf);
        std::fs::write(&conf_path, text).expect("postgresql.conf");
        c.start_server("primary", c.primary_port);
        let standby = c.data("standby");
        let port = c.primary_port.to_string();
        c.pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &standby,
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        c.start_server("standby", c.standby_port);
        Some(c)
    }

    fn dir_s(&self) -> &str {
        self.dir.to_str().expect("UTF-8 path")
    }

    fn data(&self, which: &str) -> String {
        format!("{}/{which}", self.dir_s())
    }

    pub(crate) fn primary_url(&self) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/postgres",
            self.primary_port
        )
    }

    pub(crate) fn standby_url(&self) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/postgres",
            self.standby_port
        )
    }

    /// Both hosts, the primary first, for libpq's `target_session_attrs=read-write`.
    pub(crate) fn multi_host_url(&self) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write&connect_timeout=2",
            self.primary_port, self.standby_port
        )
    }

    fn start_server(&self, which: &str, port: u16) {
        let data = self.data(which);
        let log = format!("{data}.log");
        let opts = format!("-p {port} -k {}", self.dir_s());
        self.pg(
            "pg_ctl",
            &[
                "-D", &data, "-o", &opts, "-l", &log, "-w", "-t", "30", "start",
            ],
        );
    }

    pub(crate) fn stop(&self, which: &str, mode: &str) {
        let data = self.data(which);
        self.pg(
            "pg_ctl",
            &["-D", &data, "-m", mode, "-w", "-t", "30", "stop"],
        );
    }

    pub(crate) fn start_standby(&self) {
        self.start_server("standby", self.standby_port);
    }

    pub(crate) fn promote_standby(&self) {
        let data = self.data("standby");
        self.pg("pg_ctl", &["-D", &data, "-w", "-t", "30", "promote"]);
    }

    /// Runs a PostgreSQL binary (as `postgres` when root); panics with its output on failure.
    fn pg(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let path = path.to_str().expect("UTF-8 path");
        if self.as_postgres {
            let mut all = vec!["-u", "postgres", "--", path];
            all.extend_from_slice(args);
            self.run("runuser", &all, true)
        } else {
            self.run(path, args, true)
        }
    }

    fn run(&self, program: &str, args: &[&str], check: bool) -> Output {
        let out = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        if check && !out.status.success() {
            let logs: String = ["primary.log", "standby.log"]
                .iter()
                .map(|l| std::fs::read_to_string(Path::new(&self.dir).join(l)).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n---\n");
            panic!(
                "{program} {args:?} failed ({}): {}{}\nlogs:\n{logs}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }

    /// Stops both servers and removes the directory when this process exits.
    fn watchdog(&self) {
        let ctl = self.bin.join("pg_ctl");
        let ctl = ctl.to_str().expect("UTF-8 path");
        let prefix = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let dir = self.dir_s();
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {prefix}{ctl} -D '{dir}/primary' -m immediate stop; \
             {prefix}{ctl} -D '{dir}/standby' -m immediate stop; rm -rf '{dir}'",
            pid = std::process::id()
        );
        Command::new("sh")
            .arg("-c")
            .arg(format!("( {script} ) </dev/null >/dev/null 2>&1 &"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .status()
            .expect("watchdog");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for which in ["standby", "primary"] {
            let data = self.data(which);
            let path = self.bin.join("pg_ctl");
            let path = path.to_str().unwrap_or("pg_ctl").to_owned();
            let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
            let _ = if self.as_postgres {
                let mut all = vec!["-u", "postgres", "--", path.as_str()];
                all.extend_from_slice(&args);
                Command::new("runuser").args(all).output()
            } else {
                Command::new(&path).args(args).output()
            };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
