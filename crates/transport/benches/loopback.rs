//! Loopback benchmark: our client and server against a minimal hyper pair (filled in below).

fn main() {}
