#!/usr/bin/env bash
# build_tool.sh BUILD: compile bench/bench_relay_handshake.c into
# BUILD/bench/, linked with BUILD/libpqlan.a, with the Makefile's flags
# (CFLAGS -O2 -g, the same warnings, -Werror). Prints the binary's path.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
[ -f "$build/libpqlan.a" ] || { echo "FAIL: $build/libpqlan.a missing: run make BUILD=$build all" >&2; exit 1; }
mkdir -p "$build/bench"
out=$build/bench/bench_relay_handshake
${CC:-cc} -O2 -g -std=c11 -D_GNU_SOURCE -I"$top/src" \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-fno-strict-aliasing -o "$out" "$top/bench/bench_relay_handshake.c" "$build/libpqlan.a" \
	-lssl -lcrypto -linih -lm >&2
echo "$out"
