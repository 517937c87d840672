#!/usr/bin/env bash
# Runs every test magsim has, installing what they need first. Used by README and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
bash scripts/venv.sh
# The container test (crates/testcontainers/tests/container.rs) needs the image magsim:dev.
# Without Docker it skips locally; in CI (CI set) image.sh, and so this script, fails.
if command -v docker >/dev/null || [ -n "${CI:-}" ]; then
  bash scripts/image.sh
  # The static binary the image holds also runs the scenarios below (one release build).
  magsim=(target/x86_64-unknown-linux-gnu/release/magsim)
else
  echo "test.sh: docker not found: not building magsim:dev (the container test skips)" >&2
  magsim=(cargo run --release --locked --quiet --)
fi
cargo test --workspace --locked --no-fail-fast
# Every shipped scenario through the CLI, twice and once over the wire: the runs must pass
# and print the same bytes.
"${magsim[@]}" run scenarios/ --junit target/scenarios.xml > target/run1.txt
"${magsim[@]}" run scenarios/ > target/run2.txt
"${magsim[@]}" run --wire scenarios/ > target/run-wire.txt
cmp target/run1.txt target/run2.txt
cmp target/run1.txt target/run-wire.txt
# And once with the real clients (the pinned openstack from .venv, kubectl on PATH) running
# every `run:` step: the same expectations must hold for what they print.
PATH="$PWD/.venv/bin:$PATH" "${magsim[@]}" run --real-clients --quiet scenarios/ > target/run-real.txt
tail -n 1 target/run-real.txt
tail -n 1 target/run1.txt
