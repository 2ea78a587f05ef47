/*
 * fuzz_rtf.c - the RTF and OneNote handlers (rtf.c, onenote.c) and their
 * OLE1 / OLE Package / FileDataStoreObject readers: the input is parsed
 * directly by each reader, then scanned whole as an attachment (the
 * dispatcher picks RTF or OneNote by content; an input that is neither
 * is also scanned behind an RTF header, so every input reaches the RTF
 * tokenizer), children included, and every report writer runs.
 *
 * Contracts checked: an OLE1 header that is accepted has FormatID 1 or
 * 2, a UTF-8 class name and native data inside the input; a package
 * that is accepted names a UTF-8 file and points inside the input; every
 * OneNote file handed out lies inside the input and their count is the
 * count returned, at most the maximum asked; the scans always give a
 * report (fuzz_report: UTF-8 JSON).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/onenote.h"
#include "office/rtf.h"

static struct emf_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(NULL);
	return 0;
}

struct span {
	const uint8_t *d;
	size_t len;
	unsigned n;
};

static void
inside(void *ctx, const uint8_t *data, size_t n, bool cut)
{
	struct span *s = ctx;

	(void)cut;
	FUZZ_ASSERT(data >= s->d && data + n <= s->d + s->len);
	s->n++;
}

static void
scan(const uint8_t *data, size_t size, const char *name)
{
	struct emf_report *r = NULL;

	FUZZ_ASSERT(emf_scan_file(engine, data, size, name, NULL, &r) ==
	    EMF_OK);
	fuzz_report(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_ole1 o;
	struct span s = { data, size, 0 };
	const uint8_t *fd;
	size_t flen;
	char *name;
	unsigned n;

	if (emf_ole1_parse(data, size, &o)) {
		FUZZ_ASSERT(o.format_id == 1 || o.format_id == 2);
		FUZZ_ASSERT(o.class_name == NULL ||
		    g_utf8_validate(o.class_name, -1, NULL));
		FUZZ_ASSERT(o.native == NULL || (o.native >= data &&
		    o.native + o.native_len <= data + size));
		emf_ole1_clear(&o);
	}
	if (emf_ole_package(data, size, &name, &fd, &flen)) {
		FUZZ_ASSERT(name != NULL && *name != '\0' &&
		    g_utf8_validate(name, -1, NULL));
		FUZZ_ASSERT(fd >= data && fd + flen <= data + size);
		g_free(name);
	}
	n = emf_onenote_files(data, size, 8, inside, &s);
	FUZZ_ASSERT(n == s.n && n <= 8);

	scan(data, size, "fuzz.rtf");
	if (size < 4 || memcmp(data, "{\\rt", 4) != 0) {
		uint8_t *p = g_malloc(size + 6);

		memcpy(p, "{\\rtf1", 6);
		memcpy(p + 6, data, size);
		scan(p, size + 6, "fuzz.rtf");
		g_free(p);
	}
	return 0;
}
