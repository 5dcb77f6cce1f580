//! HTTP exchange for ivr-reports on hyper: moves `http` requests and responses as bytes.
//!
//! This crate knows nothing of reports. It will hold a pooled, loss-safe client (retries only
//! when the server provably did not process the request) and hardened server plumbing (see
//! the project's "Step 3/7" issue). It is empty until then.
