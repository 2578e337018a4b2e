//! What the tool prints: verified claims as JSON, rejections in words, unverified decodes.

use pomerium_jwt::dangerous::{self, Unverified};
use pomerium_jwt::{Audience, Claims, Error, KeySet, UnknownKid};
use serde_json::{Map, Value, json};

use crate::VerifyArgs;
use crate::keys::MAX_KEYS;
use crate::terminal;

/// The verifier's configuration, for messages.
pub(crate) struct Context<'a> {
    audience: &'a str,
    issuer: Option<&'a str>,
    keys: usize,
}

impl<'a> Context<'a> {
    pub(crate) fn new(args: &'a VerifyArgs, keys: &KeySet<MAX_KEYS>) -> Self {
        Context { audience: &args.audience, issuer: args.issuer.as_deref(), keys: keys.len() }
    }
}

/// The claims the verifier reads itself, which `claims_json` writes first, in this order.
const KNOWN: [&str; 12] = ["iss", "aud", "sub", "email", "user", "name", "sid", "jti", "groups", "exp", "iat", "nbf"];

/// The verified claims as one JSON object: every known claim, `null` when absent, `groups`
/// always an array, strings unescaped from the token and encoded again as JSON; then every other
/// claim of the token (Pomerium's `jwt_claims_headers` claims), in token order, with its value.
pub(crate) fn claims_json(claims: &Claims<'_>) -> String {
    let mut out = known_claims_json(claims);
    out.pop(); // the closing brace; the other claims follow
    for (name, value) in claims.members() {
        let mut scratch = vec![0u8; name.raw().len()];
        // Top-level names were checked to unescape when the token was verified.
        let Ok(name) = name.unescape_into(&mut scratch) else { continue };
        if KNOWN.contains(&name) {
            continue;
        }
        out.push(',');
        out.push_str(&Value::from(name).to_string());
        out.push(':');
        // Encoded again where serde_json can (so `\u0026` becomes `&`); a value it refuses (a
        // lone surrogate inside) is written as it is in the token, which is valid JSON text.
        match serde_json::from_str::<Value>(value.json()) {
            Ok(value) => out.push_str(&value.to_string()),
            Err(_) => out.push_str(value.json()),
        }
    }
    out.push('}');
    out
}

fn known_claims_json(claims: &Claims<'_>) -> String {
    let aud = match claims.aud {
        Audience::One(one) => json!(one),
        Audience::Many(many) => json!(many.iter().collect::<Vec<_>>()),
    };
    let object = json!({
        "iss": claims.iss,
        "aud": aud,
        "sub": claims.sub,
        "email": claims.email,
        "user": claims.user,
        "name": claims.name,
        "sid": claims.sid,
        "jti": claims.jti,
        "groups": claims.groups.iter().collect::<Vec<_>>(),
        "exp": claims.exp,
        "iat": claims.iat,
        "nbf": claims.nbf,
    });
    object.to_string()
}

/// One line that says which check failed, with the values involved.
pub(crate) fn rejection(error: Error, token: &[u8], ctx: &Context<'_>) -> String {
    let member = |part: Part, name: &str| unverified_member(token, part, name);
    match error {
        Error::Expired { exp, now, leeway } => {
            format!("token expired at {} ({exp}); now is {} ({now}), leeway {leeway}s", utc(exp), utc(now))
        }
        Error::NotYetValid { nbf, now, leeway } => {
            format!("token not valid before {} (nbf {nbf}); now is {} ({now}), leeway {leeway}s", utc(nbf), utc(now))
        }
        Error::IssuedInFuture { iat, now, leeway } => format!(
            "token issued in the future at {} (iat {iat}); now is {} ({now}), leeway {leeway}s: check the clocks",
            utc(iat),
            utc(now)
        ),
        Error::WrongAudience => format!(
            "wrong audience: the token's aud is {}, expected {}",
            member(Part::Payload, "aud"),
            Value::from(ctx.audience)
        ),
        Error::WrongIssuer => {
            let expected = match ctx.issuer {
                Some(issuer) => Value::from(issuer).to_string(),
                None => format!(
                    "{} or {} or \"pomerium-proxy\" (pass --issuer to require another)",
                    Value::from(ctx.audience),
                    Value::from(format!("https://{}/", ctx.audience))
                ),
            };
            format!("wrong issuer: the token's iss is {}, expected {expected}", member(Part::Payload, "iss"))
        }
        Error::UnknownKey { kid: Some(kid) } => format!(
            "unknown key: no key matches the token's kid {} ({} key(s) loaded, each with another kid); \
             if Pomerium's signing key rotated, fetch its JWKS again",
            quoted_kid(&kid),
            ctx.keys
        ),
        Error::UnknownKey { kid: None } => "unknown key: no key loaded".to_owned(),
        Error::BadSignature => format!(
            "bad signature: no key that may have signed it ({} loaded in all) verifies it; the token was \
             signed by another key, or altered",
            ctx.keys
        ),
        Error::UnsupportedAlgorithm => {
            let alg = member(Part::Header, "alg");
            let advice = if alg.starts_with("\"RS") || alg.starts_with("\"PS") {
                ": Pomerium signs with RSA when its signing_key is an RSA key; this verifier needs \
                 Pomerium to sign with an EC P-256 key (ES256)"
            } else {
                ""
            };
            format!("unsupported algorithm: alg is {alg}, only ES256 is accepted{advice}")
        }
        other => other.to_string(),
    }
}

/// The kid an unknown-key error carries, as a JSON string (marked when it was cut).
fn quoted_kid(kid: &UnknownKid) -> String {
    let text = Value::from(String::from_utf8_lossy(kid.as_bytes())).to_string();
    if kid.is_complete() { text } else { format!("{text}... ({} bytes)", kid.len()) }
}

#[derive(Clone, Copy)]
enum Part {
    Header,
    Payload,
}

/// A member of the token's header or payload as JSON text, read without verification and only
/// to explain a rejection.
fn unverified_member(token: &[u8], part: Part, name: &str) -> String {
    let mut buffer = vec![0u8; token.len()];
    let value = dangerous::decode_unverified(token, &mut buffer).ok().and_then(|parts| {
        let text = match part {
            Part::Header => parts.header,
            Part::Payload => parts.payload,
        };
        serde_json::from_str::<Map<String, Value>>(text).ok()?.get(name).cloned()
    });
    value.map_or_else(|| "absent".to_owned(), |v| v.to_string())
}

/// The decoded header and payload, loudly marked as unverified, with readable times.
pub(crate) fn unverified(parts: &Unverified<'_>) -> String {
    let mut out = String::from(
        "UNVERIFIED: the signature, key, times, audience and issuer were NOT checked.\n\
         Anyone can make a token that decodes; use `pomerium-jwt verify` before trusting it.\n",
    );
    for (title, text) in [("header", parts.header), ("payload", parts.payload)] {
        out.push_str(title);
        out.push_str(" (UNVERIFIED):\n");
        out.push_str(&pretty(text));
        out.push('\n');
    }
    if let Ok(payload) = serde_json::from_str::<Map<String, Value>>(parts.payload) {
        for claim in ["iat", "nbf", "exp"] {
            if let Some(secs) = payload.get(claim).and_then(Value::as_f64).filter(|s| *s >= 0.0 && *s < 1e15) {
                // Whole seconds, as the verifier reads NumericDates.
                let secs = secs.trunc() as u64;
                out.push_str(&format!("{claim}: {secs} = {}\n", utc(secs)));
            }
        }
    }
    out.push_str(&format!("signature: {} bytes\n", parts.signature.len()));
    out
}

/// The JSON pretty-printed, safe for a terminal; JSON that serde_json refuses (a lone surrogate,
/// which the tool's own parser accepts in a value it does not read) as it is, with every
/// control character escaped.
fn pretty(text: &str) -> String {
    match serde_json::from_str::<Value>(text).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()) {
        Some(pretty) => terminal::escape_json(&pretty),
        None => terminal::escape_all(text),
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar).
// u64 seconds in u128 arithmetic: nothing can overflow, and every subtraction takes away a part
// of its own minuend.
#[allow(clippy::arithmetic_side_effects)]
pub(crate) fn utc(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (hour, minute, second) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Howard Hinnant's days-to-civil algorithm, in unsigned arithmetic from 0000-03-01.
    let z = u128::from(days) + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u128::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_300), "2023-11-14 22:18:20 UTC");
        assert_eq!(utc(4_102_444_799), "2099-12-31 23:59:59 UTC");
        assert_eq!(utc(u64::MAX), "584554051223-11-09 07:00:15 UTC");
    }
}
