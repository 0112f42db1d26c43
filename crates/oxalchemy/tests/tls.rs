//! TLS against a PostgreSQL of the test's own (`tls_server`): `ssl = on`, only `hostssl` in
//! pg_hba.conf, a CA and certificates generated here. Checks every `sslmode`, the certificate
//! checks `verify-ca` / `verify-full` make (naming the failed one), a client certificate under
//! `clientcert=verify-full`, and that `sslmode=disable` is told the server requires TLS.

mod tls_server;

use oxalchemy::{text, Database, Error};
use tls_server::{TlsServer, CERT_USER};

async fn connect(url: &str) -> Result<Database, Error> {
    Database::connect(url)
        .pool_size(1)
        .pool_timeout(std::time::Duration::from_secs(10))
        .await
}

/// Whether the session is encrypted, as the server sees it.
async fn encrypted(db: &Database) -> bool {
    db.query_scalar(text(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    ))
    .await
    .expect("pg_stat_ssl")
}

fn reason(result: Result<Database, Error>) -> String {
    match result {
        Ok(_) => panic!("connected, expected a failure"),
        Err(e @ Error::Connect { .. }) => e.to_string(),
        Err(e) => panic!("expected Error::Connect, got {e:?}"),
    }
}

#[tokio::test]
async fn sslmodes_certificate_checks_and_client_certificates() {
    let server = match TlsServer::start() {
        Ok(s) => s,
        Err(e) if std::env::var("OXALCHEMY_TEST_SKIP_POSTGRES").as_deref() == Ok("1") => {
            println!("SKIPPED TLS tests: {e}");
            return;
        }
        Err(e) => panic!("cannot start a TLS PostgreSQL for the test: {e}"),
    };
    let ca = server.ca.display().to_string();
    let wrong_ca = server.wrong_ca.display().to_string();

    // require: encrypted, certificate not checked.
    let db = connect(&server.url("postgres", "127.0.0.1", "sslmode=require"))
        .await
        .expect("require");
    assert!(encrypted(&db).await);
    // prefer (the default) takes TLS when offered.
    let db = connect(&server.url("postgres", "127.0.0.1", "application_name=x"))
        .await
        .expect("prefer");
    assert!(encrypted(&db).await);

    // verify-full with the right CA and the certificate's host name.
    let db = connect(&server.url(
        "postgres",
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await
    .expect("verify-full");
    assert!(encrypted(&db).await);

    // verify-full with the wrong CA: the chain check fails, and the error says so.
    let shown = reason(
        connect(&server.url(
            "postgres",
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={wrong_ca}"),
        ))
        .await,
    );
    assert!(shown.contains("not signed by a trusted root"), "{shown}");
    assert!(shown.contains("sslrootcert"), "{shown}");

    // verify-full with a host the certificate does not name: the host check fails.
    let shown = reason(
        connect(&server.url(
            "postgres",
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ))
        .await,
    );
    assert!(shown.contains("does not name the host"), "{shown}");
    // verify-ca checks only the chain: the same host is accepted ...
    let db = connect(&server.url(
        "postgres",
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .await
    .expect("verify-ca");
    assert!(encrypted(&db).await);
    // ... and the wrong CA is not.
    let shown = reason(
        connect(&server.url(
            "postgres",
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={wrong_ca}"),
        ))
        .await,
    );
    assert!(shown.contains("not signed by a trusted root"), "{shown}");

    // A client certificate where pg_hba.conf says clientcert=verify-full.
    let with_cert = format!(
        "sslmode=verify-full&sslrootcert={ca}&sslcert={}&sslkey={}",
        server.client_cert.display(),
        server.client_key.display()
    );
    let db = connect(&server.url(CERT_USER, "localhost", &with_cert))
        .await
        .expect("client certificate");
    let user: String = db
        .query_scalar(text("SELECT current_user::text"))
        .await
        .expect("user");
    assert_eq!(user, CERT_USER);
    let shown = reason(
        connect(&server.url(
            CERT_USER,
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ))
        .await,
    );
    assert!(shown.contains("certificate"), "without one: {shown}");

    // disable against a hostssl-only server: told that TLS is required.
    let shown = reason(connect(&server.url("postgres", "127.0.0.1", "sslmode=disable")).await);
    assert!(shown.contains("only TLS connections"), "{shown}");
    assert!(shown.contains("sslmode=require"), "{shown}");

    // A missing root file is named before anything connects.
    let err = connect(&server.url(
        "postgres",
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
    ))
    .await
    .expect_err("missing file");
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}
