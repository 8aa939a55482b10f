//! The sessions of one MCP server (revisions `2025-06-18` and `2025-11-25`): made by
//! `initialize`, named by the `mcp-session-id` header, ended by `DELETE`.
//!
//! Bounded: at most [`MAX_SESSIONS`] live at once (making one more drops the one idle the
//! longest), and a session idle for [`SESSION_IDLE_TIMEOUT`] is forgotten (its id then gets
//! 404, and the client starts a new one, as the transport says it must). A session that ends,
//! whichever way, ends its server stream (`GET`) too.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

/// Most sessions one server keeps at once.
pub const MAX_SESSIONS: usize = 10_000;

/// How long a session may go unused before it is forgotten.
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

#[derive(Debug)]
struct Session {
    version: &'static str,
    last_used: Instant,
    /// Cancelled when the session ends, so its server stream ends with it.
    ended: CancellationToken,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.ended.cancel();
    }
}

/// A server's live sessions.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a session speaking `version`; returns its id.
    pub(crate) fn open(&self, version: &'static str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let now = Instant::now();
        let mut live = self.lock();
        live.retain(|_, s| now.duration_since(s.last_used) < SESSION_IDLE_TIMEOUT);
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(id, _)| id.clone())
            {
                live.remove(&oldest);
            }
        }
        live.insert(
            id.clone(),
            Session {
                version,
                last_used: now,
                ended: CancellationToken::new(),
            },
        );
        id
    }

    /// The revision session `id` speaks, marking it used; `None` for an unknown or expired id.
    pub(crate) fn touch(&self, id: &str) -> Option<&'static str> {
        let now = Instant::now();
        let mut live = self.lock();
        match live.get_mut(id) {
            Some(s) if now.duration_since(s.last_used) < SESSION_IDLE_TIMEOUT => {
                s.last_used = now;
                Some(s.version)
            }
            Some(_) => {
                live.remove(id);
                None
            }
            None => None,
        }
    }

    /// Like [`Sessions::touch`], with a token cancelled when the session ends (closed,
    /// expired or evicted): what its server stream watches.
    pub(crate) fn watch(&self, id: &str) -> Option<CancellationToken> {
        self.touch(id)?;
        self.lock().get(id).map(|s| s.ended.clone())
    }

    /// Ends session `id`; whether it was live.
    pub(crate) fn close(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_session_is_no_longer_known() {
        let sessions = Sessions::default();
        let id = sessions.open("2025-11-25");
        assert_eq!(sessions.touch(&id), Some("2025-11-25"));
        assert!(sessions.close(&id));
        assert_eq!(sessions.touch(&id), None);
        assert!(!sessions.close(&id));
    }

    #[test]
    fn a_session_ending_ends_what_watches_it() {
        let sessions = Sessions::default();
        let id = sessions.open("2025-11-25");
        let ended = sessions.watch(&id).expect("a live session");
        assert!(!ended.is_cancelled());
        assert!(sessions.close(&id));
        assert!(ended.is_cancelled());
        assert!(sessions.watch(&id).is_none());
    }
}
