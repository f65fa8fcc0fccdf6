#!/usr/bin/env bash
# Writes docs/BENCHMARKS.md from one run on this machine: card round trips and human
# actions through pcscd (against age-plugin-yubikey on the same simulated card), the
# criterion benchmarks (benches/glasskeep.rs) with their in-process baselines, and the
# release binary's size and start-up. Every ratio is against a baseline measured in
# this same run. Needs what scripts/run-tests.sh installs (pcscd, vpcd, age and the
# plugin); runs as root, since the pcscd lab does (serialized on
# /tmp/glasskeep-pcscd.lock like the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TARGET_DIR=$target
out=docs/BENCHMARKS.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v pcscd >/dev/null && command -v age >/dev/null || bash scripts/install-deps.sh

echo "== building (release: binary, simulator, bench data, benches, the APDU test)" >&2
nice -n 10 cargo build --release --locked --bin glasskeep --example bench_data
nice -n 10 cargo build --release --locked -p glasskeep-piv-sim
nice -n 10 cargo bench --locked --bench glasskeep --no-run
nice -n 10 cargo test --release --locked --test pcscd_apdu_counts --no-run

echo "== card round trips and the opening through pcscd" >&2
# Release build, so the opening's time is the release binary's; the simulator it
# finds next to the test is the release one built above.
cargo test --release --locked --test pcscd_apdu_counts -- --nocapture >"$work/apdu.txt" 2>&1 || {
    tail -40 "$work/apdu.txt" >&2
    exit 1
}

echo "== criterion benchmarks" >&2
rm -rf "$target/criterion"
# Short warm-up and measurement: the whole script stays within about a quarter of an
# hour on two shared cores; the large logs take ten single-run samples each.
nice -n 10 cargo bench --locked --bench glasskeep -- --noplot --warm-up-time 1 --measurement-time 3 \
    >"$work/bench.txt" 2>&1 || {
    tail -40 "$work/bench.txt" >&2
    exit 1
}

echo "== paper density, start-up, status and size" >&2
bin="$target/release/glasskeep"
data="$target/release/examples/bench_data"
"$data" paper >"$work/paper.txt"
echo "== log verify of 10,000 and 100,000 entries" >&2
nice -n 10 "$data" verify 10000 100000 >"$work/verify.txt"
mkdir -p "$work/status"
"$data" log 10000 "$work/status" >"$work/log.txt"
python3 - "$bin" "$work/status" >"$work/startup.txt" <<'PY'
import statistics, subprocess, sys, time
bin, custody = sys.argv[1:]
def median(cmd, n=20):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), rc
v, _ = median([bin, "--version"])
t, _ = median(["/bin/true"])
s, rc = median([bin, "--dir", custody, "status"], 10)
print(f"version_ms={v * 1000:.2f}")
print(f"true_ms={t * 1000:.2f}")
print(f"status_ms={s * 1000:.2f}")
print(f"status_rc={rc}")
PY

python3 - "$target" "$work" "$bin" "$out" <<'PY'
import json, os, platform, re, sys, datetime
target, work, binary, out = sys.argv[1:]
def kv(path, tag, many=False):
    found = [dict(p.split("=", 1) for p in line.split()[1:])
             for line in open(path, encoding="utf-8", errors="replace") if line.startswith(tag + " ")]
    if not found:
        raise SystemExit(f"no {tag} line in {path}")
    return found if many else found[0]
apdu = kv(f"{work}/apdu.txt", "APDUS")
acts = kv(f"{work}/apdu.txt", "ACTIONS")
wall = kv(f"{work}/apdu.txt", "WALL")
paper = kv(f"{work}/paper.txt", "DENSITY", many=True)
genlog = kv(f"{work}/log.txt", "LOG")
raw = kv(f"{work}/verify.txt", "RAW")
large = kv(f"{work}/verify.txt", "VERIFY", many=True)
start = dict(l.strip().split("=") for l in open(f"{work}/startup.txt"))
def crit(name, file):
    with open(os.path.join(target, "criterion", name, "new", file)) as f:
        return json.load(f)
def est(name):
    return crit(name, "estimates.json")["median"]["point_estimate"]  # nanoseconds
def elems(name):
    return crit(name, "benchmark.json")["throughput"]["Elements"]
def per_s(ns, n=1):
    return n / (ns / 1e9)
def ms(x):
    return float(x)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
rows = []
w = rows.append
w("# Benchmarks\n")
w(f"Written by `bash scripts/bench.sh` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, one run; "
  f"machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}. The machine is shared and noisy: "
  "read the ratios, each against a baseline measured in the same run, rather than the absolute times. "
  "Medians throughout: criterion's median estimate, 20 runs for start-up, 10 for `status`. Release build everywhere.\n")
w("Commands, all run by the script:\n")
w("```sh")
w("cargo test --release --test pcscd_apdu_counts -- --nocapture   # APDUs, actions and wall times (counts asserted there)")
w("cargo bench --bench glasskeep -- --noplot --warm-up-time 1 --measurement-time 3")
w("target/release/examples/bench_data paper                       # paper density")
w("target/release/examples/bench_data verify 10000 100000          # log verify next to the raw primitives")
w("target/release/examples/bench_data log 10000 DIR                # the log `status` reads")
w("target/release/glasskeep --version; target/release/glasskeep --dir DIR status")
w("```\n")

w("## 1. One share, per custodian, against age-plugin-yubikey on the same simulated card\n")
w("| path | APDUs | floor | target | sequence |\n|---|---:|---:|---|---|")
w(f"| glasskeep: unseal one share | {apdu['unseal']} | 4 | ≤ 5 | SELECT, GET VERSION, GET SERIAL, VERIFY, GENERAL AUTHENTICATE |")
w(f"| glasskeep: check-share (unseal + cosign) | {apdu['check_share']} | 6 | ≤ 7 | … then VERIFY, GENERAL AUTHENTICATE (sign key: PIN always) |")
w(f"| glasskeep: opening with two custodians, per card | {apdu['open_alice']} and {apdu['open_bob']} | 6 | ≤ 7 | the same session on each card; the third card gets none |")
w(f"| age + age-plugin-yubikey 0.5.1: decrypt the same share | {apdu['plugin']} | 4 | — | {apdu['plugin_sequence'].replace('_', ' ').replace(',', ', ')} |")
w(f"\nRatio: glasskeep's unseal uses {int(apdu['unseal']) / int(apdu['plugin']):.2f}× the plugin's APDUs "
  f"(before this work: 10, the same as the plugin). The floor counts no GET VERSION; the `yubikey` crate sends it on every "
  "connect and offers no way to open a card without it, so floor + 1 is what is reachable without a PC/SC layer of our own.\n")
w("**Deliberate gap: interactive ceremonies send one more APDU per custodian (unseal 6, check-share 8).** "
  "The counts above are scripted runs (`--pin-file`), where a wrong PIN ends the ceremony at once. When people type "
  "their PINs, `ask_pin` (src/ceremony/cosign.rs) first sends an empty VERIFY, which reads the PIN counter and spends "
  "no try: a card that is already down to its last try must say so before anyone types, so that a slip never blocks "
  "it unasked. That one round trip buys the \"last try, type yes\" question on the first PIN; the test counts the "
  "scripted path, the interactive one is that count + 1 by construction.\n")
pl_tool, gk_tool = ms(wall['age_plugin_tool_ms']), ms(wall['check_share_tool_ms'])
w("| wall time through pcscd, simulated touch waits (200 ms each) taken out | ms | ratio to the plugin |\n|---|---:|---:|")
w(f"| age + age-plugin-yubikey: `age -d` of one share (1 touch) | {wall['age_plugin_tool_ms']} | 1.00 |")
w(f"| glasskeep `check-share` (2 touches): log verify, unseal, cosign, commit | {wall['check_share_tool_ms']} | {gk_tool / max(1.0, pl_tool):.2f} |")
w("\nNot the same work: `check-share` also verifies the log, runs the preflight, signs a checkpoint and commits it; "
  f"the plugin only decrypts. Including the touch waits: {wall['check_share_ms']} ms and {wall['age_plugin_decrypt_ms']} ms.\n")

w("## 2. Log verification against its bound\n")
p256v, sha = int(raw["p256_verify_ns"]), int(raw["sha256_200B_ns"])
w("Timed by `bench_data verify` in one process: `log verify` (the library call, `--training`, lenient) of generated "
  "logs (benches/support/trainlog.rs: enrollments, seals, share checks, drills, openings, reviews, rotations, "
  "destructions, a checkpoint after every act, about 11 signatures per 15 entries), median of 3 runs each, with "
  "batches of the raw primitives timed before every run and after the last (their medians per log make its bound, "
  "so the machine's drift under other work moves both alike). The bound for a log is what its unavoidable work costs "
  "at the raw speeds: one P-256 ECDSA verification per checkpoint signature (timed through "
  "`checkpoint::signature_valid`, the very check `log verify` makes) and one SHA-256 per entry. One core "
  "throughout.\n")
w(f"Raw primitives over the whole run: P-256 verify {1e9 / p256v:,.0f}/s ({p256v / 1000:.0f} µs), SHA-256 of 200 B "
  f"{1e9 / sha:,.0f}/s.\n")
w("| log | entries | signatures | entries/s | P-256 verify around its runs | bound entries/s | share of the bound | target | µs per entry |")
w("|---|---:|---:|---:|---:|---:|---:|---|---:|")
per_entry, shares = [], []
for d in large:
    n, sigs, t = int(d["entries"]), int(d["signatures"]), int(d["median_ns"])
    rate = n / (t / 1e9)
    bound = n / ((sigs * int(d["p256_verify_ns"]) + n * int(d["sha256_200B_ns"])) / 1e9)
    per_entry.append(t / n)
    share = rate / bound
    shares.append(share)
    w(f"| {n // 1000:,}k | {n:,} | {sigs:,} | {rate:,.0f} | {int(d['p256_verify_ns']) / 1000:.0f} µs | {bound:,.0f} | {share:.0%} | ≥ 70%: {'met' if share >= 0.7 else 'MISSED'} | {t / n / 1000:.1f} |")
growth = per_entry[-1] / per_entry[0]
w(f"\nGrowth: the time per entry of the largest log is {growth:.2f}× that of the smallest (1.00 is linear; the "
  "shares of the bound above say how much of it is the signatures).\n")
w("## 3. End-to-end opening with two custodians\n")
tool = ms(wall['open_tool_ms'])
w("`glasskeep open` with alice and bob, both keys in their readers, release build, through pcscd and the simulated "
  "cards with automatic touch: the whole process (preflight, log verify, both card sessions, combine, commit, the "
  "secret to stdout), less the simulator's touch waits.\n")
w("| measure | value | target |\n|---|---:|---|")
w(f"| wall time | {wall['open_ms']} ms | |")
w(f"| simulated touch waits ({int(acts['open_touches_per_custodian']) * 2} × 200 ms) | {wall['open_touch_wait_ms']} ms | |")
w(f"| tool time | {wall['open_tool_ms']} ms | < 1000 ms: {'met' if tool < 1000 else 'MISSED'} ({tool / 1000:.2f} of the target) |")
# The plugin does little besides its APDUs: its time per APDU bounds what one round
# trip through pcscd and the virtual reader costs in this run.
per_apdu = pl_tool / int(apdu['plugin'])
open_apdus = int(apdu['open_alice']) + int(apdu['open_bob'])
w(f"| of which card round trips, estimated: {open_apdus} APDUs × {per_apdu:.0f} ms (the plugin's tool time per APDU, same run) | {open_apdus * per_apdu:.0f} ms | |")
w(f"| tool time less those round trips | {max(0.0, tool - open_apdus * per_apdu):.0f} ms | |")
w("\nHuman actions per custodian per opening (asserted in the test):\n")
w("| ceremony | PIN entries | touches | forced by the key policies |\n|---|---:|---:|---|")
w(f"| open, each of two custodians | {acts['open_pins_per_custodian']} | {acts['open_touches_per_custodian']} | seal key touch always + sign key touch always = 2 |")
w(f"| check-share | {acts['check_share_pins']} | {acts['check_share_touches']} | 2 |")
w("\nPIN entries are asserted by giving the run a PIN file with exactly one PIN per custodian (a second prompt would "
  "fail the ceremony); touches are the \"touch YubiKey … now\" prompts, counted in the test. Besides these, each "
  "custodian inserts their key once. Per ceremony, not per custodian, the people present type the head hash from "
  "the last ceremony sheet (unless given with `--anchor`) and confirm the plan and entries once (`--yes` in the "
  "scripted run); on a terminal they also confirm that the alarm notice was sent, and press Enter to clear the secret.\n")

w("## 4. Start-up, `status` and size\n")
v, t, st = ms(start['version_ms']), ms(start['true_ms']), ms(start['status_ms'])
size = os.path.getsize(binary)
w("| measure | median | ratio |\n|---|---:|---|")
w(f"| `/bin/true` (baseline) | {t:.2f} ms | 1.0 |")
w(f"| `glasskeep --version` | {v:.2f} ms | {v / max(0.01, t):.1f}× `/bin/true` |")
w(f"| `glasskeep status` on a {int(genlog['entries']):,}-entry log ({int(genlog['bytes']) / 1e6:.1f} MB, exit {start['status_rc']}) | {st:.2f} ms | {st / max(0.01, v):.1f}× `--version` |")
w(f"| release binary | {size / 1e6:.1f} MB | |")
w("\n`status` replays the log (links and rules; signatures are `log verify`'s work) and lists every set it has held.\n")

w("## 5. Paper density\n")
w("Each envelope as `seal` makes it (2-of-3 split, the share sealed to a P-256 key). Every QR code is version 20, "
  "error correction M (about 15% of the symbol may be lost), alphanumeric mode (Base45 after a 29-character "
  "header); the standard's capacity for 20-M is 970 alphanumeric characters or 666 bytes in byte mode. Pages are "
  "the A4 PDF's; text lines are the numbered lines of the typed fallback (30 symbols each), plus one END line.\n")
w("| secret | envelope bytes | QR version / EC | QR codes | fullest code (chars) | standard capacity (alnum / bytes) | bytes per code | pages | text lines |")
w("|---:|---:|---|---:|---:|---|---:|---:|---:|")
for d in paper:
    sec = int(d['secret'])
    label = f"{sec // 1024} KiB" if sec >= 1024 else f"{sec} B"
    per_code = int(d['envelope_bytes']) / int(d['qr_codes'])
    w(f"| {label} | {int(d['envelope_bytes']):,} | {d['qr_version']}-{d['ec']} | {d['qr_codes']} | {d['fullest_code_chars']} "
      f"({int(d['fullest_code_chars']) / int(d['standard_alnum']):.0%}) | {d['standard_alnum']} / {d['standard_bytes']} | "
      f"{per_code:,.0f} | {d['pages']} | {int(d['text_lines']):,} |")
full = int(paper[0]['bytes_per_full_code'])
w(f"\nA full code carries {full} envelope bytes: {full / int(paper[0]['standard_bytes']):.0%} of the bytes the standard "
  "allows at 20-M in byte mode. The rest goes to the 29-character header, which lets the codes be read in any order "
  "and refuses codes of another envelope, and to Base45 in alphanumeric mode (8.25 bits per byte against byte mode's "
  "8), which every reader returns unchanged, with no guess at a character encoding.\n")

w("## 6. Other operations (criterion medians)\n")
w("| operation | median |\n|---|---:|")
for name, label in [("split_seal_per_envelope", "split 2-of-3 + seal 3 envelopes"), ("unseal_per_share", "unseal one share (software ECDH)"),
                    ("combine", "combine 2 shares + open payload"), ("log/verify_1000", "verify 1,000 entries"),
                    ("log/replay_1000", "replay 1,000 entries"),
                    ("log_append/frame_and_apply", "generate + replay a 40-entry log"),
                    ("envelope/render_pdf", "render envelope PDF"), ("envelope/render_png", "render envelope PNG"),
                    ("envelope/decode_qr_image", "decode envelope from PNG (QR)"), ("envelope/decode_text", "decode typed text")]:
    w(f"| {label} | {est(name) / 1e6:.3f} ms |")
w("")
w("## Left (measured gaps and what is not measured)\n")
w("- The APDU floor is 4; glasskeep's 5 includes GET VERSION, which the `yubikey` crate sends on every connect.")
w("- Interactive ceremonies: one empty VERIFY more per custodian than the counts in table 1 (see there); the "
  "interactive count is derived from the code path, not counted through pcscd by a test.")
w("- Unseal in the criterion table uses software ECDH, not the in-process simulated card; the card's own time is in "
  "tables 1 and 3, through pcscd.")
if min(shares) >= 0.7:
    w("- `log verify` checks signatures on one core. It is above 70% of the one-core bound, so the parallel check the "
      "issue allows was not added: it would help a 100,000-entry log on a machine with free cores, at the cost of "
      "threads in the auditor's verifier.")
else:
    w(f"- MISSED: `log verify` reached {min(shares):.0%} of the one-core bound in this run (target 70%).")
if growth > 1.05:
    w(f"- Growth between the log sizes is {growth:.2f}× per entry (target: linear). Replay and the signature checks are "
      "linear by construction (one pass, one verification per signature, keys parsed once); the extra cost per entry "
      "of the large log is not explained by this run. A likely cause is memory: `log verify` decodes every entry "
      "first and then replays them, so a 100,000-entry log is held whole and walked twice; not investigated.")
if tool >= 1000:
    w(f"- MISSED: the end-to-end opening took {tool:.0f} ms of tool time in this run (target under 1000 ms), "
      f"{tool - 1000:.0f} ms over. Most of it is the virtual reader, not glasskeep: about {open_apdus * per_apdu:.0f} ms "
      f"are its {open_apdus} card round trips at {per_apdu:.0f} ms each (table 3). A diagnostic trace of the opening "
      "(strace, not part of this script) shows each APDU waiting about 40 ms: pcscd's vpcd driver sends every command "
      "as a 2-byte length and then the data in a second write, so Nagle's algorithm holds the data until the "
      "simulator's kernel acknowledges the length, which delayed acknowledgement puts off by about 40 ms. A YubiKey "
      "on USB answers the same commands in a few milliseconds each. The simulator cannot switch the delay off: "
      "TCP_QUICKACK has no safe wrapper in nix 0.30 and the workspace forbids unsafe code; so the figure stays a "
      "miss here until a run on a real card or a reader transport without the stall.")
w("- Generated logs carry placeholder certificates, so log verification here checks links, replay and signatures but "
  "no X.509 chain (a real log checks one chain set per enrollment: a handful per log).")
open(out, "w").write("\n".join(rows) + "\n")
print(f"wrote {out}", file=sys.stderr)
PY
# The figures are in the document now; criterion's output is only scratch.
rm -rf "$target/criterion"
