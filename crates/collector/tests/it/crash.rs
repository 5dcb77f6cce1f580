//! crash tests (to come).
