/*
 * The error catalog against itself and against the seed documents: unique
 * codes and names, codes inside their group's range, every seed code and
 * name served by an entry, and docs/errors.md up to date.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/errors_doc.h"

static void
codes_and_names_are_unique(void **state)
{
	int	i, j;

	(void)state;
	for (i = 1; i < ERR__COUNT; i++)
		for (j = i + 1; j < ERR__COUNT; j++) {
			const struct err_info *a = err_info(i), *b = err_info(j);

			if (a->code == b->code || strcmp(a->name, b->name) == 0)
				fail_msg("%s and %s share a code or name", a->name,
				    b->name);
		}
	/* every name and alias resolves to exactly its own entry */
	for (i = 1; i < ERR__COUNT; i++) {
		const struct err_info *a = err_info(i);
		const char *p = a->aliases;

		assert_int_equal(err_by_name(a->name), i);
		assert_int_equal(err_by_code(a->code), i);
		while (*p != '\0') {
			char	w[64];
			size_t	n = strcspn(p, " ");

			snprintf(w, sizeof(w), "%.*s", (int)n, p);
			if (err_by_name(w) != (enum err)i)
				fail_msg("alias %s of %s is also another entry's "
				    "name or alias", w, a->name);
			p += n;
			p += strspn(p, " ");
		}
	}
}

static void
codes_sit_in_their_group_range(void **state)
{
	int	i, lo, hi;

	(void)state;
	for (i = 1; i < ERR__COUNT; i++) {
		const struct err_info *a = err_info(i);

		err_group_range(a->group, &lo, &hi);
		if (a->code < lo || a->code > hi)
			fail_msg("%s: code %d outside %s (%d-%d)", a->name, a->code,
			    err_group_name(a->group), lo, hi);
		assert_true(a->http >= 400 && a->http <= 599);
		assert_true(strlen(a->description) > 0);
		/* an entry bankfeed causes itself says how to cause it */
		if (a->stage == STG_NONE && strlen(a->reproduce) == 0)
			fail_msg("%s has no reproduce text", a->name);
	}
}

/*
 * A description naming a setting in braces reads as its value ("30
 * minutes" by default, the setting in force once loaded); no brace is
 * left in any description, and others read as written.
 */
static void
descriptions_say_the_settings_in_force(void **state)
{
	char	 d[512];
	char	*argv[] = { "bankfeed", "--task-timeout", "90",
	    "--session-idle=3600", NULL };
	int	 argc = 4, i;

	(void)state;
	assert_string_equal(err_description(ERR_TASK_EXPIRED, d, sizeof(d)),
	    "Task is expired: it did not finish within 30 minutes of its start.");
	assert_non_null(strstr(err_description(ERR_SESSION_EXPIRED, d,
	    sizeof(d)), "after 8 minutes without"));
	for (i = 1; i < ERR__COUNT; i++) {
		err_description((enum err)i, d, sizeof(d));
		if (strchr(d, '{') != NULL || strchr(d, '}') != NULL)
			fail_msg("%s: description \"%s\"", err_name(i), d);
		if (strchr(err_info(i)->description, '{') == NULL)
			assert_string_equal(d, err_info(i)->description);
	}
	assert_int_equal(config_load(&argc, argv), 0);
	assert_non_null(strstr(err_description(ERR_TASK_EXPIRED, d, sizeof(d)),
	    "within 90 seconds of"));
	assert_non_null(strstr(err_description(ERR_SESSION_EXPIRED, d,
	    sizeof(d)), "after 1 hour without"));
	/* a tiny buffer gets a cut, terminated text */
	assert_string_equal(err_description(ERR_TASK_EXPIRED, d, 5), "Task");
	config_free();
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "rb");
	char	*p;
	long	 n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = calloc(1, (size_t)n + 1);
	if (fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

static int
seedrow_has_name(const char *name)
{
	size_t	i;

	for (i = 0; i < nseedrows; i++)
		if (strcmp(seedrows[i].name, name) == 0 ||
		    strcmp(seedrows[i].code, name) == 0)
			return 1;
	return 0;
}

/* Reads each seed file when ../shared/seeds is there. */
static char *
seed(const char *prefix)
{
	char	cmd[512], path[512];
	FILE	*p;

	snprintf(cmd, sizeof(cmd), "ls %s/%s_*.txt 2>/dev/null | head -1",
	    BANKFEED_SEEDS_DIR, prefix);
	if ((p = popen(cmd, "r")) == NULL)
		return NULL;
	path[0] = '\0';
	if (fgets(path, sizeof(path), p) == NULL)
		path[0] = '\0';
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	return path[0] ? slurp(path) : NULL;
}

static void
every_seed_code_has_an_entry(void **state)
{
	static const char *const groups[] = { "client", "user", "bank",
	    "general", "connectivity", "categorization", NULL };
	char	*s = seed("000"), *line, *next;
	int	 found = 0;
	size_t	 g;

	(void)state;
	if (s == NULL) {
		printf("skipped: %s not found\n", BANKFEED_SEEDS_DIR);
		return;
	}
	/* The code table's lines read "10004userTAN is invalid". */
	for (line = s; line != NULL; line = next) {
		char	*end;
		long	 code;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (!isdigit((unsigned char)*line))
			continue;
		code = strtol(line, &end, 10);
		for (g = 0; groups[g] != NULL; g++)
			if (strncmp(end, groups[g], strlen(groups[g])) == 0)
				break;
		if (groups[g] == NULL || code < 1000)
			continue;
		if (err_by_code((int)code) == ERR_OK)
			fail_msg("seed 000 code %ld has no entry", code);
		found++;
	}
	assert_int_equal(found, 44);
	free(s);
}

/* Upper snake case words of 5+ letters in the seeds, e.g. CARD_IN_USE. */
static void
check_names(const char *prefix)
{
	char	*s = seed(prefix), *p;
	int	 n = 0;

	if (s == NULL) {
		printf("skipped: seed %s not found\n", prefix);
		return;
	}
	for (p = s; *p != '\0';) {
		char	 w[64];
		size_t	 len = 0;

		while (*p != '\0' && !(isupper((unsigned char)*p) &&
		    (p == s || !isalnum((unsigned char)p[-1]))))
			p++;
		if (*p == '\0')
			break;
		while ((isupper((unsigned char)p[len]) || p[len] == '_') &&
		    len + 1 < sizeof(w))
			len++;
		if (len >= 5 && memchr(p, '_', len) != NULL &&
		    !isalnum((unsigned char)p[len])) {
			memcpy(w, p, len);
			w[len] = '\0';
			if (!seedrow_has_name(w) && err_by_name(w) == ERR_OK)
				fail_msg("seed %s name %s has no entry", prefix, w);
			n++;
		}
		p += len > 0 ? len : 1;
	}
	assert_true(n > 5);
	free(s);
}

/*
 * Seed 001 runs its columns together ("202OPERATION_PENDINGThe process...",
 * "401Session ExpiredThe user's session expired."): each table line must
 * start with its status and then the name of one of our seed 001 rows.
 */
static void
check_seed_001(void)
{
	char	*s = seed("001"), *line, *next;
	int	 n = 0;
	size_t	 i;

	if (s == NULL) {
		printf("skipped: seed 001 not found\n");
		return;
	}
	for (line = s; line != NULL; line = next) {
		const char *rest;
		int	    ok = 0;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strcmp(line, "200 HTTP Codes") == 0)	/* a heading */
			continue;
		if (strncmp(line, "N/A", 3) == 0)
			rest = line + 3;
		else if (isdigit((unsigned char)line[0]) &&
		    isdigit((unsigned char)line[1]) &&
		    isdigit((unsigned char)line[2]) && !isdigit((unsigned char)line[3]))
			rest = line + 3;
		else
			continue;
		for (i = 0; i < nseedrows && !ok; i++)
			ok = seedrows[i].seed == 1 && strncmp(rest, seedrows[i].name,
			    strlen(seedrows[i].name)) == 0 &&
			    strncmp(line, seedrows[i].status,
			    strlen(seedrows[i].status)) == 0;
		if (!ok)
			fail_msg("seed 001 row \"%s\" has no entry", line);
		n++;
	}
	assert_int_equal(n, 30);
	free(s);
}

static void
every_seed_name_has_an_entry(void **state)
{
	(void)state;
	check_seed_001();
	check_names("002");
	check_names("003");
}

static void
seed_rows_name_real_entries_or_say_why_not(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < nseedrows; i++) {
		const struct seedrow *r = &seedrows[i];

		if (r->entry == ERR_OK && strlen(r->note) == 0)
			fail_msg("seed %d row %s is not an error but says nothing",
			    r->seed, r->name);
		/* a seed name that is an entry's name or alias maps there */
		/*
		 * Except the names the seeds give to rows that mean different
		 * things: INVALID_LOGIN (an unknown LoginId is 1002),
		 * FAILED_SECURITY_VALIDATION (mutual TLS with the bank is a bank
		 * error) and SERVICE_UNAVAILABLE (the bank's down-time).
		 */
		if (r->entry != ERR_OK && err_by_name(r->name) != ERR_OK &&
		    err_by_name(r->name) != r->entry &&
		    strcmp(r->name, "INVALID_LOGIN") != 0 &&
		    strcmp(r->name, "FAILED_SECURITY_VALIDATION") != 0 &&
		    strcmp(r->name, "SERVICE_UNAVAILABLE") != 0)
			fail_msg("seed row %s maps to %s but the name is %s's",
			    r->name, err_name(r->entry),
			    err_name(err_by_name(r->name)));
	}
}

static void
errors_md_is_generated_from_the_catalog(void **state)
{
	char	*doc = slurp(BANKFEED_SOURCE_DIR "/docs/errors.md"), *gen;
	size_t	 n;
	FILE	*f;

	(void)state;
	assert_non_null(doc);
	f = open_memstream(&gen, &n);
	errors_markdown(f);
	fclose(f);
	if (strcmp(doc, gen) != 0)
		fail_msg("docs/errors.md is stale: run build/bankfeed errors "
		    "--markdown > docs/errors.md");
	free(doc);
	free(gen);
}

static void
readme_lists_every_setting(void **state)
{
	char	*doc = slurp(BANKFEED_SOURCE_DIR "/README.md"), *gen, *line, *next;
	size_t	 n;
	FILE	*f;

	(void)state;
	assert_non_null(doc);
	f = open_memstream(&gen, &n);
	config_markdown(f);
	fclose(f);
	for (line = gen; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strstr(doc, line) == NULL)
			fail_msg("README.md lacks the settings row \"%s\" (run "
			    "build/bankfeed config)", line);
	}
	free(doc);
	free(gen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(codes_and_names_are_unique),
		cmocka_unit_test(codes_sit_in_their_group_range),
		cmocka_unit_test(every_seed_code_has_an_entry),
		cmocka_unit_test(every_seed_name_has_an_entry),
		cmocka_unit_test(seed_rows_name_real_entries_or_say_why_not),
		cmocka_unit_test(errors_md_is_generated_from_the_catalog),
		cmocka_unit_test(descriptions_say_the_settings_in_force),
		cmocka_unit_test(readme_lists_every_setting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
