/*
 * fuzz_mime.c - the MIME walk under tight limits.
 *
 * The same entry point as fuzz_message, but with every count and size
 * limit tiny, so the fuzzer spends its time on the paths where a limit
 * stops the walk half-way (parts cut, objects refused, texts capped,
 * nesting refused) -- the paths real mail rarely reaches.
 */
#include "config.h"

#include "fuzz.h"

static struct emf_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(
	    "limits = {\n"
	    "  mime_depth = 3;\n"
	    "  mime_parts = 12;\n"
	    "  header_field_bytes = 1024;\n"
	    "  container_depth = 2;\n"
	    "  max_objects = 8;\n"
	    "  object_bytes = 4096;\n"
	    "  total_bytes = 16384;\n"
	    "  text_bytes = 1024;\n"
	    "  archive_entries = 4;\n"
	    "  password_candidates = 4;\n"
	    "  password_tries = 2;\n"
	    "};\n");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_report *r = NULL;

	FUZZ_ASSERT(emf_scan_message(engine, data, size, NULL, &r) == EMF_OK);
	FUZZ_ASSERT(r != NULL);
	fuzz_report(r);
	return 0;
}
