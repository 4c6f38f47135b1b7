/* Unit tests of conntrack_find: which entry is "the current connection" in
 * a table, with and without a source NAT that changed the port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "conntrack.h"
#include "util.h"

static void entry(struct ct_entry *e, const char *client, uint16_t cport, uint16_t nat_port)
{
	memset(e, 0, sizeof(*e));
	e->orig_src.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, client, e->orig_src.bytes), 1);
	e->orig_sport = cport;
	e->orig_dport = 8080;
	e->reply_sport = 8080;
	e->reply_dport = nat_port;
}

static void test_find(void **state)
{
	struct ct_entry v[3];
	struct fw_addr client = { .family = AF_INET };

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "198.18.1.2", client.bytes), 1);
	entry(&v[0], "198.18.1.2", 40000, 50000); /* SNAT 40000 -> 50000 */
	entry(&v[1], "198.18.1.2", 50000, 50001); /* a flow whose own port is 50000 */
	entry(&v[2], "198.18.1.9", 40002, 40002); /* another client */
	/* the client's own port: the original direction */
	assert_ptr_equal(conntrack_find(v, 3, &client, 40000, 8080), &v[0]);
	/* the original direction wins over a NAT port that equals it */
	assert_ptr_equal(conntrack_find(v, 3, &client, 50000, 8080), &v[1]);
	/* the port the server saw: the reply direction of the NAT's entry */
	assert_ptr_equal(conntrack_find(v, 3, &client, 50001, 8080), &v[1]);
	assert_null(conntrack_find(v, 3, &client, 40002, 8080)); /* not this client's */
	assert_null(conntrack_find(v, 3, &client, 40000, 8081));
	assert_null(conntrack_find(v, 0, &client, 40000, 8080));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
