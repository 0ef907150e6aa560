/* Unit tests of the core helpers: money, ids, the JSON writer, buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/jw.h"
#include "core/money.h"
#include "http/http.h"

static void
money_parses_exact_amounts(void **state)
{
	int64_t	v;

	(void)state;
	assert_int_equal(money_parse("-12.3", 5, '.', 2, &v), MONEY_OK);
	assert_int_equal(v, -1230);
	assert_int_equal(money_parse("1500", 4, '.', 0, &v), MONEY_OK);
	assert_int_equal(v, 1500);
	assert_int_equal(money_parse("9,", 2, ',', 2, &v), MONEY_OK);
	assert_int_equal(v, 900);
	assert_int_equal(money_parse(".5", 2, '.', 2, &v), MONEY_OK);
	assert_int_equal(v, 50);
	assert_int_equal(money_parse("18.150", 6, '.', 2, &v), MONEY_OK);
	assert_int_equal(v, 1815);
	assert_int_equal(money_parse("1.234", 5, '.', 3, &v), MONEY_OK);
	assert_int_equal(v, 1234);
}

static void
money_rounds_half_even_and_says_so(void **state)
{
	int64_t	v;

	(void)state;
	assert_int_equal(money_parse("115.8331", 8, '.', 2, &v), MONEY_INEXACT);
	assert_int_equal(v, 11583);
	assert_int_equal(money_parse("0.125", 5, '.', 2, &v), MONEY_INEXACT);
	assert_int_equal(v, 12);
	assert_int_equal(money_parse("0.135", 5, '.', 2, &v), MONEY_INEXACT);
	assert_int_equal(v, 14);
	assert_int_equal(money_parse("0.1251", 6, '.', 2, &v), MONEY_INEXACT);
	assert_int_equal(v, 13);
}

static void
money_refuses_garbage(void **state)
{
	int64_t	v;

	(void)state;
	assert_int_equal(money_parse("", 0, '.', 2, &v), MONEY_BAD);
	assert_int_equal(money_parse("-", 1, '.', 2, &v), MONEY_BAD);
	assert_int_equal(money_parse("1.2.3", 5, '.', 2, &v), MONEY_BAD);
	assert_int_equal(money_parse("1e5", 3, '.', 2, &v), MONEY_BAD);
	assert_int_equal(money_parse("12 3", 4, '.', 2, &v), MONEY_BAD);
	assert_int_equal(money_parse("99999999999999999999", 20, '.', 2, &v),
	    MONEY_OVERFLOW);
}

static void
money_formats_with_currency_digits(void **state)
{
	char	out[MONEY_STRLEN];

	(void)state;
	money_format(-1230, 2, out);
	assert_string_equal(out, "-12.30");
	money_format(5, 2, out);
	assert_string_equal(out, "0.05");
	money_format(-5, 3, out);
	assert_string_equal(out, "-0.005");
	money_format(1500, 0, out);
	assert_string_equal(out, "1500");
	money_format(INT64_MIN, 2, out);
	assert_string_equal(out, "-92233720368547758.08");
	assert_int_equal(currency_exponent("EUR"), 2);
	assert_int_equal(currency_exponent("JPY"), 0);
	assert_int_equal(currency_exponent("KWD"), 3);
	assert_int_equal(currency_exponent("XXX"), -1);
	assert_int_equal(currency_exponent("eur"), -1);
}

static void
ids_are_prefixed_random_and_distinct(void **state)
{
	char	a[ID_MAX], b[ID_MAX];

	(void)state;
	id_new("usr", a);
	id_new("usr", b);
	assert_int_equal(strlen(a), 4 + 24);
	assert_true(id_valid(a, "usr"));
	assert_false(id_valid(a, "con"));
	assert_false(id_valid("usr_", "usr"));
	assert_false(id_valid("usr_ABC", "usr"));
	assert_string_not_equal(a, b);
}

static void
jw_writes_valid_json(void **state)
{
	struct buf	b;
	struct jw	w;

	(void)state;
	buf_init(&b, 1024);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "a", "x\"y\\\n\x01");
	jw_key(&w, "list");
	jw_arr(&w);
	jw_int(&w, -5);
	jw_bool(&w, 1);
	jw_null(&w);
	jw_str(&w, "\xff\xc3\xa9");
	jw_arr_end(&w);
	jw_knull(&w, "n");
	jw_obj_end(&w);
	assert_int_equal(jw_finish(&w), 0);
	assert_string_equal(buf_str(&b),
	    "{\"a\":\"x\\\"y\\\\\\n\\u0001\",\"list\":[-5,true,null,"
	    "\"\\ufffd\xc3\xa9\"],\"n\":null}");
	buf_free(&b);
}

static void
buf_refuses_past_its_limit(void **state)
{
	struct buf	b;
	struct jw	w;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_addstr(&b, "12345678"), 0);
	assert_int_equal(buf_addc(&b, '9'), -1);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_str(&b), "12345678");
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "long", "0123456789");
	jw_obj_end(&w);
	assert_int_equal(jw_finish(&w), -1);
	buf_free(&b);
}

/* Validation collects every problem, each under its dotted field path. */
static void
validation_reports_every_field_at_once(void **state)
{
	static const char *const known[] = { "name", "age", "ok", "inner", NULL };
	json_t		*body = json_loads("{\"name\": 5, \"age\": 300, \"ok\": \"yes\", "
	    "\"inner\": {\"x\": \"\"}, \"typo\": 1}", 0, NULL);
	struct vctx	 v;
	json_t		*inner;

	(void)state;
	v_init(&v);
	v_known(&v, body, NULL, known);
	assert_null(v_string(&v, body, NULL, "name", 1, 1, 10));
	assert_int_equal(v_int(&v, body, NULL, "age", 0, 150, 7), 7);
	assert_int_equal(v_bool(&v, body, NULL, "ok", 1), 1);
	inner = v_object(&v, body, NULL, "inner", 1);
	assert_non_null(inner);
	assert_null(v_string(&v, inner, "inner", "x", 1, 1, 10));
	assert_null(v_string(&v, inner, "inner", "missing", 1, 1, 10));
	assert_true(v_failed(&v));
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    v.errors, "name"), 0)), "Not a valid string: got a number.");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    v.errors, "age"), 0)), "Must be between 0 and 150.");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    v.errors, "ok"), 0)), "Not a valid boolean: got a string.");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    v.errors, "inner.x"), 0)), "Must not be empty.");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    v.errors, "inner.missing"), 0)), "Missing required field.");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    v.errors, "typo"), 0)), "Unknown field.");
	assert_int_equal(json_object_size(v.errors), 6);
	v_free(&v);
	json_decref(body);
}

static void
dates_are_real_calendar_days(void **state)
{
	(void)state;
	assert_true(v_is_date("2024-02-29"));
	assert_false(v_is_date("2023-02-29"));
	assert_false(v_is_date("2024-13-01"));
	assert_false(v_is_date("2024-04-31"));
	assert_false(v_is_date("2024-4-01"));
	assert_false(v_is_date("yesterday"));
	assert_false(v_is_date(NULL));
}

/*
 * 600 clients in the 1,024-slot table: some share a hash slot.  Each uses
 * up its bucket; none gets requests back because another client came by.
 */
static void
rate_limit_buckets_are_never_shared(void **state)
{
	char	id[32];
	int	i, j, wait;

	(void)state;
	cfg.rate_limit = 1;
	cfg.rate_burst = 2;
	rate_limit_reset();
	for (j = 0; j < 2; j++)
		for (i = 0; i < 600; i++) {
			snprintf(id, sizeof(id), "cli_%06d", i);
			assert_int_equal(rate_limit_check(id, &wait), 0);
		}
	for (i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "cli_%06d", i);
		wait = 0;
		assert_int_equal(rate_limit_check(id, &wait), -1);
		assert_int_equal(wait, 1);
	}
	rate_limit_reset();
}

/*
 * A request counted against two buckets (an address and a client id)
 * takes from both or from neither, and the wait is the longer one's.
 */
static void
rate_limit_takes_from_every_key_or_none(void **state)
{
	static struct ratelimit	 t = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const char		*ab[] = { "a", "b" }, *ac[] = { "a", "c" };
	int			 wait = 0;

	(void)state;
	/* 1 token a minute, 1 at once */
	assert_int_equal(ratelimit_take(&t, ab, 2, 1.0 / 60, 1, &wait), 0);
	assert_int_equal(ratelimit_take(&t, ab + 1, 1, 1.0 / 60, 1, &wait), -1);
	assert_true(wait >= 59 && wait <= 60);
	wait = 0;
	assert_int_equal(ratelimit_take(&t, ac, 2, 1.0 / 60, 1, &wait), -1);
	assert_true(wait >= 59 && wait <= 60);
	/* c lost nothing to the refused request */
	assert_int_equal(ratelimit_take(&t, ac + 1, 1, 1.0 / 60, 1, &wait), 0);
	ratelimit_give(&t, ab, 1, 1.0 / 60, 1);
	assert_int_equal(ratelimit_take(&t, ab, 1, 1.0 / 60, 1, &wait), 0);
	/* keys longer than a slot holds still find their own bucket */
	{
		char		 longkey[200];
		const char	*k[] = { longkey };

		memset(longkey, 'x', sizeof(longkey) - 1);
		longkey[sizeof(longkey) - 1] = '\0';
		assert_int_equal(ratelimit_take(&t, k, 1, 1.0 / 60, 1, &wait), 0);
		assert_int_equal(ratelimit_take(&t, k, 1, 1.0 / 60, 1, &wait), -1);
	}
}

static void
addr_keys_take_ipv6_by_its_64(void **state)
{
	static const char *const cases[][2] = {
		{ "192.0.2.7", "192.0.2.7" },
		{ "::ffff:192.0.2.7", "192.0.2.7" },
		{ "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64" },
		{ "2001:db8:1:2::1", "2001:db8:1:2::/64" },
		{ "2001:db8:1:3::1", "2001:db8:1:3::/64" },
		{ "", "" },
	};
	char	k[RL_KEY_MAX];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ratelimit_addr_key(cases[i][0], k, sizeof(k));
		assert_string_equal(k, cases[i][1]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(money_parses_exact_amounts),
		cmocka_unit_test(money_rounds_half_even_and_says_so),
		cmocka_unit_test(money_refuses_garbage),
		cmocka_unit_test(money_formats_with_currency_digits),
		cmocka_unit_test(ids_are_prefixed_random_and_distinct),
		cmocka_unit_test(jw_writes_valid_json),
		cmocka_unit_test(buf_refuses_past_its_limit),
		cmocka_unit_test(validation_reports_every_field_at_once),
		cmocka_unit_test(dates_are_real_calendar_days),
		cmocka_unit_test(rate_limit_buckets_are_never_shared),
		cmocka_unit_test(rate_limit_takes_from_every_key_or_none),
		cmocka_unit_test(addr_keys_take_ipv6_by_its_64),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
