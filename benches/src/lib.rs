//! Benchmarks only: see verify.rs.
