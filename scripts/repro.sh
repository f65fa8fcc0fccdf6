#!/usr/bin/env bash
# Reproducible build check: builds the committed source twice, from two different
# folders at two different times, and requires the results to be bit-identical.
#
#   bash scripts/repro.sh          # the release binary `glasskeep` (what custodians run)
#   bash scripts/repro.sh --core   # only the card-free core library
#   bash scripts/repro.sh --ci     # the core library, dependencies compiled once (CI)
#
# What makes the builds independent of where and when they ran:
#   - the source is `git archive HEAD`, unpacked into two fresh folders of different
#     names and lengths, each with its own target folder;
#   - RUSTFLAGS remaps every build path (the source folder, the target folder, cargo's
#     registry) to fixed names, so no absolute path of this machine reaches the binary;
#   - SOURCE_DATE_EPOCH is the commit's time, for anything that stamps a date;
#   - `--locked`: the dependency versions are Cargo.lock's, nothing is resolved anew;
#   - the same toolchain (rust-toolchain or the default), printed with the digests.
# --ci is the check every CI run makes, in about 3½ minutes instead of 6 to 8: the
# dependencies are compiled once, into a target folder both builds share, and only
# glasskeep's own crate is compiled again from the second folder. The dependencies'
# own reproducibility is what the two full modes show.
# Prints the SHA-256 of each build; exits 1 when they differ.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=binary
case "${1:-}" in
  "") ;;
  --core) mode=core ;;
  --ci) mode=ci ;;
  *) echo "usage: $0 [--core | --ci]" >&2; exit 2 ;;
esac

git rev-parse --verify HEAD >/dev/null
commit=$(git rev-parse HEAD)
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
cargo_home=${CARGO_HOME:-$HOME/.cargo}

work=$(mktemp -d /tmp/glasskeep-repro.XXXXXX)
# Kept when the builds differ, to compare them (e.g. with diffoscope); removed otherwise.
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT
# Two folders whose paths differ in name and length, as two machines' would.
a="$work/a"
b="$work/second-build-elsewhere"

build() {
  local src=$1
  mkdir -p "$src"
  git archive --format=tar HEAD | tar -x -C "$src"
  local target="$src/target"
  local flags="--remap-path-prefix=$src=/glasskeep --remap-path-prefix=$target=/target"
  if [ "$mode" = ci ]; then
    # Both builds take the same flags, so cargo reuses the first build's dependencies;
    # the source folder, which differs, is remapped by a wrapper around rustc, which
    # cargo does not count among the flags.
    target="$work/shared-target"
    flags="--remap-path-prefix=$target=/target"
    export RUSTC_WRAPPER="$work/rustc-remap"
    printf '#!/bin/sh\nrustc=$1; shift\nexec "$rustc" "$@" --remap-path-prefix="$PWD=/glasskeep"\n' >"$RUSTC_WRAPPER"
    chmod +x "$RUSTC_WRAPPER"
  fi
  flags+=" --remap-path-prefix=$cargo_home=/cargo"
  (
    cd "$src"
    # An inherited RUSTFLAGS or target folder would make the two builds differ for
    # reasons of this shell, not of the source.
    unset CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
    export RUSTFLAGS="$flags" CARGO_TARGET_DIR="$target"
    if [ "$mode" = ci ]; then
      # The shared folder holds the first build's library: compile it anew from here.
      cargo clean --release --locked -p glasskeep-core --quiet
      cargo build --release --locked -p glasskeep-core --lib --quiet
      cp "$target/release/libglasskeep_core.rlib" "$src/libglasskeep_core.rlib"
    elif [ "$mode" = core ]; then
      cargo build --release --locked -p glasskeep-core --lib --quiet
    else
      cargo build --release --locked --bin glasskeep --quiet
    fi
  )
}

artifact() {
  if [ "$mode" = ci ]; then
    echo "$1/libglasskeep_core.rlib"
  elif [ "$mode" = core ]; then
    echo "$1/target/release/libglasskeep_core.rlib"
  else
    echo "$1/target/release/glasskeep"
  fi
}

echo "== reproducible build ($mode) of $commit, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
rustc --version
start=$(date +%s)
build "$a"
echo "first build: $(( $(date +%s) - start )) s in $a"
# A different time of day for the second build: anything stamping the clock would show.
sleep 2
start=$(date +%s)
build "$b"
echo "second build: $(( $(date +%s) - start )) s in $b"

first=$(sha256sum <"$(artifact "$a")" | cut -d' ' -f1)
second=$(sha256sum <"$(artifact "$b")" | cut -d' ' -f1)
echo "first:  $first"
echo "second: $second"
if [ "$first" != "$second" ]; then
  echo "the two builds differ: the build is not reproducible (both kept in $work)"
  cmp "$(artifact "$a")" "$(artifact "$b")" | head -5 || true
  keep=1
  exit 1
fi
echo "bit-identical"
