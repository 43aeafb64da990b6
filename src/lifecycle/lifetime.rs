//! `SESSION_ABSOLUTE_LIFETIME`: a session ends a fixed time after it was created, however
//! active it is.
//!
//! The creation time (whole Unix seconds) travels in the session data under
//! [`CREATED_KEY`], as `_permanent` does: reading it costs nothing beyond the one store
//! command that loads the session, and every backend keeps it without a change to the
//! store contract. The lifecycle takes the key out of the data when a session is loaded
//! (handlers never see it, a handler's own value under that name is replaced) and puts it
//! back, last, when the session is written. A Flask app sharing the store sees it as one
//! more key and keeps it when it writes the session back.
//!
//! A session without the key (a new one, or one a Flask app created) gets the current time
//! the first time this crate saves or reads it, which writes it once.

use std::time::Duration;

use rmpv::Value;

use super::state::SessionState;
use crate::config::{SerializationFormat, SessionConfig};
use crate::serialization::SessionMap;

/// The session-data key holding the creation time in Unix seconds.
pub(crate) const CREATED_KEY: &str = "_session_created";

/// The current Unix second.
pub(crate) fn now() -> u64 {
    crate::clock::since_epoch().as_secs()
}

/// The `now` to hand [`after_load`] and [`before_save`]: the current Unix second with an
/// absolute lifetime, else 0 without reading the clock (neither reads `now` then; this
/// spares every request two clock reads when `SESSION_ABSOLUTE_LIFETIME` is off).
pub(crate) fn now_for(config: &SessionConfig) -> u64 {
    if config.absolute_lifetime.is_some() {
        now()
    } else {
        0
    }
}

/// The refresh a read asks the store for. With an absolute lifetime no longer than the
/// idle one, every write already sets the entry to expire at the absolute end, which no
/// refresh could move closer, so reads do not move the expiry at all.
pub(crate) fn read_refresh(config: &SessionConfig) -> Option<Duration> {
    if !config.refresh_each_request {
        return None;
    }
    match config.absolute_lifetime {
        Some(absolute) if absolute <= config.lifetime => None,
        _ => Some(config.lifetime),
    }
}

/// What [`after_load`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loaded {
    /// The session may be used.
    Live,
    /// The session is past its absolute lifetime: its entry must go.
    Expired,
}

/// Takes the creation time out of a loaded session's data (whatever the configuration, so
/// handlers never see it) and, with an absolute lifetime, checks it. A non-empty session
/// without a creation time is given `now`, and marked modified so it is written once.
pub(crate) fn after_load(state: &mut SessionState, config: &SessionConfig, now: u64) -> Loaded {
    let was_modified = state.modified;
    let taken = state.remove(CREATED_KEY, config.serialization_format);
    state.modified = was_modified;
    state.created = taken.as_ref().and_then(as_unix_seconds);
    let Some(absolute) = config.absolute_lifetime else {
        return Loaded::Live;
    };
    match state.created {
        Some(created) if created.saturating_add(absolute.as_secs()) <= now => Loaded::Expired,
        Some(_) => Loaded::Live,
        None => {
            if !state.is_empty() {
                state.created = Some(now);
                state.modified = true;
            }
            Loaded::Live
        }
    }
}

/// Before a non-empty session is written or its cookie re-sent: gives a session without a
/// creation time `now` (with an absolute lifetime), and answers the time to live of its
/// entry and cookie, the smaller of the idle lifetime and what remains of the absolute one
/// (at least one second).
pub(crate) fn before_save(state: &mut SessionState, config: &SessionConfig, now: u64) -> Duration {
    let Some(absolute) = config.absolute_lifetime else {
        return config.lifetime;
    };
    let created = *state.created.get_or_insert(now);
    let remaining = created
        .saturating_add(absolute.as_secs())
        .saturating_sub(now);
    config.lifetime.min(Duration::from_secs(remaining.max(1)))
}

/// Puts the creation time back into the data, last, right before it is encoded. This is
/// bookkeeping, not a change of the request: merge mode's journal does not record it (a
/// replay onto a newer entry places the creation time with [`place_created`]).
pub(crate) fn put_back(state: &mut SessionState, format: SerializationFormat) {
    if let Some(created) = state.created {
        let journal = state.journal.take();
        state.remove(CREATED_KEY, format);
        state.journal = journal;
        state
            .data
            .push((Value::from(CREATED_KEY), Value::from(created)));
    }
}

/// Places the creation time last in `data`, a newer entry that merge mode replayed this
/// request's changes onto: the earlier of the entry's own and `created` stands, so a
/// concurrent writer can never extend a session's absolute lifetime, nor drop it.
pub(crate) fn place_created(data: &mut SessionMap, created: Option<u64>) {
    let position = data
        .iter()
        .position(|(k, _)| k.as_str() == Some(CREATED_KEY));
    let theirs = position.and_then(|i| as_unix_seconds(&data[i].1));
    let earliest = match (theirs, created) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(i) = position {
        data.remove(i);
    }
    if let Some(created) = earliest {
        data.push((Value::from(CREATED_KEY), Value::from(created)));
    }
}

/// A creation time as stored: an integer, or a float (Python's `time.time()`), in Unix
/// seconds; anything else counts as absent.
fn as_unix_seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Integer(n) => n.as_u64(),
        Value::F64(f) if f.is_finite() && *f >= 0.0 => Some(*f as u64),
        Value::F32(f) if f.is_finite() && *f >= 0.0 => Some(*f as u64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(absolute: Option<u64>, idle: u64) -> SessionConfig {
        SessionConfig {
            absolute_lifetime: absolute.map(Duration::from_secs),
            lifetime: Duration::from_secs(idle),
            ..SessionConfig::default()
        }
    }

    fn loaded(data: Vec<(Value, Value)>) -> SessionState {
        SessionState::loaded("session:x".to_owned(), 8, data, None)
    }

    #[test]
    fn the_creation_time_is_taken_out_and_checked() {
        let c = config(Some(100), 1000);
        let mut s = loaded(vec![
            (Value::from("a"), Value::from(1)),
            (Value::from(CREATED_KEY), Value::from(1_000u64)),
        ]);
        assert_eq!(after_load(&mut s, &c, 1_099), Loaded::Live);
        assert_eq!(
            (s.created, s.modified, s.data.len()),
            (Some(1_000), false, 1)
        );
        let mut s = loaded(vec![(Value::from(CREATED_KEY), Value::F64(1_000.7))]);
        assert_eq!(after_load(&mut s, &c, 1_100), Loaded::Expired);
    }

    #[test]
    fn a_session_without_one_is_stamped_once() {
        let c = config(Some(100), 1000);
        let mut s = loaded(vec![(Value::from("a"), Value::from(1))]);
        assert_eq!(after_load(&mut s, &c, 5), Loaded::Live);
        assert_eq!((s.created, s.modified), (Some(5), true));
        let mut off = loaded(vec![(Value::from("a"), Value::from(1))]);
        assert_eq!(after_load(&mut off, &config(None, 10), 5), Loaded::Live);
        assert_eq!((off.created, off.modified), (None, false));
    }

    #[test]
    fn the_ttl_is_the_smaller_lifetime() {
        let mut s = loaded(vec![(Value::from("a"), Value::from(1))]);
        s.created = Some(1_000);
        assert_eq!(
            before_save(&mut s, &config(Some(100), 1000), 1_030),
            Duration::from_secs(70)
        );
        assert_eq!(
            before_save(&mut s, &config(Some(10_000), 1000), 1_030),
            Duration::from_secs(1000)
        );
        assert_eq!(
            before_save(&mut s, &config(Some(10), 1000), 1_030),
            Duration::from_secs(1)
        );
        assert_eq!(read_refresh(&config(Some(10), 1000)), None);
        assert_eq!(
            read_refresh(&config(Some(10_000), 1000)),
            Some(Duration::from_secs(1000))
        );
    }

    #[test]
    fn it_goes_back_last_and_replaces_a_handler_value() {
        let mut s = loaded(vec![
            (Value::from(CREATED_KEY), Value::from("mine")),
            (Value::from("a"), Value::from(1)),
        ]);
        s.created = Some(7);
        put_back(&mut s, SerializationFormat::MsgPack);
        assert_eq!(
            s.data,
            vec![
                (Value::from("a"), Value::from(1)),
                (Value::from(CREATED_KEY), Value::from(7u64)),
            ]
        );
    }
}
