#!/usr/bin/env bash
# check_keys.sh - `pqlan genkey` and `pqlan pubkey` from the outside:
# shapes of their output, determinism, a known answer (RFC 8032 §7.1
# test 1) and clear refusals of bad input.
set -u
pqlan=${PQ_BUILD:?PQ_BUILD not set}/pqlan
fails=0 checked=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { checked=$((checked + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

[ -x "$pqlan" ] || { echo "FAIL: $pqlan not built"; exit 1; }

# genkey | pubkey: a 44-character key ending in '='.
pub=$("$pqlan" genkey | "$pqlan" pubkey)
if [[ $pub =~ ^[A-Za-z0-9+/]{43}=$ ]]; then ok; else bad "genkey | pubkey gave '$pub'"; fi

# genkey output is one key line (44 characters and a newline) and
# differs each time.
k1=$("$pqlan" genkey) k2=$("$pqlan" genkey)
if [[ $k1 =~ ^[A-Za-z0-9+/]{43}=$ ]] && [ "$k1" != "$k2" ]; then ok; else bad "genkey gave '$k1' '$k2'"; fi
(umask 022; "$pqlan" genkey >"$tmp/gen.key")
[ "$(wc -c <"$tmp/gen.key")" -eq 45 ] && ok || bad "genkey file is not 45 bytes"

# The same private key always gives the same public key.
a=$(printf '%s\n' "$k1" | "$pqlan" pubkey) b=$(printf '%s\n' "$k1" | "$pqlan" pubkey)
c=$(printf '%s' "$k1" | "$pqlan" pubkey)
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]; then ok; else bad "pubkey not stable: '$a' '$b' '$c'"; fi

# RFC 8032 §7.1 test 1: secret 9d61b1...7f60, public d75a98...511a.
got=$(echo 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=' | "$pqlan" pubkey)
[ "$got" = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' ] && ok || bad "RFC 8032 test 1 pubkey gave '$got'"

# Bad input: non-zero exit, nothing on stdout, a message on stderr.
expect_refused() {
	local what=$1 input=$2 out err rc
	out=$(printf '%b' "$input" | "$pqlan" pubkey 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	if [ "$rc" -ne 0 ] && [ -z "$out" ] && [[ $err == *"expected a private key"* ]]; then
		ok
	else
		bad "pubkey accepted $what (rc=$rc out='$out' err='$err')"
	fi
}
expect_refused "garbage" 'this is not a key\n'
expect_refused "empty input" ''
expect_refused "43 characters" 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n'
expect_refused "45 characters" 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2AA=\n'
expect_refused "two newlines" 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n\n'
expect_refused "a non-canonical key" 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B=\n'
expect_refused "a leading space" ' nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n'
expect_refused "a long line" "$(head -c 5000 /dev/zero | tr '\0' 'A')"

# Extra arguments are refused; an option is not taken for a file name.
if "$pqlan" genkey a b >"$tmp/out" 2>"$tmp/err" || "$pqlan" genkey -x >"$tmp/out" 2>>"$tmp/err"; then
	bad "genkey accepted two arguments or an option"
else
	ok
fi

# genkey FILE: a new file of mode 0600 even under umask 000, one key line
# that pubkey reads; an existing file is never overwritten.
(umask 000; "$pqlan" genkey "$tmp/file.key") || bad "genkey FILE failed"
mode=$(stat -c %a "$tmp/file.key" 2>/dev/null)
[ "$mode" = 600 ] && ok || bad "genkey FILE under umask 000 made mode $mode, expected 600"
[ "$(wc -c <"$tmp/file.key")" -eq 45 ] && "$pqlan" pubkey <"$tmp/file.key" >/dev/null && ok ||
	bad "genkey FILE is not one key line pubkey reads"
before=$(cat "$tmp/file.key")
if "$pqlan" genkey "$tmp/file.key" 2>"$tmp/err"; then
	bad "genkey overwrote an existing file"
elif [ "$(cat "$tmp/file.key")" = "$before" ] && grep -q "never overwritten" "$tmp/err"; then
	ok
else
	bad "genkey on an existing file: $(cat "$tmp/err")"
fi
ln -s "$tmp/elsewhere" "$tmp/link.key"
if "$pqlan" genkey "$tmp/link.key" 2>/dev/null || [ -e "$tmp/elsewhere" ]; then
	bad "genkey followed a symlink"
else
	ok
fi

# --help of every subcommand: its usage on stdout, status 0; --version.
for cmd in genkey pubkey bench up status reload relay relay-status version; do
	out=$("$pqlan" "$cmd" --help 2>/dev/null) && [[ $out == "usage: pqlan $cmd"* ]] && ok ||
		bad "pqlan $cmd --help: '$out'"
done
v=$("$pqlan" --version) && [[ $v =~ ^pqlan\ [0-9][^\ ]*.*,\ protocol\ 1$ ]] && ok || bad "pqlan --version: '$v'"
if echo 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=' | "$pqlan" pubkey extra >/dev/null 2>&1; then
	bad "pubkey accepted an argument"
else ok; fi

echo "checked: pqlan genkey/pubkey $checked cases"
[ "$fails" -eq 0 ]
