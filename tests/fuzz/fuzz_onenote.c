/*
 * fuzz_onenote.c - OneNote sections (onenote.c): the FileDataStoreObject
 * search emf_onenote_files(), then the OneNote handler through a scan
 * (embedded files handed to the dispatcher as children, executable
 * EmbeddedFileName strings), on the input behind a OneNote header (so
 * every input is a section to the dispatcher), and on a section built
 * around the input: each part of it, split at the FileDataStoreObject
 * GUID, a file object of its own with a UTF-16 name after it.
 *
 * Contracts checked: every file handed out lies inside the input, their
 * count is the count returned and at most the maximum asked; a file whose
 * length runs past the end is flagged cut and reaches the end exactly;
 * the file objects of a built section are all found, with their data; a
 * built section naming an .hta raises OFFICE_PACKAGE_EXECUTABLE; the
 * scans always give a report (fuzz_report: UTF-8 JSON).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/onenote.h"

#define FDSO_HEADER 36		/* guid, cbLength, unused, reserved */

/* {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}: a .one section's file type. */
static const uint8_t one_guid[16] = { 0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8,
	0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3 };
/* {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}: FileDataStoreObject. */
static const uint8_t fdso_guid[16] = { 0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26,
	0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC };

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
	/* Expected files (a built section), or NULL. */
	const uint8_t *const *want;
	const size_t *want_len;
	unsigned nwant;
};

static void
inside(void *ctx, const uint8_t *data, size_t n, bool cut)
{
	struct span *s = ctx;

	FUZZ_ASSERT(data >= s->d + FDSO_HEADER &&
	    data + n <= s->d + s->len);
	/* A cut file runs to the end of the section. */
	if (cut)
		FUZZ_ASSERT(data + n == s->d + s->len);
	FUZZ_ASSERT(memcmp(data - FDSO_HEADER, fdso_guid, 16) == 0);
	if (s->want != NULL && s->n < s->nwant) {
		FUZZ_ASSERT(!cut && n == s->want_len[s->n]);
		FUZZ_ASSERT(memcmp(data, s->want[s->n], n) == 0);
	}
	s->n++;
}

static void
scan(const uint8_t *data, size_t size, bool want_exec)
{
	struct emf_report *r = NULL;

	FUZZ_ASSERT(emf_scan_file(engine, data, size, "fuzz.one", NULL,
	    &r) == EMF_OK);
	if (want_exec)
		FUZZ_ASSERT(fuzz_has_symbol(r, "OFFICE_PACKAGE_EXECUTABLE"));
	fuzz_report(r);
}

static void
put(GByteArray *b, const void *d, size_t n)
{
	g_byte_array_append(b, d, (guint)n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span s = { data, size, 0, NULL, NULL, 0 };
	unsigned n, max = 1 + (size > 0 ? data[0] % 16 : 0);
	GByteArray *b;

	/* The search alone, with a small maximum and with the handler's. */
	n = emf_onenote_files(data, size, max, inside, &s);
	FUZZ_ASSERT(n == s.n && n <= max);
	s.n = 0;
	n = emf_onenote_files(data, size, ONENOTE_FILES_MAX + 1, inside, &s);
	FUZZ_ASSERT(n == s.n && n <= ONENOTE_FILES_MAX + 1);

	/* The input as a section: behind the header unless it has one. */
	if (size >= 16 && memcmp(data, one_guid, 16) == 0) {
		scan(data, size, false);
	} else {
		b = g_byte_array_new();
		put(b, one_guid, 16);
		put(b, data, size);
		scan(b->data, b->len, false);
		g_byte_array_free(b, TRUE);
	}

	/*
	 * A section built around the input: header, then each part of the
	 * input (split where it holds the file object GUID, at most 16) as
	 * a file object, each followed by its name "open<N>.hta" in UTF-16.
	 */
	{
		const uint8_t *part[16];
		size_t plen[16];
		unsigned np = 0;
		size_t i = 0;

		while (np < 16) {
			const uint8_t *g = i < size ? memmem(data + i,
			    size - i, fdso_guid, 16) : NULL;
			size_t end = g ? (size_t)(g - data) : size;

			part[np] = data + i;
			plen[np] = end - i;
			np++;
			if (g == NULL)
				break;
			i = end + 16;
		}
		b = g_byte_array_new();
		put(b, one_guid, 16);
		put(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
		for (unsigned k = 0; k < np; k++) {
			uint8_t hdr[FDSO_HEADER] = { 0 };
			char name[16];
			uint64_t cb = plen[k];

			memcpy(hdr, fdso_guid, 16);
			for (int j = 0; j < 8; j++)
				hdr[16 + j] = (uint8_t)(cb >> (8 * j));
			put(b, hdr, sizeof(hdr));
			put(b, part[k], plen[k]);
			g_snprintf(name, sizeof(name), "open%u.hta", k);
			for (size_t j = 0; j <= strlen(name); j++) {
				uint8_t u[2] = { (uint8_t)name[j], 0 };

				put(b, u, 2);
			}
		}
		/* Every part comes back whole (a part never holds the GUID:
		 * the data is skipped, so the name after it is not a file). */
		s = (struct span){ b->data, b->len, 0, part, plen, np };
		n = emf_onenote_files(b->data, b->len, ONENOTE_FILES_MAX + 1,
		    inside, &s);
		FUZZ_ASSERT(n == np && s.n == np);
		scan(b->data, b->len, true);
		g_byte_array_free(b, TRUE);
	}
	return 0;
}
