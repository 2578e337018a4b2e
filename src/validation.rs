//! The policy a verified token must meet: time window, audience, issuer.

use crate::claims::Claims;
use crate::error::Error;
use crate::time::UnixTime;

/// The issuer that Pomerium's original signed-headers guide names.
pub(crate) const POMERIUM_PROXY_ISSUER: &str = "pomerium-proxy";

/// What the caller expects of every token.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy<'a> {
    pub(crate) audience: &'a str,
    pub(crate) issuer: Option<&'a str>,
    pub(crate) leeway: u64,
}

impl Policy<'_> {
    /// Checks, in order, `exp`, `nbf`, `iat`, `aud` and `iss`.
    pub(crate) fn check(&self, claims: &Claims<'_>, now: UnixTime) -> Result<(), Error> {
        let (now, leeway) = (now.as_secs(), self.leeway);
        let late_bound = now.saturating_add(leeway);
        if now >= claims.exp.saturating_add(leeway) {
            return Err(Error::Expired { exp: claims.exp, now, leeway });
        }
        if let Some(nbf) = claims.nbf.filter(|&nbf| nbf > late_bound) {
            return Err(Error::NotYetValid { nbf, now, leeway });
        }
        if claims.iat > late_bound {
            return Err(Error::IssuedInFuture { iat: claims.iat, now, leeway });
        }
        if !claims.aud.contains(self.audience) {
            return Err(Error::WrongAudience);
        }
        if !self.issuer_accepted(claims.iss) {
            return Err(Error::WrongIssuer);
        }
        Ok(())
    }

    /// An explicit issuer must match exactly; without one, accept the audience itself,
    /// `https://<audience>/` (current Pomerium) and `pomerium-proxy` (the original guide).
    fn issuer_accepted(&self, iss: &str) -> bool {
        match self.issuer {
            Some(expected) => iss == expected,
            None => {
                iss == self.audience
                    || iss == POMERIUM_PROXY_ISSUER
                    || iss.strip_prefix("https://").and_then(|host| host.strip_suffix('/')) == Some(self.audience)
            }
        }
    }
}
