/*
 * fuzz_ole.c - libFuzzer harness: the compound file reader ([MS-CFB]).
 * Opens the input and reads every stream with a small cap; seeds: the
 * OLE2 files of the corpus (tests/fuzz/office-seeds.sh).
 */
#include "config.h"

#include <glib.h>

#include "ole.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_ole *ole;
	bool capped;
	char *why = NULL;

	if (emf_ole_open(data, size, 4096, &ole, &capped, &why) != EMF_OK) {
		g_free(why);
		return 0;
	}
	for (size_t i = 0; i < emf_ole_count(ole); i++) {
		enum emf_ole_read how;
		uint8_t *d;
		size_t len;

		if (emf_ole_read(ole, i, 1 << 20, &d, &len, &how) == EMF_OK)
			g_free(d);
	}
	(void)emf_ole_path(ole, "_VBA_PROJECT_CUR/VBA/dir");
	emf_ole_free(ole);
	return 0;
}
