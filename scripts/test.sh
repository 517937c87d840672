#!/usr/bin/env bash
# Runs every test magsim has, installing what they need first. Used by README and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
bash scripts/venv.sh
cargo test --workspace --locked
# Every shipped scenario through the CLI, twice: the runs must pass and print the same bytes.
cargo run --release --locked --quiet -- run scenarios/ --junit target/scenarios.xml > target/run1.txt
cargo run --release --locked --quiet -- run scenarios/ > target/run2.txt
cmp target/run1.txt target/run2.txt
tail -n 1 target/run1.txt
