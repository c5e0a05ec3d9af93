#!/usr/bin/env bash
# build-deb.sh [OUTDIR] - build the Debian package from a copy of this tree
# (tracked and new files, not build/ or ignored ones) with
# `dpkg-buildpackage -us -uc -b`; the .deb and its .buildinfo/.changes land
# in OUTDIR (default build/dist). Prints the .deb's path on the last line.
# The copy keeps the work tree clean and proves the package builds from the
# sources alone; the commit it came from goes along in .version-git.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/build/dist}" && cd "${1:-$top/build/dist}" && pwd)
version=$(tr -d ' \n' <"$top/VERSION")
deb_version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
if [ "$deb_version" != "$version" ]; then
	echo "build-deb: debian/changelog says $deb_version, VERSION says $version: make them agree" >&2
	exit 1
fi
src=$out/pqlan-$version
rm -rf "$src" "$out"/pqlan_"$version"_*
mkdir -p "$src"
(cd "$top" && git ls-files -co --exclude-standard -z | grep -zv '^tests/vectors/' |
	xargs -0 cp -a --parents -t "$src")
git -C "$top" describe --always --dirty --abbrev=12 >"$src/.version-git" 2>/dev/null || rm -f "$src/.version-git"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
deb=$(ls "$out"/pqlan_"$version"_*.deb)
echo "$deb"
