//! Tests of the injector thread's loop with a recording injector.

use super::*;
use crate::input::consent::ConsentGate;
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

#[test]
fn input_queued_behind_a_revoked_grant_is_dropped() {
    let (tx, rx) = sync_channel(QUEUE_LEN);
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    tx.send(Command::Input(
        g.clone(),
        ViewerMessage::Text {
            text: "secret".into(),
        },
    ))
    .unwrap();
    gate.stop();
    tx.send(Command::ReleaseAll).unwrap();
    drop(tx);
    let mut rec = Recorder::default();
    run(&mut rec, &rx, &AtomicUsize::new(6));
    assert!(rec.played.is_empty());
    assert_eq!(rec.releases, 1);
}

#[test]
fn a_burst_of_moves_is_coalesced_to_the_last_and_order_is_kept() {
    let (tx, rx) = sync_channel(20_000);
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    for i in 0..10_000 {
        tx.send(Command::Input(g.clone(), moved(f64::from(i) / 10_000.0)))
            .unwrap();
    }
    let click = ViewerMessage::Button {
        button: acote_proto::channel::MouseButton::Left,
        action: acote_proto::channel::ButtonAction::Click,
    };
    tx.send(Command::Input(g.clone(), click.clone())).unwrap();
    tx.send(Command::Input(g, moved(0.25))).unwrap();
    drop(tx);
    let mut rec = Recorder::default();
    run(&mut rec, &rx, &AtomicUsize::new(0));
    assert_eq!(
        rec.played,
        vec![moved(9_999.0 / 10_000.0), click, moved(0.25)]
    );
}

#[test]
fn the_queue_and_the_text_budget_are_bounded() {
    // No thread drains this handle: the bounds themselves are under test.
    let (tx, _rx) = sync_channel(QUEUE_LEN);
    let handle = InjectorHandle {
        tx,
        text_queued: Arc::new(AtomicUsize::new(0)),
    };
    let mut gate = ConsentGate::new();
    let g = grant(&mut gate);
    let page = ViewerMessage::Text {
        text: "é".repeat(1024),
    }; // 2 KiB
    let accepted = (0..10)
        .filter(|_| handle.send(g.clone(), page.clone()).is_ok())
        .count();
    assert_eq!(accepted, TEXT_BUDGET / 2048);
    let mut refused = 0;
    for i in 0..10_000 {
        if handle.send(g.clone(), moved(f64::from(i) / 10_000.0)) == Err(QueueRefusal::TooMany) {
            refused += 1;
        }
    }
    assert_eq!(refused, 10_000 - (QUEUE_LEN - accepted));
}
