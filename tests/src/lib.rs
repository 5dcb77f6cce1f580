//! Cross-layer tests for ivr-reports live in `tests/it/`; golden fixtures in `fixtures/`.
//!
//! This library is empty on purpose: the package exists so that tests spanning several
//! crates have one home and one test binary.
