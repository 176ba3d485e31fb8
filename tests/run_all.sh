#!/usr/bin/env bash
# One command: install what is missing, build everything and run every test — once as built,
# then again under AddressSanitizer + UndefinedBehaviorSanitizer (every server process the
# tests start included; a finding aborts). Ends with the line "N passed, N failed", counted
# from the GoogleTest cases in Bazel's test.xml files of both runs.
#   bash tests/run_all.sh            # both runs
#   RENKEI_SANITIZERS=0 bash tests/run_all.sh   # the plain run only
set -uo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup-debian.sh || exit 1

passed=0
failed=0

# Adds the results of the last `bazel test` (with the flags in "$@") to the counts.
count_results() {
  local testlogs
  testlogs=$(bazel info "$@" bazel-testlogs 2>/dev/null)
  for target in $(bazel query 'tests(//...)' 2>/dev/null); do
    local path=${target#//}
    path=${path/://}
    local xml="$testlogs/$path/test.xml"
    if [ ! -f "$xml" ]; then
      echo "no results for $target $* (did not build or run)" >&2
      failed=$((failed + 1))
      continue
    fi
    local cases failures
    cases=$(grep -o '<testcase ' "$xml" | wc -l)
    failures=$(grep -c '<failure' "$xml")
    if [ "$cases" -eq 0 ]; then cases=1; fi
    failed=$((failed + failures))
    passed=$((passed + cases - failures))
  done
}

run() {
  local before_failed=$failed
  bazel test //... "$@"
  local status=$?
  count_results "$@"
  if [ "$status" -ne 0 ] && [ "$failed" -eq "$before_failed" ]; then
    failed=$((failed + 1))  # Bazel failed in a way no test.xml shows (e.g. a build error)
  fi
}

run
if [ "${RENKEI_SANITIZERS:-1}" != "0" ]; then
  # One test at a time: sanitized servers start slowly, and tests running side by side on 2
  # cores would race for the ports they pick.
  run --config=asan --config=ubsan --local_test_jobs=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
