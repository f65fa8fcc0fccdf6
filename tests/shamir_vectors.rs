//! Known-answer vectors for the share-set core: tests/vectors/shamir/vectors.json.
//!
//! Each vector names an operation, its inputs and either the exact output bytes or the
//! exact error variant. Most are negative. The file is produced by
//! `GLASSKEEP_WRITE_VECTORS=1 cargo test --test shamir_vectors` from a seeded
//! generator and then only ever compared against: a change in any byte format or
//! error class shows up here as a failing vector.

use glasskeep_core::secret::SecretBytes;
use glasskeep_core::shamir::{
    combine, split_with_rng, CombineError, FormatError, Payload, SetId, Share, SplitError,
};
use rand::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/shamir/vectors.json"
);

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// "ThresholdBelowTwo", or "Cbor::NonCanonical" for a wrapped CBOR error.
fn variant<E: std::fmt::Debug>(e: &E) -> String {
    let d = format!("{e:?}");
    let head = |s: &str| s.split(['{', '(', ' ']).next().unwrap_or("").to_string();
    match d.strip_prefix("Cbor(") {
        Some(rest) => format!("Cbor::{}", head(rest)),
        None => head(&d),
    }
}

fn do_split(v: &Value) -> Result<(Vec<u8>, Vec<Vec<u8>>), SplitError> {
    let mut rng = ChaCha20Rng::seed_from_u64(v["seed"].as_u64().unwrap());
    let mut id = [0u8; 16];
    id.copy_from_slice(&unhex(v["set_id"].as_str().unwrap()));
    let set = split_with_rng(
        &SecretBytes::new(unhex(v["secret"].as_str().unwrap())),
        v["label"].as_str().unwrap(),
        v["t"].as_u64().unwrap() as usize,
        v["n"].as_u64().unwrap() as usize,
        SetId(id),
        &mut rng,
    )?;
    Ok((
        set.payload.encode(),
        set.shares.iter().map(|s| s.encode().to_vec()).collect(),
    ))
}

fn do_combine(v: &Value) -> Result<Vec<u8>, String> {
    let payload =
        Payload::decode(&unhex(v["payload"].as_str().unwrap())).map_err(|e| variant(&e))?;
    let shares: Vec<Share> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Share::decode(&unhex(s.as_str().unwrap())).map_err(|e| variant(&e)))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&Share> = shares.iter().collect();
    combine(&refs, &payload)
        .map(|s| s.expose().to_vec())
        .map_err(|e: CombineError| variant(&e))
}

fn run(v: &Value) -> Value {
    match v["op"].as_str().unwrap() {
        "split" => match do_split(v) {
            Ok((p, s)) => {
                json!({"result": "ok", "payload": hex(&p), "shares": s.iter().map(|x| hex(x)).collect::<Vec<_>>()})
            }
            Err(e) => json!({"result": variant(&e)}),
        },
        "combine" => match do_combine(v) {
            Ok(secret) => json!({"result": "ok", "secret": hex(&secret)}),
            Err(e) => json!({"result": e}),
        },
        "decode-payload" => match Payload::decode(&unhex(v["bytes"].as_str().unwrap())) {
            Ok(_) => json!({"result": "ok"}),
            Err(e) => json!({"result": variant::<FormatError>(&e)}),
        },
        "decode-share" => match Share::decode(&unhex(v["bytes"].as_str().unwrap())) {
            Ok(_) => json!({"result": "ok"}),
            Err(e) => json!({"result": variant::<FormatError>(&e)}),
        },
        op => panic!("unknown op {op}"),
    }
}

fn split_input(name: &str, seed: u64, secret: &[u8], label: &str, t: u64, n: u64) -> Value {
    json!({"name": name, "op": "split", "seed": seed, "set_id": hex(&[seed as u8; 16]), "secret": hex(secret), "label": label, "t": t, "n": n})
}

/// The inputs; expected outputs are filled in by running them once.
fn generate() -> Vec<Value> {
    let mut v = vec![
        split_input("split 2-of-2 password", 1, b"hunter2", "aws-root", 2, 2),
        split_input(
            "split 2-of-3 totp seed",
            2,
            b"JBSWY3DPEHPK3PXP",
            "totp",
            2,
            3,
        ),
        split_input(
            "split 3-of-5 recovery codes",
            3,
            b"1111-2222\n3333-4444\n",
            "recovery codes",
            3,
            5,
        ),
        split_input("split 2-of-3 one byte", 4, &[0], "x", 2, 3),
        split_input("split 1-of-3 refused", 5, b"pw", "l", 1, 3),
        split_input("split 4-of-3 refused", 6, b"pw", "l", 4, 3),
        split_input("split 2-of-256 refused", 7, b"pw", "l", 2, 256),
        split_input("split empty secret refused", 8, b"", "l", 2, 3),
        split_input("split empty label refused", 9, b"pw", "", 2, 3),
        split_input(
            "split control character in label refused",
            10,
            b"pw",
            "a\u{7}b",
            2,
            3,
        ),
    ];
    // Derive decode and combine vectors from the 2-of-3 set.
    let base = do_split(&v[1]).unwrap();
    let (p, s) = (&base.0, &base.1);
    let other = do_split(&v[2]).unwrap();
    let mut mutate = |name: &str, op: &str, bytes: Vec<u8>| {
        v.push(json!({"name": name, "op": op, "bytes": hex(&bytes)}));
    };
    mutate("payload canonical", "decode-payload", p.clone());
    mutate("share canonical", "decode-share", s[0].clone());
    mutate(
        "payload truncated",
        "decode-payload",
        p[..p.len() - 1].to_vec(),
    );
    mutate(
        "payload trailing byte",
        "decode-payload",
        [p.clone(), vec![0]].concat(),
    );
    let mut ver = p.clone();
    ver[2] = 0x02; // key 0's value: version 2
    mutate("payload unknown version", "decode-payload", ver);
    let mut non_canon = vec![p[0], p[1], 0x18, 0x01];
    non_canon.extend_from_slice(&p[3..]);
    mutate(
        "payload version in a non-shortest head",
        "decode-payload",
        non_canon,
    );
    let mut share_tn = s[0].clone();
    // Keys 3 and 4 (threshold, count) in the 2-of-3 share: set threshold to 4 > 3.
    let pos = share_tn.windows(2).position(|w| w == [0x03, 0x02]).unwrap();
    share_tn[pos + 1] = 0x04;
    mutate("share threshold above count", "decode-share", share_tn);
    let mut share_t1 = s[0].clone();
    share_t1[pos + 1] = 0x01;
    mutate("share threshold 1", "decode-share", share_t1);
    let mut share_idx = s[0].clone();
    let ipos = share_idx
        .windows(2)
        .position(|w| w == [0x02, 0x01])
        .unwrap();
    share_idx[ipos + 1] = 0x05;
    mutate("share index above count", "decode-share", share_idx);
    let mut share_key = s[0].clone();
    share_key[1] = 0x01; // first key 1 instead of 0
    mutate("share unexpected key", "decode-share", share_key);
    let mut short = s[0].clone();
    short[0] = 0xa6; // map of 6 instead of 7
    mutate("share map too short", "decode-share", short);
    mutate(
        "share as indefinite map",
        "decode-share",
        [vec![0xbf], s[0][1..].to_vec(), vec![0xff]].concat(),
    );

    let comb = |name: &str, shares: Vec<&Vec<u8>>, payload: &Vec<u8>| json!({"name": name, "op": "combine", "payload": hex(payload), "shares": shares.iter().map(|x| hex(x)).collect::<Vec<_>>()});
    v.push(comb("combine shares 3 and 1", vec![&s[2], &s[0]], p));
    v.push(comb("combine all three", vec![&s[0], &s[1], &s[2]], p));
    v.push(comb("combine one share only", vec![&s[1]], p));
    v.push(comb("combine duplicate share", vec![&s[1], &s[1]], p));
    v.push(comb(
        "combine share of another set",
        vec![&s[0], &other.1[1]],
        p,
    ));
    let mut flipped = s[1].clone();
    let l = flipped.len();
    flipped[l - 40] ^= 0x01; // inside the share value
    v.push(comb(
        "combine altered share among t",
        vec![&s[0], &flipped],
        p,
    ));
    v.push(comb(
        "combine altered share among t+1",
        vec![&s[0], &flipped, &s[2]],
        p,
    ));
    v
}

#[test]
fn vectors_match() {
    if std::env::var_os("GLASSKEEP_WRITE_VECTORS").is_some() {
        let inputs = generate();
        let out: Vec<Value> = inputs
            .into_iter()
            .map(|mut v| {
                let r = run(&v);
                v["expect"] = r;
                v
            })
            .collect();
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
    }
    let vectors: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let negative = vectors
        .iter()
        .filter(|v| v["expect"]["result"] != "ok")
        .count();
    assert!(vectors.len() >= 20, "{} vectors", vectors.len());
    assert!(
        negative * 10 >= vectors.len() * 6,
        "{negative} of {} negative",
        vectors.len()
    );
    for v in &vectors {
        assert_eq!(run(v), v["expect"], "vector {:?}", v["name"]);
    }
}
