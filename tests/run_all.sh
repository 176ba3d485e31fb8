#!/usr/bin/env bash
# One command: install what is missing, build everything and run every test — once as built,
# then again under AddressSanitizer + UndefinedBehaviorSanitizer (every server process the
# tests start included; a finding aborts), then the unit tests under ThreadSanitizer, then
# every libFuzzer target for a bounded time.
# Ends with the line "N passed, N failed", counted from the test cases in Bazel's test.xml
# files of all three runs.
#   bash tests/run_all.sh
#   RENKEI_SANITIZERS=0 RENKEI_TSAN=0 RENKEI_FUZZ=0 bash tests/run_all.sh   # the plain run only
set -uo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup-debian.sh || exit 1

passed=0
failed=0
skipped=0

# Adds the results of the last `bazel test` of the targets `query` names (with the flags in
# "$@") to the counts.
count_results() {
  local query=$1
  shift
  local testlogs
  testlogs=$(bazel info "$@" bazel-testlogs 2>/dev/null)
  for target in $(bazel query "$query" 2>/dev/null); do
    local path=${target#//}
    path=${path/://}
    local xml="$testlogs/$path/test.xml"
    if [ ! -f "$xml" ]; then
      echo "no results for $target $* (did not build or run)" >&2
      failed=$((failed + 1))
      continue
    fi
    local cases failures skips
    cases=$(grep -o '<testcase ' "$xml" | wc -l)
    failures=$(grep -c '<failure' "$xml")
    skips=$(grep -c '<skipped' "$xml")
    if [ "$cases" -eq 0 ]; then cases=1; fi
    if [ "$skips" -gt 0 ]; then echo "$skips skipped in $target $* (see its test.log)" >&2; fi
    failed=$((failed + failures))
    skipped=$((skipped + skips))
    passed=$((passed + cases - failures - skips))
  done
}

# run QUERY [FLAGS...]: tests the targets QUERY names, then counts their results.
run() {
  local query=$1
  shift
  local before_failed=$failed
  bazel test "$@" $(bazel query "$query" 2>/dev/null)
  local status=$?
  count_results "$query" "$@"
  if [ "$status" -ne 0 ] && [ "$failed" -eq "$before_failed" ]; then
    failed=$((failed + 1))  # Bazel failed in a way no test.xml shows (e.g. a build error)
  fi
}

# Fuzz targets are "manual": only clang builds them (the last run below).
all_tests='tests(//...) except attr(tags, manual, //...)'
run "$all_tests"
if [ "${RENKEI_SANITIZERS:-1}" != "0" ]; then
  # One test at a time: sanitized servers start slowly, and tests running side by side on 2
  # cores would race for the ports they pick.
  run "$all_tests" --config=asan --config=ubsan --local_test_jobs=1
fi
if [ "${RENKEI_TSAN:-1}" != "0" ]; then
  # ThreadSanitizer over the tests of our own concurrency (TESTING.md says why not the
  # process-level suites), after the check that TSan sees Abseil's Mutex and a real race.
  run 'tests(//common/... + //security_server/... + //broker/... + //audit/...) except attr(tags, manual, //...) except attr(tags, no_tsan, //...) + attr(tags, tsan, //tests/...)' \
    --config=tsan --local_test_jobs=1
fi
if [ "${RENKEI_FUZZ:-1}" != "0" ]; then
  # Each libFuzzer target over its committed seeds, 20 s (FUZZ_SECONDS) under ASan+UBSan.
  run 'attr(tags, fuzz, //tests/fuzz:all)' --config=fuzz --test_env=FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
fi
# A test skips only where the machine cannot do what it needs (mounting a small disk needs
# root): not counted as passed.
if [ "$skipped" -gt 0 ]; then echo "$skipped skipped"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
