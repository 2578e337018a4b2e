//! Paths that pass without a token (Pomerium routes with public access), matched on the path
//! with its dot segments removed, so `/public/../admin` is not public.

/// Path prefixes that need no token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicPaths {
    prefixes: Vec<String>,
}

impl PublicPaths {
    /// Requests whose path starts with one of `prefixes` (after dot-segment removal) are public.
    pub fn new<I, S>(prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PublicPaths { prefixes: prefixes.into_iter().map(Into::into).filter(|p| !p.is_empty()).collect() }
    }

    /// Whether no prefix is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// Whether the request target `target` (a path, with or without `?query`) is public: its
    /// path, after removing dot segments (RFC 3986 §5.2.4), starts with a configured prefix. A
    /// path holding `%2e`, `%2f` (any case) or `\` never matches, since a server behind may
    /// decode them into the segments removed here.
    #[must_use]
    pub fn matches(&self, target: &str) -> bool {
        if self.prefixes.is_empty() {
            return false;
        }
        let path = target.split(['?', '#']).next().unwrap_or_default();
        let lower = path.to_ascii_lowercase();
        if lower.contains("%2e") || lower.contains("%2f") || path.contains('\\') {
            return false;
        }
        let path = remove_dot_segments(path);
        self.prefixes.iter().any(|prefix| path.starts_with(prefix.as_str()))
    }
}

/// RFC 3986 §5.2.4, on a path.
#[must_use]
pub fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = rest;
        } else if input.starts_with("/./") {
            input = input.get(2..).unwrap_or_default();
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { input.get(3..).unwrap_or_default() };
            let cut = output.rfind('/').unwrap_or(0);
            output.truncate(cut);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input.get(start..).and_then(|s| s.find('/')).map_or(input.len(), |i| i.saturating_add(start));
            output.push_str(input.get(..end).unwrap_or_default());
            input = input.get(end..).unwrap_or_default();
        }
    }
    output
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3986_examples() {
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
        assert_eq!(remove_dot_segments("/../a"), "/a");
        assert_eq!(remove_dot_segments("/a/.."), "/");
        assert_eq!(remove_dot_segments("/a/."), "/a/");
        assert_eq!(remove_dot_segments("/a//b"), "/a//b");
        assert_eq!(remove_dot_segments("/a/..b/c"), "/a/..b/c");
    }

    #[test]
    fn prefixes() {
        let p = PublicPaths::new(["/public/", "/healthz"]);
        assert!(p.matches("/public/style.css"));
        assert!(p.matches("/public/a?x=/../admin"));
        assert!(p.matches("/healthz"));
        assert!(p.matches("/x/../public/a"));
        assert!(!p.matches("/public/../admin"));
        assert!(!p.matches("/public/./../admin"));
        assert!(!p.matches("/admin"));
        assert!(!p.matches("/publicx"));
    }

    #[test]
    fn encoded_dots_slashes_and_backslashes_never_match() {
        let p = PublicPaths::new(["/public/"]);
        assert!(!p.matches("/public/%2e%2e/admin"));
        assert!(!p.matches("/public/%2E%2E/admin"));
        assert!(!p.matches("/public/..%2Fadmin"));
        assert!(!p.matches("/public/..\\admin"));
        assert!(!PublicPaths::default().matches("/public/"));
    }
}
