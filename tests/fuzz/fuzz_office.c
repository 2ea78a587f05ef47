/*
 * fuzz_office.c - a whole scan of one attachment named like a Word
 * document: emf_scan_file() with the built-in defaults, so the OLE2, VBA,
 * XLM, OOXML (through zipscan.c) and SYLK handlers run as the dispatcher
 * chains them, children included, and then every report writer.
 *
 * Contract checked: the scan always gives a report (a hostile document
 * is findings, never a failed scan), whose JSON is UTF-8 (fuzz_report).
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

	FUZZ_ASSERT(emf_scan_file(engine, data, size, "fuzz.doc", NULL,
	    &r) == EMF_OK);
	fuzz_report(r);
	return 0;
}
