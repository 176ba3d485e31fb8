#!/usr/bin/env bash
# Samples the resident memory and open file descriptors of every Renkei process on this
# machine every INTERVAL seconds (default 15), one line per sample, until stopped. For soak
# runs against the demo federation (TESTING.md "Soak").
#   bash tests/soak/sample.sh [INTERVAL] > samples.log
interval=${1:-15}
while true; do
  line="$(date +%H:%M:%S)"
  for pid in $(pgrep -f "renkei-broker|renkei-security-server|demo/resident-registry" | sort -n); do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    line="$line $pid:${rss}kB/${fds}fd"
  done
  echo "$line"
  sleep "$interval"
done
