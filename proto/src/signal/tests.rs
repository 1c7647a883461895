use super::*;

#[test]
fn language_tags_are_checked_before_reaching_the_caseworker() {
    assert_eq!(clean_language_tag("fa-AF").as_deref(), Some("fa-AF"));
    assert_eq!(clean_language_tag("ar"), Some("ar".into()));
    assert_eq!(clean_language_tag(""), None);
    assert_eq!(clean_language_tag("<b>ar</b>"), None);
    assert_eq!(clean_language_tag("ar\u{202E}"), None);
    assert_eq!(clean_language_tag(&"a".repeat(36)), None);
    let m = SignalMessage::Resident { lang: "ti".into() };
    assert_eq!(m.to_json(), r#"{"type":"resident","lang":"ti"}"#);
}

#[test]
fn hello_round_trip_and_unknown_fields_ignored() {
    let m =
        SignalMessage::parse(r#"{"type":"hello","v":1,"role":"agent","lang":"fa","x":3}"#).unwrap();
    assert_eq!(
        m,
        SignalMessage::client_hello(Role::Agent, Some("fa".into()))
    );
    assert_eq!(SignalMessage::parse(&m.to_json()).unwrap(), m);
}

#[test]
fn ice_servers_round_trip_with_credentials() {
    let m = SignalMessage::parse(
        r#"{"type":"ice_servers","ice_servers":[{"urls":["turn:r.example:3478?transport=udp"],
            "username":"1764000000:s-1:a","credential":"c2VjcmV0"}],"relay_only":true}"#,
    )
    .unwrap();
    let SignalMessage::IceServers {
        ice_servers,
        relay_only,
    } = &m
    else {
        panic!("{m:?}");
    };
    assert!(relay_only);
    assert_eq!(ice_servers[0].username.as_deref(), Some("1764000000:s-1:a"));
    assert_eq!(SignalMessage::parse(&m.to_json()).unwrap(), m);
    let plain = SignalMessage::parse(r#"{"type":"ice_servers","ice_servers":[]}"#).unwrap();
    assert!(!plain.to_json().contains("relay_only"), "false is left out");
}

#[test]
fn resumption_messages_parse_from_what_the_viewer_sends() {
    let m = SignalMessage::parse(
        r#"{"type":"hello","v":1,"role":"viewer","resume":"00112233445566778899aabbccddeeff"}"#,
    )
    .unwrap();
    assert!(matches!(
        m,
        SignalMessage::Hello { resume: Some(ref t), .. } if t.len() == 32
    ));
    assert_eq!(
        SignalMessage::parse(r#"{"type":"peer_away","extra":1}"#).unwrap(),
        SignalMessage::PeerAway
    );
    assert_eq!(
        SignalMessage::parse(r#"{"type":"bye","reason":"connection_lost"}"#).unwrap(),
        SignalMessage::Bye {
            reason: ByeReason::ConnectionLost
        }
    );
    assert_eq!(
        SignalMessage::parse(r#"{"type":"resumed"}"#)
            .unwrap_err()
            .code(),
        ErrorCode::Malformed,
        "peer_present is required"
    );
    assert_eq!(
        SignalMessage::parse(r#"{"type":"resume_token","token":5}"#)
            .unwrap_err()
            .code(),
        ErrorCode::Malformed
    );
}

#[test]
fn other_major_version_is_refused() {
    let e = SignalMessage::parse(r#"{"type":"hello","v":2,"role":"viewer"}"#).unwrap_err();
    assert_eq!(e, SignalError::UnsupportedVersion { got: 2 });
    assert_eq!(e.code(), ErrorCode::UnsupportedVersion);
}

#[test]
fn size_limit_is_checked_before_parsing() {
    let big = format!(
        r#"{{"type":"offer","sdp":"{}"}}"#,
        "a".repeat(MAX_MESSAGE_BYTES)
    );
    assert!(matches!(
        SignalMessage::parse(&big),
        Err(SignalError::TooLarge { .. })
    ));
    let fits = format!(r#"{{"type":"offer","sdp":"{}"}}"#, "a".repeat(60_000));
    assert!(SignalMessage::parse(&fits).is_ok());
}

#[test]
fn malformed_inputs_get_clear_errors() {
    for bad in [
        "",
        "nope",
        "[1,2]",
        "{}",
        r#"{"type":3}"#,
        r#"{"type":"offer"}"#,
        r#"{"type":"redeem","code":12}"#,
        r#"{"type":"bye","reason":7}"#,
    ] {
        let e = SignalMessage::parse(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Malformed, "{bad}: {e}");
    }
}

#[test]
fn unknown_type_is_named_and_cut() {
    let e = SignalMessage::parse(r#"{"type":"teleport"}"#).unwrap_err();
    assert_eq!(e, SignalError::UnknownType("teleport".into()));
    let long = format!(r#"{{"type":"{}"}}"#, "x".repeat(500));
    match SignalMessage::parse(&long).unwrap_err() {
        SignalError::UnknownType(t) => assert_eq!(t.len(), 40),
        other => panic!("{other:?}"),
    }
}

#[test]
fn consent_events_parse_and_unknown_ones_are_other() {
    let m = SignalMessage::parse(r#"{"type":"consent","event":"view_timeout"}"#).unwrap();
    assert_eq!(
        m,
        SignalMessage::Consent {
            event: ConsentEvent::ViewTimeout
        }
    );
    let m = SignalMessage::parse(r#"{"type":"consent","event":"telepathy"}"#).unwrap();
    assert_eq!(
        m,
        SignalMessage::Consent {
            event: ConsentEvent::Other
        }
    );
    let m = SignalMessage::parse(r#"{"type":"redeem","code":"1"}"#).unwrap();
    assert_eq!(
        m,
        SignalMessage::Redeem {
            code: "1".into(),
            procedure: None
        }
    );
}

#[test]
fn candidate_uses_browser_field_names() {
    let json = r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}"#;
    let m = SignalMessage::parse(json).unwrap();
    match &m {
        SignalMessage::Candidate {
            sdp_mid,
            sdp_mline_index,
            ..
        } => {
            assert_eq!(sdp_mid.as_deref(), Some("0"));
            assert_eq!(*sdp_mline_index, Some(0));
        }
        other => panic!("{other:?}"),
    }
    assert!(m.to_json().contains("\"sdpMLineIndex\":0"));
}

#[test]
fn newer_reasons_and_codes_degrade_gracefully() {
    let m = SignalMessage::parse(r#"{"type":"bye","reason":"moon_phase"}"#).unwrap();
    assert_eq!(
        m,
        SignalMessage::Bye {
            reason: ByeReason::Other
        }
    );
    let m = SignalMessage::parse(r#"{"type":"error","code":"new_thing","message":"m"}"#).unwrap();
    assert!(matches!(
        m,
        SignalMessage::Error {
            code: ErrorCode::Other,
            ..
        }
    ));
}

#[test]
fn an_error_says_when_to_retry_as_a_number_and_only_when_known() {
    let m = SignalMessage::error_retry(ErrorCode::RateLimited, "too many", 600);
    let json = m.to_json();
    assert!(json.contains("\"retry_after_s\":600"), "{json}");
    assert!(json.contains("\"code\":\"rate_limited\""), "{json}");
    let plain = SignalMessage::error(ErrorCode::AuditDown, "disk").to_json();
    assert!(!plain.contains("retry_after_s"), "{plain}");
    assert!(plain.contains("\"code\":\"audit_down\""), "{plain}");
    // An older relay's error (no number) still parses.
    let old = SignalMessage::parse(r#"{"type":"error","code":"rate_limited","message":"m"}"#);
    assert!(matches!(
        old,
        Ok(SignalMessage::Error {
            retry_after_s: None,
            ..
        })
    ));
}

#[test]
fn every_known_type_parses_from_its_own_json() {
    let all = vec![
        SignalMessage::client_hello(Role::Viewer, None),
        SignalMessage::Code {
            code: "123456".into(),
            expires_in: 600,
        },
        SignalMessage::Redeem {
            code: "123456".into(),
            procedure: Some("CAF renewal".into()),
        },
        SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        },
        SignalMessage::Paired {
            by: Some(Requester {
                name: None,
                site: "S".into(),
            }),
        },
        SignalMessage::Offer { sdp: "v=0".into() },
        SignalMessage::Answer { sdp: "v=0".into() },
        SignalMessage::error(ErrorCode::InvalidCode, "wrong"),
        SignalMessage::error_retry(ErrorCode::RateLimited, "later", 600),
        SignalMessage::error(ErrorCode::AuditDown, "disk"),
        SignalMessage::Bye {
            reason: ByeReason::Refused,
        },
        SignalMessage::Bye {
            reason: ByeReason::ConnectionLost,
        },
        SignalMessage::ResumeToken {
            token: "00112233445566778899aabbccddeeff".into(),
        },
        SignalMessage::Resumed {
            by: None,
            peer_present: false,
        },
        SignalMessage::PeerAway,
        SignalMessage::PeerBack,
    ];
    for m in all {
        assert_eq!(SignalMessage::parse(&m.to_json()).unwrap(), m);
        assert!(KNOWN_TYPES.contains(&m.kind()));
    }
}
