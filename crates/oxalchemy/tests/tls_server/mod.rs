//! A throwaway PostgreSQL with `ssl = on` for the TLS tests: its own CA, server certificate
//! (for `localhost` only) and client certificate, generated here with rcgen; `initdb` /
//! `pg_ctl` from the local PostgreSQL installation (as the `postgres` user when root, since
//! both refuse root); only `hostssl` lines in its pg_hba.conf; stopped and deleted on drop.
#![allow(
    dead_code,
    reason = "the TLS test and the TLS benchmark use different parts of this module"
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// The role whose pg_hba.conf line demands a client certificate (`clientcert=verify-full`).
pub(crate) const CERT_USER: &str = "certuser";

/// A running TLS-only server and the files a client needs.
pub(crate) struct TlsServer {
    dir: PathBuf,
    bindir: PathBuf,
    root: bool,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    /// The CA that signed the server's and the client's certificates.
    pub(crate) ca: PathBuf,
    /// Another CA, which signed nothing of this server's.
    pub(crate) wrong_ca: PathBuf,
    /// A client certificate and key for [`CERT_USER`].
    pub(crate) client_cert: PathBuf,
    pub(crate) client_key: PathBuf,
}

fn make_ca(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    CertifiedIssuer::self_signed(params, key).map_err(|e| e.to_string())
}

fn leaf(
    names: &[&str],
    common_name: &str,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> Result<(String, String), String> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.signed_by(&key, issuer).map_err(|e| e.to_string())?;
    Ok((cert.pem(), key.serialize_pem()))
}

impl TlsServer {
    /// Starts the server, TLS only, or says why it cannot (no PostgreSQL binaries).
    pub(crate) fn start() -> Result<TlsServer, String> {
        Self::start_with_hba(&format!(
            "local all all trust\n\
             hostssl all {CERT_USER} 127.0.0.1/32 trust clientcert=verify-full\n\
             hostssl all all 127.0.0.1/32 trust\n"
        ))
    }

    /// Starts the server accepting plaintext as well as TLS (for comparing the two).
    pub(crate) fn start_accepting_plaintext() -> Result<TlsServer, String> {
        Self::start_with_hba("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    }

    fn start_with_hba(hba: &str) -> Result<TlsServer, String> {
        let bindir = bindir().ok_or("no PostgreSQL server binaries (initdb, pg_ctl) found")?;
        let root = is_root();
        let dir = PathBuf::from(format!(
            "/tmp/oxa-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let port = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| e.to_string())?;
        let mut server = TlsServer {
            ca: dir.join("ca.pem"),
            wrong_ca: dir.join("wrong-ca.pem"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            dir,
            bindir,
            root,
            port,
        };
        server.init(hba)?;
        Ok(server)
    }

    fn init(&mut self, hba: &str) -> Result<(), String> {
        let ca = make_ca("oxalchemy test CA")?;
        let wrong = make_ca("some other CA")?;
        let (server_cert, server_key) = leaf(&["localhost"], "localhost", &ca)?;
        let (client_cert, client_key) = leaf(&[], CERT_USER, &ca)?;
        let write = |path: &Path, text: &str| std::fs::write(path, text).map_err(|e| e.to_string());
        write(&self.ca, &ca.pem())?;
        write(&self.wrong_ca, &wrong.pem())?;
        write(&self.client_cert, &client_cert)?;
        write(&self.client_key, &client_key)?;
        if self.root {
            self.sh(
                "chown",
                &["postgres:postgres", &self.dir.display().to_string()],
            )?;
        }
        let data = self.dir.join("data");
        let data_s = data.display().to_string();
        self.pg(
            "initdb",
            &["-D", &data_s, "-U", "postgres", "--auth=trust", "-N"],
        )?;
        write(&data.join("server.crt"), &server_cert)?;
        write(&data.join("server.key"), &server_key)?;
        write(&data.join("root.crt"), &ca.pem())?;
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
             ssl_ca_file = 'root.crt'\nfsync = off\nmax_connections = 30\n",
            self.port,
            self.dir.display()
        );
        let mut pg_conf =
            std::fs::read_to_string(data.join("postgresql.conf")).map_err(|e| e.to_string())?;
        pg_conf.push_str(&conf);
        write(&data.join("postgresql.conf"), &pg_conf)?;
        write(&data.join("pg_hba.conf"), hba)?;
        if self.root {
            self.sh("chown", &["-R", "postgres:postgres", &data_s])?;
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .map_err(|e| e.to_string())?;
        let log = self.dir.join("log").display().to_string();
        self.pg(
            "pg_ctl",
            &["-D", &data_s, "-l", &log, "-w", "-t", "30", "start"],
        )
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))?;
        let socket = self.dir.display().to_string();
        let port = self.port.to_string();
        self.pg(
            "psql",
            &[
                "-h",
                &socket,
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                &format!("CREATE ROLE {CERT_USER} LOGIN"),
            ],
        )?;
        Ok(())
    }

    /// `postgresql://{user}@{host}:{port}/postgres?{params}`.
    pub(crate) fn url(&self, user: &str, host: &str, params: &str) -> String {
        format!("postgresql://{user}@{host}:{}/postgres?{params}", self.port)
    }

    fn pg(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bindir.join(program).display().to_string();
        if self.root {
            let mut all = vec!["-u", "postgres", "--", exe.as_str()];
            all.extend_from_slice(args);
            self.sh("runuser", &all)
        } else {
            self.sh(&exe, args)
        }
    }

    fn sh(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = Command::new(program)
            .args(args)
            .current_dir("/tmp")
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = self.pg("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The newest `/usr/lib/postgresql/<version>/bin`, or `pg_config --bindir`.
fn bindir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().or_else(|| {
        let out = Command::new("pg_config").arg("--bindir").output().ok()?;
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        dir.join("initdb").exists().then_some(dir)
    })
}
