#!/usr/bin/env bash
# check-shellcheck.sh - shellcheck (Debian's, all severities down to "info")
# on every shell script in deploy/ and tests/: *.sh files and files whose
# first line names bash or sh (node_modules excluded). Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts=()
while IFS= read -r -d '' f; do
	case "$f" in
	*.sh) scripts+=("$f") ;;
	*) if head -n 1 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then scripts+=("$f"); fi ;;
	esac
done < <(find deploy tests .ci -type f -not -path '*/node_modules/*' -print0)
echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#scripts[@]} scripts: ${scripts[*]}"
shellcheck --severity=info "${scripts[@]}"
echo "ok: no findings"
