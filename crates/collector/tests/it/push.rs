//! push tests (to come).
