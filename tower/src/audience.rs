//! The audience a request must carry, chosen from the host it was sent to and checked against
//! the operator's list, so one verifier serves several Pomerium routes without trusting the
//! token to say which route it is for.

use http::HeaderMap;
use http::header::HOST;

/// The header a fronting proxy names the original host in (nginx, Caddy, Traefik).
const X_FORWARDED_HOST: &str = "x-forwarded-host";

/// The audiences a verifier accepts: one, expected whatever the request's host, or several, of
/// which the request's host must be one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audiences {
    /// Lower-cased, without duplicates, never empty.
    hosts: Vec<String>,
}

/// An audience list that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudienceError {
    /// No audience was given.
    Missing,
    /// An audience is empty or holds a character a host cannot (white space, `/`, a control).
    Invalid(String),
}

impl std::fmt::Display for AudienceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AudienceError::Missing => f.write_str("no audience given"),
            AudienceError::Invalid(aud) => write!(f, "audience {aud:?} is not a host name"),
        }
    }
}

impl std::error::Error for AudienceError {}

impl Audiences {
    /// The audiences `hosts` (the route hosts Pomerium writes in `aud`), compared without case.
    ///
    /// # Errors
    /// [`AudienceError::Missing`] for an empty list, [`AudienceError::Invalid`] for an empty
    /// entry or one that cannot be a host.
    pub fn new<I, S>(hosts: I) -> Result<Self, AudienceError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<String> = Vec::new();
        for host in hosts {
            let host = host.as_ref();
            if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b',') {
                return Err(AudienceError::Invalid(host.to_owned()));
            }
            let host = host.to_ascii_lowercase();
            if !list.contains(&host) {
                list.push(host);
            }
        }
        if list.is_empty() {
            return Err(AudienceError::Missing);
        }
        Ok(Audiences { hosts: list })
    }

    /// The configured audiences, lower-cased.
    #[must_use]
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// The audience a request sent to `host` must carry: the only one configured whatever the
    /// host, else the configured one equal to `host` (without port, any case); `None` when the
    /// host is not listed or missing.
    pub fn expected(&self, host: Option<&str>) -> Option<&str> {
        if let [only] = self.hosts.as_slice() {
            return Some(only);
        }
        let host = host_without_port(host?);
        self.hosts.iter().find(|h| h.eq_ignore_ascii_case(host)).map(String::as_str)
    }

    /// [`Audiences::expected`] for a request's headers: the `Host` header, or when `forwarded`
    /// (behind a forward-auth proxy) `X-Forwarded-Host` if present (its first entry), else `Host`.
    #[must_use]
    pub fn for_request(&self, headers: &HeaderMap, forwarded: bool) -> Option<&str> {
        self.expected(request_host(headers, forwarded))
    }
}

/// The host a request was sent to, as [`Audiences::for_request`] reads it (port included).
/// Repeated headers count as missing: which one to believe is not ours to guess.
pub fn request_host(headers: &HeaderMap, forwarded: bool) -> Option<&str> {
    let single = |name: &str| {
        let mut values = headers.get_all(name).iter();
        let first = values.next()?;
        values.next().is_none().then(|| first.to_str().ok()).flatten()
    };
    let forwarded_host = if forwarded { single(X_FORWARDED_HOST) } else { None };
    let host = match forwarded_host {
        Some(list) => list.split(',').next().unwrap_or_default(),
        None => single(HOST.as_str())?,
    };
    Some(host.trim()).filter(|h| !h.is_empty())
}

/// `host` without a `:port`; an IPv6 literal keeps its brackets.
fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').and_then(|end| host.get(..=end)).unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(name, _port)| name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn one_audience_whatever_the_host() {
        let a = Audiences::new(["App.Example.com"]).unwrap();
        assert_eq!(a.expected(Some("other.example.com")), Some("app.example.com"));
        assert_eq!(a.expected(None), Some("app.example.com"));
    }

    #[test]
    fn several_audiences_need_a_listed_host() {
        let a = Audiences::new(["a.example.com", "b.example.com"]).unwrap();
        assert_eq!(a.expected(Some("b.example.com")), Some("b.example.com"));
        assert_eq!(a.expected(Some("B.EXAMPLE.COM:8443")), Some("b.example.com"));
        assert_eq!(a.expected(Some("c.example.com")), None);
        assert_eq!(a.expected(Some("a.example.com.evil")), None);
        assert_eq!(a.expected(None), None);
    }

    #[test]
    fn ports_and_ipv6() {
        assert_eq!(host_without_port("a.example.com:80"), "a.example.com");
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
        assert_eq!(host_without_port("a"), "a");
    }

    #[test]
    fn forwarded_host_only_when_asked() {
        let a = Audiences::new(["a.example.com", "b.example.com"]).unwrap();
        let h = headers(&[("host", "a.example.com"), ("x-forwarded-host", "b.example.com, a.example.com")]);
        assert_eq!(a.for_request(&h, false), Some("a.example.com"));
        assert_eq!(a.for_request(&h, true), Some("b.example.com"));
        let h = headers(&[("host", "a.example.com")]);
        assert_eq!(a.for_request(&h, true), Some("a.example.com"));
        let h = headers(&[("host", "a.example.com"), ("host", "b.example.com")]);
        assert_eq!(a.for_request(&h, false), None);
    }

    #[test]
    fn bad_lists() {
        assert_eq!(Audiences::new(Vec::<String>::new()), Err(AudienceError::Missing));
        assert!(matches!(Audiences::new([""]), Err(AudienceError::Invalid(_))));
        assert!(matches!(Audiences::new(["a b"]), Err(AudienceError::Invalid(_))));
        assert_eq!(Audiences::new(["a", "A"]).unwrap().hosts(), ["a"]);
    }
}
