# lib_others.sh - what the benchmarks need to run the other VPNs beside
# pqlan, sourced after tests/e2e/lib.sh (uses $dir and e2e_die).
#
# bench_ca: a throw-away certificate authority in $dir (ca.key, ca.crt)
# for OpenVPN, made with openssl (EC P-256, two days).
# pki NAME EKU: NAME.key and NAME.crt in $dir, signed by that CA, with the
# extended key usage EKU (serverAuth or clientAuth).

bench_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/ca.key" \
		-out "$dir/ca.crt" -days 2 -subj /CN=bench-ca 2>/dev/null || e2e_die "openssl: CA"
}

pki() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$1.key" \
		-out "$dir/$1.csr" -subj "/CN=$1" 2>/dev/null &&
		printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature\n' "$2" >"$dir/$1.ext" &&
		openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
			-days 2 -extfile "$dir/$1.ext" -out "$dir/$1.crt" 2>/dev/null
}
