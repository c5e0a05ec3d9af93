// diff.mjs - differential test of pqlan's ML-KEM-1024 against
// @noble/post-quantum, an independent implementation of FIPS 203.
//
//   node diff.mjs PATH/TO/tool_mlkem_cli [SEEDS]
//
// For each random (d, z, m) set, both ways round:
//   - KeyGen_internal(d, z): ek and dk byte for byte (FIPS 203 Alg. 16);
//   - Encaps_internal(ek, m): ct and ss byte for byte (Alg. 17);
//   - our ct decapsulated by noble, and a ct noble made with its own
//     randomness decapsulated by us (Alg. 18);
//   - tampered ciphertexts (low- and high-bit flips at the first and last
//     byte and the u/v boundary, random bit flips and byte changes)
//     decapsulated by both: the two keys must agree, equal J(z || c)
//     computed here with node's SHAKE256, and differ from the real shared
//     secret (implicit rejection);
//   - an ek with one coefficient pushed >= q: our §7.2 check and encaps
//     refuse it (PQ_E_KEY), and so must noble's encapsulate where that
//     version implements the check (see NOBLE_CHECKS_MODULUS).
// The C side runs as one long-lived child speaking the line protocol of
// tests/crypto/tool_mlkem_cli.c. Exits 1 on any mismatch, printing the
// inputs that reproduce it.
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem';

const EK_LEN = 1568, DK_LEN = 3168, CT_LEN = 1568, SS_LEN = 32;
const U_LEN = 32 * 11 * 4; // c1 = ByteEncode_du(Compress_du(u)), du = 11, k = 4
const Q = 3329;
const PQ_E_KEY = -8;
const MAX_REPORTS = 5;

const [toolPath, seedsArg] = process.argv.slice(2);
if (!toolPath) {
	console.error('usage: node diff.mjs TOOL [SEEDS]');
	process.exit(2);
}
const SEEDS = Number(seedsArg ?? 128);
if (!Number.isInteger(SEEDS) || SEEDS < 1) {
	console.error(`diff.mjs: bad seed count ${seedsArg}`);
	process.exit(2);
}

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s, len, what) => {
	const b = Buffer.from(s ?? '', 'hex');
	if (b.length !== len || s.length !== 2 * len)
		throw new Error(`tool answered a ${what} of ${s?.length ?? 0} hex digits, want ${2 * len}`);
	return new Uint8Array(b);
};
const same = (a, b) => Buffer.from(a).equals(Buffer.from(b));

// The C tool as a child: one request line out, one answer line back, in order.
function startTool(path) {
	const child = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
	const waiting = [];
	let dead = null;
	const fail = (err) => {
		dead = err;
		while (waiting.length) waiting.shift().reject(err);
	};
	child.on('error', fail);
	child.on('exit', (code, sig) => fail(new Error(`tool exited (code ${code}, signal ${sig})`)));
	createInterface({ input: child.stdout }).on('line', (line) => {
		const w = waiting.shift();
		if (w) w.resolve(line.split(' '));
		else fail(new Error(`tool said something unasked: ${line.slice(0, 80)}`));
	});
	return {
		ask(...words) {
			if (dead) return Promise.reject(dead);
			return new Promise((resolve, reject) => {
				waiting.push({ resolve, reject });
				child.stdin.write(words.join(' ') + '\n');
			});
		},
		close() {
			child.removeAllListeners('exit');
			child.stdin.end();
		},
	};
}

// Asks the tool and insists on `ok`, returning the answer's fields.
async function askOk(tool, ...words) {
	const ans = await tool.ask(...words);
	if (ans[0] !== 'ok') throw new Error(`tool refused ${words[0]}: ${ans.join(' ')}`);
	return ans.slice(1);
}

// FIPS 203 §6.3: the implicit-rejection key J(z || c) = SHAKE256(z || c, 32).
const rejectKey = (z, ct) => new Uint8Array(createHash('shake256', { outputLength: 32 }).update(z).update(ct).digest());

// Several kinds of damage at several places; chosen by index so every kind
// is used about equally often. A flip of a compressed coefficient's low bit
// (u: du = 11, v: dv = 5 bits each) usually leaves the decrypted m' as it
// was, so c' = Encrypt(m') is the original ct and only the full-length
// c != c' compare (Alg. 18 line 9) can reject it: an implementation that
// skips bytes of that compare passes every other kind. The high-bit flips
// change m' instead.
const flip = (c, i, bit) => { c[i] ^= 1 << bit; return `bit ${bit} of byte ${i} flipped`; };
const LAST = CT_LEN - 1;
const TAMPERS = [
	(c) => flip(c, 0, 0),            // low bit of u[0] coefficient 0
	(c) => flip(c, LAST, 3),         // low bit of v coefficient 255
	(c) => flip(c, LAST, 7),         // high bit of v coefficient 255
	(c) => flip(c, U_LEN - 1, 7),    // high bit of u[3] coefficient 255
	(c) => flip(c, U_LEN, 0),        // low bit of v coefficient 0
	(c) => flip(c, randomInt(CT_LEN), randomInt(8)),
	(c) => { const i = randomInt(CT_LEN); c[i] ^= 1 + randomInt(255); return `byte ${i} changed`; },
	(c) => {
		const i = randomInt(CT_LEN - 8);
		for (let j = i; j < i + 8; j++) c[j] ^= 0xff;
		return `bytes ${i}..${i + 7} inverted`;
	},
];
const TAMPERS_PER_SEED = 4;

// Pushes one 12-bit coefficient of t-hat to a value >= q (FIPS 203 §7.2).
function breakModulus(ek) {
	const bad = Uint8Array.from(ek);
	const idx = randomInt(4 * 256), v = Q + randomInt(4096 - Q), at = 3 * (idx >> 1);
	if ((idx & 1) === 0) {
		bad[at] = v & 0xff;
		bad[at + 1] = (bad[at + 1] & 0xf0) | (v >> 8);
	} else {
		bad[at + 1] = (bad[at + 1] & 0x0f) | ((v & 0x0f) << 4);
		bad[at + 2] = v >> 4;
	}
	return { bad, what: `coefficient ${idx} set to ${v}` };
}

const nobleRefuses = (ek) => {
	try {
		ml_kem1024.encapsulate(ek, new Uint8Array(32));
		return false;
	} catch {
		return true;
	}
};
// @noble/post-quantum 0.4.1 (pinned: the newest that supports Node 18) and
// 0.5.4 decode 12-bit coefficients without reducing mod q, so their §7.2
// modulus check never fires; 0.7.1 reduces and refuses. Where noble has the
// gap, the broken-ek cases check our refusal against the rule alone, and say so.
const NOBLE_CHECKS_MODULUS = nobleRefuses(breakModulus(ml_kem1024.keygen().publicKey).bad);

const failures = [];
const failureKinds = new Map(); // kind of mismatch -> how many times
function mismatch(what, inputs) {
	failures.push(what);
	const kind = what.replace(/ \(.*?\)/, '').replace(/: .*$/, '');
	failureKinds.set(kind, (failureKinds.get(kind) ?? 0) + 1);
	if (failures.length <= MAX_REPORTS) {
		console.error(`MISMATCH: ${what}`);
		for (const [k, v] of Object.entries(inputs)) console.error(`  ${k} = ${typeof v === 'string' ? v : hex(v)}`);
	} else if (failures.length === MAX_REPORTS + 1) {
		console.error('(further mismatches counted, not printed)');
	}
}

async function checkSeed(tool, counts) {
	const d = randomBytes(32), z = randomBytes(32), m = randomBytes(32);
	const seed = { d, z, m };

	// KeyGen_internal(d, z), FIPS 203 Alg. 16.
	const nk = ml_kem1024.keygen(new Uint8Array(Buffer.concat([d, z])));
	const [ekHex, dkHex] = await askOk(tool, 'keygen', hex(d), hex(z));
	const ek = unhex(ekHex, EK_LEN, 'ek'), dk = unhex(dkHex, DK_LEN, 'dk');
	if (!same(ek, nk.publicKey)) mismatch('keygen ek', seed);
	if (!same(dk, nk.secretKey)) mismatch('keygen dk', seed);
	// Both §7.2 and §7.3 checks must pass on a key we made ourselves.
	if ((await tool.ask('checkek', ekHex))[0] !== 'ok') mismatch('check_ek refused a fresh ek', seed);
	if ((await tool.ask('checkdk', dkHex))[0] !== 'ok') mismatch('check_dk refused a fresh dk', seed);

	// Encaps_internal(ek, m), FIPS 203 Alg. 17, on noble's ek for noble.
	const ne = ml_kem1024.encapsulate(nk.publicKey, new Uint8Array(m));
	const [ctHex, ssHex] = await askOk(tool, 'encaps', ekHex, hex(m));
	const ct = unhex(ctHex, CT_LEN, 'ct'), ss = unhex(ssHex, SS_LEN, 'ss');
	if (!same(ct, ne.cipherText)) mismatch('encaps ct', seed);
	if (!same(ss, ne.sharedSecret)) mismatch('encaps ss', seed);

	// Decaps across: ours by noble, and noble's (own randomness) by us.
	if (!same(ml_kem1024.decapsulate(ct, nk.secretKey), ss)) mismatch('noble decaps of our ct', seed);
	const ne2 = ml_kem1024.encapsulate(nk.publicKey);
	const [ss2Hex] = await askOk(tool, 'decaps', dkHex, hex(ne2.cipherText));
	if (!same(unhex(ss2Hex, SS_LEN, 'ss'), ne2.sharedSecret))
		mismatch('our decaps of noble ct', { ...seed, noble_ct: ne2.cipherText });

	// Implicit rejection on tampered ciphertexts, FIPS 203 Alg. 18 steps 7-11.
	for (let t = 0; t < TAMPERS_PER_SEED; t++) {
		const bad = Uint8Array.from(ct);
		const what = TAMPERS[(counts.tampered + t) % TAMPERS.length](bad);
		const [oursHex] = await askOk(tool, 'decaps', dkHex, hex(bad));
		const ours = unhex(oursHex, SS_LEN, 'ss'), theirs = ml_kem1024.decapsulate(bad, nk.secretKey);
		const inputs = { ...seed, tamper: what, ct: bad };
		if (!same(ours, theirs)) mismatch(`tampered ct (${what}): keys differ`, inputs);
		if (!same(ours, rejectKey(z, bad))) mismatch(`tampered ct (${what}): ours is not J(z||c)`, inputs);
		if (same(ours, ss)) mismatch(`tampered ct (${what}): real ss returned`, inputs);
	}
	counts.tampered += TAMPERS_PER_SEED;

	// §7.2 modulus check: both sides refuse an ek with a coefficient >= q.
	const { bad: badEk, what } = breakModulus(ek);
	const inputs = { ...seed, broken_ek: what };
	const chk = await tool.ask('checkek', hex(badEk));
	const enc = await tool.ask('encaps', hex(badEk), hex(m));
	if (chk.join(' ') !== `err ${PQ_E_KEY}`) mismatch(`check_ek accepted broken ek (${what}): ${chk[0]}`, inputs);
	if (enc.join(' ') !== `err ${PQ_E_KEY}`) mismatch(`encaps accepted broken ek (${what}): ${enc[0]}`, inputs);
	if (NOBLE_CHECKS_MODULUS && !nobleRefuses(badEk)) mismatch(`noble accepted broken ek (${what})`, inputs);
	counts.brokenEk++;
	counts.seeds++;
}

const tool = startTool(toolPath);
const counts = { seeds: 0, tampered: 0, brokenEk: 0 };
let crashed = null;
const t0 = Date.now();
try {
	for (let i = 0; i < SEEDS; i++) await checkSeed(tool, counts);
} catch (err) {
	crashed = err;
} finally {
	tool.close();
}
if (crashed) {
	console.error(`diff.mjs: stopped after ${counts.seeds} seeds: ${crashed.message}`);
	process.exit(1);
}
if (failures.length) {
	for (const [kind, n] of failureKinds) console.error(`  ${n} x ${kind}`);
	console.error(`diff.mjs: ${failures.length} mismatches in ${counts.seeds} seeds`);
	process.exit(1);
}
console.log(`noble @noble/post-quantum ml_kem1024, ${Date.now() - t0} ms`);
console.log(`checked: noble differential ${counts.seeds} seeds, ${counts.tampered} tampered ciphertexts`);
console.log(`checked: ${counts.brokenEk} encapsulation keys with a coefficient >= q refused by ` +
	(NOBLE_CHECKS_MODULUS ? 'both' : 'ours (this noble skips the §7.2 modulus check)'));
