/*
 * fuzz_ole.c - the compound file reader ([MS-CFB]): emf_ole_open() on the
 * input, every stream read twice (with a 1 MiB cap, and with a cap of one
 * mini sector, so the capped path runs as often as the whole one), then
 * the lookups office.c makes.
 *
 * Contracts checked: a refused file comes with a reason; an opened one
 * has a root entry, names in UTF-8 and parents that are storages; a read
 * returns a buffer (also for an empty stream) holding what *how says (all
 * of the stream, exactly the cap, or less) and only streams can be read;
 * a lookup gives -1 or an entry below the root.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/ole.h"

#define MAX_ENTRIES 4096
#define CAP (1u << 20)
#define SMALL_CAP 64

static void
read_checked(struct emf_ole *ole, size_t i, size_t cap)
{
	const struct emf_ole_entry *e = emf_ole_entry(ole, i);
	enum emf_ole_read how;
	uint8_t *d = NULL;
	size_t len = 1;

	if (emf_ole_read(ole, i, cap, &d, &len, &how) != EMF_OK) {
		FUZZ_ASSERT(e->type != EMF_OLE_STREAM);
		FUZZ_ASSERT(d == NULL && len == 0);
		return;
	}
	FUZZ_ASSERT(e->type == EMF_OLE_STREAM);
	FUZZ_ASSERT(d != NULL);
	FUZZ_ASSERT(len <= cap && len <= e->size);
	switch (how) {
	case EMF_OLE_READ_OK:
		FUZZ_ASSERT(len == e->size);
		break;
	case EMF_OLE_READ_CAPPED:
		FUZZ_ASSERT(len == cap && cap < e->size);
		break;
	case EMF_OLE_READ_SHORT:
		FUZZ_ASSERT(len < MIN(e->size, (uint64_t)cap));
		break;
	default:
		FUZZ_ASSERT(!"unknown emf_ole_read value");
	}
	g_free(d);
}

static void
lookup_checked(const struct emf_ole *ole, long idx)
{
	FUZZ_ASSERT(idx == -1 ||
	    (idx >= 1 && (size_t)idx < emf_ole_count(ole)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_ole *ole = NULL;
	bool capped;
	char *why = NULL;
	size_t n;
	long vba;

	if (emf_ole_open(data, size, MAX_ENTRIES, &ole, &capped, &why) !=
	    EMF_OK) {
		FUZZ_ASSERT(why != NULL && g_utf8_validate(why, -1, NULL));
		g_free(why);
		return 0;
	}
	FUZZ_ASSERT(ole != NULL);
	n = emf_ole_count(ole);
	FUZZ_ASSERT(n >= 1 && n <= MAX_ENTRIES);
	FUZZ_ASSERT(emf_ole_entry(ole, 0)->type == EMF_OLE_ROOT);
	FUZZ_ASSERT(emf_ole_entry(ole, n) == NULL);
	for (size_t i = 0; i < n; i++) {
		const struct emf_ole_entry *e = emf_ole_entry(ole, i);

		FUZZ_ASSERT(e != NULL && e->name != NULL);
		FUZZ_ASSERT(g_utf8_validate(e->name, -1, NULL));
		FUZZ_ASSERT(e->parent == -1 || (e->parent >= 0 &&
		    (size_t)e->parent < n && (e->parent == 0 ||
		    emf_ole_entry(ole, (size_t)e->parent)->type ==
		    EMF_OLE_STORAGE)));
		read_checked(ole, i, CAP);
		read_checked(ole, i, SMALL_CAP);
	}
	/* What office.c looks up, as it looks it up. */
	lookup_checked(ole, emf_ole_path(ole, "_VBA_PROJECT_CUR/VBA/dir"));
	lookup_checked(ole, emf_ole_path(ole, "Macros/VBA/dir"));
	lookup_checked(ole, emf_ole_child(ole, 0, "WordDocument"));
	lookup_checked(ole, emf_ole_child(ole, 0, "Workbook"));
	if ((vba = emf_ole_child(ole, 0, "VBA")) >= 0)
		lookup_checked(ole, emf_ole_child(ole, vba, "dir"));
	FUZZ_ASSERT(emf_ole_warning(ole) == NULL ||
	    g_utf8_validate(emf_ole_warning(ole), -1, NULL));
	emf_ole_free(ole);
	return 0;
}
