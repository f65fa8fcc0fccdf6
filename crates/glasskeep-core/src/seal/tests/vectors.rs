//! Known-answer and negative vectors from tests/vectors/seal/piv-p256.json (computed by
//! an independent implementation, tests/vectors/seal/generate.py).

use p256::SecretKey;
use serde_json::Value;

use super::SoftToken;
use crate::seal::*;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/seal/piv-p256.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex(v: &Value) -> Vec<u8> {
    crate::hex::decode(v.as_str().unwrap()).unwrap()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn list<'v>(v: &'v Value, key: &str) -> &'v Vec<Value> {
    v[key].as_array().unwrap()
}

fn kat_token(kat: &Value, serial: u32) -> SoftToken {
    SoftToken::new(
        SecretKey::from_slice(&hex(&kat["recipient_secret"])).unwrap(),
        serial,
    )
}

fn stanza_error_name(e: &StanzaError) -> &'static str {
    match e {
        StanzaError::NotPivP256 { .. } => "NotPivP256",
        StanzaError::ArgumentCount { .. } => "ArgumentCount",
        StanzaError::TagEncoding => "TagEncoding",
        StanzaError::TagLength { .. } => "TagLength",
        StanzaError::EphemeralEncoding => "EphemeralEncoding",
        StanzaError::EphemeralIdentity => "EphemeralIdentity",
        StanzaError::EphemeralUncompressed => "EphemeralUncompressed",
        StanzaError::EphemeralLength { .. } => "EphemeralLength",
        StanzaError::EphemeralInvalidPoint => "EphemeralInvalidPoint",
        StanzaError::BodyLength { .. } => "BodyLength",
    }
}

fn unwrap_error_name(e: &UnwrapError) -> String {
    match e {
        UnwrapError::Malformed(e) => stanza_error_name(e).into(),
        UnwrapError::WrongRecipient { .. } => "WrongRecipient".into(),
        UnwrapError::Card(_) => "Card".into(),
        UnwrapError::CardAnswer { .. } => "CardAnswer".into(),
        UnwrapError::KeyUnwrapFailed { .. } => "KeyUnwrapFailed".into(),
    }
}

fn unseal_error_name(e: &UnsealError) -> String {
    match e {
        UnsealError::NotAgeFile { .. } => "NotAgeFile".into(),
        UnsealError::StanzaCount { .. } => "StanzaCount".into(),
        UnsealError::ForeignStanza { .. } => "ForeignStanza".into(),
        UnsealError::MalformedStanza(e) => format!("MalformedStanza:{}", stanza_error_name(e)),
        UnsealError::WrongRecipient { .. } => "WrongRecipient".into(),
        UnsealError::Card(_) => "Card".into(),
        UnsealError::CardAnswer { .. } => "CardAnswer".into(),
        UnsealError::KeyUnwrapFailed { .. } => "KeyUnwrapFailed".into(),
        UnsealError::HeaderMac => "HeaderMac".into(),
        UnsealError::Payload => "Payload".into(),
    }
}

fn target_error_name(e: &TargetError) -> String {
    match e {
        TargetError::NotAgeFile { .. } => "NotAgeFile".into(),
        TargetError::StanzaCount { .. } => "StanzaCount".into(),
        TargetError::ForeignStanza { .. } => "ForeignStanza".into(),
        TargetError::MalformedStanza(e) => format!("MalformedStanza:{}", stanza_error_name(e)),
    }
}

#[test]
fn known_answers() {
    let v = vectors();
    for kat in list(&v, "known_answer") {
        let name = text(&kat["name"]);
        let secret = SecretKey::from_slice(&hex(&kat["recipient_secret"])).unwrap();
        let recipient = PivP256Recipient::from_point(secret.public_key());
        assert_eq!(
            recipient.to_compressed().to_vec(),
            hex(&kat["recipient_compressed"]),
            "{name}"
        );
        assert_eq!(recipient.to_string(), text(&kat["recipient"]), "{name}");
        assert_eq!(
            text(&kat["recipient"]).parse::<PivP256Recipient>().unwrap(),
            recipient
        );
        assert_eq!(recipient.tag().0.to_vec(), hex(&kat["tag"]), "{name}");

        let ephemeral = SecretKey::from_slice(&hex(&kat["ephemeral_secret"])).unwrap();
        let file_key: [u8; 16] = hex(&kat["file_key"]).try_into().unwrap();
        let wrapped = recipient.wrap_with_ephemeral(&file_key, &ephemeral);
        assert_eq!(
            wrapped.ephemeral.to_vec(),
            hex(&kat["ephemeral_compressed"]),
            "{name}"
        );
        let shared_x: [u8; 32] = hex(&kat["shared_x"]).try_into().unwrap();
        let key =
            stanza::derive_wrap_key(&shared_x, &wrapped.ephemeral, &recipient.to_compressed());
        assert_eq!(key.to_vec(), hex(&kat["wrap_key"]), "{name}");
        assert_eq!(wrapped.body.to_vec(), hex(&kat["body"]), "{name}");
        let stanza = wrapped.to_stanza();
        let line = format!("-> {} {}", stanza.tag, stanza.args.join(" "));
        assert_eq!(line, text(&kat["stanza_line"]), "{name}");
        // Parse -> serialize gives the same stanza.
        assert_eq!(PivP256Stanza::parse(&stanza).unwrap(), wrapped);

        let serial = kat["serial"].as_u64().unwrap() as u32;
        let slot = Slot::retired(kat["slot"].as_u64().unwrap() as u8).unwrap();
        let stub = IdentityStub {
            serial,
            slot,
            tag: recipient.tag(),
        };
        assert_eq!(stub.to_string(), text(&kat["identity_stub"]), "{name}");
        assert_eq!(
            text(&kat["identity_stub"]).parse::<IdentityStub>().unwrap(),
            stub
        );

        let mut token = kat_token(kat, serial);
        token.slot = slot;
        let identity = PivP256Identity::new(&mut token, slot, recipient).unwrap();
        assert_eq!(identity.stub(), stub);
        let unwrapped = identity.unwrap(&stanza).unwrap();
        assert_eq!(
            age_core::secrecy::ExposeSecret::expose_secret(&unwrapped),
            &file_key
        );
    }
}

#[test]
fn known_answer_files() {
    let v = vectors();
    for f in list(&v, "files") {
        let name = text(&f["name"]);
        let kat = list(&v, "known_answer")
            .iter()
            .find(|k| k["name"] == f["kat"])
            .unwrap();
        let secret = SecretKey::from_slice(&hex(&kat["recipient_secret"])).unwrap();
        let recipient = PivP256Recipient::from_point(secret.public_key());
        let ephemeral = SecretKey::from_slice(&hex(&kat["ephemeral_secret"])).unwrap();
        let file_key: [u8; 16] = hex(&kat["file_key"]).try_into().unwrap();
        let nonce: [u8; 16] = hex(&f["payload_nonce"]).try_into().unwrap();
        let plaintext = hex(&f["plaintext"]);
        let stanza = recipient
            .wrap_with_ephemeral(&file_key, &ephemeral)
            .to_stanza();
        let written = agefile::write(&stanza, &file_key, &nonce, &plaintext);
        assert_eq!(written, hex(&f["age_file"]), "{name}: writer");
        assert_eq!(stanza_target(&written).unwrap(), recipient.tag(), "{name}");
        let mut token = kat_token(kat, 1);
        let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
        assert_eq!(
            *unseal(&written, &identity).unwrap(),
            plaintext,
            "{name}: reader"
        );
    }
}

#[test]
fn negative_stanzas() {
    let v = vectors();
    let kat = &list(&v, "known_answer")[0];
    let cases = list(&v, "negative_stanzas");
    assert!(cases.len() >= 15);
    for case in cases {
        let name = text(&case["name"]);
        let expect = text(&case["expect"]);
        let stanza = Stanza {
            tag: text(&case["type"]).into(),
            args: case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| text(a).to_owned())
                .collect(),
            body: hex(&case["body"]),
        };
        let mut token = kat_token(kat, 1);
        let calls = token.ecdh_calls.clone();
        let recipient = token.recipient();
        let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
        let Err(e) = identity.unwrap(&stanza) else {
            panic!("{name}: accepted, expected {expect}");
        };
        assert_eq!(unwrap_error_name(&e), expect, "{name}: {e}");
        // Syntax errors are found by the parser alone and never reach the card.
        if let UnwrapError::Malformed(parse_error) = &e {
            assert_eq!(
                PivP256Stanza::parse(&stanza).as_ref().err(),
                Some(parse_error)
            );
            assert_eq!(calls.get(), 0, "{name}");
        }
        if expect == "WrongRecipient" {
            assert_eq!(calls.get(), 0, "{name}");
        }
    }
}

#[test]
fn negative_files() {
    let v = vectors();
    let kat = &list(&v, "known_answer")[0];
    let cases = list(&v, "negative_files");
    assert!(cases.len() >= 15);
    for case in cases {
        let name = text(&case["name"]);
        let expect = text(&case["expect"]);
        let file = hex(&case["age_file"]);
        let mut token = kat_token(kat, 1);
        let calls = token.ecdh_calls.clone();
        let recipient = token.recipient();
        let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
        let Err(e) = unseal(&file, &identity) else {
            panic!("{name}: accepted, expected {expect}");
        };
        assert_eq!(unseal_error_name(&e), expect, "{name}: {e}");
        // stanza_target refuses the same header-level faults, with the same class.
        let header_level = [
            "NotAgeFile",
            "StanzaCount",
            "ForeignStanza",
            "MalformedStanza",
        ];
        if header_level.iter().any(|p| expect.starts_with(p)) {
            let t = stanza_target(&file).unwrap_err();
            assert_eq!(target_error_name(&t), expect, "{name}: stanza_target");
        } else {
            stanza_target(&file).unwrap();
        }
        // The card is asked only for files whose header passed every syntactic check
        // and names this card's key.
        let card_expected = ["KeyUnwrapFailed", "HeaderMac", "Payload"].contains(&expect);
        assert_eq!(calls.get(), u32::from(card_expected), "{name}: card calls");
    }
}

#[test]
fn negative_recipients() {
    let v = vectors();
    for case in list(&v, "negative_recipients") {
        let name = text(&case["name"]);
        let err = text(&case["text"]).parse::<PivP256Recipient>().unwrap_err();
        let got = match err {
            RecipientError::NotBech32 => "NotBech32",
            RecipientError::WrongHrp { .. } => "WrongHrp",
            RecipientError::NotCanonical => "NotCanonical",
            RecipientError::WrongLength { .. } => "WrongLength",
            RecipientError::InvalidPoint => "InvalidPoint",
        };
        assert_eq!(got, text(&case["expect"]), "{name}");
    }
}

#[test]
fn negative_stubs() {
    let v = vectors();
    for case in list(&v, "negative_stubs") {
        let name = text(&case["name"]);
        let err = text(&case["text"]).parse::<IdentityStub>().unwrap_err();
        let got = match err {
            StubError::NotBech32 => "NotBech32",
            StubError::WrongHrp { .. } => "WrongHrp",
            StubError::WrongLength { .. } => "WrongLength",
            StubError::NotRetiredSlot { .. } => "NotRetiredSlot",
            StubError::NotCanonical => "NotCanonical",
        };
        assert_eq!(got, text(&case["expect"]), "{name}");
    }
}
