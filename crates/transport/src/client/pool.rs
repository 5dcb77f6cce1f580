//! The connection pool: idle HTTP/1.1 connections per target, one shared HTTP/2 connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use hyper::client::conn::{http1, http2};

use super::connect::{Conn, ReqBody, Target};

#[derive(Default)]
struct Slot {
    /// Idle HTTP/1.1 senders, most recently used last.
    h1: Vec<(http1::SendRequest<ReqBody>, Instant)>,
    /// The shared HTTP/2 sender and when it was last used.
    h2: Option<(http2::SendRequest<ReqBody>, Instant)>,
}

/// Idle connections, keyed by target.
pub(crate) struct Pool {
    slots: Mutex<HashMap<Target, Slot>>,
    idle_timeout: Duration,
    max_idle_per_host: usize,
    reaper_started: AtomicBool,
}

impl Pool {
    pub(crate) fn new(idle_timeout: Duration, max_idle_per_host: usize) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            idle_timeout,
            max_idle_per_host,
            reaper_started: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Target, Slot>> {
        // A panic while holding the lock leaves only idle senders behind: keep going.
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A live idle connection to `target`, if any.
    pub(crate) fn checkout(&self, target: &Target) -> Option<Conn> {
        let now = Instant::now();
        let mut slots = self.lock();
        let slot = slots.get_mut(target)?;
        if let Some((sender, used)) = &mut slot.h2 {
            if !sender.is_closed() && now.duration_since(*used) < self.idle_timeout {
                *used = now;
                return Some(Conn::H2(sender.clone()));
            }
            slot.h2 = None;
        }
        while let Some((sender, since)) = slot.h1.pop() {
            if sender.is_ready() && now.duration_since(since) < self.idle_timeout {
                return Some(Conn::H1(sender));
            }
        }
        None
    }

    /// Keeps a new HTTP/2 connection for sharing.
    pub(crate) fn share_h2(&self, target: &Target, sender: &http2::SendRequest<ReqBody>) {
        let mut slots = self.lock();
        let slot = slots.entry(target.clone()).or_default();
        slot.h2 = Some((sender.clone(), Instant::now()));
    }

    /// Returns an HTTP/1.1 connection whose exchange completed.
    pub(crate) fn put_h1(
        self: &Arc<Self>,
        target: Target,
        mut sender: http1::SendRequest<ReqBody>,
    ) {
        if sender.is_closed() || self.max_idle_per_host == 0 {
            return;
        }
        self.start_reaper();
        if sender.is_ready() {
            self.insert_h1(target, sender);
            return;
        }
        // The connection finishes the exchange on its own task; keep it once it is ready.
        let pool = Arc::downgrade(self);
        let wait = self.idle_timeout;
        tokio::spawn(async move {
            if let Ok(Ok(())) = tokio::time::timeout(wait, sender.ready()).await
                && let Some(pool) = pool.upgrade()
            {
                pool.insert_h1(target, sender);
            }
        });
    }

    fn insert_h1(&self, target: Target, sender: http1::SendRequest<ReqBody>) {
        let mut slots = self.lock();
        let slot = slots.entry(target).or_default();
        if slot.h1.len() >= self.max_idle_per_host {
            slot.h1.remove(0);
        }
        slot.h1.push((sender, Instant::now()));
    }

    /// Drops connections idle for longer than the idle timeout, or closed.
    pub(crate) fn prune(&self) {
        let now = Instant::now();
        let timeout = self.idle_timeout;
        let mut slots = self.lock();
        for slot in slots.values_mut() {
            slot.h1
                .retain(|(s, since)| !s.is_closed() && now.duration_since(*since) < timeout);
            if slot
                .h2
                .as_ref()
                .is_some_and(|(s, used)| s.is_closed() || now.duration_since(*used) >= timeout)
            {
                slot.h2 = None;
            }
        }
        slots.retain(|_, slot| !slot.h1.is_empty() || slot.h2.is_some());
    }

    /// Starts (once) a task that prunes idle connections while the pool lives.
    pub(crate) fn start_reaper(self: &Arc<Self>) {
        if self.reaper_started.swap(true, Ordering::Relaxed) {
            return;
        }
        let pool: Weak<Self> = Arc::downgrade(self);
        let every = (self.idle_timeout / 2).max(Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match pool.upgrade() {
                    Some(pool) => pool.prune(),
                    None => break,
                }
            }
        });
    }
}
