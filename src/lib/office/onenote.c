/*
 * onenote.c - files embedded in OneNote sections. See onenote.h.
 */
#include "config.h"

#include "core/bytes.h"

#include <string.h>

#include "core/modules.h"
#include "onenote.h"

/* {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}, as stored (little-endian). */
static const uint8_t fdso_guid[16] = { 0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26,
	0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC };

#define FDSO_HEADER 36	/* guid, cbLength (8), unused (4), reserved (8) */

unsigned
emf_onenote_files(const uint8_t *d, size_t len, unsigned max,
    void (*fn)(void *ctx, const uint8_t *data, size_t n, bool cut),
    void *ctx)
{
	unsigned found = 0;
	size_t i = 0;

	while (found < max && i + FDSO_HEADER <= len) {
		const uint8_t *g = memmem(d + i, len - i, fdso_guid, 16);
		uint64_t cb;
		size_t at, n;

		if (g == NULL)
			break;
		at = (size_t)(g - d);
		if (at + FDSO_HEADER > len)
			break;
		cb = rd64(d + at + 16);
		n = len - at - FDSO_HEADER;
		found++;
		fn(ctx, d + at + FDSO_HEADER, cb < n ? (size_t)cb : n, cb > n);
		/* Past the data: a file holding the GUID is not re-split. */
		i = at + FDSO_HEADER + (cb < n ? (size_t)cb : n);
	}
	return found;
}

struct one_ctx {
	struct emf_scan *scan;
	struct emf_object *obj;
	unsigned n;
};

static void
one_file(void *ctx, const uint8_t *data, size_t n, bool cut)
{
	struct one_ctx *c = ctx;
	struct emf_object *child;
	size_t take = MIN(n, emf_budget_child_cap(c->scan));
	char name[32];

	if (++c->n > ONENOTE_FILES_MAX)
		return;
	if (take == 0 || emf_scan_expired(c->scan) ||
	    !emf_budget_bytes(c->scan, take))
		return;
	g_snprintf(name, sizeof(name), "onenote-file-%u", c->n);
	child = emf_object_child(c->scan, c->obj, name, NULL,
	    g_memdup2(data, take), take);
	if (child != NULL && (cut || take < n)) {
		child->truncated = true;
		emf_limit_hit(c->scan, "object_bytes", child,
		    "embedded file %s", cut ? "runs past the section" :
		    "cut at the object cap");
	}
}

/*
 * UTF-16LE strings that look like a file name with an executable or
 * script extension ("open.hta"): the EmbeddedFileName of a file object.
 */
static void
exec_names(struct emf_scan *scan, struct emf_object *obj)
{
	const uint8_t *d = obj->data;
	size_t len = obj->len;
	unsigned found = 0;

	for (size_t i = 0; i + 10 <= len && found < 8; i++) {
		GString *s;
		size_t j;

		/* A '.' then 2-4 letters then a NUL, all UTF-16LE. */
		if (d[i] != '.' || d[i + 1] != 0)
			continue;
		for (j = i + 2; j + 1 < len && j < i + 12 &&
		    g_ascii_isalnum(d[j]) && d[j + 1] == 0; j += 2)
			;
		if (j - i < 6 || j + 1 >= len || d[j] != 0 || d[j + 1] != 0)
			continue;
		/* Back to the start of the name. */
		s = g_string_new(NULL);
		{
			size_t k = i;

			while (k >= 2 && d[k - 1] == 0 && d[k - 2] >= 0x20 &&
			    d[k - 2] < 0x7F && d[k - 2] != '\\' &&
			    d[k - 2] != '/' && i - k < 256)
				k -= 2;
			for (; k < j; k += 2)
				g_string_append_c(s, (char)d[k]);
		}
		if (emf_filename_is_executable(s->str)) {
			emf_symbol(scan, "OFFICE_PACKAGE_EXECUTABLE", obj,
			    "OneNote embeds %s", s->str);
			found++;
		}
		g_string_free(s, TRUE);
		i = j;
	}
}

void
emf_onenote_handle(struct emf_scan *scan, struct emf_object *obj)
{
	struct one_ctx c = { scan, obj, 0 };
	unsigned n;

	g_free(obj->format);
	obj->format = g_strdup("OneNote");
	n = emf_onenote_files(obj->data, obj->len, ONENOTE_FILES_MAX + 1,
	    one_file, &c);
	if (n > ONENOTE_FILES_MAX)
		emf_limit_hit(scan, "onenote_files", obj,
		    "more than %u embedded files", ONENOTE_FILES_MAX);
	exec_names(scan, obj);
}
