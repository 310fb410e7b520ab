//! The one retry schedule of the daemon: exponential from a base, capped,
//! each delay jittered by ±20 % so that many clients (mailbox watchers,
//! instances, queued mails that failed together) do not retry together.

use std::time::Duration;

use rand::Rng as _;

/// Delay before retry `attempt` (0 for the first): `base · 2^attempt`,
/// capped at `max`, then jittered.
pub fn delay(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20));
    exp.min(max).mul_f64(rand::rng().random_range(0.8..1.2))
}

/// [`delay`] with its attempt counted: reconnect loops and supervised tasks.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub const RECONNECT_MIN: Duration = Duration::from_secs(1);
    pub const RECONNECT_MAX: Duration = Duration::from_secs(60);

    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// 1 s, 2 s, 4 s … capped at a minute.
    pub fn reconnect() -> Backoff {
        Backoff::new(Self::RECONNECT_MIN, Self::RECONNECT_MAX)
    }

    /// The next delay to wait.
    pub fn next_delay(&mut self) -> Duration {
        let d = delay(self.base, self.max, self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_up_to_the_cap() {
        let mut b = Backoff::reconnect();
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        let within = |d: Duration, s: f64| d.as_secs_f64() >= 0.8 * s && d.as_secs_f64() <= 1.2 * s;
        assert!(within(delays[0], 1.0), "{delays:?}");
        assert!(within(delays[1], 2.0), "{delays:?}");
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(72)));
        assert!(within(delays[9], 60.0), "{delays:?}");
        b.reset();
        assert!(within(b.next_delay(), 1.0));
        let base = Duration::from_secs(30);
        assert!(delay(base, Duration::from_secs(3600), 40) <= Duration::from_secs(4320));
    }
}
