//! Known-answer vectors for the envelope decoders: tests/vectors/envelope/index.txt
//! names each file, the decoder it feeds and the exact outcome (`ok`, or the error's
//! variant as its Debug form begins). Negative cases far outnumber positive ones.
//!
//! The files are data, checked in. `GLASSKEEP_WRITE_VECTORS=1 cargo test --test
//! envelope_vectors` rewrites them from the generator (envelope_vectors/generator.rs); otherwise the test also
//! proves the files still equal what the generator makes, so neither drifts alone.

use std::fmt::Write as _;
use std::path::PathBuf;

use glasskeep_core::envelope::{base45, qr, text, Envelope};

#[path = "envelope_vectors/generator.rs"]
mod generator;
use generator::generate;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/envelope")
}

fn ext(kind: &str) -> &'static str {
    match kind {
        "envelope" => "hex",
        "qr" => "qr",
        "text" => "txt",
        _ => "b45",
    }
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The outcome of feeding a vector file to its decoder, as the index spells it.
fn outcome(kind: &str, content: &str) -> String {
    fn show<T, E: std::fmt::Debug>(r: Result<T, E>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => format!("{e:?}"),
        }
    }
    match kind {
        "envelope" => {
            let bytes = unhex(content);
            match Envelope::decode(&bytes) {
                Ok(e) => {
                    // Positive vectors must also re-encode to the same bytes.
                    assert_eq!(e.encode().unwrap(), bytes, "re-encoding changed the bytes");
                    "ok".into()
                }
                Err(e) => format!("{e:?}"),
            }
        }
        "qr" => {
            let parts: Vec<&str> = content.lines().filter(|l| !l.is_empty()).collect();
            show(qr::decode_parts(&parts))
        }
        "text" => show(text::decode_text(content)),
        _ => show(base45::decode(content.trim_end_matches('\n'))),
    }
}

#[test]
fn every_vector_gives_its_exact_outcome() {
    let vectors = generate();
    if std::env::var_os("GLASSKEEP_WRITE_VECTORS").is_some() {
        let mut index = String::from(
            "# file | decoder | expected outcome (\"ok\" or the start of the error's Debug form)\n",
        );
        for v in &vectors {
            let file = format!("{}.{}", v.name, ext(v.kind));
            std::fs::write(dir().join(&file), &v.content).unwrap();
            let _ = writeln!(index, "{file} | {} | {}", v.kind, v.expected);
        }
        std::fs::write(dir().join("index.txt"), index).unwrap();
    }
    let index = std::fs::read_to_string(dir().join("index.txt")).unwrap();
    let mut seen = 0;
    let mut negative = 0;
    for line in index
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.splitn(3, " | ").collect();
        let (file, kind, expected) = (f[0], f[1], f[2]);
        let content = std::fs::read_to_string(dir().join(file)).unwrap();
        let got = outcome(kind, &content);
        assert!(
            got.starts_with(expected),
            "{file}: expected {expected}, got {got}"
        );
        let generated = vectors
            .iter()
            .find(|v| format!("{}.{}", v.name, ext(v.kind)) == file)
            .unwrap_or_else(|| panic!("{file} is not made by the generator"));
        assert_eq!(
            generated.content,
            content.as_bytes(),
            "{file} differs from the generator"
        );
        seen += 1;
        if expected != "ok" {
            negative += 1;
        }
    }
    assert_eq!(seen, vectors.len());
    assert!(
        negative >= 30 && negative > 4 * (seen - negative),
        "{negative} of {seen}"
    );
}
