//! journal tests (to come).
