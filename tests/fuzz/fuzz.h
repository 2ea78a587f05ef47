/*
 * fuzz.h - what every libFuzzer harness shares (header-only).
 *
 * Each harness defines LLVMFuzzerTestOneInput() over one entry point of
 * the library, on memory. Built two ways: with -fsanitize=fuzzer into a
 * fuzzer (./configure --enable-fuzzing, tests/fuzz/run.sh), and with
 * replay.c into a plain program that runs saved inputs (the seeds and the
 * regression inputs under tests/fuzz/regress/) in every make check.
 *
 * A harness aborts only on a broken contract (a report missing, invalid
 * UTF-8 where the library promises UTF-8): everything else is the
 * sanitizers' job.
 */
#ifndef EMF_FUZZ_H
#define EMF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "emf.h"

/* Optional, as in libFuzzer: a harness that needs no set-up leaves it out. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: contract broken: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * An engine from a configuration text (NULL: built-in defaults). Aborts
 * when the text is refused: the harness's own configuration must load.
 */
static inline struct emf_engine *
fuzz_engine(const char *conf_text)
{
	struct emf_cfg *cfg;
	struct emf_engine *e;
	struct emf_error err;
	char *path = NULL;

	if (conf_text != NULL) {
		int fd = g_file_open_tmp("emf-fuzz-XXXXXX.conf", &path, NULL);

		FUZZ_ASSERT(fd >= 0);
		FUZZ_ASSERT(g_file_set_contents(path, conf_text, -1, NULL));
		g_close(fd, NULL);
	}
	if (emf_cfg_load(path, &cfg, &err) != EMF_OK) {
		fprintf(stderr, "fuzz config: %s\n", err.msg);
		abort();
	}
	if (path != NULL) {
		g_unlink(path);
		g_free(path);
	}
	if (emf_engine_new(cfg, &e, &err) != EMF_OK) {
		fprintf(stderr, "fuzz engine: %s\n", err.msg);
		abort();
	}
	return e;
}

/* Everything a report offers, so the writers are fuzzed too. */
static inline void
fuzz_report(struct emf_report *r)
{
	char *s;

	FUZZ_ASSERT(r != NULL);
	s = emf_report_json(r, false);
	FUZZ_ASSERT(s != NULL && g_utf8_validate(s, -1, NULL));
	emf_free(s);
	s = emf_report_text(r);
	FUZZ_ASSERT(s != NULL);
	emf_free(s);
	s = emf_report_symbols_summary(r);
	FUZZ_ASSERT(s != NULL);
	emf_free(s);
	for (size_t i = 0; i < emf_report_nsymbols(r); i++)
		FUZZ_ASSERT(emf_report_symbol_name(r, i) != NULL);
	(void)emf_report_action(r);
	emf_report_free(r);
}

#endif /* EMF_FUZZ_H */
