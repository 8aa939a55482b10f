//! [`Deadline`]: a per-request timeout kept in its worker thread's list, which one timer per
//! worker serves.
//!
//! Every request that waits arms two timeouts (the request's, in `route_guard`, and the body
//! read's, in `envelope`), and nearly all of them are cancelled a few microseconds later when
//! the response is ready. A tokio `Sleep` per timeout enters the runtime's timer wheel behind a
//! lock and leaves it again on drop: about 1 400 instructions each, a tenth of a `POST`'s cost
//! (docs/performance.md, "Issue 18: the hot path"). Here, arming is a slot in a thread-local
//! slab and a waker clone, and one ticker task per worker sleeps until the earliest deadline in
//! the list, wakes the requests whose deadline has passed, and sleeps again. Deadlines of one
//! kind only move later as requests arrive, so a steady stream of fast requests costs the
//! ticker one wake per timeout period, not one timer entry per request.
//!
//! A deadline fires when a `Sleep` at the same instant would (the ticker's own `Sleep` sets the
//! resolution), one task wake later. Where the list cannot be served (a multi-threaded runtime,
//! on which the ticker could run on another thread than its list), a [`Deadline`] is a plain
//! `Sleep`.

use std::{
    cell::RefCell,
    future::Future,
    marker::PhantomData,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use slab::Slab;
use tokio::{
    runtime::{Handle, RuntimeFlavor},
    time::{Instant, Sleep},
};

/// A timeout at an instant, polled like a timer: [`Deadline::poll_passed`] answers `Ready` once
/// the instant has passed and wakes the task that polled it last when it does.
///
/// Not `Send`: its slot belongs to the thread that armed it.
pub(crate) struct Deadline {
    kind: DeadlineKind,
    _not_send: PhantomData<*const ()>,
}

enum DeadlineKind {
    /// A slot in this thread's [`Worker`] list.
    Listed(usize),
    /// A timer of its own, where the list cannot be served.
    Own(Pin<Box<Sleep>>),
}

struct Entry {
    at: Instant,
    /// The task to wake when `at` passes; taken when it is woken.
    waker: Option<Waker>,
    passed: bool,
}

struct Worker {
    entries: Slab<Entry>,
    /// A ticker task is running for this thread's list.
    ticking: bool,
    /// The ticker's waker while it sleeps or idles, to move it to an earlier deadline.
    ticker: Option<Waker>,
    /// When the ticker wakes next; `None` while it idles (no deadline armed).
    wakes_at: Option<Instant>,
}

std::thread_local! {
    static WORKER: RefCell<Worker> = const {
        RefCell::new(Worker {
            entries: Slab::new(),
            ticking: false,
            ticker: None,
            wakes_at: None,
        })
    };
}

impl Deadline {
    /// A deadline at `at`. It wakes a task only once polled ([`Deadline::poll_passed`]).
    pub(crate) fn at(at: Instant) -> Self {
        let key = WORKER.with_borrow_mut(|worker| {
            worker.schedule(at).then(|| {
                worker.entries.insert(Entry {
                    at,
                    waker: None,
                    passed: false,
                })
            })
        });
        Self {
            kind: match key {
                Some(key) => DeadlineKind::Listed(key),
                None => DeadlineKind::Own(Box::pin(tokio::time::sleep_until(at))),
            },
            _not_send: PhantomData,
        }
    }

    /// Moves the deadline to `at`; a deadline that had passed is armed again.
    pub(crate) fn reset(&mut self, at: Instant) {
        match &mut self.kind {
            DeadlineKind::Listed(key) => WORKER.with_borrow_mut(|worker| {
                if let Some(entry) = worker.entries.get_mut(*key) {
                    entry.at = at;
                    entry.passed = false;
                }
                // Without a ticker (its runtime is gone) nothing can fire it anyway.
                let _ = worker.schedule(at);
            }),
            DeadlineKind::Own(sleep) => sleep.as_mut().reset(at),
        }
    }

    /// `Ready` once the deadline has passed; otherwise `cx`'s task is woken when it does.
    pub(crate) fn poll_passed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.kind {
            DeadlineKind::Listed(key) => WORKER.with_borrow_mut(|worker| {
                let Some(entry) = worker.entries.get_mut(*key) else {
                    return Poll::Ready(());
                };
                if entry.passed {
                    return Poll::Ready(());
                }
                match &mut entry.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }),
            DeadlineKind::Own(sleep) => sleep.as_mut().poll(cx),
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let DeadlineKind::Listed(key) = self.kind {
            // `try_with`: a deadline dropped while the thread's locals are torn down has nothing
            // left to remove itself from.
            let _ = WORKER.try_with(|worker| {
                if let Ok(mut worker) = worker.try_borrow_mut() {
                    worker.entries.try_remove(key);
                }
            });
        }
    }
}

impl Worker {
    /// Makes sure a ticker wakes by `at`: starts one if none runs, and wakes it if it sleeps
    /// past `at` so that it sleeps until `at` instead. `false` when no ticker can serve this
    /// thread's list: outside a current-thread runtime, a spawned task may run on another thread.
    fn schedule(&mut self, at: Instant) -> bool {
        if !self.ticking {
            let flavor = Handle::try_current().map(|handle| handle.runtime_flavor());
            if !matches!(flavor, Ok(RuntimeFlavor::CurrentThread)) {
                return false;
            }
            self.ticking = true;
            self.wakes_at = Some(at);
            tokio::spawn(Ticker {
                sleep: Box::pin(tokio::time::sleep_until(at)),
                _running: Running,
            });
            return true;
        }
        if self.wakes_at.is_none_or(|wakes_at| at < wakes_at) {
            self.wakes_at = Some(at);
            if let Some(ticker) = self.ticker.take() {
                ticker.wake();
            }
        }
        true
    }

    /// Marks every deadline that has passed by `now` and takes the wakers of their tasks;
    /// returns the earliest deadline still to come.
    fn expire(&mut self, now: Instant, woken: &mut Vec<Waker>) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for (_, entry) in &mut self.entries {
            if entry.passed {
                continue;
            }
            if entry.at <= now {
                entry.passed = true;
                woken.extend(entry.waker.take());
            } else if next.is_none_or(|next| entry.at < next) {
                next = Some(entry.at);
            }
        }
        next
    }
}

/// The task serving one worker thread's list (see the module docs).
struct Ticker {
    sleep: Pin<Box<Sleep>>,
    _running: Running,
}

/// Clears the thread's `ticking` mark when its ticker ends (its runtime shut down), so that a
/// later runtime on the same thread starts its own.
struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        let _ = WORKER.try_with(|worker| {
            if let Ok(mut worker) = worker.try_borrow_mut() {
                worker.ticking = false;
                worker.ticker = None;
                worker.wakes_at = None;
            }
        });
    }
}

impl Future for Ticker {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut woken = Vec::new();
        loop {
            let next = WORKER.with_borrow_mut(|worker| {
                let next = worker.expire(Instant::now(), &mut woken);
                worker.wakes_at = next;
                match &mut worker.ticker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                next
            });
            // Woken outside the borrow: a waker may run code that arms a deadline.
            woken.drain(..).for_each(Waker::wake);
            let Some(next) = next else {
                return Poll::Pending;
            };
            if self.sleep.deadline() != next {
                self.sleep.as_mut().reset(next);
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        future::poll_fn,
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
        task::Wake,
        time::Duration,
    };

    use super::*;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (Arc::clone(&counter), Waker::from(Arc::clone(&counter)))
    }

    fn listed(deadline: &Deadline) -> bool {
        matches!(deadline.kind, DeadlineKind::Listed(_))
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_passes_at_its_instant_and_wakes_its_task() {
        let start = Instant::now();
        let mut deadline = Deadline::at(start + Duration::from_secs(5));
        assert!(listed(&deadline));
        let (counter, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(deadline.poll_passed(&mut cx).is_pending());

        tokio::time::sleep_until(start + Duration::from_millis(4_999)).await;
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        assert!(deadline.poll_passed(&mut cx).is_pending());

        tokio::time::sleep_until(start + Duration::from_secs(5)).await;
        tokio::task::yield_now().await;
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(deadline.poll_passed(&mut cx).is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_deadline_armed_later_still_fires_first() {
        let start = Instant::now();
        let mut late = Deadline::at(start + Duration::from_secs(180));
        // Let the ticker go to sleep until the late deadline.
        tokio::task::yield_now().await;
        let mut early = Deadline::at(start + Duration::from_secs(5));
        poll_fn(|cx| early.poll_passed(cx)).await;
        assert!(Instant::now() >= start + Duration::from_secs(5));
        assert!(Instant::now() < start + Duration::from_secs(6));
        let (_, waker) = counting_waker();
        assert!(late
            .poll_passed(&mut Context::from_waker(&waker))
            .is_pending());
    }

    #[tokio::test(start_paused = true)]
    async fn a_reset_deadline_fires_at_its_new_instant_and_a_dropped_one_never() {
        let start = Instant::now();
        let mut moved = Deadline::at(start + Duration::from_secs(1));
        let dropped = Deadline::at(start + Duration::from_millis(500));
        let (counter, waker) = counting_waker();
        drop(dropped);
        moved.reset(start + Duration::from_secs(3));
        assert!(moved
            .poll_passed(&mut Context::from_waker(&waker))
            .is_pending());
        tokio::time::sleep_until(start + Duration::from_secs(2)).await;
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        poll_fn(|cx| moved.poll_passed(cx)).await;
        assert!(Instant::now() >= start + Duration::from_secs(3));
        assert_eq!(WORKER.with_borrow(|worker| worker.entries.len()), 1);
        drop(moved);
        assert_eq!(WORKER.with_borrow(|worker| worker.entries.len()), 0);
    }

    #[test]
    fn a_multi_threaded_runtime_gets_a_timer_per_deadline() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let mut deadline = Deadline::at(Instant::now() + Duration::from_millis(10));
            assert!(!listed(&deadline));
            poll_fn(|cx| deadline.poll_passed(cx)).await;
        });
    }

    #[test]
    fn a_later_runtime_on_the_same_thread_starts_its_own_ticker() {
        for _ in 0..2 {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let start = Instant::now();
                let mut deadline = Deadline::at(start + Duration::from_secs(1));
                assert!(listed(&deadline));
                let passed = tokio::time::timeout(
                    Duration::from_secs(60),
                    poll_fn(|cx| deadline.poll_passed(cx)),
                )
                .await;
                assert!(passed.is_ok(), "the deadline never fired");
                assert!(Instant::now() >= start + Duration::from_secs(1));
            });
            drop(runtime);
            assert!(!WORKER.with_borrow(|worker| worker.ticking));
        }
    }
}
