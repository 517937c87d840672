#!/usr/bin/env bash
# Builds the container image magsim:dev (or $MAGSIM_IMAGE): a statically linked `magsim`
# (glibc, +crt-static: no musl target is needed) copied into a FROM scratch image, so nothing
# is pulled from a registry. Needs cargo and a running Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${MAGSIM_IMAGE:-magsim:dev}"
target=x86_64-unknown-linux-gnu

# A separate target triple keeps these RUSTFLAGS from invalidating the ordinary build.
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --release --locked --target "$target" --bin magsim
bin="target/$target/release/magsim"
# ldd says "statically linked" (static-pie) or "not a dynamic executable" for what scratch runs.
if ! ldd "$bin" 2>&1 | grep -qE 'statically linked|not a dynamic executable'; then
  echo "image.sh: $bin is dynamically linked; it cannot run FROM scratch" >&2
  exit 1
fi

# Only the binary and an empty directory are sent to the engine.
context=target/image
rm -rf "$context"
mkdir -p "$context/magsim-cloud"
# The release profile keeps line tables for local backtraces; the image goes without them.
if command -v strip >/dev/null; then
  strip -o "$context/magsim" "$bin"
else
  cp "$bin" "$context/magsim"
fi
docker build --quiet --tag "$image" --file Dockerfile "$context" >/dev/null
echo "image.sh: built $image ($(du -h "$context/magsim" | cut -f1) binary)"
