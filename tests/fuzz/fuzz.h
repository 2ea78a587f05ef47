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
#include <string.h>

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

/*
 * A zip of stored (uncompressed) members, built in memory for harnesses
 * that fuzz one part of a package (an OOXML .rels, a macro sheet): the
 * input becomes the parts, the package around it is always well formed,
 * so every run reaches the part's parser through the real handler.
 * names[i] holds data[i] of len[i] bytes; n members. Free with g_free.
 */
static inline uint32_t
fuzz_crc32(const uint8_t *d, size_t n)
{
	static uint32_t table[256];
	uint32_t c = 0xFFFFFFFFu;

	if (table[1] == 0)
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = (v & 1) ? 0xEDB88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ d[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static inline void
fuzz_le(GByteArray *b, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));

		g_byte_array_append(b, &c, 1);
	}
}

static inline uint8_t *
fuzz_zip_stored(const char *const *names, const uint8_t *const *data,
    const size_t *len, size_t n, size_t *out_len)
{
	GByteArray *b = g_byte_array_new();
	GByteArray *cd = g_byte_array_new();
	uint32_t *off = g_new0(uint32_t, n ? n : 1);

	for (size_t i = 0; i < n; i++) {
		uint32_t crc = fuzz_crc32(data[i], len[i]);
		size_t nl = strlen(names[i]);

		off[i] = b->len;
		fuzz_le(b, 0x04034b50, 4);
		fuzz_le(b, 20, 2);		/* version needed */
		fuzz_le(b, 0, 2);		/* flags */
		fuzz_le(b, 0, 2);		/* stored */
		fuzz_le(b, 0, 4);		/* time, date */
		fuzz_le(b, crc, 4);
		fuzz_le(b, (uint32_t)len[i], 4);
		fuzz_le(b, (uint32_t)len[i], 4);
		fuzz_le(b, (uint32_t)nl, 2);
		fuzz_le(b, 0, 2);
		g_byte_array_append(b, (const guint8 *)names[i], (guint)nl);
		g_byte_array_append(b, data[i], (guint)len[i]);

		fuzz_le(cd, 0x02014b50, 4);
		fuzz_le(cd, 20, 2);		/* made by */
		fuzz_le(cd, 20, 2);
		fuzz_le(cd, 0, 2);
		fuzz_le(cd, 0, 2);
		fuzz_le(cd, 0, 4);
		fuzz_le(cd, crc, 4);
		fuzz_le(cd, (uint32_t)len[i], 4);
		fuzz_le(cd, (uint32_t)len[i], 4);
		fuzz_le(cd, (uint32_t)nl, 2);
		fuzz_le(cd, 0, 2);		/* extra */
		fuzz_le(cd, 0, 2);		/* comment */
		fuzz_le(cd, 0, 2);		/* disk */
		fuzz_le(cd, 0, 2);		/* internal attributes */
		fuzz_le(cd, 0, 4);		/* external attributes */
		fuzz_le(cd, off[i], 4);
		g_byte_array_append(cd, (const guint8 *)names[i], (guint)nl);
	}
	{
		uint32_t cd_off = b->len, cd_len = cd->len;

		g_byte_array_append(b, cd->data, cd->len);
		fuzz_le(b, 0x06054b50, 4);
		fuzz_le(b, 0, 4);		/* disks */
		fuzz_le(b, (uint32_t)n, 2);
		fuzz_le(b, (uint32_t)n, 2);
		fuzz_le(b, cd_len, 4);
		fuzz_le(b, cd_off, 4);
		fuzz_le(b, 0, 2);		/* comment */
	}
	g_byte_array_free(cd, TRUE);
	g_free(off);
	*out_len = b->len;
	return g_byte_array_free(b, FALSE);
}

/* Whether report r names symbol name. */
static inline bool
fuzz_has_symbol(const struct emf_report *r, const char *name)
{
	for (size_t i = 0; i < emf_report_nsymbols(r); i++)
		if (strcmp(emf_report_symbol_name(r, i), name) == 0)
			return true;
	return false;
}

#endif /* EMF_FUZZ_H */
