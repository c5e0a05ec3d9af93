/* test_config_errors.c - every class of configuration error, as a table:
 * each file has exactly one mistake, and the load must fail with
 * PQ_E_CONFIG and exactly one message `FILE:LINE: ...` naming the right
 * line, what was wrong (needle) and what was expected. One message per
 * case also proves that no error cascades into a second one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/config.h"
#include "node/config_util.h"
#include "relay/config.h"

/* lines 1-3; the case's own text starts at line 4 */
#define NODE_3 "[node]\nprivate_key = /etc/pqlan/node.key\ntap = pqlan0\n"
/* lines 1-4 */
#define NODE_HEAD NODE_3 "listen = 0.0.0.0:7443\n"
/* lines 5-7 */
#define RELAY_OK "[relay]\nurl = wss://198.18.0.1:8443/\nkey = " KEY_A "\n"
/* lines 1-7; the case's own text starts at line 8 */
#define NODE_OK NODE_HEAD RELAY_OK
/* node.conf whose line 4 is the case's [node] key */
#define NODE_KEY(line4) NODE_HEAD line4 "\n" RELAY_OK
/* node.conf whose line 7 is the relay url */
#define RELAY_URL(url) NODE_HEAD "[relay]\nkey = " KEY_A "\nurl = " url "\n"
/* node.conf whose line 9 is the case's [peer] key */
#define PEER_KEY(line9) NODE_OK "[peer]\nkey = " KEY_B "\n" line9 "\n"
/* relay.conf: lines 1-3, the case's text from line 4 */
#define RELAY_HEAD "[relay]\nprivate_key = /etc/pqlan/relay.key\nlisten = 0.0.0.0:8443\n"

struct err_case {
	bool relay;          /* relay.conf, else node.conf */
	const char *text;
	unsigned line;
	const char *needle;  /* what was wrong, as the message must say it */
};

static const struct err_case cases[] = {
	/* sections */
	{ 0, NODE_OK "[peers]\nkey = " KEY_B "\n", 8, "unknown section [peers], expected [node], [relay] or [peer]" },
	{ 0, NODE_OK "[node]\n", 8, "second [node] section (the first is at line 1)" },
	{ 0, NODE_OK "[ relay ]\nurl = wss://198.18.0.2/\n", 8, "[relay] has no key" }, /* several [relay]: each complete */
	{ 0, NODE_OK "[peer\nkey = " KEY_B "\n", 8, "\"[peer\" has no closing ']'" },
	{ 0, NODE_OK "[peer] x\nkey = " KEY_B "\n", 8, "\"[peer] x\" has text after ']'" },
	{ 0, NODE_HEAD, 4, "no [relay] section in the file, expected a [relay] section with url and key" },
	{ 0, RELAY_OK, 3, "no [node] section in the file, expected a [node] section with private_key, tap and listen" },
	{ 0, "tap = pqlan0\n" NODE_OK, 1, "tap = ... comes before any section, expected a [node] header" },
	{ 1, "# nothing here\n\n", 2, "no [relay] section in the file, expected a [relay] section with private_key and listen" },
	{ 1, RELAY_HEAD "[relay]\n", 4, "second [relay] section" },
	{ 1, RELAY_HEAD "[node]\n", 4, "unknown section [node], expected [relay]" },
	/* keys */
	{ 0, NODE_KEY("listn = 1"), 5, "unknown key \"listn\" in [node], expected one of private_key, tap, address, listen, control," },
	{ 0, NODE_KEY("tap = pqlan1"), 5, "tap is set twice in this [node] section (first at line 3)" },
	{ 0, NODE_KEY("= 5"), 5, "'=' has no name before it" },
	{ 0, NODE_KEY("metrics: 127.0.0.1:9464"), 5, "\"metrics\" is followed by ':', expected metrics = value" },
	{ 0, NODE_KEY("just some words"), 5, "cannot read \"just some words\", expected name = value" },
	{ 0, PEER_KEY("key = " KEY_C), 10, "key is set twice in this [peer] section (first at line 9)" },
	{ 0, PEER_KEY("url = wss://1.2.3.4/"), 10, "unknown key \"url\" in [peer]" },
	{ 1, RELAY_HEAD "listen = 0.0.0.0:8444\n", 4, "listen is set twice in this [relay] section" },
	{ 1, RELAY_HEAD "allowed = " KEY_A "\n", 4, "unknown key \"allowed\" in [relay], expected one of private_key, listen, allow," },
	/* missing keys are reported at the section's header */
	{ 0, NODE_3 RELAY_OK, 1, "[node] has no listen, expected listen = 0.0.0.0:7443" },
	{ 0, "[node]\ntap = pqlan0\nlisten = 0.0.0.0:7443\n" RELAY_OK, 1, "[node] has no private_key" },
	{ 0, NODE_HEAD "[relay]\nurl = wss://198.18.0.1:8443/\n", 5, "[relay] has no key, expected key = <relay public key>" },
	{ 0, NODE_OK "[peer]\nname = bob\n", 8, "[peer] has no key, expected key = <peer public key>" },
	{ 0, NODE_OK "[peer]\n[peer]\nkey = " KEY_B "\n", 8, "[peer] has no key" },
	{ 0, NODE_OK "[peer]\nkey = " KEY_B "\n[peer]\n", 10, "[peer] has no key" },
	{ 1, "[relay]\nlisten = 0.0.0.0:8443\n", 1, "[relay] has no private_key, expected private_key = /etc/pqlan/relay.key" },
	/* peers: unique keys and names */
	{ 0, NODE_OK "[peer]\nkey = " KEY_B "\n[peer]\nkey = " KEY_B "\n", 11, "is already the key of the [peer] at line 8, expected one [peer] section per key" },
	{ 0, NODE_OK "[peer]\nname = bob\nkey = " KEY_B "\n[peer]\nname = bob\nkey = " KEY_C "\n", 12, "\"bob\" is already the name of the [peer] at line 8" },
	{ 1, RELAY_HEAD "allow = " KEY_A "\nallow = " KEY_B "\nallow = " KEY_A "\n", 6, "is already allowed at line 4, expected each key once" },
	/* host:port */
	{ 0, NODE_3 "listen = 0.0.0.0\n" RELAY_OK, 4, "listen = \"0.0.0.0\" has no port, expected host:port such as 0.0.0.0:7443" },
	{ 0, NODE_3 "listen = ::1:7443\n" RELAY_OK, 4, "looks like an IPv6 address without brackets, expected [IPv6]:port" },
	{ 0, NODE_3 "listen = localhost:7443\n" RELAY_OK, 4, "has host \"localhost\", which is not an IP address" },
	{ 0, NODE_3 "listen = 1.2.3.4:65536\n" RELAY_OK, 4, "has port 65536, expected a port from 0 to 65535" },
	{ 0, NODE_3 "listen = 1.2.3.4:7443x\n" RELAY_OK, 4, "has a port \"7443x\" that is not a number" },
	{ 0, NODE_3 "listen = 1.2.3.4:\n" RELAY_OK, 4, "has an empty port" },
	{ 0, NODE_3 "listen = [::1]\n" RELAY_OK, 4, "has no port after ']'" },
	{ 0, NODE_3 "listen = [::1]x:1\n" RELAY_OK, 4, "has text after ']'" },
	{ 0, NODE_3 "listen = [::1:7443\n" RELAY_OK, 4, "has no closing ']'" },
	{ 0, NODE_3 "listen = [1.2.3.4]:7443\n" RELAY_OK, 4, "has an IPv4 address in brackets" },
	{ 0, NODE_3 "listen = [fe80::1%eth0]:7443\n" RELAY_OK, 4, "which is not an IP address" },
	{ 0, NODE_3 "listen = 1.2.3:7443\n" RELAY_OK, 4, "has host \"1.2.3\", which is not an IP address" },
	{ 0, NODE_3 "listen =\n" RELAY_OK, 4, "listen = \"\" is empty, expected host:port" },
	{ 0, NODE_3 "listen = 0.0.0.0:7443 # direct\n" RELAY_OK, 4, "(a comment after a value starts with ' ;', not '#')" },
	{ 0, NODE_KEY("metrics = 127.0.0.1:99999"), 5, "metrics = \"127.0.0.1:99999\" has port 99999" },
	{ 0, PEER_KEY("endpoint = 192.0.2.7:0"), 10, "has port 0, expected a port from 1 to 65535" },
	{ 0, PEER_KEY("endpoint = peer.example:7443"), 10, "which is not an IP address" },
	{ 1, "[relay]\nprivate_key = /k\nlisten = 0.0.0.0\n", 3, "listen = \"0.0.0.0\" has no port, expected host:port such as 0.0.0.0:8443" },
	/* numbers */
	{ 0, NODE_KEY("retry_interval = 60s"), 5, "has trailing characters \"s\" after the number, expected a whole number of seconds from 1 to 86400" },
	{ 0, NODE_KEY("retry_interval = 0"), 5, "is out of range, expected a whole number of seconds from 1 to 86400" },
	{ 0, NODE_KEY("retry_interval = 86401"), 5, "is out of range" },
	{ 0, NODE_KEY("retry_interval = 99999999999999999999999"), 5, "is out of range" },
	{ 0, NODE_KEY("retry_interval = -5"), 5, "is not a number" },
	{ 0, NODE_KEY("retry_interval = 1e3"), 5, "has trailing characters \"e3\"" },
	{ 0, NODE_KEY("retry_interval = 6 0"), 5, "has trailing characters \" 0\"" },
	{ 0, NODE_KEY("retry_interval ="), 5, "is not a number" },
	{ 0, NODE_KEY("reauth_interval = 9"), 5, "is out of range, expected a whole number of seconds from 10 to 86400" },
	/* CIDR, interface, names, paths */
	{ 0, NODE_KEY("address = 10.77.0.1"), 5, "has no prefix length, expected address/prefix such as 10.77.0.1/24" },
	{ 0, NODE_KEY("address = 10.77.0.1/33"), 5, "has prefix length \"33\", which is out of range, expected a whole number of bits from 1 to 32" },
	{ 0, NODE_KEY("address = 10.77.0.1/0"), 5, "is out of range" },
	{ 0, NODE_KEY("address = fd00::1/129"), 5, "from 1 to 128" },
	{ 0, NODE_KEY("address = 10.77.0.1/24x"), 5, "has trailing characters \"x\"" },
	{ 0, NODE_KEY("address = 10.77.0/24"), 5, "has \"10.77.0\", which is not an IP address" },
	{ 0, "[node]\nprivate_key = /k\ntap = pqlan0123456789a\nlisten = 0.0.0.0:1\n" RELAY_OK, 3, "tap = \"pqlan0123456789a\" is 16 characters long, expected an interface name of 1 to 15" },
	{ 0, "[node]\nprivate_key = /k\ntap = pq lan\nlisten = 0.0.0.0:1\n" RELAY_OK, 3, "contains ' ', expected an interface name" },
	{ 0, "[node]\nprivate_key = /k\ntap = pq/0\nlisten = 0.0.0.0:1\n" RELAY_OK, 3, "contains '/'" },
	{ 0, "[node]\nprivate_key = /k\ntap = ..\nlisten = 0.0.0.0:1\n" RELAY_OK, 3, "is not a usable name" },
	{ 0, "[node]\nprivate_key = /k\ntap =\nlisten = 0.0.0.0:1\n" RELAY_OK, 3, "is 0 characters long" },
	{ 0, PEER_KEY("name = bob smith"), 10, "contains ' ', expected a name of letters" },
	{ 0, PEER_KEY("name = abcdefghijabcdefghijabcdefghijabc"), 10, "is 33 characters long, expected a name of 1 to 32" },
	{ 0, "[node]\nprivate_key =\ntap = pqlan0\nlisten = 0.0.0.0:1\n" RELAY_OK, 2, "private_key = \"\" is empty, expected a file path" },
	{ 0, NODE_KEY("control = run/pqlan0.sock"), 5, "is a relative path, expected an absolute path such as /run/pqlan/pqlan0.sock" },
	{ 0, NODE_KEY("control = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 5, "is 108 characters long, expected a path of at most 107" },
	{ 0, PEER_KEY("path = fast"), 10, "path = \"fast\" is not a path mode, expected auto, relay or direct" },
	{ 0, PEER_KEY("path = Auto"), 10, "expected auto, relay or direct" },
	{ 0, NODE_KEY("offload = yes"), 5, "offload = \"yes\" is not a switch, expected on or off" },
	{ 0, NODE_KEY("offload = ON"), 5, "expected on or off" },
	{ 0, NODE_KEY("offload ="), 5, "expected on or off" },
	/* issue 12: bridging and log keys */
	{ 0, NODE_KEY("tap_persist = on"), 5, "tap_persist = \"on\" is not yes or no, expected yes or no" },
	{ 0, NODE_KEY("mac = 02:00:00:00:00"), 5, "is not a MAC address, expected six hex pairs" },
	{ 0, NODE_KEY("mac = 02-00-00-00-00-01"), 5, "is not a MAC address" },
	{ 0, NODE_KEY("mac = 02:00:00:00:00:0g"), 5, "is not a MAC address" },
	{ 0, NODE_KEY("mac = 01:00:5e:00:00:01"), 5, "is a multicast MAC, expected a unicast one" },
	{ 0, NODE_KEY("mac = 00:00:00:00:00:00"), 5, "is the all-zero MAC" },
	{ 0, NODE_KEY("mtu = 67"), 5, "mtu = \"67\"" },
	{ 0, NODE_KEY("mtu = 16367"), 5, "mtu = \"16367\"" },
	{ 0, NODE_KEY("log_level = verbose"), 5, "is not a log level, expected debug, info, warn or error" },
	{ 1, RELAY_HEAD "log_level = loud\n", 4, "is not a log level, expected debug, info, warn or error" },
	{ 1, RELAY_HEAD "control = relative.ctl\n", 4, "control = \"relative.ctl\"" },
	{ 1, RELAY_HEAD "metrics = localhost:9465\n", 4, "metrics = \"localhost:9465\"" },
	/* public keys */
	{ 0, NODE_OK "[peer]\nkey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 9, "is 43 characters long, expected the peer's public key: 44 characters of base64" },
	{ 0, NODE_OK "[peer]\nkey = " KEY_A " x\n", 9, "is 46 characters long" },
	{ 0, NODE_OK "[peer]\nkey = " KEY_A_NONCANON "\n", 9, "is not a valid printed key, expected the peer's public key" },
	{ 0, NODE_OK "[peer]\nkey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=\n", 9, "is not a valid printed key" },
	{ 0, NODE_HEAD "[relay]\nurl = wss://198.18.0.1:8443/\nkey = " KEY_A "=\n", 7, "is 45 characters long, expected the relay's public key" },
	{ 1, RELAY_HEAD "allow = nope\n", 4, "allow = \"nope\" is 4 characters long, expected a node's public key" },
	/* the relay URL */
	{ 0, RELAY_URL("ws://198.18.0.1:8443/"), 7, "is not encrypted (ws://), expected a wss:// URL" },
	{ 0, RELAY_URL("https://198.18.0.1/"), 7, "is not a wss:// URL, expected wss://host:port/path" },
	{ 0, RELAY_URL("198.18.0.1:8443"), 7, "is not a wss:// URL" },
	{ 0, RELAY_URL("wss://198.18.0.1:8443/#top"), 7, "has a fragment ('#')" },
	{ 0, RELAY_URL("wss://me@198.18.0.1:8443/"), 7, "has user information ('@')" },
	{ 0, RELAY_URL("wss://198.18.0:8443/"), 7, "has host \"198.18.0\", which is not an IPv4 address" },
	{ 0, RELAY_URL("wss://relay_1.example/"), 7, "which is not a valid host name" },
	{ 0, RELAY_URL("wss://-relay.example/"), 7, "which is not a valid host name" },
	{ 0, RELAY_URL("wss://relay..example/"), 7, "which is not a valid host name" },
	{ 0, RELAY_URL("wss://198.18.0.1:0/"), 7, "has port 0, expected a port from 1 to 65535" },
	{ 0, RELAY_URL("wss://198.18.0.1:/"), 7, "has an empty port" },
	{ 0, RELAY_URL("wss://198.18.0.1:84x3/"), 7, "that is not a number" },
	{ 0, RELAY_URL("wss://::1:8443/"), 7, "has an IPv6 host without brackets" },
	{ 0, RELAY_URL("wss://[198.18.0.1]:8443/"), 7, "in brackets, which is not an IPv6 address" },
	{ 0, RELAY_URL("wss://[::1/"), 7, "has a malformed [IPv6] host" },
	{ 0, RELAY_URL("wss:///x"), 7, "has no host" },
	{ 0, RELAY_URL("wss://198.18.0.1/a b"), 7, "has a space or a non-ASCII character in its path" },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int n_checked;

/* 1 when the case passes; prints what went wrong otherwise. */
static int check_case(const struct err_case *c, size_t i)
{
	const char *file = c->relay ? "relay.conf" : "node.conf";
	char err[PQ_CONFIG_ERR_LEN];
	struct pq_node_config node;
	struct pq_relay_config relay;
	int rc;
	bool freed;

	memset(err, 'x', sizeof(err));
	if (c->relay) {
		rc = pq_relay_config_parse(&relay, file, c->text, strlen(c->text), err, sizeof(err));
		freed = relay.allow == NULL; /* a failed load frees what it made */
	} else {
		rc = pq_node_config_parse(&node, file, c->text, strlen(c->text), err, sizeof(err));
		freed = node.peers == NULL;
	}
	if (rc == PQ_E_CONFIG && freed && err_lines(err) == 1 &&
	    err_has(err, file, c->line, c->needle))
		return 1;
	print_error("case %zu: rc %d, want %s:%u: ...%s... alone; got:\n%s\n--- text:\n%s\n",
		    i, rc, file, c->line, c->needle, err, c->text);
	return 0;
}

static void test_error_table(void **state)
{
	size_t bad = 0;

	for (size_t i = 0; i < NCASES; i++) {
		if (check_case(&cases[i], i))
			n_checked++;
		else
			bad++;
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_table),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("checked: config errors %d cases\n", n_checked);
	return failed;
}
