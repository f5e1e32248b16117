#!/usr/bin/env bash
# check-nginx.sh - deploy/nginx-alertd.conf checked by Debian's nginx: a
# throwaway PostgreSQL cluster (deploy/pgcluster.sh) for a real alertd, then
# tests/deploy/nginx-routing.js, which runs `nginx -t` on the shipped file and
# starts that nginx in front of the alertd on loopback to test who may reach
# which path, the optional client-certificate check for ingest and the access
# log's redaction.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/pgcluster.sh
work=${ALERTD_TEST_TMP:-$(mktemp -d)}
export ALERTD_TEST_TMP="$work" ALERTD_TEST_PGDIR="$work/pg"
pgcluster_init "$ALERTD_TEST_PGDIR"
pgcluster_start "$ALERTD_TEST_PGDIR"
trap 'pgcluster_stop "$ALERTD_TEST_PGDIR"' EXIT
node --test --test-reporter=spec tests/deploy/nginx-routing.js
