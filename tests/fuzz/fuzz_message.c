/*
 * fuzz_message.c - the whole-message scan: emf_scan_message() with the
 * built-in defaults (the limits a gateway runs with), then every report
 * writer. Reaches the MIME walk, charsets, HTML, every attachment handler
 * through the dispatcher, and every analyser.
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
	engine = fuzz_engine(NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_report *r = NULL;

	FUZZ_ASSERT(emf_scan_message(engine, data, size, NULL, &r) == EMF_OK);
	fuzz_report(r);
	return 0;
}
