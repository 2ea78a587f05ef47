/*
 * testutil.h - shared helpers for the Check suites (header-only).
 */
#ifndef EMF_TESTUTIL_H
#define EMF_TESTUTIL_H

#include <check.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emf.h"

/* A path under the source tree. Caller frees (g_free). */
static inline char *
tu_srcpath(const char *rel)
{
	const char *top = getenv("top_srcdir");

	return g_build_filename(top ? top : TOP_SRCDIR, rel, NULL);
}

/* A path under ../shared/corpus, or NULL when the corpus is absent. */
static inline char *
tu_corpus(const char *rel)
{
	char *top = tu_srcpath("../shared/corpus");
	char *p = g_build_filename(top, rel, NULL);

	g_free(top);
	if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
		g_free(p);
		return NULL;
	}
	return p;
}

/* Write text to a new temporary file; returns its path (g_free, unlink). */
static inline char *
tu_tempfile(const char *text)
{
	char *path = NULL;
	int fd = g_file_open_tmp("emf-test-XXXXXX", &path, NULL);

	ck_assert_int_ge(fd, 0);
	ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* An engine from a config text (NULL: built-in defaults). */
static inline struct emf_engine *
tu_engine(const char *conf_text)
{
	struct emf_cfg *cfg;
	struct emf_engine *e;
	struct emf_error err;
	char *path = conf_text ? tu_tempfile(conf_text) : NULL;

	if (emf_cfg_load(path, &cfg, &err) != EMF_OK)
		ck_abort_msg("config: %s", err.msg);
	if (emf_engine_new(cfg, &e, &err) != EMF_OK)
		ck_abort_msg("engine: %s", err.msg);
	if (path) {
		unlink(path);
		g_free(path);
	}
	return e;
}

/* Scan a message given as text. */
static inline struct emf_report *
tu_scan(struct emf_engine *e, const char *msg)
{
	struct emf_report *r = NULL;

	ck_assert_int_eq(emf_scan_message(e, msg, strlen(msg), NULL, &r),
	    EMF_OK);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* The JSON report of d[0..len) scanned as a lone file named name, with
 * the built-in defaults (g_free it). */
static inline char *
tu_scan_file_json(const void *d, size_t len, const char *name)
{
	struct emf_engine *e = tu_engine(NULL);
	struct emf_report *r = NULL;
	char *json;

	ck_assert_int_eq(emf_scan_file(e, d, len, name, NULL, &r), EMF_OK);
	json = emf_report_json(r, false);
	emf_report_free(r);
	emf_engine_unref(e);
	return json;
}

/* Each string of the NULL-ended want is in json (present) or not. */
static inline void
tu_want_in(const char *json, const char *const *want, bool present)
{
	for (size_t i = 0; want[i] != NULL; i++)
		ck_assert_msg((strstr(json, want[i]) != NULL) == present,
		    "report %s %s:\n%.4000s", present ? "lacks" : "has",
		    want[i], json);
}

/* Run one suite; exit status for automake. */
static inline int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	emf_library_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif /* EMF_TESTUTIL_H */
