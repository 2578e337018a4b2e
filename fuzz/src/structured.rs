//! Structure-aware tokens: a header and claims built from fuzzer input (`arbitrary`), signed
//! with the fixed fuzz key, optionally corrupted, and the verdict docs/SPEC.md implies for them.
//!
//! [`Case::build`] renders the JSON and, from the same structure, computes what SPEC requires:
//! the rules each stage breaks. Within a stage SPEC fixes no order, so a token that breaks
//! several rules of one stage may be refused for any of them; across stages the order is fixed
//! (size, header, key choice, signature, claims), so the error must come from the first stage
//! that breaks a rule. A token that breaks none must verify.
//!
//! The first variant of every enum, and zero, make a valid part: `arbitrary` picks them when the
//! input runs out, so short inputs make tokens that verify and reach the claims checks.
//!
//! The same structure feeds the differential target (`differential.rs`), which also needs to
//! know which of SPEC's deliberate differences from jsonwebtoken a token exercises: [`Notes`].

use arbitrary::Arbitrary;
use pomerium_jwt::{Capacity, Claim, Error, HeaderParam, JsonError, MAX_DEPTH, MAX_MEMBERS, Part};

use crate::checks::{AUD, FUZZ_KID};

/// How a string is spelled in JSON; the value is the same.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Escape {
    /// Minimal escaping (serde_json's).
    Plain,
    /// Every character as `\uXXXX`, with surrogate pairs beyond the BMP.
    Unicode,
    /// `/` as `\/`, the first character as `\uXXXX`.
    Mixed,
}

/// A JSON value of the wrong type for whatever claim it is given to.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Wrong {
    Null,
    True,
    Number,
    Object,
    ArrayOfNumber,
}

impl Wrong {
    fn json(self) -> &'static str {
        match self {
            Wrong::Null => "null",
            Wrong::True => "true",
            Wrong::Number => "42",
            Wrong::Object => r#"{"a":"b"}"#,
            Wrong::ArrayOfNumber => "[1]",
        }
    }
}

/// A string value for a claim.
#[derive(Arbitrary, Debug, Clone)]
pub enum Text {
    Aud,
    HttpsAud,
    PomeriumProxy,
    Authenticate,
    Free(String),
}

/// The issuer configured with `with_issuer` when a case configures one.
pub const AUTHENTICATE: &str = "https://authenticate.example.com/";

impl Text {
    fn value(&self) -> String {
        match self {
            Text::Aud => AUD.to_owned(),
            Text::HttpsAud => format!("https://{AUD}/"),
            Text::PomeriumProxy => "pomerium-proxy".to_owned(),
            Text::Authenticate => AUTHENTICATE.to_owned(),
            Text::Free(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum StrClaim {
    Text(Text, Escape),
    Absent,
    Wrong(Wrong),
    LoneSurrogate,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum AudClaim {
    One(Text, Escape),
    Absent,
    Many(Vec<(Text, Escape)>),
    ManyThenWrong(Vec<(Text, Escape)>, Wrong),
    Wrong(Wrong),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum GroupsClaim {
    Absent,
    Null,
    Many(Vec<(String, Escape)>),
    ManyThenWrong(Vec<(String, Escape)>, Wrong),
    Wrong(Wrong),
}

/// How a NumericDate is written; all of them mean the same whole seconds.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Form {
    Int,
    /// `v.ddd`
    Fraction(u16),
    /// `d.ddde+k`
    Exponent,
    /// `d.dddE+k`
    ExponentUpper,
    /// `v000e-3`
    Scaled(u8),
    /// `-v`: valid only for 0 (`-0` is zero).
    Negative,
}

/// Numbers SPEC refuses as a NumericDate: the whole part does not fit in u64.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum TooBig {
    TwoTo64,
    E30,
    E400,
    Mantissa,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum DateClaim {
    /// Seconds relative to the clock.
    Rel(i32, Form),
    Absent,
    Abs(u64, Form),
    Wrong(Wrong),
    Quoted(u32),
    TooBig(TooBig),
}

/// A member name for unknown members.
#[derive(Arbitrary, Debug, Clone)]
pub enum Name {
    X,
    Org,
    Free(String),
}

/// A value for unknown members: SPEC only requires them to be well-formed.
#[derive(Arbitrary, Debug, Clone)]
pub enum Value {
    Str(String, Escape),
    Int(i64),
    Decimal(u32, u16),
    E400,
    Null,
    Bool,
    /// Arrays nested one deeper than this inside the member.
    Nested(u8),
    LoneSurrogate,
    /// An object with a duplicate name (SPEC checks the top level only).
    InnerDuplicate,
}

impl Value {
    /// The JSON text and how deep it nests.
    fn json(&self) -> (String, usize) {
        match self {
            Value::Str(s, e) => (string(s, *e), 0),
            Value::Int(i) => (i.to_string(), 0),
            Value::Decimal(a, b) => (format!("{a}.{b}"), 0),
            Value::E400 => ("1e400".to_owned(), 0),
            Value::Null => ("null".to_owned(), 0),
            Value::Bool => ("false".to_owned(), 0),
            Value::Nested(n) => {
                let n = usize::from(*n) + 1;
                (format!("{}{}", "[".repeat(n), "]".repeat(n)), n)
            }
            Value::LoneSurrogate => (r#""\ud800x""#.to_owned(), 0),
            Value::InnerDuplicate => (r#"{"a":1,"a":2}"#.to_owned(), 1),
        }
    }

    fn is_plain_string(&self) -> bool {
        matches!(self, Value::Str(..))
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Extra {
    pub name: Name,
    pub value: Value,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Alg {
    Es256(Escape),
    Absent,
    Named(u8),
    Wrong(Wrong),
}

const OTHER_ALGS: &[&str] = &["none", "HS256", "RS256", "ES384", "es256", "ES256 ", "", "ES512", "EdDSA", "PS256"];

#[derive(Arbitrary, Debug, Clone)]
pub enum Kid {
    Absent,
    Fuzz(Escape),
    Other(Escape),
    Free(String, Escape),
    Wrong(Wrong),
    LoneSurrogate,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Typ {
    Absent,
    /// `JWT` with the letters whose bit is set in lowercase.
    Jwt(u8, Escape),
    Free(String, Escape),
    Wrong(Wrong),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Header {
    pub alg: Alg,
    pub kid: Kid,
    pub typ: Typ,
    pub crit: Option<Wrong>,
    pub extras: Vec<Extra>,
    /// Members to repeat: (index, spell the repeat with an escape).
    pub duplicates: Vec<(u8, bool)>,
    /// Bit i set: the name of member i is spelled with an escape.
    pub escaped_names: u16,
    /// Sort keys for the members.
    pub order: Vec<u8>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Claims {
    pub iss: StrClaim,
    pub aud: AudClaim,
    pub exp: DateClaim,
    pub iat: DateClaim,
    pub nbf: DateClaim,
    pub sub: StrClaim,
    pub email: StrClaim,
    pub user: StrClaim,
    pub name: StrClaim,
    pub sid: StrClaim,
    pub jti: StrClaim,
    pub groups: GroupsClaim,
    pub extras: Vec<Extra>,
    pub duplicates: Vec<(u8, bool)>,
    pub escaped_names: u16,
    pub order: Vec<u8>,
}

/// Which keys the verifier holds (the structured target only; the differential target always
/// uses the fuzz key without kid, as jsonwebtoken takes one key).
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// The fuzz key under kid `fuzz`.
    FuzzKid,
    /// The fuzz key without kid.
    FuzzNoKid,
    /// Another key under kid `fuzz`.
    OtherKid,
    /// Another key under kid `other`, then the fuzz key under kid `fuzz`.
    Both,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Leeway {
    Default,
    Secs(u16),
    Max,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Issuer {
    Default,
    Authenticate,
    Aud,
    Free(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Clock {
    Near(u32),
    Raw(u64),
    Max,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Case {
    pub header: Header,
    pub claims: Claims,
    pub keys: Keys,
    pub leeway: Leeway,
    pub issuer: Issuer,
    pub clock: Clock,
    pub high_s: bool,
    /// (position, xor mask): one byte of the token changed.
    pub corrupt: Option<(u16, u8)>,
}

/// The verifier's configuration for a case.
#[derive(Debug, Clone)]
pub struct Config {
    pub now: u64,
    pub leeway: u64,
    pub set_leeway: bool,
    pub issuer: Option<String>,
    pub keys: Keys,
}

/// Which of SPEC's deliberate differences from jsonwebtoken a token exercises (see
/// `fuzz/README.md`). `ours_stricter`: SPEC refuses what jsonwebtoken may accept;
/// `oracle_stricter`: jsonwebtoken refuses what SPEC may accept.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    pub ours_stricter: Vec<&'static str>,
    pub oracle_stricter: Vec<&'static str>,
}

/// A rendered token and SPEC's verdict for it.
#[derive(Debug, Clone)]
pub struct Built {
    pub token: Vec<u8>,
    pub header_json: String,
    pub claims_json: String,
    pub corrupted: bool,
    /// The rules broken, by stage in SPEC's order; the token must verify when all are empty.
    pub stages: [(&'static str, Vec<Error>); 4],
    pub notes: Notes,
}

/// The capacities of the buffers the structured target verifies with.
pub const TOKEN: usize = 8192;
pub const GROUPS: usize = 32;

// ---------------------------------------------------------------------------------------------

/// A JSON string literal for `s`, spelled as `escape` says.
fn string(s: &str, escape: Escape) -> String {
    match escape {
        Escape::Plain => serde_json::to_string(s).unwrap(),
        Escape::Unicode => {
            let mut out = String::from("\"");
            for unit in s.encode_utf16() {
                out.push_str(&format!("\\u{unit:04x}"));
            }
            out.push('"');
            out
        }
        Escape::Mixed => {
            let plain = serde_json::to_string(s).unwrap();
            let inner = &plain[1..plain.len() - 1];
            let mut out = String::from("\"");
            let mut chars = inner.chars();
            match chars.next() {
                // A first character that is not itself part of an escape gets one.
                Some(c) if c != '\\' => {
                    for unit in c.encode_utf16(&mut [0; 2]) {
                        out.push_str(&format!("\\u{unit:04X}"));
                    }
                }
                Some(c) => out.push(c),
                None => {}
            }
            out.push_str(&chars.as_str().replace('/', "\\/"));
            out.push('"');
            out
        }
    }
}

/// A member name; `escaped` spells its first character as `\u00XX`.
fn name_json(name: &str, escaped: bool) -> String {
    if escaped { string(name, Escape::Mixed) } else { string(name, Escape::Plain) }
}

/// One rendered member.
struct Member {
    name: String,
    value: String,
    depth: usize,
}

/// Renders an object from its members: repeats, name escapes, order. Returns the text and the
/// object-level rules it breaks (duplicates, depth, member count).
fn object(
    mut members: Vec<Member>,
    duplicates: &[(u8, bool)],
    escaped_names: u16,
    order: &[u8],
    part: Part,
    notes: &mut Notes,
) -> (String, Vec<Error>) {
    let mut broken = Vec::new();
    let mut repeats = Vec::new();
    for &(index, escaped) in duplicates {
        if let Some(m) = members.get(usize::from(index) % members.len().max(1)) {
            repeats.push((Member { name: m.name.clone(), value: m.value.clone(), depth: m.depth }, escaped));
        }
    }
    let mut spelled: Vec<(String, &Member)> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        spelled.push((name_json(&m.name, escaped_names >> (i % 16) & 1 == 1), m));
    }
    for (m, escaped) in &repeats {
        spelled.push((name_json(&m.name, *escaped), m));
    }
    let mut keyed: Vec<(u8, usize)> = (0..spelled.len()).map(|i| (order.get(i).copied().unwrap_or(0), i)).collect();
    keyed.sort();
    let body: Vec<String> = keyed.iter().map(|&(_, i)| format!("{}:{}", spelled[i].0, spelled[i].1.value)).collect();

    members.extend(repeats.into_iter().map(|(m, _)| m));
    let mut names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        broken.push(Error::Json { part, reason: JsonError::DuplicateMember });
        notes.ours_stricter.push("duplicate member names");
    }
    let depth = 1 + members.iter().map(|m| m.depth).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        broken.push(Error::Json { part, reason: JsonError::TooDeep });
        notes.ours_stricter.push("nesting deeper than MAX_DEPTH");
    }
    if members.len() > MAX_MEMBERS {
        broken.push(Error::Capacity(Capacity::Members));
        notes.ours_stricter.push("more than MAX_MEMBERS members");
    }
    (format!("{{{}}}", body.join(",")), broken)
}

/// The unknown members, with names that cannot be mistaken for `known` ones.
fn extras(extras: &[Extra], known: &[&str]) -> Vec<Member> {
    extras
        .iter()
        .map(|extra| {
            let mut name = match &extra.name {
                Name::X => "x".to_owned(),
                Name::Org => "org.example/claim".to_owned(),
                Name::Free(s) => s.clone(),
            };
            if known.contains(&name.as_str()) {
                name.insert_str(0, "x-");
            }
            let (value, depth) = extra.value.json();
            Member { name, value, depth }
        })
        .collect()
}

/// What a NumericDate is, as SPEC reads it: `Ok(Some(seconds))`, `Ok(None)` absent, `Err(())`
/// refused; and its JSON text.
fn date(claim: &DateClaim, now: u64, notes: &mut Notes) -> (Option<String>, Result<Option<u64>, ()>) {
    let (value, form) = match claim {
        DateClaim::Absent => return (None, Ok(None)),
        // A number is the right type for a date.
        DateClaim::Wrong(Wrong::Number) => return (Some(Wrong::Number.json().to_owned()), Ok(Some(42))),
        DateClaim::Wrong(w) => return (Some(w.json().to_owned()), Err(())),
        DateClaim::Quoted(v) => return (Some(format!("\"{v}\"")), Err(())),
        DateClaim::TooBig(big) => {
            let text = match big {
                TooBig::TwoTo64 => "18446744073709551616",
                TooBig::E30 => "1e30",
                TooBig::E400 => "1e400",
                TooBig::Mantissa => "1.8446744073709551616e19",
            };
            return (Some(text.to_owned()), Err(()));
        }
        DateClaim::Rel(delta, form) => {
            let v = i128::from(now) + i128::from(*delta);
            (u64::try_from(v.clamp(0, i128::from(u64::MAX))).unwrap(), *form)
        }
        DateClaim::Abs(v, form) => (*v, *form),
    };
    let digits = value.to_string();
    let text = match form {
        Form::Int => digits,
        Form::Fraction(f) => format!("{digits}.{f}"),
        Form::Exponent | Form::ExponentUpper => {
            let e = if matches!(form, Form::Exponent) { 'e' } else { 'E' };
            let (first, rest) = digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            format!("{first}{dot}{rest}{e}+{}", rest.len())
        }
        // JSON allows no leading zero: 0 is scaled as `0e-k`.
        Form::Scaled(_) if value == 0 => "0e-3".to_owned(),
        Form::Scaled(k) => {
            let k = usize::from(k % 6);
            format!("{digits}{}e-{k}", "0".repeat(k))
        }
        Form::Negative => {
            let text = format!("-{digits}");
            if value != 0 {
                return (Some(text), Err(()));
            }
            text
        }
    };
    if !matches!(form, Form::Int) {
        notes.oracle_stricter.push("NumericDate that is not a plain integer");
    }
    (Some(text), Ok(Some(value)))
}

impl Case {
    /// The configuration this case verifies with, at `now` (the structured target takes the
    /// case's clock; the differential target passes the real time).
    pub fn config(&self, now: Option<u64>) -> Config {
        let now = now.unwrap_or(match self.clock {
            Clock::Near(d) => 1_700_000_000 + u64::from(d),
            Clock::Raw(t) => t,
            Clock::Max => u64::MAX,
        });
        let (leeway, set_leeway) = match self.leeway {
            Leeway::Default => (60, false),
            Leeway::Secs(s) => (u64::from(s), true),
            Leeway::Max => (u64::MAX, true),
        };
        let issuer = match &self.issuer {
            Issuer::Default => None,
            Issuer::Authenticate => Some(AUTHENTICATE.to_owned()),
            Issuer::Aud => Some(AUD.to_owned()),
            Issuer::Free(s) => Some(s.clone()),
        };
        Config { now, leeway, set_leeway, issuer, keys: self.keys }
    }

    /// Renders the token, signed by `sign`, and computes SPEC's verdict for `config`.
    pub fn build(&self, config: &Config, sign: impl Fn(&[u8], &[u8]) -> String) -> Built {
        let mut notes = Notes::default();
        let (header_json, mut header_broken, kid) = self.header(&mut notes);
        // SPEC §2: a header over 1 KiB is refused before its JSON is read, so that is all it breaks.
        if header_json.len() > pomerium_jwt::MAX_HEADER {
            notes.ours_stricter.push("header larger than 1 KiB");
            header_broken = vec![Error::Capacity(Capacity::Header)];
        }
        let (claims_json, claims_broken) = self.claims(config, &mut notes);
        let mut token = sign(header_json.as_bytes(), claims_json.as_bytes());
        if self.high_s {
            token = crate::flip_s(&token);
        }
        let mut token = token.into_bytes();
        let mut corrupted = false;
        if let Some((at, mask)) = self.corrupt
            && mask != 0
        {
            let at = usize::from(at) % token.len();
            token[at] ^= mask;
            corrupted = true;
        }

        // Key choice (SPEC §3): keys with the token's kid, and keys without kid.
        let entries: &[(bool, Option<&str>)] = match config.keys {
            Keys::FuzzKid => &[(true, Some(FUZZ_KID))],
            Keys::FuzzNoKid => &[(true, None)],
            Keys::OtherKid => &[(false, Some(FUZZ_KID))],
            Keys::Both => &[(false, Some("other")), (true, Some(FUZZ_KID))],
        };
        let candidates: Vec<bool> = entries
            .iter()
            .filter(|(_, key_kid)| match (&kid, key_kid) {
                (Some(kid), Some(key_kid)) => kid == key_kid,
                _ => true,
            })
            .map(|(signer, _)| *signer)
            .collect();
        let key_broken = if candidates.is_empty() {
            vec![Error::UnknownKey { kid: kid.as_deref().map(|k| pomerium_jwt::UnknownKid::new(k.as_bytes())) }]
        } else {
            vec![]
        };
        let signature_broken = if candidates.contains(&true) { vec![] } else { vec![Error::BadSignature] };

        let size_broken = if token.len() > TOKEN {
            notes.ours_stricter.push("token larger than the buffers");
            vec![Error::TokenTooLarge { len: token.len(), max: TOKEN }]
        } else {
            vec![]
        };
        Built {
            token,
            header_json,
            claims_json,
            corrupted,
            stages: [
                ("size and header", [size_broken, header_broken].concat()),
                ("key choice", key_broken),
                ("signature", signature_broken),
                ("claims", claims_broken),
            ],
            notes,
        }
    }

    /// The header JSON, the rules it breaks, and its kid when that is a usable string.
    fn header(&self, notes: &mut Notes) -> (String, Vec<Error>, Option<String>) {
        let h = &self.header;
        let mut broken = Vec::new();
        let mut members = Vec::new();
        let mut member = |name: &str, value: String| members.push(Member { name: name.to_owned(), value, depth: 0 });
        match &h.alg {
            Alg::Es256(e) => member("alg", string("ES256", *e)),
            Alg::Absent => broken.push(Error::UnsupportedAlgorithm),
            Alg::Named(i) => {
                member("alg", string(OTHER_ALGS[usize::from(*i) % OTHER_ALGS.len()], Escape::Plain));
                broken.push(Error::UnsupportedAlgorithm);
            }
            Alg::Wrong(w) => {
                member("alg", w.json().to_owned());
                broken.push(Error::UnsupportedAlgorithm);
            }
        }
        let kid = match &h.kid {
            Kid::Absent => None,
            Kid::Fuzz(e) => {
                member("kid", string(FUZZ_KID, *e));
                Some(FUZZ_KID.to_owned())
            }
            Kid::Other(e) => {
                member("kid", string("other", *e));
                Some("other".to_owned())
            }
            Kid::Free(s, e) => {
                member("kid", string(s, *e));
                Some(s.clone())
            }
            Kid::Wrong(w) => {
                member("kid", w.json().to_owned());
                broken.push(Error::BadHeader(HeaderParam::Kid));
                if matches!(w, Wrong::Null) {
                    notes.ours_stricter.push("kid null");
                }
                None
            }
            Kid::LoneSurrogate => {
                member("kid", r#""\udc00""#.to_owned());
                broken.push(Error::Json { part: Part::Header, reason: JsonError::LoneSurrogate });
                None
            }
        };
        match &h.typ {
            Typ::Absent => {}
            Typ::Jwt(case, e) => {
                let typ: String = "JWT"
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if case >> i & 1 == 1 { c.to_ascii_lowercase() } else { c })
                    .collect();
                member("typ", string(&typ, *e));
            }
            Typ::Free(s, e) => {
                member("typ", string(s, *e));
                if !s.eq_ignore_ascii_case("JWT") {
                    broken.push(Error::BadHeader(HeaderParam::Typ));
                    notes.ours_stricter.push("typ other than JWT");
                }
            }
            Typ::Wrong(w) => {
                member("typ", w.json().to_owned());
                broken.push(Error::BadHeader(HeaderParam::Typ));
                notes.ours_stricter.push("typ other than JWT");
            }
        }
        if let Some(w) = h.crit {
            member("crit", w.json().to_owned());
            broken.push(Error::CriticalHeader);
            notes.ours_stricter.push("crit");
        }
        let extras = extras(&h.extras, &["alg", "kid", "typ", "crit"]);
        // jsonwebtoken's Header types its registered members and takes others as strings only.
        const TYPED: &[&str] = &["cty", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "enc", "zip", "url", "nonce"];
        if h.extras.iter().zip(&extras).any(|(e, m)| !e.value.is_plain_string() || TYPED.contains(&m.name.as_str())) {
            notes.oracle_stricter.push("header member that jsonwebtoken types (non-string, or registered)");
        }
        members.extend(extras);
        let (json, object_broken) = object(members, &h.duplicates, h.escaped_names, &h.order, Part::Header, notes);
        broken.extend(object_broken);
        (json, broken, kid)
    }

    /// The claims JSON and the rules it breaks.
    fn claims(&self, config: &Config, notes: &mut Notes) -> (String, Vec<Error>) {
        let c = &self.claims;
        let mut broken = Vec::new();
        let mut members = Vec::new();
        let mut member = |name: &str, value: String| members.push(Member { name: name.to_owned(), value, depth: 0 });
        let lone = Error::Json { part: Part::Payload, reason: JsonError::LoneSurrogate };

        let mut strings = Vec::new();
        for (claim, spec) in [
            (Claim::Iss, &c.iss),
            (Claim::Sub, &c.sub),
            (Claim::Email, &c.email),
            (Claim::User, &c.user),
            (Claim::Name, &c.name),
            (Claim::Sid, &c.sid),
            (Claim::Jti, &c.jti),
        ] {
            let value = match spec {
                StrClaim::Absent => None,
                StrClaim::Text(t, e) => {
                    member(claim.name(), string(&t.value(), *e));
                    Some(t.value())
                }
                StrClaim::Wrong(w) => {
                    member(claim.name(), w.json().to_owned());
                    broken.push(Error::InvalidClaim(claim));
                    None
                }
                StrClaim::LoneSurrogate => {
                    member(claim.name(), r#""a\ud800""#.to_owned());
                    broken.push(lone);
                    None
                }
            };
            strings.push(value);
        }
        let iss = strings[0].clone();
        if matches!(c.iss, StrClaim::Absent) {
            broken.push(Error::MissingClaim(Claim::Iss));
        }

        let mut entries = 0usize;
        let list = |items: &[(String, Escape)]| -> String {
            let items: Vec<String> = items.iter().map(|(s, e)| string(s, *e)).collect();
            format!("[{}]", items.join(","))
        };
        let texts = |items: &[(Text, Escape)]| -> Vec<(String, Escape)> {
            items.iter().map(|(t, e)| (t.value(), *e)).collect()
        };
        let aud: Option<Vec<String>> = match &c.aud {
            AudClaim::Absent => {
                broken.push(Error::MissingClaim(Claim::Aud));
                None
            }
            AudClaim::One(t, e) => {
                member("aud", string(&t.value(), *e));
                Some(vec![t.value()])
            }
            AudClaim::Many(items) => {
                entries += items.len();
                member("aud", list(&texts(items)));
                Some(items.iter().map(|(t, _)| t.value()).collect())
            }
            AudClaim::ManyThenWrong(items, w) => {
                entries += items.len() + 1;
                let mut text = list(&texts(items));
                text.insert_str(text.len() - 1, &format!("{}{}", if items.is_empty() { "" } else { "," }, w.json()));
                member("aud", text);
                broken.push(Error::InvalidClaim(Claim::Aud));
                None
            }
            AudClaim::Wrong(w) => {
                member("aud", w.json().to_owned());
                broken.push(Error::InvalidClaim(Claim::Aud));
                None
            }
        };
        match &c.groups {
            GroupsClaim::Absent => {}
            GroupsClaim::Null => member("groups", "null".to_owned()),
            GroupsClaim::Many(items) => {
                entries += items.len();
                member("groups", list(items));
            }
            GroupsClaim::ManyThenWrong(items, w) => {
                entries += items.len() + 1;
                let mut text = list(items);
                text.insert_str(text.len() - 1, &format!("{}{}", if items.is_empty() { "" } else { "," }, w.json()));
                member("groups", text);
                broken.push(Error::InvalidClaim(Claim::Groups));
            }
            GroupsClaim::Wrong(Wrong::Null) => member("groups", "null".to_owned()),
            GroupsClaim::Wrong(w) => {
                member("groups", w.json().to_owned());
                broken.push(Error::InvalidClaim(Claim::Groups));
            }
        }
        // Entries of array-form aud and groups share the GROUPS spans. A non-string entry may be
        // met before or after the capacity runs out, so it counts too.
        if entries > GROUPS {
            broken.push(Error::Capacity(Capacity::Groups));
            notes.ours_stricter.push("more array entries than the buffers hold");
        }

        let mut dates = Vec::new();
        for (claim, spec) in [(Claim::Exp, &c.exp), (Claim::Iat, &c.iat), (Claim::Nbf, &c.nbf)] {
            let (text, value) = date(spec, config.now, notes);
            if let Some(text) = text {
                member(claim.name(), text);
            }
            match value {
                Err(()) => broken.push(Error::InvalidClaim(claim)),
                Ok(None) if claim != Claim::Nbf => broken.push(Error::MissingClaim(claim)),
                Ok(_) => {}
            }
            dates.push(value);
        }
        let extras = extras(
            &c.extras,
            &["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "email", "user", "name", "sid", "groups"],
        );
        members.extend(extras);
        let (json, object_broken) = object(members, &c.duplicates, c.escaped_names, &c.order, Part::Payload, notes);
        broken.extend(object_broken);

        // SPEC §5's checks, each on the values it needs, when they are usable.
        let (now, leeway) = (config.now, config.leeway);
        let late = now.saturating_add(leeway);
        if let Ok(Some(exp)) = dates[0] {
            if now >= exp.saturating_add(leeway) {
                broken.push(Error::Expired { exp, now, leeway });
                if exp.checked_add(leeway) == Some(now) {
                    notes.ours_stricter.push("now == exp + leeway");
                }
            }
        }
        if let Ok(Some(iat)) = dates[1]
            && iat > late
        {
            broken.push(Error::IssuedInFuture { iat, now, leeway });
            notes.ours_stricter.push("iat in the future");
        }
        if let Ok(Some(nbf)) = dates[2]
            && nbf > late
        {
            broken.push(Error::NotYetValid { nbf, now, leeway });
        }
        if let Some(aud) = aud
            && !aud.iter().any(|a| a == AUD)
        {
            broken.push(Error::WrongAudience);
        }
        if let Some(iss) = iss {
            let accepted = match &config.issuer {
                Some(issuer) => iss == *issuer,
                None => [AUD, &format!("https://{AUD}/"), "pomerium-proxy"].contains(&iss.as_str()),
            };
            if !accepted {
                broken.push(Error::WrongIssuer);
            }
        }
        (json, broken)
    }
}

impl Built {
    /// Whether SPEC requires the token to verify.
    pub fn must_verify(&self) -> bool {
        !self.corrupted && self.stages.iter().all(|(_, broken)| broken.is_empty())
    }

    /// Panics unless `result` is SPEC's verdict.
    pub fn assert_verdict<T: std::fmt::Debug>(&self, result: &Result<T, Error>) {
        let context = || {
            let token = String::from_utf8_lossy(&self.token);
            format!("token {token}\nheader {}\nclaims {}\nstages {:?}", self.header_json, self.claims_json, self.stages)
        };
        match result {
            Ok(claims) => assert!(self.must_verify(), "accepted {claims:?}\n{}", context()),
            Err(e) if self.corrupted => {
                // One changed byte can break the structure, the header or the signature, never
                // let the claims be read.
                assert!(!is_claims_error(e), "a corrupted token reached the claims: {e:?}\n{}", context());
            }
            Err(e) => {
                let (stage, expected) = self
                    .stages
                    .iter()
                    .find(|(_, broken)| !broken.is_empty())
                    .unwrap_or_else(|| panic!("refused a valid token with {e:?}\n{}", context()));
                assert!(
                    expected.contains(e),
                    "{e:?}, but the {stage} stage expects one of {expected:?}\n{}",
                    context()
                );
            }
        }
    }
}

/// Errors that only reading and checking the claims can give.
pub fn is_claims_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Json { part: Part::Payload, .. }
            | Error::MissingClaim(_)
            | Error::InvalidClaim(_)
            | Error::Capacity(Capacity::Groups)
            | Error::Expired { .. }
            | Error::NotYetValid { .. }
            | Error::IssuedInFuture { .. }
            | Error::WrongAudience
            | Error::WrongIssuer
    )
}
