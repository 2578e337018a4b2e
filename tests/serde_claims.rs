//! `Claims::deserialize` (feature `serde`): a Pomerium-shaped type of a user's, custom claims
//! included, from Go-shaped tokens signed by Python `cryptography`; and its documented limits.

use heapless::{String as HString, Vec as HVec};
use pomerium_jwt::{Buffers, Error, UnixTime, Verifier};
use serde::Deserialize;

use crate::common::{self, AUD, NOW, header, keyset, sign};
use crate::custom_claims::{cases, key1};

/// What a service behind Pomerium might want: borrowed strings where Go never escapes, owned
/// ones where it may (`&`, `<`, `>`), and the operator's jwt_claims_headers claims.
#[derive(Debug, Deserialize)]
struct Identity<'a> {
    iss: &'a str,
    sub: &'a str,
    email: &'a str,
    #[serde(borrow)]
    groups: HVec<&'a str, 8>,
    exp: u64,
    given_name: HString<32>,
    family_name: HString<32>,
    department: HString<32>,
    employee_number: &'a str,
    #[serde(default)]
    missing_is_fine: Option<u32>,
}

#[test]
fn a_users_type_with_custom_claims() {
    let keys = key1();
    let verifier = Verifier::new(&keys, AUD);
    let mut buffers: Buffers = Buffers::new();
    let case = cases().into_iter().find(|c| c.name == "go_shaped").unwrap();
    let claims = verifier.verify(&case.token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    let mut scratch = [0u8; 64];
    let id: Identity<'_> = claims.deserialize(&mut scratch).unwrap();
    assert_eq!(id.iss, "app.example.com");
    assert_eq!(id.sub, "alice-id-0001");
    assert_eq!(id.email, "alice@example.com");
    assert_eq!(id.groups.as_slice(), ["admins", "devs"]);
    assert_eq!(id.exp, 1_700_000_300);
    assert_eq!(id.given_name, "Zoë");
    assert_eq!(id.family_name, "O'Brien <ops>");
    assert_eq!(id.department, "R&D,Sales");
    assert_eq!(id.employee_number, "1.2345678e+07");
    assert_eq!(id.missing_is_fine, None);
}

// Read only to be refused.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct Borrowed<'a> {
    department: &'a str,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct Named {
    name: HString<32>,
}

/// What the docs say it cannot do, it refuses with a typed error, never a wrong value.
#[test]
fn its_limits_are_errors() {
    let keys = key1();
    let verifier = Verifier::new(&keys, AUD);
    let mut buffers: Buffers = Buffers::new();
    let case = cases().into_iter().find(|c| c.name == "go_shaped").unwrap();
    let claims = verifier.verify(&case.token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    // An escaped string cannot be borrowed.
    assert_eq!(claims.deserialize::<Borrowed<'_>>(&mut [0u8; 64]).map(drop), Err(Error::Deserialize));
    // The scratch buffer must hold the longest escaped string.
    assert_eq!(claims.deserialize::<Identity<'_>>(&mut [0u8; 4]).map(drop), Err(Error::Deserialize));

    // An escaped surrogate pair: serde-json-core refuses it (the crate's own accessors do not).
    let keys = keyset(1);
    let token =
        sign(1, &header(1), &common::claims(r#""x":1"#).replace(r#""name":"Alice""#, r#""name":"\ud83d\ude00""#));
    let mut buffers: Buffers = Buffers::new();
    let claims = Verifier::new(&keys, AUD).verify(&token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    assert_eq!(claims.name, Some("😀"));
    assert_eq!(claims.deserialize::<Named>(&mut [0u8; 64]).map(drop), Err(Error::Deserialize));
}
