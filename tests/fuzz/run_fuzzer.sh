#!/usr/bin/env bash
# Runs one libFuzzer target over a writable copy of its committed seed corpus for a bounded
# time (FUZZ_SECONDS, default 20). Any crash, leak, sanitizer finding or timeout fails the test;
# the input that caused it is in the test's undeclared outputs.
#   run_fuzzer.sh FUZZER SEED_DIR
set -euo pipefail
fuzzer=$1
seeds=$2
corpus="$TEST_TMPDIR/corpus"
mkdir -p "$corpus"
cp -r "$seeds"/. "$corpus"/
artifacts="${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR}/"
"$fuzzer" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus"
