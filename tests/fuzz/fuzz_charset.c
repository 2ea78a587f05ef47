/*
 * fuzz_charset.c - emf_charset_to_utf8() with a label from the input.
 *
 * Byte 0 gives the label length (mod 24), the next bytes the label, the
 * rest is the text. The contract checked: the result is valid UTF-8 and
 * *used names a charset.
 */
#include "config.h"

#include <string.h>

#include "core/charset.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	char *label = NULL, *out;
	const char *used = NULL;

	if (size == 0)
		return 0;
	n = data[0] % 24;
	if (n > size - 1)
		n = size - 1;
	/* Length 0 means no label at all (a part without charset=). */
	if (n > 0)
		label = g_strndup((const char *)data + 1, n);
	out = emf_charset_to_utf8(data + 1 + n, size - 1 - n, label, &used);
	FUZZ_ASSERT(out != NULL);
	FUZZ_ASSERT(g_utf8_validate(out, -1, NULL));
	FUZZ_ASSERT(used != NULL);
	g_free(out);
	g_free(label);
	return 0;
}
