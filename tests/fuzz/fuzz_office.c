/*
 * fuzz_office.c - libFuzzer harness: a whole scan of one attachment, so
 * the OLE2, VBA, XLM, OOXML and SYLK handlers run as the dispatcher
 * chains them (OOXML through zipscan.c). Seeds: the Office corpus.
 */
#include "config.h"

#include <glib.h>

#include "emf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct emf_engine *engine;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_report *r = NULL;

	if (engine == NULL) {
		struct emf_cfg *cfg;
		struct emf_error err;

		emf_library_init();
		if (emf_cfg_load(NULL, &cfg, &err) != EMF_OK ||
		    emf_engine_new(cfg, &engine, &err) != EMF_OK)
			__builtin_trap();
	}
	if (emf_scan_file(engine, data, size, "fuzz.doc", NULL, &r) == EMF_OK)
		emf_report_free(r);
	return 0;
}
