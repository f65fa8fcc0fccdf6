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

echo "== tests"
# Tests that use pcscd live in binaries named pcscd_*; .config/nextest.toml runs them
# one at a time (one pcscd per machine), and their harness also holds a global lock.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
echo "== doc tests"
cargo test --workspace --locked --doc
