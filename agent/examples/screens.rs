//! Shows each screen of the resident's window in turn, for screenshots and for looking
//! at a translation: `cargo run -p acote-agent --example screens -- ar`. It prints
//! `screen NAME` when a screen is up and moves to the next when a line arrives on stdin
//! (`scripts/screens.sh` takes a picture in between). No relay is involved.

use std::io::BufRead;
use std::time::Duration;

use acote_agent::platform;
use acote_agent::ui::Prompter;
use acote_agent::ui::Status;
use acote_agent::ui::i18n::Lang;
use acote_agent::ui::screen::Problem;
use acote_agent::ui::window::{self, WindowSetup};
use acote_proto::ByeReason;
use acote_proto::Requester;
use acote_proto::channel::ControlState;

/// The resident's answer in the chat, in their language.
fn reply(lang: Lang) -> &'static str {
    match lang.tag() {
        "ar" => "شكرا، وجدت الزر.",
        "fa-AF" => "تشکر، دکمه را پیدا کردم.",
        "ps" => "مننه، تڼۍ مې وموندله.",
        "ti" => "የቐንየለይ፡ ነቲ መልጎም ረኺበዮ።",
        "uk" => "Дякую, я знайшла кнопку.",
        "ru" => "Спасибо, я нашла кнопку.",
        "en" => "Thank you, I found the button.",
        _ => "Merci, j'ai trouvé le bouton.",
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tag = std::env::args().nth(1).unwrap_or_else(|| "fr".into());
    let lang = Lang::from_tag(&tag).ok_or("unknown language")?;
    let problem = std::env::args().nth(2).as_deref() == Some("problem");
    let display = std::env::var("DISPLAY").ok();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let setup = WindowSetup {
        lang,
        site: Some("CHRS Les Lilas".into()),
        problem: problem.then(|| {
            (
                Problem::BrokenConfig,
                "acote-agent.toml is not valid: TOML parse error at line 2".to_string(),
            )
        }),
        hotkey: Some(platform::HOTKEY_KEYS),
        screen_size: platform::screen_size(display.as_deref()),
        border: platform::border(display),
    };
    let mut p = window::open(setup, tx, || {
        let _ = slint::quit_event_loop();
    })?;
    let step = |name: &str| {
        std::thread::sleep(Duration::from_millis(700));
        println!("screen {name}");
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    };
    std::thread::spawn(move || {
        let marie = Requester {
            name: Some("Marie Dupont".into()),
            site: "CHRS Les Lilas".into(),
        };
        if problem {
            step("problem");
        } else {
            p.status(&Status::Connected {
                site: "CHRS Les Lilas".into(),
            });
            p.show_code("482 913");
            step("waiting");
            p.ask_view(&marie, Duration::from_secs(60));
            step("ask-view");
            p.sharing(&marie);
            p.data_sent(2_400_000);
            // The known-answer vector's code (proto/src/sas.rs): 6301.
            let fp = acote_proto::sas::Fingerprint::from_bytes;
            let nonce = acote_proto::sas::Nonce::from_bytes;
            p.security_code(acote_proto::sas::derive(
                &fp([0x11; 32]),
                &fp([0x22; 32]),
                &nonce([0x33; 32]),
                &nonce([0x44; 32]),
            ));
            step("sharing");
            p.chat_received(
                &marie,
                "Bonjour ! Cliquez sur « Suivant », en bas de la page.\nLe lien : https://www.caf.fr/allocataires",
            );
            p.chat_sent(reply(lang));
            step("chat");
            p.ask_control(&marie, Duration::from_secs(60));
            step("ask-control");
            p.control_changed(ControlState::Controlling, &marie);
            step("controlling");
            p.ended(ByeReason::Ended, 1);
            step("ended");
        }
        let _ = slint::quit_event_loop();
    });
    slint::run_event_loop_until_quit()?;
    Ok(())
}
