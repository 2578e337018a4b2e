//! The differential target: the structured tokens of [`crate::structured`] through this crate
//! and through jsonwebtoken (RustCrypto backend), configured alike.
//!
//! jsonwebtoken's configuration: ES256 only, the same key (no kid selection: one key, as this
//! crate's key set holds it without kid here), the audience, the issuer set (the configured issuer,
//! or the three SPEC §5 accepts by default), the leeway, `validate_exp`, `validate_nbf`, required
//! claims `exp`, `iat`, `aud`, `iss`. jsonwebtoken reads the system clock, so the tokens are made
//! relative to the real time, and a disagreement is not judged when the second changed during
//! the run. jsonwebtoken ignores `iat` in its required claims, and does not type claims: the
//! claims type it deserializes, [`OracleClaims`], gives each claim SPEC §5's type (including
//! `iat` as a required integer), so that types are compared too.
//!
//! Any disagreement must be one of the deliberate differences the token exercises
//! ([`crate::structured::Notes`]; fuzz/README.md lists them), in the direction that difference
//! goes; otherwise the target panics.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pomerium_jwt::{Audience, Buffers, Capacity, Error, HeaderParam, JsonError, UnixTime, Verifier};
use serde::{Deserialize, Deserializer};

use crate::checks::{self, AUD, fuzz_signing_key};
use crate::structured::{Case, GROUPS, Keys, TOKEN};

/// SPEC §5's claims with their types: a claim of another type fails deserialization.
#[derive(Debug, Deserialize)]
pub struct OracleClaims {
    iss: String,
    aud: OneOrMany,
    exp: u64,
    iat: u64,
    #[serde(default, deserialize_with = "present")]
    nbf: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    sub: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    user: Option<String>,
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    sid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    jti: Option<String>,
    /// `null` is allowed for groups only.
    #[serde(default)]
    groups: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// An optional claim that, when present, must have its type (`null` is refused).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `FUZZ_VERBOSE=1` prints both verdicts of every input (to see what a corpus exercises).
static VERBOSE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("FUZZ_VERBOSE").is_some());

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The fuzz key as jsonwebtoken takes it.
fn decoding_key() -> &'static DecodingKey {
    static KEY: LazyLock<DecodingKey> = LazyLock::new(|| {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let point = fuzz_signing_key().verifying_key().to_sec1_point(false);
        let (x, y) = (&point.as_bytes()[1..33], &point.as_bytes()[33..]);
        DecodingKey::from_ec_components(&Base64UrlUnpadded::encode_string(x), &Base64UrlUnpadded::encode_string(y))
            .unwrap()
    });
    &KEY
}

/// The note (see `structured.rs`) that explains why this crate refuses with `e` what
/// jsonwebtoken accepts.
fn note_for(e: &Error) -> Option<&'static str> {
    Some(match e {
        Error::Json { reason: JsonError::DuplicateMember, .. } => "duplicate member names",
        Error::Json { reason: JsonError::TooDeep, .. } => "nesting deeper than MAX_DEPTH",
        Error::Capacity(Capacity::Members) => "more than MAX_MEMBERS members",
        Error::Capacity(Capacity::Groups) => "more array entries than the buffers hold",
        Error::Capacity(Capacity::Header) => "header larger than 1 KiB",
        Error::TokenTooLarge { .. } => "token larger than the buffers",
        Error::CriticalHeader => "crit",
        Error::BadHeader(HeaderParam::Typ) => "typ other than JWT",
        Error::BadHeader(HeaderParam::Kid) => "kid null",
        Error::IssuedInFuture { .. } => "iat in the future",
        Error::Expired { .. } => "now == exp + leeway",
        _ => return None,
    })
}

pub fn differential_check(case: &Case) {
    let t0 = unix_now();
    let mut config = case.config(Some(t0));
    config.keys = Keys::FuzzNoKid;
    // jsonwebtoken computes `now - leeway` in u64: keep the leeway below the clock.
    config.leeway = config.leeway.min(1 << 20);
    let built = case.build(&config, |h, p| checks::sign_parts(fuzz_signing_key(), h, p));

    let keys = crate::key_set(Keys::FuzzNoKid);
    let mut verifier = Verifier::new(&keys, AUD).with_leeway(config.leeway);
    let https = format!("https://{AUD}/");
    let issuers = match &config.issuer {
        Some(issuer) => {
            verifier = verifier.with_issuer(issuer);
            vec![issuer.as_str()]
        }
        None => vec![AUD, https.as_str(), "pomerium-proxy"],
    };
    let mut buffers = Box::new(Buffers::<TOKEN, GROUPS>::new());
    let ours = checks::library(|| verifier.verify(&built.token, UnixTime::from_secs(t0), &mut buffers));

    let mut validation = Validation::new(Algorithm::ES256);
    validation.leeway = config.leeway;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_audience(&[AUD]);
    validation.set_issuer(&issuers);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let theirs = jsonwebtoken::decode::<OracleClaims>(&built.token, decoding_key(), &validation);
    if unix_now() != t0 {
        return;
    }
    if *VERBOSE {
        eprintln!(
            "verdicts: ours {:?}, jsonwebtoken {:?}",
            ours.as_ref().map(drop),
            theirs.as_ref().map(drop).map_err(|e| e.kind().clone())
        );
    }

    let context = || {
        format!(
            "ours {ours:?}\njsonwebtoken {theirs:?}\ntoken {}\nheader {}\nclaims {}\nnotes {:?}",
            String::from_utf8_lossy(&built.token),
            built.header_json,
            built.claims_json,
            built.notes
        )
    };
    match (&ours, &theirs) {
        (Ok(ours), Ok(theirs)) => {
            let theirs = &theirs.claims;
            assert_eq!(ours.iss, theirs.iss, "{}", context());
            match (&ours.aud, &theirs.aud) {
                (Audience::One(a), OneOrMany::One(b)) => assert_eq!(a, b, "{}", context()),
                (Audience::Many(a), OneOrMany::Many(b)) => assert!(a.iter().eq(b.iter().map(String::as_str))),
                _ => panic!("aud forms differ\n{}", context()),
            }
            for (a, b) in [
                (ours.sub, &theirs.sub),
                (ours.email, &theirs.email),
                (ours.user, &theirs.user),
                (ours.name, &theirs.name),
                (ours.sid, &theirs.sid),
                (ours.jti, &theirs.jti),
            ] {
                assert_eq!(a, b.as_deref(), "{}", context());
            }
            let groups = theirs.groups.as_deref().unwrap_or_default();
            assert!(ours.groups.iter().eq(groups.iter().map(String::as_str)), "{}", context());
            assert_eq!((ours.exp, ours.iat, ours.nbf), (theirs.exp, theirs.iat, theirs.nbf), "{}", context());
        }
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) => {
            checks::format_error(e);
            let note = note_for(e);
            assert!(
                note.is_some_and(|note| built.notes.ours_stricter.contains(&note)),
                "only this crate refuses ({e:?}), and SPEC does not explain it\n{}",
                context()
            );
        }
        (Ok(_), Err(e)) => {
            assert!(
                matches!(e.kind(), ErrorKind::Json(_)) && !built.notes.oracle_stricter.is_empty(),
                "only jsonwebtoken refuses ({e:?}), and SPEC does not explain it\n{}",
                context()
            );
        }
    }
}
