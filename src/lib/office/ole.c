/*
 * ole.c - bounded Compound File Binary reader ([MS-CFB]). See ole.h for
 * the bounds and why we do not use libgsf.
 */
#include "config.h"

#include "core/bytes.h"

#include <glib.h>
#include <string.h>

#include "ole.h"

/* [MS-CFB] 2.1: special sector numbers. */
#define MAXREGSECT 0xFFFFFFFAu
#define ENDOFCHAIN 0xFFFFFFFEu
#define FREESECT 0xFFFFFFFFu
#define NOSTREAM 0xFFFFFFFFu

#define HEADER_SIZE 512
#define DIRENT_SIZE 128

struct emf_ole {
	const uint8_t *data;
	size_t len;
	unsigned shift;		/* sector size = 1 << shift */
	size_t ssz;
	uint32_t nsect;		/* sectors present in the file */
	uint32_t *fat;		/* nsect entries */
	uint32_t *minifat;
	size_t nminifat;
	uint32_t cutoff;	/* mini stream cutoff */
	uint8_t *ministream;	/* root entry's stream, read on demand */
	size_t ministream_len;
	bool ministream_done;
	struct emf_ole_entry *ents;
	size_t nents;
	char *warning;
};

static void
warn(struct emf_ole *ole, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
warn(struct emf_ole *ole, const char *fmt, ...)
{
	va_list ap;

	if (ole->warning != NULL)
		return;
	va_start(ap, fmt);
	ole->warning = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/*
 * Pointer to sector s and how many of its bytes are in the file (the last
 * sector of a file may be short); NULL if it lies past the end.
 */
static const uint8_t *
sector(const struct emf_ole *ole, uint32_t s, size_t *avail)
{
	size_t off;

	if (s >= ole->nsect)
		return NULL;
	off = ((size_t)s + 1) << ole->shift;
	if (off >= ole->len)
		return NULL;
	*avail = MIN(ole->ssz, ole->len - off);
	return ole->data + off;
}

/*
 * Follow a chain through table[0..n) from start, appending each link's
 * data to buf until want bytes are held. get() fetches one link's bytes.
 * A visited map ends loops. Returns true if the chain held want bytes.
 */
typedef const uint8_t *(*link_fn)(const struct emf_ole *, uint32_t,
    size_t *);

static bool
chain_read(struct emf_ole *ole, const uint32_t *table, size_t n,
    uint32_t start, link_fn get, size_t unit, size_t want, GByteArray *buf,
    bool open_end)
{
	uint8_t *seen;
	uint32_t s = start;
	bool ok = false;

	if (want == 0)
		return true;
	seen = g_malloc0(n / 8 + 1);
	while (buf->len < want) {
		const uint8_t *p;
		size_t avail, take;

		if (s == ENDOFCHAIN && open_end)
			goto out;	/* want was only an upper bound */
		if (s == ENDOFCHAIN || s >= n) {
			warn(ole, "sector chain from %u ends early", start);
			goto out;
		}
		if (seen[s / 8] & (1u << (s % 8))) {
			warn(ole, "sector chain from %u loops", start);
			goto out;
		}
		seen[s / 8] |= (uint8_t)(1u << (s % 8));
		if ((p = get(ole, s, &avail)) == NULL) {
			warn(ole, "sector %u lies past the end of the file", s);
			goto out;
		}
		take = MIN(MIN(avail, unit), want - buf->len);
		g_byte_array_append(buf, p, (guint)take);
		if (avail < unit && buf->len < want) {
			warn(ole, "the file is truncated");
			goto out;
		}
		s = table[s];
	}
	ok = true;
out:
	g_free(seen);
	return ok;
}

/* Load the FAT from the DIFAT ([MS-CFB] 2.5, 2.3). */
static void
load_fat(struct emf_ole *ole, const uint8_t *h)
{
	size_t per = ole->ssz / 4;
	size_t need = ((size_t)ole->nsect + per - 1) / per;
	uint32_t *list = g_new(uint32_t, need + 1);
	size_t nlist = 0;
	uint32_t dif = rd32(h + 0x44);
	uint8_t *seen = g_malloc0(ole->nsect / 8 + 1);

	for (size_t i = 0; i < 109 && nlist < need; i++) {
		uint32_t s = rd32(h + 0x4C + 4 * i);

		if (s <= MAXREGSECT)
			list[nlist++] = s;
	}
	/* The DIFAT chain: each sector lists per-1 FAT sectors and a link. */
	while (nlist < need && dif < ole->nsect) {
		const uint8_t *p;
		size_t avail;

		if (seen[dif / 8] & (1u << (dif % 8))) {
			warn(ole, "DIFAT chain loops");
			break;
		}
		seen[dif / 8] |= (uint8_t)(1u << (dif % 8));
		if ((p = sector(ole, dif, &avail)) == NULL || avail < ole->ssz)
			break;
		for (size_t i = 0; i + 1 < per && nlist < need; i++) {
			uint32_t s = rd32(p + 4 * i);

			if (s <= MAXREGSECT)
				list[nlist++] = s;
		}
		dif = rd32(p + 4 * (per - 1));
	}
	g_free(seen);

	ole->fat = g_new(uint32_t, ole->nsect);
	for (size_t i = 0; i < ole->nsect; i++)
		ole->fat[i] = FREESECT;
	for (size_t k = 0; k < nlist; k++) {
		const uint8_t *p;
		size_t avail;

		if ((p = sector(ole, list[k], &avail)) == NULL) {
			warn(ole, "FAT sector %u lies past the end", list[k]);
			continue;
		}
		for (size_t i = 0; i < per && i * 4 + 4 <= avail; i++) {
			size_t idx = k * per + i;

			if (idx >= ole->nsect)
				break;
			ole->fat[idx] = rd32(p + 4 * i);
		}
	}
	g_free(list);
}

static void
load_minifat(struct emf_ole *ole, const uint8_t *h)
{
	uint32_t start = rd32(h + 0x3C);
	GByteArray *buf = g_byte_array_new();
	size_t want;

	/* Never more than the file could hold. */
	want = MIN((size_t)rd32(h + 0x40) * ole->ssz, ole->len);
	if (start <= MAXREGSECT && want > 0)
		chain_read(ole, ole->fat, ole->nsect, start, sector, ole->ssz,
		    want, buf, false);
	ole->nminifat = buf->len / 4;
	ole->minifat = g_new(uint32_t, ole->nminifat + 1);
	for (size_t i = 0; i < ole->nminifat; i++)
		ole->minifat[i] = rd32(buf->data + 4 * i);
	g_byte_array_free(buf, TRUE);
}

static char *
entry_name(const uint8_t *p)
{
	gunichar2 u[32];
	size_t n = 0;
	char *s;

	while (n < 31 && (u[n] = rd16(p + 2 * n)) != 0)
		n++;
	s = g_utf16_to_utf8(u, (glong)n, NULL, NULL, NULL);
	if (s == NULL) {
		/* Lone surrogates: keep what is printable ASCII. */
		s = g_malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			s[i] = u[i] < 0x80 && u[i] >= 0x20 ? (char)u[i] : '?';
		s[n] = '\0';
	}
	return s;
}

/*
 * Give every reachable entry its parent storage. Each storage's children
 * form a binary tree through left/right; child points at its root. One
 * visited map over all entries bounds the walk by the entry count.
 */
struct walk_item {
	uint32_t entry;
	uint32_t parent;
};

static void
link_tree(struct emf_ole *ole)
{
	uint8_t *seen = g_malloc0(ole->nents / 8 + 1);
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(struct walk_item));
	struct walk_item it;

	for (size_t i = 0; i < ole->nents; i++)
		ole->ents[i].parent = -1;
	if (ole->nents == 0)
		goto out;
	seen[0] |= 1;
	it.entry = ole->ents[0].child;
	it.parent = 0;
	g_array_append_val(stack, it);
	while (stack->len > 0) {
		struct emf_ole_entry *en;
		uint32_t e, p;

		it = g_array_index(stack, struct walk_item, stack->len - 1);
		g_array_set_size(stack, stack->len - 1);
		e = it.entry;
		p = it.parent;
		if (e == NOSTREAM || e >= ole->nents)
			continue;
		if (seen[e / 8] & (1u << (e % 8))) {
			warn(ole, "directory entry %u is linked twice", e);
			continue;
		}
		seen[e / 8] |= (uint8_t)(1u << (e % 8));
		en = &ole->ents[e];
		en->parent = p;
		it.parent = p;
		it.entry = en->left;
		g_array_append_val(stack, it);
		it.entry = en->right;
		g_array_append_val(stack, it);
		if (en->type == EMF_OLE_STORAGE) {
			it.entry = en->child;
			it.parent = e;
			g_array_append_val(stack, it);
		}
	}
out:
	g_array_free(stack, TRUE);
	g_free(seen);
}

enum emf_rc
emf_ole_open(const uint8_t *data, size_t len, unsigned max_entries,
    struct emf_ole **out, bool *dir_capped, char **why)
{
	struct emf_ole *ole;
	GByteArray *dir;
	uint16_t shift, mshift;
	uint32_t dirstart;
	size_t want;

	*out = NULL;
	if (dir_capped)
		*dir_capped = false;
	if (len < HEADER_SIZE || memcmp(data, EMF_OLE_MAGIC, 8) != 0) {
		*why = g_strdup("not a compound file (bad signature or size)");
		return EMF_ERR_FORMAT;
	}
	shift = rd16(data + 0x1E);
	mshift = rd16(data + 0x20);
	/* [MS-CFB] 2.2 allows 9 and 12; tolerate 7..16 like Office does. */
	if (shift < 7 || shift > 16 || mshift != 6) {
		*why = g_strdup_printf("bad sector shift %u/%u", shift, mshift);
		return EMF_ERR_FORMAT;
	}
	ole = g_new0(struct emf_ole, 1);
	ole->data = data;
	ole->len = len;
	ole->shift = shift;
	ole->ssz = (size_t)1 << shift;
	ole->cutoff = rd32(data + 0x38);
	if (ole->cutoff != 4096)
		warn(ole, "mini stream cutoff %u (4096 expected)", ole->cutoff);
	if (len <= ole->ssz) {
		*why = g_strdup("no sector after the header");
		emf_ole_free(ole);
		return EMF_ERR_FORMAT;
	}
	ole->nsect = (uint32_t)MIN((len - ole->ssz + ole->ssz - 1) >> shift,
	    (size_t)MAXREGSECT);
	load_fat(ole, data);
	load_minifat(ole, data);

	dirstart = rd32(data + 0x30);
	want = MIN((size_t)max_entries * DIRENT_SIZE, len);
	dir = g_byte_array_new();
	if (chain_read(ole, ole->fat, ole->nsect, dirstart, sector, ole->ssz,
	    want, dir, true) && want == (size_t)max_entries * DIRENT_SIZE &&
	    dir_capped != NULL)
		*dir_capped = true;	/* more may follow: the cap stopped us */
	ole->nents = dir->len / DIRENT_SIZE;
	if (ole->nents == 0 || dir->data[0x42] != EMF_OLE_ROOT) {
		*why = g_strdup("no root directory entry");
		g_byte_array_free(dir, TRUE);
		emf_ole_free(ole);
		return EMF_ERR_FORMAT;
	}
	ole->ents = g_new0(struct emf_ole_entry, ole->nents);
	for (size_t i = 0; i < ole->nents; i++) {
		const uint8_t *p = dir->data + i * DIRENT_SIZE;
		struct emf_ole_entry *e = &ole->ents[i];

		e->name = entry_name(p);
		e->type = p[0x42];
		e->left = rd32(p + 0x44);
		e->right = rd32(p + 0x48);
		e->child = rd32(p + 0x4C);
		e->start = rd32(p + 0x74);
		e->size = (uint64_t)rd32(p + 0x78);
		/* Version 3 files may leave garbage in the high half. */
		if (ole->shift != 9)
			e->size |= (uint64_t)rd32(p + 0x7C) << 32;
	}
	g_byte_array_free(dir, TRUE);
	link_tree(ole);
	*out = ole;
	return EMF_OK;
}

void
emf_ole_free(struct emf_ole *ole)
{
	if (ole == NULL)
		return;
	for (size_t i = 0; ole->ents != NULL && i < ole->nents; i++)
		g_free(ole->ents[i].name);
	g_free(ole->ents);
	g_free(ole->fat);
	g_free(ole->minifat);
	g_free(ole->ministream);
	g_free(ole->warning);
	g_free(ole);
}

const char *
emf_ole_warning(const struct emf_ole *ole)
{
	return ole->warning;
}

size_t
emf_ole_count(const struct emf_ole *ole)
{
	return ole->nents;
}

const struct emf_ole_entry *
emf_ole_entry(const struct emf_ole *ole, size_t i)
{
	return i < ole->nents ? &ole->ents[i] : NULL;
}

long
emf_ole_child(const struct emf_ole *ole, long parent, const char *name)
{
	for (size_t i = 1; i < ole->nents; i++)
		if (ole->ents[i].parent == parent &&
		    ole->ents[i].type != EMF_OLE_EMPTY &&
		    g_ascii_strcasecmp(ole->ents[i].name, name) == 0)
			return (long)i;
	return -1;
}

long
emf_ole_path(const struct emf_ole *ole, const char *path)
{
	char **parts = g_strsplit(path, "/", 0);
	long cur = 0;

	for (size_t i = 0; parts[i] != NULL && cur >= 0; i++)
		if (*parts[i] != '\0')
			cur = emf_ole_child(ole, cur, parts[i]);
	g_strfreev(parts);
	return cur;
}

/* One 64-byte mini sector of the mini stream. */
static const uint8_t *
mini_sector(const struct emf_ole *ole, uint32_t s, size_t *avail)
{
	size_t off = (size_t)s * 64;

	if (off >= ole->ministream_len)
		return NULL;
	*avail = MIN(64, ole->ministream_len - off);
	return ole->ministream + off;
}

/* The mini stream is the root entry's stream ([MS-CFB] 2.6.2). */
static void
load_ministream(struct emf_ole *ole)
{
	GByteArray *buf;
	const struct emf_ole_entry *root = &ole->ents[0];
	size_t want;

	if (ole->ministream_done)
		return;
	ole->ministream_done = true;
	/* At most 64 bytes per mini FAT entry, and never past the file. */
	want = MIN(MIN(root->size, (uint64_t)ole->len),
	    (uint64_t)ole->nminifat * 64);
	buf = g_byte_array_new();
	if (root->start <= MAXREGSECT)
		chain_read(ole, ole->fat, ole->nsect, root->start, sector,
		    ole->ssz, want, buf, true);
	ole->ministream_len = buf->len;
	ole->ministream = g_byte_array_free(buf, FALSE);
}

enum emf_rc
emf_ole_read(struct emf_ole *ole, size_t i, size_t cap, uint8_t **out,
    size_t *outlen, enum emf_ole_read *how)
{
	const struct emf_ole_entry *e;
	GByteArray *buf;
	size_t want;
	bool ok;

	*out = NULL;
	*outlen = 0;
	*how = EMF_OLE_READ_OK;
	if (i >= ole->nents || ole->ents[i].type != EMF_OLE_STREAM)
		return EMF_ERR_FORMAT;
	e = &ole->ents[i];
	want = (size_t)MIN(e->size, (uint64_t)cap);
	buf = g_byte_array_new();
	if (e->size < ole->cutoff) {
		load_ministream(ole);
		ok = chain_read(ole, ole->minifat, ole->nminifat, e->start,
		    mini_sector, 64, want, buf, false);
	} else {
		ok = chain_read(ole, ole->fat, ole->nsect, e->start, sector,
		    ole->ssz, want, buf, false);
	}
	if (!ok)
		*how = EMF_OLE_READ_SHORT;
	else if (want < e->size)
		*how = EMF_OLE_READ_CAPPED;
	*outlen = buf->len;
	/*
	 * An empty GByteArray gives NULL back, but callers offset into what
	 * they read (office.c: the source at a module's offset, 0 in an empty
	 * module stream), and NULL + 0 is undefined: always a buffer.
	 */
	if (buf->len == 0) {
		g_byte_array_free(buf, TRUE);
		*out = g_malloc0(1);
	} else {
		*out = g_byte_array_free(buf, FALSE);
	}
	return EMF_OK;
}
