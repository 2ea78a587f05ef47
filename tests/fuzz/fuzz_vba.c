/*
 * fuzz_vba.c - libFuzzer harness: MS-OVBA decompression, the dir stream
 * parser (on the decompressed output and on the raw input) and the
 * source analysis.
 */
#include "config.h"

#include <glib.h>

#include "vba.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_vba_project *p = NULL;
	struct emf_vba_findings f = { 0 };
	uint8_t *out;
	size_t outlen;
	bool capped;
	char *why = NULL;

	emf_vba_decompress(data, size, 1 << 20, &out, &outlen, &capped);
	if (emf_vba_dir_parse(out, outlen, 100, &p, &capped, &why) == EMF_OK)
		emf_vba_project_free(p);
	g_free(why);
	why = NULL;
	if (emf_vba_dir_parse(data, size, 100, &p, &capped, &why) == EMF_OK)
		emf_vba_project_free(p);
	g_free(why);
	emf_vba_analyse((const char *)out, outlen, &f);
	emf_vba_findings_clear(&f);
	g_free(out);
	return 0;
}
