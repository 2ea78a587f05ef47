/*
 * fuzz_zip.c - zip handling: the bounded reader (zipscan.c) directly,
 * then the input as a bare file through the dispatcher (emf_scan_file()),
 * which reaches archive.c and, by content sniffing, every other file
 * handler (OOXML, OLE2 once they exist).
 *
 * The reader is driven as archive.c drives it: every entry listed, each
 * read with a small cap, encrypted ones with a password, one lookup by
 * name. Contract checked: a read never returns more than the cap.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "archive/zipscan.h"

#define CAP 65536

static struct emf_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(
	    "limits = {\n"
	    "  object_bytes = 1048576;\n"
	    "  total_bytes = 4194304;\n"
	    "  archive_entries = 64;\n"
	    "  max_objects = 64;\n"
	    "};\n");
	return 0;
}

static void
read_all(const uint8_t *data, size_t size)
{
	struct emf_zip *zip = NULL;
	char *why = NULL;
	size_t n;

	if (emf_zip_open(data, size, &zip, &why) != EMF_OK) {
		FUZZ_ASSERT(zip == NULL);
		g_free(why);
		return;
	}
	n = emf_zip_count(zip);
	(void)emf_zip_find(zip, "[Content_Types].xml");
	for (size_t i = 0; i < n && i < 64; i++) {
		struct emf_zip_entry e;
		uint8_t *out = NULL;
		size_t len = 0;
		enum emf_zip_read r;

		if (!emf_zip_entry(zip, i, &e))
			continue;
		FUZZ_ASSERT(e.name != NULL);
		r = emf_zip_read(zip, i, e.encrypted ? "infected" : NULL, CAP,
		    g_get_monotonic_time() + 5 * G_USEC_PER_SEC, &out, &len);
		FUZZ_ASSERT(len <= CAP);
		FUZZ_ASSERT(emf_zip_read_str(r) != NULL);
		g_free(out);
	}
	emf_zip_close(zip);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_report *r = NULL;

	read_all(data, size);
	FUZZ_ASSERT(emf_scan_file(engine, data, size, "fuzz.zip", NULL,
	    &r) == EMF_OK);
	fuzz_report(r);
	return 0;
}
