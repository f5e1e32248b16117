#!/usr/bin/env bash
# check-metrics.sh - a real /metrics scrape of an alertd that has done work
# checked by Prometheus's own `promtool check metrics` (tests/deploy/metrics-promtool.js).
exec bash "$(dirname "$0")/with-pg.sh" "$(dirname "$0")/metrics-promtool.js"
