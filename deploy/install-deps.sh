#!/usr/bin/env bash
# install-deps.sh - install the Debian packages alertd needs to build, run
# and test, and only those that are missing. A no-op when all are present.
# Runs `apt-get update` once, before installing, and only if something is missing.
#
# usage: deploy/install-deps.sh [fuzz|run|deploy]
# `fuzz` (what `make fuzz` runs) adds the libFuzzer toolchain: clang 14, its
# sanitizer and fuzzer runtimes and llvm-symbolizer; `make test` and `make run`
# do not need them. `run` (what `make run` runs) adds oathtool, which computes
# the demo staff account's TOTP codes (deploy/demo/load.sh); the tests compute
# their own. `deploy` (what `make check-deploy` runs) adds the tools that check deploy/: nginx, systemd's
# systemd-analyze, shellcheck, prometheus's promtool and python3-yaml (tests/deploy/check-compose.py).
set -euo pipefail

# What `make` needs to build alertd. deploy/Containerfile's build stage installs exactly these; tests/deploy/
# check-container.sh compares the two lists, so keep this array's shape (one `build_packages=(` ... `)` block).
build_packages=(
	gcc make pkg-config libc6-dev
	libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev libpq-dev libssl-dev libsodium-dev
	libcsv-dev libutf8proc-dev
	# staff passwords: cracklib and its dictionary (cracklib-runtime builds it; alertd ships no word list)
	libcrack2-dev cracklib-runtime
	# staff second factor: TOTP (liboath) and its QR code (libqrencode)
	liboath-dev libqrencode-dev
	# staff exports: XLSX workbooks
	libxlsxwriter-dev
)
packages=(
	"${build_packages[@]}"
	# run: a local PostgreSQL for `make run` and the tests
	postgresql
	# test: integration tests (node:test), HTTP client, TLS tooling
	nodejs curl openssl ca-certificates procps util-linux
	# test: test_export.c and staff_data.test.js open XLSX files with python3's zipfile and ElementTree
	python3
	# test: the staff dashboard's browser test (tests/integration/dashboard.test.js) drives Debian's chromium
	# with playwright-core from npm (tests/package.json), which never downloads a browser of its own
	chromium npm
	# style: make format-check (Debian 12's clang-format 14; .clang-format is tuned to it)
	clang-format
	# benchmarks: h2load (make bench-push measures the push mock's own ceiling with it)
	nghttp2-client
)
case "${1:-}" in
'') ;;
run)
	packages+=(oathtool)
	;;
deploy)
	packages+=(nginx systemd shellcheck prometheus python3-yaml)
	;;
fuzz)
	# make fuzz (tests/fuzz/): Debian 12's clang is clang-14; libFuzzer and the ASan/UBSan runtimes come with
	# libclang-rt-14-dev; llvm brings llvm-symbolizer, for readable stack traces of what a harness finds
	packages+=(clang libclang-rt-14-dev llvm)
	;;
*)
	echo "usage: deploy/install-deps.sh [fuzz|run|deploy]" >&2
	exit 2
	;;
esac

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
# nodejs may come from another Debian-format source (for example nodesource, whose nodejs carries npm); a
# working node and npm are enough.
for tool in node:nodejs npm:npm; do
	if command -v "${tool%%:*}" >/dev/null 2>&1; then
		keep=()
		for p in "${missing[@]}"; do [ "$p" = "${tool#*:}" ] || keep+=("$p"); done
		missing=("${keep[@]+"${keep[@]}"}")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "install-deps: missing packages and not root (no sudo): ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
