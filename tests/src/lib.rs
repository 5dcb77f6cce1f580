//! Cross-layer tests for ivr-reports live in `tests/it/`; this library holds no code.
//!
//! The package exists so that tests spanning several crates have one home and one test
//! binary, and so that the workspace README's examples run as doc tests (below): they use
//! several crates, and the README is no published crate's file. Golden fixtures live in the
//! crate that owns them (`crates/codec/tests/fixtures/`).

/// The workspace README.md's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
