#!/usr/bin/env bash
# tests/dist/run.sh - the package as an operator gets it (`make check-dist`,
# the last stage of `make check`; issue 12):
#   - the .deb builds from a copy of the tree (scripts/build-deb.sh:
#     dpkg-buildpackage -us -uc -b);
#   - lintian reports no error;
#   - the binary, units, man pages, system user and examples are in FHS
#     places in the package, the binary runs and says the right version;
#   - `man -l` renders both pages with their NAME section;
#   - `systemd-analyze security --offline=true` scores both units at most
#     2.5 (MAX_EXPOSURE).
# Ends with "N passed, N failed" (appended to $PQ_COUNTS when set).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
MAX_EXPOSURE=2.5
pass=0 fail=0
ok() { pass=$((pass + 1)); printf 'checked: %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL: %s\n' "$*"; }
finish() {
	echo "$pass passed, $fail failed"
	[ -z "${PQ_COUNTS:-}" ] || echo "$pass $fail" >>"$PQ_COUNTS"
	[ "$fail" -eq 0 ]
	exit
}

for tool in dpkg-buildpackage lintian systemd-analyze man dpkg-deb; do
	command -v "$tool" >/dev/null || { bad "$tool not installed (scripts/install-deps.sh)"; finish; }
done
out=$top/build/dist
version=$(tr -d ' \n' <"$top/VERSION")

if deb=$("$top/scripts/build-deb.sh" "$out" | tail -n 1) && [ -f "$deb" ]; then
	ok "dpkg-buildpackage -us -uc -b: $(basename "$deb")"
else
	bad "the package did not build"
	finish
fi

# lintian: errors fail; warnings and the rest are printed for the reader.
lintian --fail-on error --tag-display-limit 0 "$deb" >"$out/lintian.txt" 2>&1
rc=$?
sed 's/^/    lintian: /' "$out/lintian.txt"
if [ "$rc" -eq 0 ] && ! grep -q '^E:' "$out/lintian.txt"; then
	ok "lintian: no errors ($(grep -c '^W:' "$out/lintian.txt") warnings)"
else
	bad "lintian reported errors (exit $rc)"
fi

root=$out/root
rm -rf "$root" && mkdir -p "$root" && dpkg-deb -x "$deb" "$root" || { bad "dpkg-deb -x failed"; finish; }
for f in usr/bin/pqlan usr/share/man/man8/pqlan.8.gz usr/share/man/man5/pqlan.conf.5.gz \
	lib/systemd/system/pqlan@.service lib/systemd/system/pqlan-relay.service \
	usr/lib/sysusers.d/pqlan.conf usr/share/doc/pqlan/examples/node.conf \
	usr/share/doc/pqlan/examples/relay.conf usr/share/doc/pqlan/copyright; do
	if [ -f "$root/$f" ]; then ok "package has /$f"; else bad "package lacks /$f"; fi
done
# The unit's user is made at install time.
if dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst 2>/dev/null | grep -q 'systemd-sysusers.*pqlan'; then
	ok "postinst creates the pqlan user (systemd-sysusers)"
else
	bad "postinst does not create the pqlan user"
fi
deps=$(dpkg-deb -f "$deb" Depends)
for d in libssl3 libinih1; do
	case ", $deps," in *", $d"[\ ,]*) ok "Depends has $d" ;; *) bad "Depends lacks $d: $deps" ;; esac
done
case $deps in *-dev* | *clang* | *valgrind* | *nodejs* | *tshark*) bad "Depends has a build/test tool: $deps" ;;
*) ok "Depends has no build or test tool: $deps" ;; esac
if v=$("$root/usr/bin/pqlan" --version) && [[ $v == "pqlan $version"* ]]; then
	ok "the packaged binary runs: $v"
else
	bad "pqlan --version from the package: '$v', expected pqlan $version..."
fi

for page in man8/pqlan.8.gz man5/pqlan.conf.5.gz; do
	if MANWIDTH=80 man -l "$root/usr/share/man/$page" 2>"$out/man.err" | grep -q '^NAME' &&
		! grep -q . "$out/man.err"; then
		ok "man -l renders $page"
	else
		bad "man -l $page: $(head -c 300 "$out/man.err")"
	fi
done

# systemd-analyze wants an instance name for a template unit.
units=$out/units
rm -rf "$units" && mkdir -p "$units"
cp "$root/lib/systemd/system/pqlan@.service" "$units/pqlan@check.service"
cp "$root/lib/systemd/system/pqlan-relay.service" "$units/"
for u in pqlan@check.service pqlan-relay.service; do
	line=$(systemd-analyze security --offline=true "$units/$u" 2>&1 | grep 'Overall exposure level')
	score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
	echo "    $line"
	if [ -n "$score" ] && awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
		ok "systemd-analyze security $u: $score <= $MAX_EXPOSURE"
	else
		bad "systemd-analyze security $u: '${score:-no score}', expected <= $MAX_EXPOSURE"
	fi
done
finish
