//! Tests of the injector's queue and thread loop with a recording injector.

use super::*;
use crate::input::consent::ConsentGate;
use acote_proto::channel::{ButtonAction, MouseButton};
use std::time::Instant;

#[derive(Default)]
struct Recorder {
    played: Vec<ViewerMessage>,
    releases: usize,
}

impl Injector for Recorder {
    fn inject(&mut self, grant: &Grant, input: &ViewerMessage) -> Result<(), InjectError> {
        assert!(grant.is_live(), "the loop must never pass a dead grant");
        self.played.push(input.clone());
        Ok(())
    }
    fn release_all(&mut self) -> Result<(), InjectError> {
        self.releases += 1;
        Ok(())
    }
}

fn grant(gate: &mut ConsentGate) -> Grant {
    let now = Instant::now();
    gate.request(now);
    gate.answer(now, true);
    gate.admit().unwrap()
}

fn moved(x: f64) -> ViewerMessage {
    ViewerMessage::Pointer { x, y: 0.5 }
}

fn click() -> ViewerMessage {
    ViewerMessage::Button {
        button: MouseButton::Left,
        action: ButtonAction::Click,
    }
}

/// A handle whose queue no thread drains: what is queued stays for the test to look at.
fn undrained() -> InjectorHandle {
    InjectorHandle {
        shared: Arc::new(Shared::default()),
    }
}

/// Plays what the handle queued, as the thread would, once the handle is gone.
fn play(handle: InjectorHandle) -> Recorder {
    let shared = Arc::clone(&handle.shared);
    drop(handle);
    let mut rec = Recorder::default();
    run(&mut rec, &shared);
    rec
}

#[test]
fn input_queued_behind_a_revoked_grant_is_dropped() {
    let handle = undrained();
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    handle
        .send(
            g,
            ViewerMessage::Text {
                text: "secret".into(),
            },
        )
        .unwrap();
    gate.stop();
    handle.release_all();
    let rec = play(handle);
    assert!(rec.played.is_empty());
    assert_eq!(rec.releases, 1);
}

#[test]
fn a_burst_of_moves_is_coalesced_to_the_last_and_order_is_kept() {
    let handle = undrained();
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    for i in 0..10_000 {
        handle
            .send(g.clone(), moved(f64::from(i) / 10_000.0))
            .unwrap();
    }
    handle.send(g.clone(), click()).unwrap();
    handle.send(g, moved(0.25)).unwrap();
    let rec = play(handle);
    assert_eq!(
        rec.played,
        vec![moved(9_999.0 / 10_000.0), click(), moved(0.25)]
    );
}

#[test]
fn the_click_after_a_flood_of_moves_is_kept_while_the_injector_is_busy() {
    // The e2e burst: 10,000 moves arrive faster than X plays them, then a click and text.
    // The moves hold one place, so what follows them is not refused as "too many".
    let handle = undrained();
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    for i in 0..10_000 {
        assert_eq!(
            handle.send(g.clone(), moved(f64::from(i) / 10_000.0)),
            Ok(())
        );
    }
    assert_eq!(handle.send(g.clone(), moved(0.4)), Ok(()));
    assert_eq!(handle.send(g.clone(), click()), Ok(()));
    let fin = ViewerMessage::Text { text: "fin".into() };
    assert_eq!(handle.send(g, fin.clone()), Ok(()));
    assert_eq!(play(handle).played, vec![moved(0.4), click(), fin]);
}

#[test]
fn the_queue_and_the_text_budget_are_bounded() {
    let handle = undrained();
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    let page = ViewerMessage::Text {
        text: "é".repeat(1024),
    }; // 2 KiB
    let accepted = (0..10)
        .filter(|_| handle.send(g.clone(), page.clone()).is_ok())
        .count();
    assert_eq!(accepted, TEXT_BUDGET / 2048);
    let refused = (0..10_000)
        .filter(|_| handle.send(g.clone(), click()) == Err(QueueRefusal::TooMany))
        .count();
    assert_eq!(refused, 10_000 - (QUEUE_LEN - accepted));
    // Letting go is never refused, even on a full queue.
    handle.release_all();
    let rec = play(handle);
    assert_eq!(rec.releases, 1);
    assert_eq!(rec.played.len(), QUEUE_LEN);
}

#[test]
fn a_dead_injector_thread_refuses_as_closed() {
    let handle = spawn(|| Err::<Recorder, _>(InjectError::Open("no display".into())));
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while handle.send(g.clone(), click()) != Err(QueueRefusal::Closed) {
        assert!(
            Instant::now() < deadline,
            "the handle never saw the thread end"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn the_thread_plays_what_is_sent_and_ends_with_its_handle() {
    use std::sync::mpsc;
    struct Forward(mpsc::Sender<ViewerMessage>);
    impl Injector for Forward {
        fn inject(&mut self, _: &Grant, input: &ViewerMessage) -> Result<(), InjectError> {
            let _ = self.0.send(input.clone());
            Ok(())
        }
        fn release_all(&mut self) -> Result<(), InjectError> {
            Ok(())
        }
    }
    let (tx, rx) = mpsc::channel();
    let handle = spawn(move || Ok(Forward(tx)));
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    handle.send(g, click()).unwrap();
    let got = rx.recv_timeout(std::time::Duration::from_secs(10));
    assert_eq!(got.ok(), Some(click()));
    drop(handle);
    // The thread ends, dropping its sender.
    assert!(rx.recv_timeout(std::time::Duration::from_secs(10)).is_err());
}
