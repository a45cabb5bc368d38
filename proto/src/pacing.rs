//! How the two ends of the call channel wait for each other.
//!
//! Calls are a strict ping-pong between one daemon thread and the runner's
//! serving thread, and what an exchange costs is mostly how the waiting
//! side is woken. Measured on the project's 2-vCPU machines (a Firecracker
//! guest whose idle vCPUs halt without polling), per round trip:
//!
//! * both sides sleep, on different CPUs: about 70 µs (a halted vCPU takes
//!   30-35 µs to wake);
//! * both sides sleep, on the same CPU: 5-9 µs (a context switch);
//! * both sides poll, on different CPUs: about 5 µs, but two CPUs are busy.
//!
//! The scheduler by itself wakes a sleeping thread on an idle CPU, so the
//! sides would always pay the first price. Instead, each call carries the
//! CPU of the daemon thread (`Call.cpu`); the runner's serving thread moves
//! there and sleeps at once when it waits, and the daemon thread, while it
//! waits for an answer, polls and yields its CPU (to the runner, which runs
//! there) for about as long as answers usually take ([`Pace`]), so the
//! answer finds it awake and nobody is woken across CPUs. A side that cannot
//! follow polls the same way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The shortest poll once polling is allowed at all: answers that usually
/// come in 5 µs still sometimes take tens of microseconds, and a missed one
/// costs a wake-up on another CPU.
pub const MIN_BUSY: Duration = Duration::from_micros(50);

/// How long a side polls before it sleeps: twice the typical wait for its
/// peer (a moving average), at least [`MIN_BUSY`], at most the configured
/// maximum (sidecar.toml `busy_wait_us`). Shared by the threads of one side,
/// hence atomics; a lost update only shifts the average a little.
#[derive(Debug, Default)]
pub struct Pace {
    typical_ns: AtomicU64,
    max_ns: AtomicU64,
}

/// Weight of the newest wait in the moving average (1/8).
const WEIGHT_SHIFT: u32 = 3;

impl Pace {
    pub fn new(max: Duration) -> Pace {
        let pace = Pace::default();
        pace.set_max(max);
        pace
    }

    pub fn set_max(&self, max: Duration) {
        self.max_ns.store(nanos(max), Ordering::Relaxed);
    }

    /// How long the next wait should poll.
    pub fn busy(&self) -> Duration {
        let max = self.max_ns.load(Ordering::Relaxed);
        let want = self.typical_ns.load(Ordering::Relaxed).saturating_mul(2);
        Duration::from_nanos(want.max(nanos(MIN_BUSY)).min(max))
    }

    /// A wait for the peer took `waited`. One very long wait (a plugin
    /// call that works for seconds) counts as twice the maximum, so that it
    /// does not keep the next hundred waits polling for nothing.
    pub fn observe(&self, waited: Duration) {
        let max = self.max_ns.load(Ordering::Relaxed);
        let waited = nanos(waited).min(max.saturating_mul(2));
        let old = self.typical_ns.load(Ordering::Relaxed);
        let new = old - (old >> WEIGHT_SHIFT) + (waited >> WEIGHT_SHIFT);
        self.typical_ns.store(new, Ordering::Relaxed);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Duration = Duration::from_micros(1);

    fn settled(pace: &Pace, waited: Duration) -> Duration {
        for _ in 0..100 {
            pace.observe(waited);
        }
        pace.busy()
    }

    #[test]
    fn quick_answers_poll_the_minimum() {
        let pace = Pace::new(500 * US);
        assert_eq!(pace.busy(), MIN_BUSY);
        assert_eq!(settled(&pace, 5 * US), MIN_BUSY);
    }

    #[test]
    fn slower_answers_poll_about_twice_as_long_up_to_the_maximum() {
        let pace = Pace::new(500 * US);
        let busy = settled(&pace, 100 * US);
        assert!(
            (190 * US..=200 * US).contains(&busy),
            "{busy:?} for 100 µs answers"
        );
        assert_eq!(settled(&pace, 400 * US), 500 * US);
    }

    #[test]
    fn one_long_call_is_forgotten_within_a_few_waits() {
        let pace = Pace::new(500 * US);
        settled(&pace, 10 * US);
        pace.observe(Duration::from_secs(30));
        assert!(pace.busy() <= 500 * US);
        for _ in 0..20 {
            pace.observe(10 * US);
        }
        assert!(pace.busy() < 100 * US, "{:?}", pace.busy());
    }

    #[test]
    fn a_maximum_of_zero_never_polls() {
        let pace = Pace::new(Duration::ZERO);
        assert_eq!(settled(&pace, 100 * US), Duration::ZERO);
    }
}
