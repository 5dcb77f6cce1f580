//! pull tests (to come).
