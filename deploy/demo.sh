#!/usr/bin/env bash
# One command: install what is missing, then run the one-machine demo federation.
#   bash deploy/demo.sh [--keep-running]
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup-debian.sh
exec bash deploy/demo/run.sh "$@"
