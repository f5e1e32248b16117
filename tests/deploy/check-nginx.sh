#!/usr/bin/env bash
# check-nginx.sh - deploy/nginx-alertd.conf checked by Debian's nginx
# (tests/deploy/nginx-routing.js): `nginx -t` on the shipped file, then that
# nginx in front of a real alertd on loopback: who may reach which path, the
# optional client-certificate check for ingest, the access log's redaction.
exec bash "$(dirname "$0")/with-pg.sh" "$(dirname "$0")/nginx-routing.js"
