#!/usr/bin/env bash
# gen-config-doc.sh - regenerate docs/config.md from docs/config.md.in and
# the option table compiled into build/alertd.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(build/alertd config-reference)
awk -v table="$table" '{ if ($0 == "@TABLE@") print table; else print }' docs/config.md.in >docs/config.md
echo "docs/config.md regenerated"
