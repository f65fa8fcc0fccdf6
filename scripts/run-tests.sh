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

echo "== tests"
# Tests that use pcscd live in binaries named pcscd_*; .config/nextest.toml runs them
# one at a time (one pcscd per machine), and their harness also holds a global lock.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
