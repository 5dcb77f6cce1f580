//! postgres tests (to come).
