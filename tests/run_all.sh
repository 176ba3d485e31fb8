#!/usr/bin/env bash
# One command: install what is missing, build everything and run every test. Ends with the
# line "N passed, N failed", counted from the GoogleTest cases in Bazel's test.xml files.
#   bash tests/run_all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup-debian.sh || exit 1

bazel test //... "$@"
bazel_status=$?

passed=0
failed=0
testlogs=$(bazel info bazel-testlogs 2>/dev/null)
for target in $(bazel query 'tests(//...)' 2>/dev/null); do
  path=${target#//}
  path=${path/://}
  xml="$testlogs/$path/test.xml"
  if [ ! -f "$xml" ]; then
    echo "no results for $target (did not build or run)" >&2
    failed=$((failed + 1))
    continue
  fi
  cases=$(grep -o '<testcase ' "$xml" | wc -l)
  failures=$(grep -c '<failure' "$xml")
  if [ "$cases" -eq 0 ]; then cases=1; fi
  failed=$((failed + failures))
  passed=$((passed + cases - failures))
done
if [ "$bazel_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # Bazel failed in a way no test.xml shows (e.g. a build error)
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
