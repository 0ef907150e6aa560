/*
 * lazycurl: see lazycurl.h.  The library is never closed: its handles may
 * live until exit, and a second dlopen() would only count up.
 */
#include "core/lazycurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "core/log.h"

/* The soname of libcurl 7.16 and later, on every Debian release. */
#define LIBCURL	"libcurl.so.4"

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static struct lazycurl	 api;
static int		 loaded;

static const struct {
	const char	*name;
	size_t		 off;
} syms[] = {
#define SYM(f)	{ "curl_" #f, offsetof(struct lazycurl, f) }
	SYM(global_init), SYM(global_cleanup),
	SYM(easy_init), SYM(easy_setopt), SYM(easy_getinfo), SYM(easy_cleanup),
	SYM(easy_strerror),
	SYM(multi_init), SYM(multi_cleanup), SYM(multi_setopt),
	SYM(multi_add_handle),
	SYM(multi_remove_handle), SYM(multi_perform), SYM(multi_poll),
	SYM(multi_wakeup), SYM(multi_info_read), SYM(multi_socket_action),
	SYM(multi_assign),
	SYM(slist_append), SYM(slist_free_all),
	SYM(url), SYM(url_set), SYM(url_get), SYM(url_cleanup), SYM(free),
#undef SYM
};

static void
load(void)
{
	void	*h, *p;
	size_t	 i;

	if ((h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_error("msg=\"cannot load libcurl\" reason=\"%s\"", dlerror());
		return;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if ((p = dlsym(h, syms[i].name)) == NULL) {
			log_error("msg=\"libcurl lacks a function\" name=%s "
			    "reason=\"libcurl 7.68 or later is needed\"",
			    syms[i].name);
			return;
		}
		/* A data pointer into a function pointer, as POSIX allows. */
		memcpy((char *)&api + syms[i].off, &p, sizeof(p));
	}
	loaded = 1;
}

const struct lazycurl *
lazycurl(void)
{
	pthread_once(&once, load);
	return loaded ? &api : NULL;
}
