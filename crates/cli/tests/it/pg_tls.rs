//! The PostgreSQL sink over TLS, through the binary (`stats` reads a sink, writes nothing),
//! against the local server `.ci/start-postgres` starts with TLS and a test CA (`cargo xtask ci
//! test` runs it; without it these tests fail and say how to provide it). The role
//! `ivr_password` may connect only over TLS and only with its password: a success proves
//! both.

use std::io::{Read, Write};

use crate::{assert_pg_answers, pg_var, run, stderr};

const PASSWORD: &str = "ivr-password";

/// The password role's URL (no password) and the CA file. Fails the test, saying how to
/// provide them, when they are unset or nothing answers at the URL.
fn setup(test: &str) -> (String, String) {
    let url = pg_var(test, "IVR_REPORTS_PG_PASSWORD_URL");
    let ca = pg_var(test, "IVR_REPORTS_PG_CA");
    assert_pg_answers(test, "IVR_REPORTS_PG_PASSWORD_URL", &url);
    (url, ca)
}

/// `stats SINK` with `env`; asserts the password never shows; returns (exit code, stderr).
async fn stats(sink: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let o = run(&["stats", "--output", "json", sink], env).await;
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(!all.contains(PASSWORD), "the password leaked:\n{all}");
    (o.status.code(), stderr(&o))
}

/// `url` with `host` in place of its host (to check another name at the same address).
fn with_host(url: &str, host: &str) -> String {
    url.replacen("@127.0.0.1:", &format!("@{host}:"), 1)
}

#[tokio::test]
async fn require_and_verify_full_connect_with_a_password_from_the_environment() {
    let (url, ca) = setup("require_and_verify_full");
    for sink in [
        format!("{url}?sslmode=require"),
        format!("{url}?sslmode=verify-ca&sslrootcert={ca}"),
        format!("{url}?sslmode=verify-full&sslrootcert={ca}"),
        // The certificate names localhost too; hostaddr skips the lookup.
        format!(
            "{}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}",
            with_host(&url, "localhost")
        ),
    ] {
        for var in ["IVR_REPORTS_PG_PASSWORD", "PGPASSWORD"] {
            let (code, err) = stats(&sink, &[(var, PASSWORD)]).await;
            assert_eq!(code, Some(0), "{sink} with {var}: {err}");
        }
    }
    // The CA from libpq's variable instead of the URL.
    let (code, err) = stats(
        &format!("{url}?sslmode=verify-full"),
        &[("PGPASSWORD", PASSWORD), ("PGSSLROOTCERT", ca.as_str())],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    // Without the password the server refuses, and says why.
    let (code, err) = stats(&format!("{url}?sslmode=require"), &[]).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("password"), "{err}");
}

#[tokio::test]
async fn verify_full_refuses_a_wrong_name_and_an_unknown_issuer() {
    let (url, ca) = setup("verify_full_refuses");
    let env = [("PGPASSWORD", PASSWORD)];
    let wrong_name = format!(
        "{}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}",
        with_host(&url, "not-the-database.invalid")
    );
    let (code, err) = stats(&wrong_name, &env).await;
    assert_eq!(code, Some(1), "{err}");
    let line = err.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(
        line.contains("cannot connect to postgres://ivr_password@not-the-database.invalid"),
        "{err}"
    );
    assert!(line.contains("certificate not valid for name"), "{err}");
    // verify-ca checks the chain only: the same name passes.
    let (code, err) = stats(&wrong_name.replace("verify-full", "verify-ca"), &env).await;
    assert_eq!(code, Some(0), "{err}");
    // Without our CA the bundled roots do not know the issuer.
    let (code, err) = stats(&format!("{url}?sslmode=verify-full"), &env).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
}

#[tokio::test]
async fn require_fails_clearly_against_a_server_without_tls() {
    // A server that answers the TLS request with PostgreSQL's "no" ('N'), as one with
    // ssl=off does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 8];
        stream.read_exact(&mut request).unwrap();
        stream.write_all(b"N").unwrap();
        // Wait for the client to give up (it closes the connection).
        let _ = stream.read(&mut [0u8; 64]);
        request
    });
    let (code, err) = stats(
        &format!("postgres://ivr@127.0.0.1:{port}/ivr_reports?sslmode=require"),
        &[],
    )
    .await;
    assert_eq!(code, Some(1), "{err}");
    let line = err.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(
        line.contains(&format!(
            "cannot connect to postgres://ivr@127.0.0.1:{port}"
        )),
        "{err}"
    );
    assert!(line.contains("server does not support TLS"), "{err}");
    // The client did ask for TLS: the SSLRequest code 80877103.
    let request = server.join().unwrap();
    assert_eq!(request[4..], 80_877_103u32.to_be_bytes());
}
