//! Loading `--key` files and URLs into one key set; every one must yield at least one usable key.
//!
//! A `--key` that starts with `https://` or `http://` is fetched once: the whole fetch (every
//! redirect and the body) within [`FETCH_TIMEOUT`], the body within the key-file cap, at most
//! [`MAX_REDIRECTS`] redirects, never from https to http, and plain http only to a loopback
//! host. The URL is the operator's; nothing in a token chooses where keys come from.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pomerium_jwt::{Capacity, Error, KeySet, MAX_MEMBERS};

/// How many keys all `--key` files may hold together.
pub(crate) const MAX_KEYS: usize = 1024;
/// The largest key file read (a JWKS of a thousand keys is about 250 KiB).
const MAX_FILE: u64 = 4 << 20;

/// The keys of every file, or a message naming the file and what is wrong with it.
pub(crate) fn load(paths: &[PathBuf]) -> Result<Box<KeySet<MAX_KEYS>>, String> {
    let mut keys = Box::new(KeySet::<MAX_KEYS>::new());
    for path in paths {
        let name = path.display();
        let bytes = match url_of(path) {
            Some(url) => fetch(url).map_err(|why| format!("key URL {url}: {why}"))?,
            None => read_file(path).map_err(|why| format!("key file {name}: {why}"))?,
        };
        let mut scratch = vec![0u8; bytes.len().saturating_mul(2).saturating_add(64)];
        match keys.add_any(&bytes, &mut scratch) {
            Ok(0) => return Err(format!("key file {name}: no usable EC P-256 signing key in it")),
            Ok(_) => {}
            Err(Error::Capacity(Capacity::Keys)) => {
                return Err(format!("key file {name}: more than {MAX_KEYS} different keys in all --key files"));
            }
            Err(Error::Capacity(Capacity::Members)) => {
                return Err(format!("key file {name}: a JSON object with more than {MAX_MEMBERS} members"));
            }
            Err(e) => return Err(format!("key file {name}: {}", describe(e))),
        }
    }
    Ok(keys)
}

fn describe(error: Error) -> String {
    match error {
        Error::Key(e) => e.to_string(),
        Error::Json { reason, .. } => format!("not valid JSON ({reason})"),
        other => other.to_string(),
    }
}

/// The file's bytes, at most [`MAX_FILE`] of them.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE {
        return Err(format!("larger than {MAX_FILE} bytes"));
    }
    Ok(bytes)
}

/// The limit for a whole fetch, redirects and body included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Redirects followed at most.
const MAX_REDIRECTS: usize = 3;

/// The `--key` argument as a URL, when it is one.
fn url_of(path: &Path) -> Option<&str> {
    let text = path.to_str()?;
    let scheme = text.split_once("://")?.0;
    (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")).then_some(text)
}

/// Whether keys may be fetched from `url`: https, or http to a loopback host.
fn allowed(url: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = url.parse().map_err(|_| "not a valid URL".to_owned())?;
    let host = uri.host().ok_or("the URL has no host")?;
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => {
            Err(format!("plain http only to a loopback address (127.0.0.1, localhost, [::1]); {host} needs https"))
        }
        _ => Err("only https:// (or http:// to a loopback address) is fetched".to_owned()),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Where a redirect from `from` to `location` leads, if it may be followed.
fn redirect_target(from: &str, location: &str) -> Result<String, String> {
    let base: ureq::http::Uri = from.parse().map_err(|_| "not a valid URL".to_owned())?;
    let scheme = base.scheme_str().unwrap_or("https");
    let authority = base.authority().map_or("", |a| a.as_str());
    let target = if location.contains("://") {
        location.to_owned()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(dir, _)| dir);
        format!("{scheme}://{authority}{dir}/{location}")
    };
    if scheme == "https" && !target.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")) {
        return Err(format!("redirect from https to {target} refused: it would drop TLS"));
    }
    allowed(&target).map_err(|why| format!("redirect to {target} refused: {why}"))?;
    Ok(target)
}

/// The whole-fetch limit: [`FETCH_TIMEOUT`], or less when `POMERIUM_JWT_KEY_TIMEOUT_MS` says so
/// (the tests use it; it can only lower the limit).
fn fetch_timeout() -> Duration {
    std::env::var("POMERIUM_JWT_KEY_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse::<u64>().ok())
        .map_or(FETCH_TIMEOUT, |ms| Duration::from_millis(ms).min(FETCH_TIMEOUT))
}

/// Fetches `url` once, following at most [`MAX_REDIRECTS`] redirects; the body or why not.
fn fetch(url: &str) -> Result<Vec<u8>, String> {
    allowed(url)?;
    let limit = fetch_timeout();
    let deadline = Instant::now().checked_add(limit).ok_or("bad timeout")?;
    let timed_out = || format!("timed out after {} ms (the limit for the whole fetch)", limit.as_millis());
    let mut current = url.to_owned();
    for hop in 0..=MAX_REDIRECTS {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out());
        }
        let proxy = if allowed(&current).is_ok() && current.starts_with("http://") {
            None
        } else {
            ureq::Proxy::try_from_env()
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(remaining))
            .max_redirects(0)
            .http_status_as_error(false)
            .proxy(proxy)
            .build()
            .into();
        let mut response = agent.get(&current).call().map_err(|e| match e {
            ureq::Error::Timeout(_) => timed_out(),
            other => other.to_string(),
        })?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| format!("HTTP status {status} without a Location"))?;
            if hop == MAX_REDIRECTS {
                return Err(format!("more than {MAX_REDIRECTS} redirects"));
            }
            current = redirect_target(&current, location)?;
            continue;
        }
        if status != ureq::http::StatusCode::OK {
            return Err(format!("HTTP status {status}, expected 200 OK"));
        }
        return response.body_mut().with_config().limit(MAX_FILE).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => format!("larger than {MAX_FILE} bytes"),
            ureq::Error::Timeout(_) => timed_out(),
            other => other.to_string(),
        });
    }
    Err(format!("more than {MAX_REDIRECTS} redirects"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keys_may_come_from() {
        for url in [
            "https://authenticate.example.com/.well-known/pomerium/jwks.json",
            "http://127.0.0.1:8/k",
            "http://localhost/k",
            "http://[::1]:9/k",
        ] {
            assert_eq!(allowed(url), Ok(()), "{url}");
        }
        for url in ["http://example.com/k", "http://10.0.0.1/k", "ftp://127.0.0.1/k", "http://[::2]/k"] {
            assert!(allowed(url).is_err(), "{url}");
        }
        assert_eq!(url_of(Path::new("jwks.json")), None);
        assert_eq!(url_of(Path::new("HTTPS://a/b")), Some("HTTPS://a/b"));
    }

    #[test]
    fn redirects_never_drop_tls_nor_leave_loopback_over_http() {
        assert_eq!(redirect_target("https://a.example/x/y", "/z"), Ok("https://a.example/z".into()));
        assert_eq!(redirect_target("https://a.example/x/y", "z"), Ok("https://a.example/x/z".into()));
        assert_eq!(redirect_target("https://a.example/x", "https://b.example/k"), Ok("https://b.example/k".into()));
        assert_eq!(redirect_target("http://127.0.0.1:1/x", "http://localhost:2/k"), Ok("http://localhost:2/k".into()));
        assert!(redirect_target("https://a.example/x", "http://a.example/k").is_err());
        assert!(redirect_target("https://a.example/x", "http://127.0.0.1/k").is_err());
        assert!(redirect_target("http://127.0.0.1/x", "http://10.0.0.1/k").is_err());
        assert!(redirect_target("http://127.0.0.1/x", "//10.0.0.1/k").is_err());
    }
}
