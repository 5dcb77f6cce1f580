//! No secret reaches stdout or stderr: passwords in sink URLs (whatever characters they
//! hold), `?password=` parameters, keys in a base URL's query, in messages and `-v` output.

use crate::{KEY, run, stderr, temp_dir};

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Runs the binary and asserts `secret` is in neither output; returns stderr.
async fn run_hiding(args: &[&str], secret: &str) -> (Option<i32>, String) {
    let o = run(args, &[("INFOBIP_API_KEY", KEY)]).await;
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(
        !all.contains(secret),
        "{args:?}: the secret {secret:?} leaked:\n{all}"
    );
    (o.status.code(), stderr(&o))
}

#[tokio::test]
async fn sink_url_passwords_never_print() {
    let port = closed_port();
    for (url, secret) in [
        (
            format!("postgres://ivr:pa/SECRET-slash@127.0.0.1:{port}/ivr_reports"),
            "SECRET-slash",
        ),
        (
            format!("postgres://ivr:pa?SECRET-question@127.0.0.1:{port}/ivr_reports"),
            "SECRET-question",
        ),
        (
            format!("postgres://ivr@127.0.0.1:{port}/ivr_reports?password=SECRET-query"),
            "SECRET-query",
        ),
    ] {
        let (code, err) =
            run_hiding(&["--verbose", "collect", "--once", "--sink", &url], secret).await;
        assert_eq!(code, Some(1), "{url}: {err}");
        assert!(
            err.contains("error: cannot connect to postgres://ivr"),
            "{err}"
        );
        assert!(
            err.contains(&format!("127.0.0.1:{port}/ivr_reports")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn base_url_secrets_never_print() {
    let port = closed_port();
    let dir = temp_dir("base-url-secrets");
    for (url, secret) in [
        (
            "https://x.example.com/?apikey=SECRET-key".to_string(),
            "SECRET-key",
        ),
        (
            format!("http://127.0.0.1:{port}/?token=SECRET-token"),
            "SECRET-token",
        ),
        (
            format!("http://localhost:pa/SECRET-userinfo@127.0.0.1:{port}"),
            "SECRET-userinfo",
        ),
        (
            format!("http://127.0.0.1:{port}/#SECRET-fragment"),
            "SECRET-fragment",
        ),
    ] {
        let sink = format!("jsonl:{}", dir.join("reports.jsonl").display());
        let commands: [&[&str]; 2] = [&["fetch"], &["collect", "--once", "--sink", &sink]];
        for command in commands {
            let mut args = vec!["--verbose"];
            args.extend_from_slice(command);
            args.extend_from_slice(&["--base-url", &url]);
            let (code, err) = run_hiding(&args, secret).await;
            assert_eq!(code, Some(2), "{args:?}: {err}");
            assert!(err.contains("error: invalid base URL"), "{err}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
