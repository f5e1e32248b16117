#!/usr/bin/env bash
# check-container.sh - deploy/Containerfile cannot drift from what the build
# really needs. Its build stage must install exactly deploy/install-deps.sh's
# build_packages; its runtime stage must install the Debian package of every
# shared library build/alertd links against (objdump's NEEDED entries, each
# mapped to its package with ldconfig and dpkg -S), plus cracklib's
# dictionary. There is no container engine on the machines this runs on, so
# the image itself is never built here: this is what can be checked without one.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail=0
# the words of every `apt-get install` in one stage (1 = build stage, 2 = runtime stage), without options
stage_packages() {
	awk -v want="$1" '
		/^FROM / { stage++ }
		stage == want && /apt-get install/ { grab = 1 }
		stage == want && grab {
			line = $0; sub(/&&.*/, "", line); gsub(/\\/, "", line)
			n = split(line, w, /[ \t]+/)
			for (i = 1; i <= n; i++) if (w[i] != "" && w[i] !~ /^-/ && w[i] != "RUN" && w[i] != "apt-get" && w[i] != "install") print w[i]
			if ($0 !~ /\\$/) grab = 0
		}' deploy/Containerfile | sort -u
}

want_build=$(sed -n '/^build_packages=(/,/^)/p' deploy/install-deps.sh | sed -e 's/#.*//' -e '/build_packages=(/d' -e '/^)/d' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
have_build=$(stage_packages 1)
if [ "$want_build" != "$have_build" ]; then
	echo "FAIL: the Containerfile's build stage and install-deps.sh's build_packages differ (< install-deps, > Containerfile):"
	diff <(echo "$want_build") <(echo "$have_build") || true
	fail=1
else
	echo "ok: build stage installs the $(echo "$want_build" | wc -l) build packages of install-deps.sh"
fi

bin=build/alertd
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }
have_run=$(stage_packages 2)
need_run="cracklib-runtime ca-certificates"
for so in $(objdump -p "$bin" | awk '/NEEDED/ { print $2 }'); do
	[ "$so" = libc.so.6 ] && continue # in the base image
	lib=$(ldconfig -p | awk -v s="$so" '$1 == s && !found++ { print $NF }')
	pkg=$(dpkg -S "$(realpath "$lib")" 2>/dev/null | sed -n '1s/:.*//p' || true)
	[ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2>/dev/null | sed -n '1s/:.*//p' || true)
	if [ -z "$pkg" ]; then
		echo "FAIL: no Debian package owns $so ($lib)"
		fail=1
		continue
	fi
	need_run="$need_run $pkg"
done
missing=$(comm -23 <(echo "$need_run" | tr ' ' '\n' | sed '/^$/d' | sort -u) <(echo "$have_run"))
if [ -n "$missing" ]; then
	echo "FAIL: the runtime stage lacks packages build/alertd needs: $missing"
	fail=1
else
	echo "ok: runtime stage has the package of each of the $(objdump -p "$bin" | grep -c NEEDED) NEEDED libraries (libc from the base image), cracklib-runtime and ca-certificates"
fi
extra=$(comm -13 <(echo "$need_run" | tr ' ' '\n' | sed '/^$/d' | sort -u) <(echo "$have_run"))
[ -z "$extra" ] || echo "note: the runtime stage also installs: $extra"
exit "$fail"
