#!/usr/bin/env bash
# The whole test suite, on a fresh Debian bookworm machine with only the Rust toolchain:
# installs the system packages the tests use (pcscd, vpcd, age, zbar, poppler, …), then
# runs format and lint checks and every test, including the ones that drive the real
# `yubikey` crate through the real pcscd against the simulated card.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== dependency policy"
# Shamir comes from vsss-rs only: sharks (RUSTSEC-2024-0398, biased coefficients) and its
# fork blahaj accept x=0, threshold 1 and duplicate shares.
tree=$(cargo tree --workspace --locked -e normal --prefix none)
grep -q '^vsss-rs ' <<<"$tree" || { echo "vsss-rs is missing from the dependency tree"; exit 1; }
if grep -qE '^(sharks|blahaj) ' <<<"$tree"; then echo "sharks/blahaj must not be in the dependency tree"; exit 1; fi
echo "vsss-rs present; sharks and blahaj absent"
# deny.toml: permissive licenses, crates.io only, banned crates (sharks, blahaj, any
# network stack, OpenSSL); duplicate versions are warnings (docs/ASSURANCE.md says why).
cargo deny --locked check --hide-inclusion-graph bans licenses sources

echo "== card-free core"
# The core is bytes and rules: no PC/SC, no YubiKey driver (docs/ARCHITECTURE.md).
core_tree=$(cargo tree -p glasskeep-core --locked -e normal --prefix none)
if grep -qE '^(pcsc|pcsc-sys|yubikey|glasskeep-card) ' <<<"$core_tree"; then
  echo "glasskeep-core depends on the card layer:"; grep -E '^(pcsc|pcsc-sys|yubikey|glasskeep-card) ' <<<"$core_tree"; exit 1
fi
echo "glasskeep-core has no pcsc, yubikey or glasskeep-card in its tree"
cargo build -p glasskeep-core --locked --target wasm32-unknown-unknown --no-default-features
echo "glasskeep-core builds for wasm32-unknown-unknown"

echo "== the auditor's build, on a machine where pkg-config cannot find libpcsclite"
no_pcsc=$(mktemp -d)
trap 'rm -rf "$no_pcsc"' EXIT
if PKG_CONFIG_LIBDIR="$no_pcsc" PKG_CONFIG_PATH="" pkg-config --exists libpcsclite; then
  echo "pkg-config still finds libpcsclite: the check below would prove nothing"; exit 1
fi
# Its own target folder, so the card build the tests run is never replaced by this one.
PKG_CONFIG_LIBDIR="$no_pcsc" PKG_CONFIG_PATH="" \
  cargo build --locked --no-default-features --bin glasskeep --target-dir target/auditor
auditor=target/auditor/debug/glasskeep
help=$("$auditor" --help)
for cmd in init token doctor seal open drill check-share rotate review; do
  if grep -qE "^  $cmd( |$)" <<<"$help"; then echo "the auditor's build offers the card command $cmd"; exit 1; fi
done
for cmd in status log envelope custodian; do
  grep -qE "^  $cmd " <<<"$help" || { echo "the auditor's build lacks $cmd"; exit 1; }
done
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex("".join(open(sys.argv[1]).read().split())))' \
  tests/vectors/envelope/ok_minimal.hex >"$no_pcsc/e.gkenv"
"$auditor" envelope render "$no_pcsc/e.gkenv" --format pdf -o "$no_pcsc/e.pdf"
"$auditor" envelope export-age "$no_pcsc/e.gkenv" -o "$no_pcsc/e.age"
set +e; out=$("$auditor" --dir "$no_pcsc" log verify 2>&1); code=$?; set -e
if [ "$code" != 5 ] || ! grep -q "no custody in" <<<"$out"; then
  echo "the auditor's log verify on an empty folder said ($code): $out"; exit 1
fi
echo "the auditor's build renders and exports an envelope and runs log verify, with no libpcsclite"

echo "== tests"
# Tests that use pcscd live in binaries named pcscd_*; .config/nextest.toml runs them
# one at a time (one pcscd per machine), and their harness also holds a global lock.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

echo "== reproducible build"
# The core library built from two folders of different names at two times must be
# bit-identical (dependencies compiled once: about 3½ minutes on two cores). The full
# check of the release binary is `bash scripts/repro.sh` (docs/ASSURANCE.md).
bash scripts/repro.sh --ci
