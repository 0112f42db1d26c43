//! Cancelling a PostgreSQL statement whose future was dropped (a `timeout`, a `select!`, an
//! aborted task), so the server stops working for nobody and the connection's next user
//! does not wait for it.
//!
//! A cancel request travels on a connection of its own, and the server acts on it whenever
//! it gets to it: sent and forgotten (as tokio-postgres' `cancel_query` does), it can land
//! after the abandoned statement finished on its own, and cancel the *next* statement on
//! that connection, someone else's. So the request is sent on a socket opened here, and the
//! cancel counts as done only when the server closes that socket, which it does after
//! signalling the backend. The connection's next request waits for that (it is recorded as
//! the connection's pending cleanup).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;
use tokio_postgres::config::Host;
use tokio_postgres::{CancelToken, Config, NoTls};

/// How long to wait for the server to act on a cancel request before giving up on it (the
/// statement then runs to its end; the connection's next user waits for it).
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a connection's cancel requests go: the one server its config names.
pub(super) enum CancelAddr {
    /// A host name or IP address, and port.
    Tcp { host: String, port: u16 },
    /// A Unix-domain socket file.
    #[cfg(unix)]
    Unix(std::path::PathBuf),
}

impl CancelAddr {
    /// The address of the config's server, or `None` when it names several (then the cancel
    /// goes through tokio-postgres, which knows which one answered, without waiting for
    /// the server to act on it).
    pub(super) fn of(config: &Config) -> Option<Arc<Self>> {
        let port = match config.get_ports() {
            [] => 5432,
            [port] => *port,
            _ => return None,
        };
        let addr = match (config.get_hostaddrs(), config.get_hosts()) {
            ([ip], _) => CancelAddr::Tcp {
                host: ip.to_string(),
                port,
            },
            ([], [Host::Tcp(host)]) => CancelAddr::Tcp {
                host: host.clone(),
                port,
            },
            #[cfg(unix)]
            ([], [Host::Unix(dir)]) => CancelAddr::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            _ => return None,
        };
        Some(Arc::new(addr))
    }
}

/// Sends a cancel request for the statement running on a connection if dropped while armed,
/// that is, while the statement's answer has not arrived. Disarmed once it has.
pub(super) struct CancelOnDrop<'a> {
    client: &'a tokio_postgres::Client,
    addr: &'a Option<Arc<CancelAddr>>,
    cleanup: &'a mut Option<JoinHandle<()>>,
    armed: bool,
}

impl<'a> CancelOnDrop<'a> {
    /// Armed for the statement about to be awaited on `client`; a cancel it sends is
    /// recorded in `cleanup`, which the connection's next request awaits.
    pub(super) fn arm(
        client: &'a tokio_postgres::Client,
        addr: &'a Option<Arc<CancelAddr>>,
        cleanup: &'a mut Option<JoinHandle<()>>,
    ) -> Self {
        CancelOnDrop {
            client,
            addr,
            cleanup,
            armed: true,
        }
    }

    /// The statement was answered: nothing to cancel.
    pub(super) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(target: "oxalchemy::engine", "a PostgreSQL statement was abandoned outside a Tokio runtime; it was not cancelled and runs to its end");
            return;
        };
        // Taken only now: building a token copies the connection's address, which the
        // statements that finish (nearly all) never need.
        let token = self.client.cancel_token();
        let addr = self.addr.clone();
        let previous = self.cleanup.take();
        *self.cleanup = Some(rt.spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            match tokio::time::timeout(CANCEL_TIMEOUT, cancel(&token, addr.as_deref())).await {
                Ok(Ok(())) => {
                    tracing::debug!(target: "oxalchemy::engine", "abandoned statement cancelled")
                }
                Ok(Err(e)) => {
                    tracing::warn!(target: "oxalchemy::engine", error = %e, "could not cancel an abandoned statement; it runs to its end")
                }
                Err(_) => {
                    tracing::warn!(target: "oxalchemy::engine", "the server did not act on a cancel request within {CANCEL_TIMEOUT:?}")
                }
            }
        }));
    }
}

/// Sends the cancel request and waits until the server has acted on it (closed the socket).
async fn cancel(token: &CancelToken, addr: Option<&CancelAddr>) -> Result<(), String> {
    match addr {
        Some(CancelAddr::Tcp { host, port }) => {
            let mut socket = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| e.to_string())?;
            // Small and latency-bound, like every PostgreSQL message.
            let _ = socket.set_nodelay(true);
            token
                .cancel_query_raw(&mut socket, NoTls)
                .await
                .map_err(|e| e.to_string())?;
            closed_by_server(&mut socket).await;
            Ok(())
        }
        #[cfg(unix)]
        Some(CancelAddr::Unix(path)) => {
            let mut socket = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| e.to_string())?;
            token
                .cancel_query_raw(&mut socket, NoTls)
                .await
                .map_err(|e| e.to_string())?;
            closed_by_server(&mut socket).await;
            Ok(())
        }
        None => token.cancel_query(NoTls).await.map_err(|e| e.to_string()),
    }
}

/// Reads until the server closes the socket (it sends nothing in reply to a cancel).
async fn closed_by_server(socket: &mut (impl tokio::io::AsyncRead + Unpin)) {
    let mut buf = [0u8; 64];
    while let Ok(n) = socket.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CancelAddr;
    use std::str::FromStr;
    use tokio_postgres::Config;

    fn addr(conn: &str) -> Option<String> {
        let config = Config::from_str(conn).unwrap();
        CancelAddr::of(&config).map(|a| match &*a {
            CancelAddr::Tcp { host, port } => format!("{host}:{port}"),
            #[cfg(unix)]
            CancelAddr::Unix(path) => path.display().to_string(),
        })
    }

    #[test]
    fn cancel_requests_go_to_the_one_server_the_config_names() {
        assert_eq!(
            addr("postgresql://u@db.example:6543/app").as_deref(),
            Some("db.example:6543")
        );
        assert_eq!(
            addr("postgresql://u@db.example/app").as_deref(),
            Some("db.example:5432")
        );
        assert_eq!(
            addr("host=db.example hostaddr=10.0.0.7 port=5433").as_deref(),
            Some("10.0.0.7:5433")
        );
        #[cfg(unix)]
        assert_eq!(
            addr("host=/var/run/postgresql port=5433").as_deref(),
            Some("/var/run/postgresql/.s.PGSQL.5433")
        );
        // Several servers: tokio-postgres knows which one answered.
        assert_eq!(addr("postgresql://u@a.example,b.example/app"), None);
    }
}
