//! The WebAssembly module inside the npm package `pomerium-jwt` (`js/`): the verifier with a
//! plain C ABI, driven by `js/index.js`. Unlike `embed/wasm` (the footprint module, built for
//! size), this one is built for speed (`opt-level = 3`, 8-bit tables) and takes what the
//! JavaScript interface promises: tokens up to 1 MiB, read the way the command-line tool reads
//! them (white space, a header name and `Bearer ` ignored), key files up to 1 MiB set or added
//! all or nothing, and one JavaScript error code for each kind of library error.
//!
//! The host writes bytes at [`input_ptr`], calls an export with their length and reads a UTF-8
//! JSON document at [`output_ptr`] / [`output_len`]: the claims, `{"keys":N}`, `{}`, or
//! `{"error":CODE,"message":TEXT}`. Every export returns a [`Code`] (0 for success).
//!
//! All state lives in `thread_local!` `RefCell`s with `const` initialisers (wasm32-unknown-unknown
//! has one thread, so each is a plain static), which makes host writes through [`input_ptr`]
//! legal without `unsafe`. The one use of `unsafe` is `#[unsafe(no_mangle)]` on the exports.

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};

use pomerium_jwt::{
    Audience, Buffers, Capacity, Claims, Error, Es256Key, KeySet, PrecomputedKey, Strings, TableStorage, UnixTime,
    Verifier, Window,
};

mod code;
pub use code::Code;

/// The longest token, after the header name, `Bearer ` and white space are taken off: JS.md
/// refuses tokens over 1 MiB as `too_large`, and every shorter one is decoded in full.
const MAX_TOKEN: usize = 1 << 20;
/// The input area: a token of [`MAX_TOKEN`] with room for a header name and white space around
/// it, or a key file of up to 1 MiB (the remote verifier's cap on a JWKS body).
const INPUT_CAPACITY: usize = MAX_TOKEN + 64 * 1024;
/// The result document: the claims of a token of [`MAX_TOKEN`] written back, with room for the
/// escapes `\uXXXX` adds. While keys load it is `KeySet::add_any`'s scratch, which needs twice
/// the key file.
const OUTPUT_CAPACITY: usize = 2 * INPUT_CAPACITY;
/// `groups` (plus array-`aud`) entries.
const GROUPS: usize = 16 * 1024;
/// Keys held at once (Pomerium's JWKS holds one, two while its key rotates).
const KEYS: usize = 128;
/// The longest audience or issuer.
const NAME_CAPACITY: usize = 256;
/// The window of the precomputed tables (built when keys are loaded): larger than the footprint
/// module's W6, as memory is cheap where node and browsers run.
const WINDOW: Window = Window::W8;
/// Keys that get a table; a set with more is verified without tables, with the same verdicts.
const TABLE_KEYS: usize = 4;
const TABLE_ENTRIES: usize = WINDOW.entries();

/// An audience or issuer, kept in place.
struct Name {
    bytes: [u8; NAME_CAPACITY],
    len: usize,
}

impl Name {
    const fn empty() -> Self {
        Name { bytes: [0; NAME_CAPACITY], len: 0 }
    }

    /// The name, or `None` when unset.
    fn get(&self) -> Option<&str> {
        let bytes = self.bytes.get(..self.len)?;
        std::str::from_utf8(bytes).ok().filter(|s| !s.is_empty())
    }

    /// Stores `input` (UTF-8, at most 256 bytes; empty only where `may_be_empty`).
    fn set(&mut self, input: &[u8], may_be_empty: bool) -> Outcome<'static> {
        let text = match std::str::from_utf8(input) {
            Ok("") if !may_be_empty => return Outcome::Failed(Code::BadName, Message::Text("empty")),
            Ok(text) => text,
            Err(_) => return Outcome::Failed(Code::BadName, Message::Text("not UTF-8")),
        };
        let Some(slot) = self.bytes.get_mut(..text.len()) else {
            return Outcome::Failed(Code::BadName, Message::Text("longer than 256 bytes"));
        };
        slot.copy_from_slice(text.as_bytes());
        self.len = text.len();
        Outcome::Done
    }
}

struct Config {
    keys: KeySet<KEYS>,
    /// The set being built by `keys_begin` / `keys_add`; it replaces `keys` only at
    /// `keys_commit`, so a failure anywhere keeps the keys in use.
    staged: KeySet<KEYS>,
    /// Whether every `keys_add` since `keys_begin` succeeded.
    staged_ok: bool,
    tables: Tables,
    audience: Name,
    issuer: Name,
    /// `None`: the library's default leeway.
    leeway: Option<u64>,
}

thread_local! {
    // All start as zeros, so none is stored in the `.wasm` file.
    static INPUT: RefCell<[u8; INPUT_CAPACITY]> = const { RefCell::new([0; INPUT_CAPACITY]) };
    static OUTPUT: RefCell<[u8; OUTPUT_CAPACITY]> = const { RefCell::new([0; OUTPUT_CAPACITY]) };
    static OUTPUT_LEN: Cell<u32> = const { Cell::new(0) };
    static BUFFERS: RefCell<Buffers<MAX_TOKEN, GROUPS>> = const { RefCell::new(Buffers::new()) };
    static CONFIG: RefCell<Config> = const {
        RefCell::new(Config {
            keys: KeySet::new(),
            staged: KeySet::new(),
            staged_ok: false,
            tables: Tables { generator: TableStorage::new(), keys: [const { TableStorage::new() }; TABLE_KEYS] },
            audience: Name::empty(),
            issuer: Name::empty(),
            leeway: None,
        })
    };
}

/// Runs an export's `body` over the first `len` input bytes, the configuration, the verifier's
/// buffers and the output area (lent as scratch), writes the document it returns into the
/// output area and returns its code.
fn call(
    len: u32,
    body: impl for<'b, 'c> FnOnce(&'c [u8], &'c mut Config, &'b mut Buffers<MAX_TOKEN, GROUPS>, &'c mut [u8]) -> Outcome<'b>,
) -> i32 {
    INPUT.with(|input| {
        CONFIG.with(|config| {
            BUFFERS.with(|buffers| {
                OUTPUT.with(|output| {
                    let (Ok(input), Ok(mut config), Ok(mut buffers), Ok(mut output)) = (
                        input.try_borrow(),
                        config.try_borrow_mut(),
                        buffers.try_borrow_mut(),
                        output.try_borrow_mut(),
                    ) else {
                        return Code::Busy as i32;
                    };
                    let output = &mut output[..];
                    let outcome = match usize::try_from(len).ok().and_then(|len| input.get(..len)) {
                        Some(input) => body(input, &mut config, &mut buffers, output),
                        None => Outcome::Failed(Code::TooLong, Message::Text("length is larger than input_capacity()")),
                    };
                    let (code, written) = outcome.write(output);
                    OUTPUT_LEN.with(|len| len.set(u32::try_from(written).unwrap_or(0)));
                    code as i32
                })
            })
        })
    })
}

/// What a call produced, before it is written to the output area.
enum Outcome<'a> {
    Claims(Claims<'a>),
    Keys(usize),
    Done,
    Failed(Code, Message),
}

enum Message {
    Error(Error),
    /// An unsupported algorithm, with the token's `alg` value as JSON text (or empty if absent).
    Algorithm(AlgText),
    Text(&'static str),
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Error(e) => e.fmt(f),
            Message::Algorithm(alg) => {
                let alg = alg.as_str();
                if alg.is_empty() {
                    return f.write_str("the token's header has no alg; only ES256 is accepted");
                }
                write!(f, "unsupported algorithm: alg is {alg}, only ES256 is accepted")?;
                if alg.starts_with("\"RS") || alg.starts_with("\"PS") {
                    f.write_str(
                        ": Pomerium signs with an RSA key when its signing_key is one; this verifier needs \
                         Pomerium to sign with an EC P-256 key (ES256)",
                    )?;
                }
                Ok(())
            }
            Message::Text(t) => f.write_str(t),
        }
    }
}

/// The first bytes of a token's `alg` value as JSON text, kept inline.
struct AlgText {
    bytes: [u8; 32],
    len: usize,
}

impl AlgText {
    fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..self.len).unwrap_or_default();
        // Cut at a character boundary: the value came from a string the library read as UTF-8.
        match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => bytes.get(..e.valid_up_to()).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default(),
        }
    }

    /// The `alg` member of `token`'s header, decoded into `scratch` (the library refused it, so it
    /// is well-formed JSON, or the error would have been another).
    fn of(token: &[u8], scratch: &mut [u8]) -> AlgText {
        let mut text = AlgText { bytes: [0; 32], len: 0 };
        let Ok(decoded) = pomerium_jwt::dangerous::decode_unverified(token, scratch) else {
            return text;
        };
        let Some(value) = member_text(decoded.header, "\"alg\"") else {
            return text;
        };
        let value = value.get(..value.len().min(text.bytes.len())).unwrap_or_default();
        if let Some(out) = text.bytes.get_mut(..value.len()) {
            out.copy_from_slice(value);
            text.len = value.len();
        }
        text
    }
}

/// The JSON text of the value of the top-level member `name` (quoted) in the object `json`: a
/// string with its quotes, or anything else up to the next `,` or `}`.
fn member_text<'a>(json: &'a str, name: &str) -> Option<&'a [u8]> {
    let bytes = json.as_bytes();
    let mut depth = 0usize;
    let mut at = 0usize;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'{' | b'[' => depth = depth.saturating_add(1),
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let end = string_end(bytes, at)?;
                let string = bytes.get(at..end)?;
                let rest = bytes.get(end..)?;
                let after = rest.trim_ascii_start();
                if depth == 1 && string == name.as_bytes() && after.first() == Some(&b':') {
                    let value = after.get(1..)?.trim_ascii_start();
                    let len = if value.first() == Some(&b'"') {
                        string_end(value, 0)?
                    } else {
                        value.iter().position(|b| matches!(b, b',' | b'}')).unwrap_or(value.len())
                    };
                    return value.get(..len).map(<[u8]>::trim_ascii_end);
                }
                at = end;
                continue;
            }
            _ => {}
        }
        at = at.saturating_add(1);
    }
    None
}

/// The index just past the JSON string that starts at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start.checked_add(1)?;
    loop {
        match bytes.get(at)? {
            b'\\' => at = at.checked_add(2)?,
            b'"' => return at.checked_add(1),
            _ => at = at.checked_add(1)?,
        }
    }
}

impl Outcome<'_> {
    fn failed(error: Error) -> Self {
        Outcome::Failed(Code::of(error), Message::Error(error))
    }

    /// Writes the result document; returns the code and the document's length.
    fn write(&self, output: &mut [u8]) -> (Code, usize) {
        let code = match self {
            Outcome::Failed(code, _) => *code,
            _ => Code::Ok,
        };
        let mut out = Output { buf: &mut *output, len: 0 };
        let done = match self {
            Outcome::Claims(claims) => write_claims(&mut out, claims),
            Outcome::Keys(n) => write!(out, "{{\"keys\":{n}}}"),
            Outcome::Done => out.write_str("{}"),
            Outcome::Failed(code, message) => write_error(&mut out, *code, message),
        };
        match done {
            Ok(()) => (code, out.len),
            Err(fmt::Error) => {
                let mut out = Output { buf: output, len: 0 };
                let code = Code::TooLarge;
                let _ = write_error(&mut out, code, &Message::Text("the claims are larger than the output area"));
                (code, out.len)
            }
        }
    }
}

/// A `fmt::Write` over the output area that fails, rather than truncates, when it is full.
struct Output<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for Output<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Escapes everything written through it as the inside of a JSON string.
struct Escaped<'a, W>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, mut rest: &str) -> fmt::Result {
        while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
            let (plain, tail) = rest.split_at_checked(at).ok_or(fmt::Error)?;
            self.0.write_str(plain)?;
            let mut chars = tail.chars();
            match chars.next() {
                Some('"') => self.0.write_str("\\\"")?,
                Some('\\') => self.0.write_str("\\\\")?,
                Some(c) => write!(self.0, "\\u{:04x}", u32::from(c))?,
                None => break,
            }
            rest = chars.as_str();
        }
        self.0.write_str(rest)
    }
}

fn string(out: &mut Output<'_>, value: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(value)?;
    out.write_char('"')
}

fn strings(out: &mut Output<'_>, values: Strings<'_>) -> fmt::Result {
    out.write_char('[')?;
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        string(out, value)?;
    }
    out.write_char(']')
}

/// The claims the module writes itself; every other claim follows them as the token has it.
const KNOWN: [&str; 12] = ["iss", "aud", "sub", "email", "user", "name", "sid", "jti", "groups", "exp", "iat", "nbf"];

/// The claims as one JSON object, in JS.md's shape: every known claim (`null` when absent,
/// `groups` always an array), then every other claim of the token with its JSON value.
fn write_claims(out: &mut Output<'_>, claims: &Claims<'_>) -> fmt::Result {
    out.write_str("{\"iss\":")?;
    string(out, claims.iss)?;
    out.write_str(",\"aud\":")?;
    match claims.aud {
        Audience::One(one) => string(out, one)?,
        Audience::Many(many) => strings(out, many)?,
    }
    let optional = [
        ("sub", claims.sub),
        ("email", claims.email),
        ("user", claims.user),
        ("name", claims.name),
        ("sid", claims.sid),
        ("jti", claims.jti),
    ];
    for (name, value) in optional {
        write!(out, ",\"{name}\":")?;
        match value {
            Some(value) => string(out, value)?,
            None => out.write_str("null")?,
        }
    }
    out.write_str(",\"groups\":")?;
    strings(out, claims.groups)?;
    write!(out, ",\"exp\":{},\"iat\":{},\"nbf\":", claims.exp, claims.iat)?;
    match claims.nbf {
        Some(nbf) => write!(out, "{nbf}")?,
        None => out.write_str("null")?,
    }
    for (name, value) in claims.members() {
        if KNOWN.iter().any(|known| name.eq_str(known)) {
            continue;
        }
        out.write_char(',')?;
        out.write_str(name.json())?;
        out.write_char(':')?;
        out.write_str(value.json())?;
    }
    out.write_char('}')
}

fn write_error(out: &mut Output<'_>, code: Code, message: &Message) -> fmt::Result {
    write!(out, "{{\"error\":\"{}\",\"message\":\"", code.name())?;
    write!(Escaped(out), "{message}")?;
    out.write_char('"')?;
    // The instants of a time check, so that the host can also say them as dates.
    let times = match message {
        Message::Error(Error::Expired { exp: at, now, leeway })
        | Message::Error(Error::NotYetValid { nbf: at, now, leeway })
        | Message::Error(Error::IssuedInFuture { iat: at, now, leeway }) => Some((at, now, leeway)),
        _ => None,
    };
    if let Some((at, now, leeway)) = times {
        // As strings: a u64 past 2^53 would lose digits as a JavaScript number.
        write!(out, ",\"at\":\"{at}\",\"now\":\"{now}\",\"leeway\":\"{leeway}\"")?;
    }
    out.write_char('}')
}

/// The token in `input` read as the command-line tool reads TOKEN: without surrounding white
/// space, one leading `X-Pomerium-Jwt-Assertion:` or `Authorization:` header name (any case),
/// and a `Bearer` scheme.
pub fn token_of(input: &[u8]) -> &[u8] {
    let mut token = input.trim_ascii();
    for header in [&b"x-pomerium-jwt-assertion:"[..], b"authorization:"] {
        if let Some(rest) = strip_prefix_ignore_case(token, header) {
            token = rest.trim_ascii();
            break;
        }
    }
    // `Bearer` and the white space after it (RFC 6750 scheme names are case-insensitive).
    if let Some(rest) = strip_prefix_ignore_case(token, b"bearer")
        && rest.first().is_none_or(u8::is_ascii_whitespace)
    {
        token = rest.trim_ascii();
    }
    token
}

fn strip_prefix_ignore_case<'a>(text: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| text.get(prefix.len()..).unwrap_or_default())
}

/// The start of the input area, where the host writes a key file, a name or a token.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn input_ptr() -> *mut u8 {
    INPUT.with(|input| input.as_ptr().cast())
}

/// The size of the input area in bytes.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn input_capacity() -> u32 {
    u32::try_from(INPUT_CAPACITY).unwrap_or(0)
}

/// The start of the output area, which holds the last call's result document (UTF-8 JSON).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn output_ptr() -> *const u8 {
    OUTPUT.with(|output| output.as_ptr().cast_const().cast())
}

/// The length in bytes of the last call's result document.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn output_len() -> u32 {
    OUTPUT_LEN.with(Cell::get)
}

/// Starts a new key set: empty when `replace` is non-zero (`setKeys`), else the keys in use
/// (`addKeys`). Nothing changes until [`keys_commit`].
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn keys_begin(replace: u32) -> i32 {
    call(0, |_, config, _, _| {
        config.staged = if replace != 0 { KeySet::new() } else { config.keys.clone() };
        config.staged_ok = true;
        Outcome::Done
    })
}

/// Adds the keys of the key file in the first `len` input bytes (a JWKS, JWK, PEM public keys or
/// certificates, DER, or Pomerium's base64 `signing_key`) to the staged set. Output:
/// `{"keys":N}`, the keys it held; a file with no P-256 signing key fails.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn keys_add(len: u32) -> i32 {
    call(len, |input, config, _, scratch| {
        let outcome = match config.staged.add_any(input, scratch) {
            Ok(0) => Outcome::Failed(Code::Key, Message::Text("the key file holds no P-256 signing key")),
            Ok(n) => Outcome::Keys(n),
            // At load time every error is the key file's: too many keys, a malformed document.
            Err(Error::Key(e)) => Outcome::Failed(Code::Key, Message::Error(Error::Key(e))),
            Err(e) => Outcome::Failed(Code::Key, Message::Error(e)),
        };
        if !matches!(outcome, Outcome::Keys(_)) {
            config.staged_ok = false;
        }
        outcome
    })
}

/// Puts the staged set in use and builds its tables, if every `keys_add` since [`keys_begin`]
/// succeeded; otherwise the keys in use stay. Output: `{"keys":N}`, the keys now in use.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn keys_commit() -> i32 {
    call(0, |_, config, _, _| {
        if !config.staged_ok || config.staged.is_empty() {
            return Outcome::Failed(Code::Key, Message::Text("no key file was added, or one failed"));
        }
        config.staged_ok = false;
        config.keys = core::mem::take(&mut config.staged);
        config.tables.prepare(&config.keys);
        Outcome::Keys(config.keys.len())
    })
}

/// Sets the audience to the first `len` input bytes (UTF-8, 1 to 256 bytes).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn set_audience(len: u32) -> i32 {
    call(len, |input, config, _, _| config.audience.set(input, false))
}

/// Requires `iss` to equal the first `len` input bytes; length 0 restores the default (the
/// audience, `https://<audience>/` or `pomerium-proxy`).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn set_issuer(len: u32) -> i32 {
    call(len, |input, config, _, _| config.issuer.set(input, true))
}

/// Sets the clock-skew leeway in seconds (the library's default, 60, until called).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn set_leeway(seconds: u64) -> i32 {
    call(0, |_, config, _, _| {
        config.leeway = Some(seconds);
        Outcome::Done
    })
}

/// Verifies the token in the first `len` input bytes at `now` (Unix seconds). Returns 0 and
/// writes the claims, or a [`Code`] and `{"error":CODE,"message":TEXT}`.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn verify(len: u32, now: u64) -> i32 {
    call(len, |input, config, buffers, scratch| {
        let token = token_of(input);
        if token.is_empty() {
            return Outcome::Failed(
                Code::Empty,
                Message::Text(
                    "the token is empty: Pomerium sends an empty X-Pomerium-Jwt-Assertion header when it could \
                     not sign one (its log says why)",
                ),
            );
        }
        if token.len() > MAX_TOKEN {
            return Outcome::failed(Error::TokenTooLarge { len: token.len(), max: MAX_TOKEN });
        }
        let Some(audience) = config.audience.get() else {
            return Outcome::Failed(Code::NotConfigured, Message::Text("no audience was set"));
        };
        if config.keys.is_empty() {
            return Outcome::Failed(Code::NotConfigured, Message::Text("no keys were loaded"));
        }
        // The same verdicts either way; the tables only make it faster.
        let outcome = match config.tables.precomputed(&config.keys) {
            Some(keys) => check(&keys, audience, config, token, now, buffers),
            None => check(&config.keys, audience, config, token, now, buffers),
        };
        match outcome {
            Outcome::Failed(Code::Algorithm, _) => {
                Outcome::Failed(Code::Algorithm, Message::Algorithm(AlgText::of(token, scratch)))
            }
            outcome => outcome,
        }
    })
}

/// `verify` with the configured audience, leeway and issuer, over plain or precomputed keys.
fn check<'b, K: Es256Key>(
    keys: &KeySet<KEYS, K>,
    audience: &str,
    config: &Config,
    token: &[u8],
    now: u64,
    buffers: &'b mut Buffers<MAX_TOKEN, GROUPS>,
) -> Outcome<'b> {
    let mut verifier = Verifier::new(keys, audience);
    if let Some(leeway) = config.leeway {
        verifier = verifier.with_leeway(leeway);
    }
    if let Some(issuer) = config.issuer.get() {
        verifier = verifier.with_issuer(issuer);
    }
    match verifier.verify(token, UnixTime::from_secs(now), buffers) {
        Ok(claims) => Outcome::Claims(claims),
        Err(e) => Outcome::failed(e),
    }
}

/// The precomputed tables: the generator's, and one per key for up to [`TABLE_KEYS`] keys.
struct Tables {
    generator: TableStorage<TABLE_ENTRIES>,
    keys: [TableStorage<TABLE_ENTRIES>; TABLE_KEYS],
}

impl Tables {
    /// Builds what `keys` need and the storage does not hold yet: the generator's table once, and
    /// each key's in a slot no key of the set uses (a reload of the same keys builds nothing).
    fn prepare(&mut self, keys: &KeySet<KEYS>) {
        if keys.len() > TABLE_KEYS || self.generator.build_generator(WINDOW).is_err() {
            return;
        }
        for key in keys.keys() {
            if self.keys.iter().any(|table| table.holds(key)) {
                continue;
            }
            if let Some(free) = self.keys.iter_mut().find(|table| !keys.keys().any(|k| table.holds(k))) {
                // Fails only if the storage were too small for WINDOW: then the set is verified
                // without tables.
                let _ = free.build_for_key(key, WINDOW);
            }
        }
    }

    /// The key set with every key's table, or `None` when some key has none.
    fn precomputed(&self, keys: &KeySet<KEYS>) -> Option<KeySet<KEYS, PrecomputedKey<'_>>> {
        let generator = self.generator.table()?;
        keys.precompute(|key| {
            let table = self.keys.iter().find(|table| table.holds(key)).and_then(TableStorage::table);
            PrecomputedKey::new(*key, table.ok_or(Error::Capacity(Capacity::Keys))?, generator)
        })
        .ok()
    }
}
