//! Integration tests: one binary, one module per subject.

#![allow(unreachable_pub, missing_docs)]

mod common;
mod verify;
