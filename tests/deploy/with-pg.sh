#!/usr/bin/env bash
# with-pg.sh SCRIPT.js - runs a node:test file of tests/deploy/ that uses the
# integration harness (tests/integration/harness.js) on a throwaway
# PostgreSQL cluster of its own (deploy/pgcluster.sh), in $ALERTD_TEST_TMP.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/pgcluster.sh
work=${ALERTD_TEST_TMP:-$(mktemp -d)}
export ALERTD_TEST_TMP="$work" ALERTD_TEST_PGDIR="$work/pg"
pgcluster_init "$ALERTD_TEST_PGDIR"
pgcluster_start "$ALERTD_TEST_PGDIR"
trap 'pgcluster_stop "$ALERTD_TEST_PGDIR"' EXIT
node --test --test-reporter=spec "$1"
