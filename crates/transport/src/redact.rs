//! `redact_url`: a URL as it may be shown (messages, logs, `Debug`), without its secrets.
//!
//! It lives here, beside [`Secret`](crate::Secret) and [`Auth`](crate::Auth), because this is
//! the lowest crate every layer that prints a URL depends on (facade, sandbox, collector, cli),
//! and it needs no feature: it is plain string work, for HTTP base URLs and `postgres://`
//! URLs alike.

/// Query parameters whose values are shown. Every other value is replaced by `***`: an
/// unknown parameter may be a credential (`apikey`, `token`, `password`, `X-Amz-Signature`,
/// ...), so only the ones known to be harmless are kept. Compared case-insensitively.
const SHOWN_PARAMETERS: &[&str] = &[
    // libpq / tokio-postgres connection parameters that are not secrets.
    "application_name",
    "channel_binding",
    "connect_timeout",
    "dbname",
    "host",
    "hostaddr",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "load_balance_hosts",
    "options",
    "port",
    "sslcert",
    "sslmode",
    "sslnegotiation",
    "sslrootcert",
    "target_session_attrs",
    "tcp_user_timeout",
    "user",
    // The report endpoints' filters.
    "bulkid",
    "limit",
    "messageid",
];

/// What replaces a secret.
const MASK: &str = "***";

/// The length from which a path segment made only of URL-safe characters
/// (`A-Z a-z 0-9 - _ . ~`) is taken for a secret token by [`redact_path`]: a webhook's secret
/// path (the collector requires tokens at least this long), a capability URL's key.
pub const SECRET_SEGMENT_MIN_LEN: usize = 22;

/// `path` as it may be logged: every segment that may be a secret token (at least
/// [`SECRET_SEGMENT_MIN_LEN`] URL-safe characters) replaced by `***`. A path is part of the
/// URL a sender was given, and a secret path is a credential: the server and the client log
/// paths only through this. API paths (`/tts/3/reports`) come back unchanged.
///
/// ```
/// use ivr_reports_transport::redact_path;
///
/// assert_eq!(redact_path("/tts/3/reports"), "/tts/3/reports");
/// assert_eq!(redact_path("/webhook/Tr4ceT0kenAbcdefghij0123"), "/webhook/***");
/// ```
#[must_use]
pub fn redact_path(path: &str) -> std::borrow::Cow<'_, str> {
    let secret = |segment: &str| {
        segment.len() >= SECRET_SEGMENT_MIN_LEN
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    };
    if !path.split('/').any(secret) {
        return std::borrow::Cow::Borrowed(path);
    }
    let shown: Vec<&str> = path
        .split('/')
        .map(|segment| if secret(segment) { MASK } else { segment })
        .collect();
    std::borrow::Cow::Owned(shown.join("/"))
}

/// `url` with every secret it may hold replaced by `***`, for messages and logs.
///
/// - The password of the user info: everything between the first `:` after `scheme://` and
///   the **last** `@` is hidden, so a password holding `/`, `?`, `#` or even `@` unencoded
///   is hidden too. (When a path or query holds an `@` this hides more than needed, never
///   less.) The user name is kept.
/// - Query parameter values, except those known to be harmless (`sslmode`, `limit`,
///   `application_name`, ...): `?password=`, `?apikey=`, `?token=` and any parameter this
///   function does not know are hidden.
/// - A fragment is hidden.
///
/// A string without `://` is returned as it is, except for its query and fragment.
///
/// ```
/// use ivr_reports_transport::redact_url;
///
/// assert_eq!(redact_url("postgres://ivr:s3/cr?t@db:5432/reports"), "postgres://ivr:***@db:5432/reports");
/// assert_eq!(
///     redact_url("postgres://ivr@db/reports?sslmode=require&password=s3cret"),
///     "postgres://ivr@db/reports?sslmode=require&password=***"
/// );
/// assert_eq!(redact_url("https://x.example.com/?apikey=k3y"), "https://x.example.com/?apikey=***");
/// assert_eq!(redact_url("https://api.infobip.com"), "https://api.infobip.com");
/// ```
#[must_use]
pub fn redact_url(url: &str) -> String {
    let mut shown = String::with_capacity(url.len());
    let rest = match url.split_once("://") {
        Some((scheme, rest)) => {
            shown.push_str(scheme);
            shown.push_str("://");
            match rest.rfind('@') {
                Some(at) => {
                    let (userinfo, after) = (&rest[..at], &rest[at + 1..]);
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            shown.push_str(user);
                            shown.push(':');
                            shown.push_str(MASK);
                        }
                        None => shown.push_str(userinfo),
                    }
                    shown.push('@');
                    after
                }
                None => rest,
            }
        }
        None => url,
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, _)) => (rest, true),
        None => (rest, false),
    };
    match rest.split_once('?') {
        Some((before, query)) => {
            shown.push_str(before);
            shown.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    shown.push('&');
                }
                match pair.split_once('=') {
                    Some((key, _)) if !is_shown(key) => {
                        shown.push_str(key);
                        shown.push('=');
                        shown.push_str(MASK);
                    }
                    _ => shown.push_str(pair),
                }
            }
        }
        None => shown.push_str(rest),
    }
    if fragment {
        shown.push('#');
        shown.push_str(MASK);
    }
    shown
}

fn is_shown(key: &str) -> bool {
    SHOWN_PARAMETERS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_whatever_they_hold() {
        for (url, shown) in [
            ("postgres://h/db", "postgres://h/db"),
            ("postgres://ivr@h/db", "postgres://ivr@h/db"),
            (
                "postgresql://u:p%40ss@h:5432/db?sslmode=disable",
                "postgresql://u:***@h:5432/db?sslmode=disable",
            ),
            ("postgres://u:pa/SECRET@h/db", "postgres://u:***@h/db"),
            ("postgres://u:pa?SECRET@h/db", "postgres://u:***@h/db"),
            ("postgres://u:pa#SECRET@h/db", "postgres://u:***@h/db"),
            ("postgres://u:p@SECRET@h/db", "postgres://u:***@h/db"),
            ("postgres://u:pa/S?E#C@h", "postgres://u:***@h"),
            (
                "https://u:SECRET@x.example.com",
                "https://u:***@x.example.com",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn unknown_query_values_and_fragments_are_hidden() {
        for (url, shown) in [
            (
                "postgres://ivr@h/db?password=SECRET",
                "postgres://ivr@h/db?password=***",
            ),
            (
                "postgres://ivr@h/db?sslmode=require&PASSWORD=SECRET&sslrootcert=/ca.pem",
                "postgres://ivr@h/db?sslmode=require&PASSWORD=***&sslrootcert=/ca.pem",
            ),
            (
                "https://x.example.com/?apikey=SECRET",
                "https://x.example.com/?apikey=***",
            ),
            (
                "https://x.example.com?token=SECRET&limit=5",
                "https://x.example.com?token=***&limit=5",
            ),
            (
                "https://x.example.com/tts/3/reports?bulkId=b&messageId=m&limit=1000",
                "https://x.example.com/tts/3/reports?bulkId=b&messageId=m&limit=1000",
            ),
            (
                "https://x.example.com/#SECRET",
                "https://x.example.com/#***",
            ),
            (
                "https://x.example.com/?flag&k=SECRET",
                "https://x.example.com/?flag&k=***",
            ),
            ("not a url?key=SECRET", "not a url?key=***"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn an_at_sign_in_the_query_hides_more_never_less() {
        let shown = redact_url("postgres://ivr:SECRET@h/db?application_name=me@corp");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
