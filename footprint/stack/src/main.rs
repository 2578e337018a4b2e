//! How much memory one verification takes: the stack it uses beyond the caller's buffers
//! (measured by painting), and the size of the types a caller holds.
//!
//! Painting: a function fills 256 KiB of stack below the current frame with a pattern and
//! returns; the measured call runs from the same frame; the deepest byte that no longer holds
//! the pattern is the high-water mark. Done with two patterns, keeping the larger figure, so a
//! byte that happened to be written with the pattern's value cannot hide the mark. This reads
//! stack memory below the live frames, which Rust does not define; it is a measuring tool, run
//! on a thread of its own with a stack far larger than what is measured.

use std::hint::black_box;
use std::mem::size_of;

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::{Signer, Verifier as _};
use pomerium_jwt::{
    BaseTable, Buffers, Claims, Error, KeySet, PrecomputedKey, PublicKey, TableEntry, UnixTime, Verifier, Window,
};

const PAINT: usize = 256 * 1024;
const AUD: &str = "app.example.com";
const NOW: u64 = 1_700_000_100;

#[inline(never)]
fn paint(color: u8) -> usize {
    let mut region = [color; PAINT];
    black_box(&mut region);
    region.as_ptr() as usize
}

/// Bytes of stack `f` used below this function's frame.
#[inline(never)]
fn high_water(f: &mut dyn FnMut()) -> usize {
    let mut deepest = 0;
    for color in [0xA5u8, 0x5A] {
        let marker = 0u8;
        let top = black_box(&marker) as *const u8 as usize;
        let low = paint(color);
        f();
        let mut addr = low;
        // SAFETY: [low, top) is this thread's stack, mapped and painted just before; see the
        // module documentation for why reading it is only a measuring tool.
        while addr < top && unsafe { (addr as *const u8).read_volatile() } == color {
            addr += 1;
        }
        deepest = deepest.max(top - addr);
    }
    deepest
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A Pomerium token with `groups` groups, signed by `key`, valid at `NOW` for `AUD`.
fn token(key: &p256::ecdsa::SigningKey, kid: &str, groups: usize) -> (String, String, Vec<u8>) {
    let groups: Vec<String> = (0..groups).map(|i| format!("\"group-{i:04}-0b1c5d2e-7a3f-4c9d\"")).collect();
    let header = format!(r#"{{"alg":"ES256","kid":"{kid}","typ":"JWT"}}"#);
    let claims = format!(
        r#"{{"aud":"{AUD}","email":"alice@example.com","exp":1700000300,"groups":[{}],"iat":1700000000,"iss":"{AUD}","jti":"7d3a","name":"Alice","sid":"s1","sub":"alice-id","user":"alice"}}"#,
        groups.join(",")
    );
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    let signature = signature.to_bytes().to_vec();
    (format!("{input}.{}", b64(&signature)), input, signature)
}

fn measure() {
    let signing = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
    let sec1 = signing.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    let public = PublicKey::from_sec1(&sec1).unwrap();
    let kid = public.pomerium_kid();
    let mut keys = KeySet::<4>::new();
    keys.insert(public, Some(&kid)).unwrap();
    let verifier = Verifier::new(&keys, AUD);
    let now = UnixTime::from_secs(NOW);
    let jwks = format!(
        r#"{{"keys":[{{"use":"sig","kty":"EC","kid":"{kid}","crv":"P-256","alg":"ES256","x":"{}","y":"{}"}}]}}"#,
        b64(&sec1[1..33]),
        b64(&sec1[33..])
    );

    let mut rows: Vec<(String, usize)> = Vec::new();
    for groups in [0, 20, 200] {
        let (token, _, _) = token(&signing, &kid, groups);
        let mut buffers = Box::new(Buffers::<16384, 256>::new());
        let used = high_water(&mut || {
            let claims = verifier.verify(black_box(&token), now, &mut buffers).unwrap();
            assert_eq!(black_box(claims.groups.len()), groups);
        });
        rows.push((format!("`Verifier::verify`, {groups} groups ({} B token)", token.len()), used));
    }
    let (_, input, signature) = token(&signing, &kid, 20);
    let used = high_water(&mut || assert!(public.verify_es256(black_box(input.as_bytes()), &signature).is_ok()));
    rows.push(("`PublicKey::verify_es256` (SHA-256 + ECDSA alone)".into(), used));
    let floor = *signing.verifying_key();
    let used = high_water(&mut || {
        let signature = p256::ecdsa::Signature::from_slice(black_box(&signature)).unwrap();
        assert!(floor.verify(black_box(input.as_bytes()), &signature).is_ok());
    });
    rows.push(("floor: bare `p256` `VerifyingKey::verify`".into(), used));

    let window = Window::W4;
    let storage = || Vec::leak(vec![TableEntry::EMPTY; window.entries()]);
    let generator = BaseTable::generator(window, storage()).unwrap();
    let fast =
        keys.precompute(|k| PrecomputedKey::new(*k, BaseTable::for_key(k, window, storage())?, generator)).unwrap();
    let fast_verifier = Verifier::new(&fast, AUD);
    let (token20, _, _) = token(&signing, &kid, 20);
    let mut buffers = Box::new(Buffers::<16384, 256>::new());
    let used = high_water(&mut || assert!(fast_verifier.verify(black_box(&token20), now, &mut buffers).is_ok()));
    rows.push(("`Verifier::verify` with a `PrecomputedKey`, 20 groups".into(), used));

    let used = high_water(&mut || {
        let mut set = KeySet::<4>::new();
        assert_eq!(set.add_jwks(black_box(jwks.as_bytes())).unwrap(), 1);
        black_box(&set);
    });
    rows.push((
        format!("`KeySet::<4>::add_jwks` (one key), including the `KeySet` ({} B)", size_of::<KeySet<4>>()),
        used,
    ));

    let profile = if cfg!(debug_assertions) { "debug" } else { option_env!("FOOTPRINT_PROFILE").unwrap_or("release") };
    println!("Stack high-water beyond the caller's buffers (x86_64, profile `{profile}`):\n");
    println!("| call | stack |\n| --- | ---: |");
    for (name, used) in rows {
        println!("| {name} | {used} B ({:.1} KiB) |", used as f64 / 1024.0);
    }
    println!();
}

fn main() {
    std::thread::Builder::new().stack_size(4 << 20).spawn(measure).unwrap().join().unwrap();
    if std::env::args().any(|a| a == "--sizes") {
        println!("`size_of` (x86_64):\n");
        println!("| type | bytes |\n| --- | ---: |");
        let rows: [(&str, usize); 9] = [
            ("`Verifier<'_>` (default: `KEYS` = 4, `PublicKey`)", size_of::<Verifier<'_>>()),
            ("`KeySet<4>` (default)", size_of::<KeySet<4>>()),
            ("`PublicKey`", size_of::<PublicKey>()),
            ("`Buffers` (default: `TOKEN` = 8192, `GROUPS` = 128)", size_of::<Buffers>()),
            ("`Buffers<16384, 640>` (a 600-group, 16 KiB token)", size_of::<Buffers<16384, 640>>()),
            ("`Claims<'_>`", size_of::<Claims<'_>>()),
            ("`Error`", size_of::<Error>()),
            ("`PrecomputedKey<'_>`", size_of::<PrecomputedKey<'_>>()),
            ("`TableEntry` (one precomputed point)", size_of::<TableEntry>()),
        ];
        for (name, size) in rows {
            println!("| {name} | {size} |");
        }
    }
}
