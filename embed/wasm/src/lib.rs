//! `pomerium-jwt` as a WebAssembly module with a plain C ABI: no wasm-bindgen, no JS glue, so
//! any host (a browser, node, wasmtime, wasmer, ...) can call it.
//!
//! The module works in fixed areas of its linear memory and never allocates:
//!
//! - an input area ([`input_ptr`], [`input_capacity`] bytes) that the host writes a key file,
//!   an audience, an issuer or a token into before each call that reads it;
//! - an output area ([`output_ptr`], [`output_len`]) that holds one small JSON document after
//!   every call: the verified claims, or `{"error":NAME,"message":TEXT}`;
//! - the configuration (keys, audience, issuer, leeway) and the verifier's [`Buffers`].
//!
//! Start-up: `load_keys(len)` (a JWKS, JWK or PEM file), `set_audience(len)`, optionally
//! `set_issuer(len)` and `set_leeway(secs)`. Per request: `verify(len, now_secs)`. Every call
//! returns a status: 0 for success, a positive code otherwise ([`Status`], table in
//! `embed/README.md`).
//!
//! All state lives in `thread_local!` `RefCell`s: wasm32-unknown-unknown has one thread, so each
//! is a plain static there, and the `RefCell` both makes it mutable without `unsafe` and
//! makes host writes through [`input_ptr`] legal (the bytes sit in an `UnsafeCell` and no Rust
//! borrow is alive between calls). The one use of `unsafe` is `#[unsafe(no_mangle)]` on the
//! exports: unmangled symbol names are global, so the attribute is unsafe in edition 2024; no
//! `unsafe` block exists in this crate.

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};

use pomerium_jwt::{
    Audience, Buffers, Claims, Error, Es256Key, KeySet, PrecomputedKey, Strings, TableStorage, UnixTime, Verifier,
    Window,
};

/// The largest token the host can pass, in bytes: what the command-line tool takes at least
/// (SPEC.md), and more than fits in Envoy's default 60 KiB of request headers.
const INPUT_CAPACITY: usize = 64 * 1024;
/// The result document is never longer than the token's decoded claims plus a few names. While
/// keys load, the output area is `KeySet::add_any`'s scratch, which needs twice the key file: so
/// key files up to 32 KiB load.
const OUTPUT_CAPACITY: usize = 64 * 1024;
/// `groups` (plus array-`aud`) entries: a user in 600 groups makes a token of about 16 KiB.
const GROUPS: usize = 4096;
/// Keys held at once (Pomerium's JWKS holds one, two while a key rotates). About 110 bytes each,
/// in zero-initialised memory, so a generous number costs nothing in the `.wasm` file.
const KEYS: usize = 128;
/// The longest audience or issuer.
const NAME_CAPACITY: usize = 256;
/// The window of the precomputed tables that verification uses (the generator's and one per
/// key, built when keys are loaded): W6 tables take 86 KiB each, so the generator and
/// [`TABLE_KEYS`] keys take 430 KiB of zero-initialised memory (nothing in the `.wasm` file),
/// and make a verification several times faster than without tables.
const WINDOW: Window = Window::W6;
/// Keys that get a table: Pomerium signs with one key, two while it rotates. A key set with more
/// keys than this is verified without tables, as before.
const TABLE_KEYS: usize = 4;
/// Entries of one table.
const TABLE_ENTRIES: usize = WINDOW.entries();

/// What every exported call returns: 0 for success, a positive code for each kind of failure.
///
/// Codes 1 to 19 are the library's [`Error`] variants, in their declaration order; 63 is a
/// library error this module does not know yet (the enum is non-exhaustive); 64 and up are the
/// module's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// [`Error::TokenTooLarge`]
    TokenTooLarge = 1,
    /// [`Error::Capacity`]
    Capacity = 2,
    /// [`Error::Segments`]
    Segments = 3,
    /// [`Error::Base64`]
    Base64 = 4,
    /// [`Error::SignatureLength`]
    SignatureLength = 5,
    /// [`Error::Json`]
    Json = 6,
    /// [`Error::UnsupportedAlgorithm`]
    UnsupportedAlgorithm = 7,
    /// [`Error::CriticalHeader`]
    CriticalHeader = 8,
    /// [`Error::BadHeader`]
    BadHeader = 9,
    /// [`Error::UnknownKey`]
    UnknownKey = 10,
    /// [`Error::BadSignature`]
    BadSignature = 11,
    /// [`Error::MissingClaim`]
    MissingClaim = 12,
    /// [`Error::InvalidClaim`]
    InvalidClaim = 13,
    /// [`Error::Expired`]
    Expired = 14,
    /// [`Error::NotYetValid`]
    NotYetValid = 15,
    /// [`Error::IssuedInFuture`]
    IssuedInFuture = 16,
    /// [`Error::WrongAudience`]
    WrongAudience = 17,
    /// [`Error::WrongIssuer`]
    WrongIssuer = 18,
    /// [`Error::Key`], or a key file with no P-256 signing key in it.
    Key = 19,
    /// A library error added after this module was written.
    OtherError = 63,
    /// `verify` before `load_keys` and `set_audience` succeeded.
    NotConfigured = 64,
    /// A length argument larger than [`input_capacity`] (or, for a name, than 256 bytes).
    TooLong = 65,
    /// The result document does not fit the output area (cannot happen with the capacities here).
    OutputTooSmall = 66,
    /// An audience or issuer that is empty or not UTF-8.
    BadName = 67,
    /// A call while another is running (cannot happen: the module imports nothing to call back).
    Busy = 68,
}

impl Status {
    fn of(error: Error) -> Status {
        match error {
            Error::TokenTooLarge { .. } => Status::TokenTooLarge,
            Error::Capacity(_) => Status::Capacity,
            Error::Segments => Status::Segments,
            Error::Base64(_) => Status::Base64,
            Error::SignatureLength => Status::SignatureLength,
            Error::Json { .. } => Status::Json,
            Error::UnsupportedAlgorithm => Status::UnsupportedAlgorithm,
            Error::CriticalHeader => Status::CriticalHeader,
            Error::BadHeader(_) => Status::BadHeader,
            Error::UnknownKey { .. } => Status::UnknownKey,
            Error::BadSignature => Status::BadSignature,
            Error::MissingClaim(_) => Status::MissingClaim,
            Error::InvalidClaim(_) => Status::InvalidClaim,
            Error::Expired { .. } => Status::Expired,
            Error::NotYetValid { .. } => Status::NotYetValid,
            Error::IssuedInFuture { .. } => Status::IssuedInFuture,
            Error::WrongAudience => Status::WrongAudience,
            Error::WrongIssuer => Status::WrongIssuer,
            Error::Key(_) => Status::Key,
            _ => Status::OtherError,
        }
    }

    /// The `error` member of the result document.
    const fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::TokenTooLarge => "token_too_large",
            Status::Capacity => "capacity",
            Status::Segments => "segments",
            Status::Base64 => "base64",
            Status::SignatureLength => "signature_length",
            Status::Json => "json",
            Status::UnsupportedAlgorithm => "unsupported_algorithm",
            Status::CriticalHeader => "critical_header",
            Status::BadHeader => "bad_header",
            Status::UnknownKey => "unknown_key",
            Status::BadSignature => "bad_signature",
            Status::MissingClaim => "missing_claim",
            Status::InvalidClaim => "invalid_claim",
            Status::Expired => "expired",
            Status::NotYetValid => "not_yet_valid",
            Status::IssuedInFuture => "issued_in_future",
            Status::WrongAudience => "wrong_audience",
            Status::WrongIssuer => "wrong_issuer",
            Status::Key => "key",
            Status::OtherError => "other_error",
            Status::NotConfigured => "not_configured",
            Status::TooLong => "too_long",
            Status::OutputTooSmall => "output_too_small",
            Status::BadName => "bad_name",
            Status::Busy => "busy",
        }
    }
}

/// An audience or issuer, kept in place (no `String`, so configuring allocates nothing either).
struct Name {
    bytes: [u8; NAME_CAPACITY],
    len: usize,
}

impl Name {
    const fn empty() -> Self {
        Name { bytes: [0; NAME_CAPACITY], len: 0 }
    }

    fn set(&mut self, value: &str) -> Result<(), Status> {
        let slot = self.bytes.get_mut(..value.len()).ok_or(Status::TooLong)?;
        slot.copy_from_slice(value.as_bytes());
        self.len = value.len();
        Ok(())
    }

    /// The name, or `None` when unset.
    fn get(&self) -> Option<&str> {
        let bytes = self.bytes.get(..self.len)?;
        // Only UTF-8 is ever stored (see `set_name`).
        std::str::from_utf8(bytes).ok().filter(|s| !s.is_empty())
    }
}

struct Config {
    keys: KeySet<KEYS>,
    tables: Tables,
    audience: Name,
    issuer: Name,
    /// `None`: the library's default. (An `Option`, not the default's value, so that `Config`
    /// starts as all zeros and stays out of the module's data section.)
    leeway: Option<u64>,
}

thread_local! {
    // `const` and free of destructors: on wasm32-unknown-unknown each is one static in the
    // module's memory, with no lazy initialisation and no registration. All start as zeros, so
    // none is stored in the `.wasm` file (`embed/wasm/test.sh` prints the size: a non-zero
    // initial value in one of them would add its whole size).
    static INPUT: RefCell<[u8; INPUT_CAPACITY]> = const { RefCell::new([0; INPUT_CAPACITY]) };
    static OUTPUT: RefCell<[u8; OUTPUT_CAPACITY]> = const { RefCell::new([0; OUTPUT_CAPACITY]) };
    static OUTPUT_LEN: Cell<u32> = const { Cell::new(0) };
    static BUFFERS: RefCell<Buffers<INPUT_CAPACITY, GROUPS>> = const { RefCell::new(Buffers::new()) };
    static CONFIG: RefCell<Config> = const {
        RefCell::new(Config {
            keys: KeySet::new(),
            tables: Tables { generator: TableStorage::new(), keys: [const { TableStorage::new() }; TABLE_KEYS] },
            audience: Name::empty(),
            issuer: Name::empty(),
            leeway: None,
        })
    };
}

/// Runs an exported call's `body` over the first `len` input bytes, the configuration, the
/// verifier's buffers and the output area (lent as scratch), then writes the document it returns
/// (which may borrow from the buffers) into the output area, and returns the status.
fn call(
    len: u32,
    body: impl for<'b, 'c> FnOnce(
        &'c [u8],
        &'c mut Config,
        &'b mut Buffers<INPUT_CAPACITY, GROUPS>,
        &'c mut [u8],
    ) -> Outcome<'b>,
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
                        return Status::Busy as i32;
                    };
                    let output = &mut output[..];
                    let outcome = match usize::try_from(len).ok().and_then(|len| input.get(..len)) {
                        Some(input) => body(input, &mut config, &mut buffers, output),
                        None => {
                            Outcome::Failed(Status::TooLong, Message::Text("length is larger than input_capacity()"))
                        }
                    };
                    let (status, written) = outcome.write(output);
                    OUTPUT_LEN.with(|len| len.set(u32::try_from(written).unwrap_or(0)));
                    status as i32
                })
            })
        })
    })
}

/// What a call produced, before it is written to the output area.
enum Outcome<'a> {
    Claims(Claims<'a>),
    Keys(usize),
    Configured,
    Failed(Status, Message),
}

enum Message {
    Error(Error),
    Text(&'static str),
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Error(e) => e.fmt(f),
            Message::Text(t) => f.write_str(t),
        }
    }
}

impl Outcome<'_> {
    fn failed(error: Error) -> Self {
        Outcome::Failed(Status::of(error), Message::Error(error))
    }

    /// Writes the result document; returns the status and the document's length.
    fn write(&self, output: &mut [u8]) -> (Status, usize) {
        let status = match self {
            Outcome::Failed(status, _) => *status,
            _ => Status::Ok,
        };
        let mut out = Output { buf: &mut *output, len: 0 };
        let done = match self {
            Outcome::Claims(claims) => write_claims(&mut out, claims),
            Outcome::Keys(n) => write!(out, "{{\"keys\":{n}}}"),
            Outcome::Configured => out.write_str("{}"),
            Outcome::Failed(status, message) => write_error(&mut out, *status, message),
        };
        match done {
            Ok(()) => (status, out.len),
            Err(fmt::Error) => {
                let mut out = Output { buf: output, len: 0 };
                let status = Status::OutputTooSmall;
                let _ = write_error(&mut out, status, &Message::Text("result larger than the output area"));
                (status, out.len)
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

/// Characters a terminal or log viewer acts on beyond the C0 controls: DEL, the C1 controls
/// (U+009B is CSI) and the bidi embedding, override and isolate characters. Hosts print what
/// this module writes, so they are written as `\uXXXX` (the same JSON string).
fn acts_on_terminals(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Passes JSON text through, writing the characters of [`acts_on_terminals`] as `\uXXXX`: they
/// can only stand inside strings, so the JSON keeps its value.
struct TerminalSafe<'a, W>(&'a mut W);

impl<W: fmt::Write> fmt::Write for TerminalSafe<'_, W> {
    fn write_str(&mut self, mut rest: &str) -> fmt::Result {
        while let Some(at) = rest.find(acts_on_terminals) {
            let (plain, tail) = rest.split_at_checked(at).ok_or(fmt::Error)?;
            self.0.write_str(plain)?;
            let mut chars = tail.chars();
            if let Some(c) = chars.next() {
                write!(self.0, "\\u{:04x}", u32::from(c))?;
            }
            rest = chars.as_str();
        }
        self.0.write_str(rest)
    }
}

/// Escapes everything written through it as the inside of a JSON string.
struct Escaped<'a, W>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, mut rest: &str) -> fmt::Result {
        while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ' || acts_on_terminals(c)) {
            let (plain, tail) = rest.split_at_checked(at).ok_or(fmt::Error)?;
            self.0.write_str(plain)?;
            let mut chars = tail.chars();
            match chars.next() {
                Some('"') => self.0.write_str("\\\"")?,
                Some('\\') => self.0.write_str("\\\\")?,
                Some('\n') => self.0.write_str("\\n")?,
                Some('\r') => self.0.write_str("\\r")?,
                Some('\t') => self.0.write_str("\\t")?,
                Some('\u{8}') => self.0.write_str("\\b")?,
                Some('\u{c}') => self.0.write_str("\\f")?,
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

/// The claims the module writes itself, first; every other claim follows them.
const KNOWN: [&str; 12] = ["iss", "aud", "sub", "email", "user", "name", "sid", "jti", "groups", "exp", "iat", "nbf"];

/// The claims as one JSON object, in the shape the command-line tool prints: every known claim,
/// `null` when absent, `groups` always an array; then every other claim of the token (Pomerium's
/// `jwt_claims_headers` claims), name and value as the token writes them.
fn write_claims(out: &mut Output<'_>, claims: &Claims<'_>) -> fmt::Result {
    write_known_claims(out, claims)?;
    for (name, value) in claims.members() {
        if KNOWN.iter().any(|known| name.eq_str(known)) {
            continue;
        }
        out.write_char(',')?;
        TerminalSafe(out).write_str(name.json())?;
        out.write_char(':')?;
        TerminalSafe(out).write_str(value.json())?;
    }
    out.write_char('}')
}

fn write_known_claims(out: &mut Output<'_>, claims: &Claims<'_>) -> fmt::Result {
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
        Some(nbf) => write!(out, "{nbf}"),
        None => out.write_str("null"),
    }
}

fn write_error(out: &mut Output<'_>, status: Status, message: &Message) -> fmt::Result {
    write!(out, "{{\"error\":\"{}\",\"message\":\"", status.name())?;
    write!(Escaped(out), "{message}")?;
    out.write_str("\"}")
}

fn set_name(input: &[u8], name: &mut Name, may_be_empty: bool) -> Outcome<'static> {
    match std::str::from_utf8(input) {
        Ok("") if !may_be_empty => Outcome::Failed(Status::BadName, Message::Text("empty")),
        Ok(value) => match name.set(value) {
            Ok(()) => Outcome::Configured,
            Err(status) => Outcome::Failed(status, Message::Text("longer than 256 bytes")),
        },
        Err(_) => Outcome::Failed(Status::BadName, Message::Text("not UTF-8")),
    }
}

/// The start of the input area, where the host writes a key file, a name or a token.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn input_ptr() -> *mut u8 {
    INPUT.with(|input| input.as_ptr().cast())
}

/// The size of the input area in bytes: the largest key file or token accepted.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn input_capacity() -> u32 {
    INPUT_CAPACITY as u32
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

/// Replaces the key set with the keys of the key file in the first `len` input bytes (a JWKS as
/// served at `/.well-known/pomerium/jwks.json`, a JWK, PEM public keys or certificates, or
/// Pomerium's base64-encoded `signing_key`). Output: `{"keys":N}`. On failure the previous keys
/// stay in force, so a bad reload never leaves the module without keys.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn load_keys(len: u32) -> i32 {
    call(len, |input, config, _, scratch| {
        let mut keys = KeySet::new();
        let outcome = add_keys_to(&mut keys, input, scratch);
        if let Outcome::Keys(_) = outcome {
            config.keys = keys;
            config.tables.prepare(&config.keys);
        }
        outcome
    })
}

/// Adds the keys of a further key file (same forms as [`load_keys`]) to those loaded, for a
/// host that holds, say, a JWKS and a PEM. All or nothing; output: `{"keys":N}`, the number
/// added.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn add_keys(len: u32) -> i32 {
    call(len, |input, config, _, scratch| {
        let outcome = add_keys_to(&mut config.keys, input, scratch);
        config.tables.prepare(&config.keys);
        outcome
    })
}

fn add_keys_to(keys: &mut KeySet<KEYS>, input: &[u8], scratch: &mut [u8]) -> Outcome<'static> {
    match keys.add_any(input, scratch) {
        Ok(0) => Outcome::Failed(Status::Key, Message::Text("the key file holds no P-256 signing key")),
        Ok(n) => Outcome::Keys(n),
        Err(e) => Outcome::failed(e),
    }
}

/// Sets the audience (the route's host, as Pomerium writes it in `aud`) to the first `len` input
/// bytes, UTF-8, at most 256.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn set_audience(len: u32) -> i32 {
    call(len, |input, config, _, _| set_name(input, &mut config.audience, false))
}

/// Requires `iss` to equal the first `len` input bytes; `len` 0 restores the default (the
/// audience, `https://<audience>/` or `pomerium-proxy`).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn set_issuer(len: u32) -> i32 {
    call(len, |input, config, _, _| set_name(input, &mut config.issuer, true))
}

/// Sets the clock-skew leeway in seconds (default 60, 0 allowed).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn set_leeway(seconds: u64) -> i32 {
    call(0, |_, config, _, _| {
        config.leeway = Some(seconds);
        Outcome::Configured
    })
}

/// Verifies the token in the first `len` input bytes at `now` (seconds since the Unix epoch; a
/// BigInt in JavaScript). Returns 0 and writes the verified claims as JSON, or returns the
/// failure's [`Status`] and writes `{"error":NAME,"message":TEXT}`.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn verify(len: u32, now: u64) -> i32 {
    call(len, |token, config, buffers, _| {
        let Some(audience) = config.audience.get() else {
            return Outcome::Failed(Status::NotConfigured, Message::Text("set_audience was not called"));
        };
        if config.keys.is_empty() {
            return Outcome::Failed(Status::NotConfigured, Message::Text("load_keys was not called"));
        }
        // The same verdicts either way; the tables only make it faster.
        match config.tables.precomputed(&config.keys) {
            Some(keys) => check(&keys, audience, config, token, now, buffers),
            None => check(&config.keys, audience, config, token, now, buffers),
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
    buffers: &'b mut Buffers<INPUT_CAPACITY, GROUPS>,
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
    /// each key's in a slot no key of the set uses (so a reload of the same keys builds nothing).
    /// Nothing for a set larger than [`TABLE_KEYS`], which is verified without tables.
    fn prepare(&mut self, keys: &KeySet<KEYS>) {
        if keys.len() > TABLE_KEYS || self.generator.build_generator(WINDOW).is_err() {
            return;
        }
        for key in keys.keys() {
            if self.keys.iter().any(|table| table.holds(key)) {
                continue;
            }
            if let Some(free) = self.keys.iter_mut().find(|table| !keys.keys().any(|k| table.holds(k))) {
                // Fails only if the storage were too small for WINDOW: then that key, and with it
                // the set, is verified without tables.
                let _ = free.build_for_key(key, WINDOW);
            }
        }
    }

    /// The key set with every key's table, or `None` when some key has none.
    fn precomputed(&self, keys: &KeySet<KEYS>) -> Option<KeySet<KEYS, PrecomputedKey<'_>>> {
        let generator = self.generator.table()?;
        keys.precompute(|key| {
            let table = self.keys.iter().find(|table| table.holds(key)).and_then(TableStorage::table);
            PrecomputedKey::new(*key, table.ok_or(Error::BadSignature)?, generator)
        })
        .ok()
    }
}
