/*
 * What an operator sees of a running server (issue 11, item 4): the data
 * dir and every file in it private whatever the umask.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

/* The permission bits of path; fails the test when it is missing. */
static unsigned
mode_of(const char *dir, const char *name)
{
	char		path[600];
	struct stat	st;

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "",
	    name ? name : "");
	if (stat(path, &st) == -1)
		fail_msg("%s is missing", path);
	return (unsigned)(st.st_mode & 07777);
}

static void
data_files_are_private_whatever_the_umask(void **state)
{
	static const char *const files[] = { "bankfeed.db", "bankfeed.db-wal",
	    "bankfeed.db-shm", "node.id", "master.key", NULL };
	const char *const *f;
	struct srv	 s;
	struct res	 r;
	struct dirent	*e;
	DIR		*d;
	mode_t		 old = umask(022);

	(void)state;
	assert_int_equal(srv_start_in(&s, "data", NULL), 0);
	assert_int_equal(post(&s, "/v1/users", "{}", &r), 0);
	assert_status(&r, 201);
	res_free(&r);
	assert_int_equal(mode_of(s.data, NULL), 0700);
	for (f = files; *f != NULL; f++)
		if (mode_of(s.data, *f) != 0600)
			fail_msg("%s/%s has mode %04o, want 0600", s.data, *f,
			    mode_of(s.data, *f));
	/* ...and whatever else the server put there. */
	assert_non_null(d = opendir(s.data));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && (mode_of(s.data, e->d_name) & 077))
			fail_msg("%s/%s has mode %04o", s.data, e->d_name,
			    mode_of(s.data, e->d_name));
	closedir(d);
	assert_false(log_contains(&s, "open to other users"));
	srv_cleanup(&s);
	umask(old);
}

static void
an_open_data_dir_is_reported(void **state)
{
	struct srv	s;
	char		db[400], want[500];

	(void)state;
	assert_int_equal(srv_start_in(&s, "data", NULL), 0);
	srv_stop(&s);
	/* As an older bankfeed, or a careless copy, could have left them. */
	snprintf(db, sizeof(db), "%s/bankfeed.db", s.data);
	assert_int_equal(chmod(s.data, 0755), 0);
	assert_int_equal(chmod(db, 0644), 0);
	assert_int_equal(srv_restart(&s, NULL), 0);
	snprintf(want, sizeof(want), "path=\"%s\" mode=0755", s.data);
	assert_true(log_wait(&s, want, 5000));
	snprintf(want, sizeof(want), "path=\"%s\" mode=0644", db);
	assert_true(log_wait(&s, want, 5000));
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(data_files_are_private_whatever_the_umask),
		cmocka_unit_test(an_open_data_dir_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
