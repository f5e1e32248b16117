#!/usr/bin/env bash
# check-prometheus.sh - deploy/prometheus/alertd-rules.yml checked by
# Prometheus's promtool: `check rules` (syntax, PromQL), `test rules` with
# alertd-rules.test.yml (each tested rule fires on the series it is about,
# with its annotation, and not below its threshold), and every alertd_*
# metric a rule names is one alertd exposes (its name is in server/).
set -euo pipefail
cd "$(dirname "$0")/../../deploy/prometheus"
promtool check rules alertd-rules.yml
promtool test rules alertd-rules.test.yml
fail=0
while read -r m; do
	if ! grep -rqF "\"$m" ../../server; then
		echo "FAIL: the rules use $m, which alertd does not expose"
		fail=1
	fi
done < <(grep -oE 'alertd_[a-z0-9_]+' alertd-rules.yml | sort -u)
[ "$fail" -eq 0 ] && echo "ok: $(grep -oE 'alertd_[a-z0-9_]+' alertd-rules.yml | sort -u | wc -l) metric names in the rules are alertd's"
exit "$fail"
