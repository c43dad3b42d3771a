#!/usr/bin/env bash
# Bounded fuzz smoke run: seeds the corpora from samples/, builds every target and runs each for
# FUZZ_SECONDS (default 60). Exits non-zero on the first crash; the crashing input is kept under
# fuzz/artifacts/<target>/ and must become a regression test in the normal suite.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable with `-s none` (no sanitizer),
# with debug assertions on, so out-of-bounds slices in dependencies are caught too.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
python3 make_corpus.py
cargo fuzz build -s none
for target in capture_reader pipeline config_files probes; do
  echo "== fuzz $target for ${seconds}s"
  cargo fuzz run -s none "$target" "corpus/$target" -- -max_total_time="$seconds" -print_final_stats=0 2>&1 \
    | grep -E '^(Done|==|SUMMARY|thread)|panicked|ERROR' || true
  if [ -d "artifacts/$target" ] && [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz: $target crashed; inputs in fuzz/artifacts/$target" >&2
    exit 1
  fi
done
