/*
 * lazycurl: libcurl, opened with dlopen() the first time it is needed.
 *
 * Linking libcurl maps its whole dependency tree at exec (OpenSSL, GnuTLS,
 * Kerberos, LDAP, libssh2, nghttp2...): about 5.7 MB of resident memory in a
 * server that may never send a webhook nor call a bank over HTTP.  Code that
 * makes HTTP calls goes through this table instead; the prototypes are
 * libcurl's own (taken with __typeof__ from <curl/curl.h>), so the compiler
 * checks every call as it would a direct one.
 */
#ifndef BF_LAZYCURL_H
#define BF_LAZYCURL_H

#include <curl/curl.h>

struct lazycurl {
	__typeof__(curl_global_init)		*global_init;
	__typeof__(curl_global_cleanup)		*global_cleanup;
	__typeof__(curl_easy_init)		*easy_init;
	__typeof__(curl_easy_setopt)		*easy_setopt;
	__typeof__(curl_easy_getinfo)		*easy_getinfo;
	__typeof__(curl_easy_cleanup)		*easy_cleanup;
	__typeof__(curl_easy_strerror)		*easy_strerror;
	__typeof__(curl_multi_init)		*multi_init;
	__typeof__(curl_multi_cleanup)		*multi_cleanup;
	__typeof__(curl_multi_setopt)		*multi_setopt;
	__typeof__(curl_multi_add_handle)	*multi_add_handle;
	__typeof__(curl_multi_remove_handle)	*multi_remove_handle;
	__typeof__(curl_multi_perform)		*multi_perform;
	__typeof__(curl_multi_poll)		*multi_poll;
	__typeof__(curl_multi_wakeup)		*multi_wakeup;
	__typeof__(curl_multi_info_read)	*multi_info_read;
	__typeof__(curl_multi_socket_action)	*multi_socket_action;
	__typeof__(curl_multi_assign)		*multi_assign;
	__typeof__(curl_slist_append)		*slist_append;
	__typeof__(curl_slist_free_all)		*slist_free_all;
	__typeof__(curl_url)			*url;
	__typeof__(curl_url_set)		*url_set;
	__typeof__(curl_url_get)		*url_get;
	__typeof__(curl_url_cleanup)		*url_cleanup;
	__typeof__(curl_free)			*free;
};

/*
 * The table, loading libcurl on the first call (thread-safe).  NULL when
 * it cannot be loaded; that is logged once.  curl_global_init() is left
 * to the caller, as with a linked libcurl.
 */
const struct lazycurl *lazycurl(void);

#endif
