#!/usr/bin/env bash
# Weight figures for issue 15: distinct crates, clean release build time and
# binary size of one program.
#
#   measure.sh DIR [PACKAGE]
#
# DIR is a Cargo project (a standalone one here, e.g. two-services-otel) or
# a workspace root with PACKAGE one of its members (e.g. /work/main
# quickstart). The binary measured is the one named PACKAGE (default: the
# directory's name).
#
# Environment: TARGET_DIR (default /tmp/w-<PACKAGE>): wiped, then used as
# CARGO_TARGET_DIR for the clean build; LOCK (default /tmp/heavy.lock): every
# cargo command runs under `flock $LOCK` (the timer starts once the lock is
# held); OUT (default $TARGET_DIR.crates): the sorted crate list is written
# there. Crates must already be downloaded (cargo runs --offline, so the
# build time excludes downloads); in a workspace the lockfile is used as is
# (--locked).
#
# Distinct crates: `cargo tree -e normal --prefix none` lines, " (*)" marks
# removed, `sort -u`, the program itself excluded (so one line per
# name+version; a crate present at two versions counts twice).
set -euo pipefail

dir=$(cd "$1" && pwd)
pkg=${2:-$(basename "$dir")}
target=${TARGET_DIR:-/tmp/w-$pkg}
lock=${LOCK:-/tmp/heavy.lock}
out=${OUT:-$target.crates}
cd "$dir"

pkg_args=()
cargo_flags=(--offline)
if [ -n "${2:-}" ]; then
    pkg_args=(-p "$pkg")
    cargo_flags+=(--locked)
fi

tree() {
    flock "$lock" cargo tree "${cargo_flags[@]}" "${pkg_args[@]}" --prefix none "$@" \
        | sed -e 's/ (\*)$//' -e 's/ (proc-macro)//' \
        | grep -v "^$pkg v" | grep -v '^$' | sort -u
}

tree -e normal > "$out"
crates=$(wc -l < "$out")
with_build=$(tree -e normal,build | wc -l)
cut -d' ' -f1 "$out" | sort -u > "$out.names"

rm -rf "$target"
mkdir -p "$target"
timing=$target.time
CARGO_TARGET_DIR=$target flock "$lock" /usr/bin/time -f '%e %U %S' -o "$timing" \
    cargo build --release "${cargo_flags[@]}" "${pkg_args[@]}" --bin "$pkg" 2> "$target.build.log"
read -r wall user sys < "$timing"

bin=$target/release/$pkg
size=$(stat -c %s "$bin")
cp "$bin" "$target/$pkg.stripped"
strip "$target/$pkg.stripped"
stripped=$(stat -c %s "$target/$pkg.stripped")

printf '%s\n' \
    "program:            $pkg ($dir)" \
    "measured at:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
    "distinct crates:    $crates (cargo tree -e normal; $with_build with build-dependencies)" \
    "clean release build: wall ${wall} s, user ${user} s, sys ${sys} s" \
    "binary:             $size bytes, $stripped bytes stripped" \
    "crate list:         $out (names only: $out.names)"
