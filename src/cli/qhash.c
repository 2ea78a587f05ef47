/*
 * qhash.c - MD5 and SHA-1 of a message's files (see qhash.h).
 */
#include "config.h"

#include <string.h>

#include <zip.h>

#include "qexport.h"
#include "qhash.h"
#include "qjson.h"

#define MAX_MEMBER ((zip_uint64_t)64 << 20)
#define MAX_TOTAL ((size_t)256 << 20)
#define MAX_MEMBERS 1000
#define MAX_DEPTH 3
#define MAX_OBJECT_DEPTH 64

struct walk {
	GPtrArray *passwords;	/* char *, borrowed from the report */
	size_t total;
	qhash_visit visit;
	void *ud;
};

static void
add_hashes(const void *data, size_t len, const char *parent, void *ud)
{
	GHashTable *out = ud;
	struct qhash *h = g_new0(struct qhash, 1);
	char *sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data,
	    len);
	char *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, data, len);
	char *sha1 = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);

	g_strlcpy(h->md5, md5, sizeof(h->md5));
	g_strlcpy(h->sha1, sha1, sizeof(h->sha1));
	(void)parent;
	g_hash_table_replace(out, sha256, h);
	g_free(md5);
	g_free(sha1);
}

/* Member i read whole (with password pw, or none), at most MAX_MEMBER. */
static GBytes *
read_member(zip_t *z, zip_uint64_t i, zip_uint64_t size, const char *pw)
{
	zip_file_t *f = pw ? zip_fopen_index_encrypted(z, i, 0, pw) :
	    zip_fopen_index(z, i, 0);
	char *buf;
	zip_int64_t n, got = 0;

	if (f == NULL)
		return NULL;
	buf = g_malloc(size + 1);
	while ((zip_uint64_t)got < size &&
	    (n = zip_fread(f, buf + got, size - (zip_uint64_t)got)) > 0)
		got += n;
	/* Read once more: libzip checks the CRC at the end. */
	if ((zip_uint64_t)got != size || zip_fread(f, buf + got, 1) != 0) {
		zip_fclose(f);
		g_free(buf);
		return NULL;
	}
	if (zip_fclose(f) != 0) {
		g_free(buf);
		return NULL;
	}
	return g_bytes_new_take(buf, size);
}

static void walk_data(struct walk *w, const void *data, size_t len,
    const char *parent, int depth);

/* Each member of the zip in data, with a password if it needs one. */
static void
walk_zip(struct walk *w, const void *data, size_t len, int depth)
{
	char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
	zip_error_t zerr;
	zip_source_t *src;
	zip_t *z;
	zip_int64_t n;

	zip_error_init(&zerr);
	src = zip_source_buffer_create(data, len, 0, &zerr);
	if (src == NULL || (z = zip_open_from_source(src, ZIP_RDONLY,
	    &zerr)) == NULL) {
		if (src)
			zip_source_free(src);
		zip_error_fini(&zerr);
		g_free(sha);
		return;
	}
	n = zip_get_num_entries(z, 0);
	for (zip_int64_t i = 0; i < n && i < MAX_MEMBERS; i++) {
		zip_stat_t st;
		GBytes *b = NULL;

		zip_stat_init(&st);
		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) != 0 ||
		    !(st.valid & ZIP_STAT_SIZE) || st.size > MAX_MEMBER ||
		    w->total + st.size > MAX_TOTAL)
			continue;
		if (!(st.valid & ZIP_STAT_ENCRYPTION_METHOD) ||
		    st.encryption_method == ZIP_EM_NONE)
			b = read_member(z, (zip_uint64_t)i, st.size, NULL);
		for (guint j = 0; b == NULL && j < w->passwords->len; j++)
			b = read_member(z, (zip_uint64_t)i, st.size,
			    g_ptr_array_index(w->passwords, j));
		if (b == NULL)
			continue;
		w->total += st.size;
		walk_data(w, g_bytes_get_data(b, NULL), g_bytes_get_size(b),
		    sha, depth + 1);
		g_bytes_unref(b);
	}
	zip_discard(z);
	zip_error_fini(&zerr);
	g_free(sha);
}

static void
walk_data(struct walk *w, const void *data, size_t len, const char *parent,
    int depth)
{
	w->visit(data, len, parent, w->ud);
	if (depth < MAX_DEPTH && len > 4 && memcmp(data, "PK\003\004", 4) == 0)
		walk_zip(w, data, len, depth);
}

/* Every password of the report: candidates and those objects name. */
static void
collect_passwords(GPtrArray *out, JsonArray *objs, int depth)
{
	for (guint i = 0; objs && i < json_array_get_length(objs) &&
	    depth < MAX_OBJECT_DEPTH; i++) {
		JsonObject *o = jarr_obj(objs, i);

		if (jstr(o, "password"))
			g_ptr_array_add(out, (char *)jstr(o, "password"));
		collect_passwords(out, jarr(o, "children"), depth + 1);
	}
}

void
qhash_walk(const char *msg, size_t len, const struct qentry *e,
    qhash_visit visit, void *ud)
{
	struct walk w = { 0 };
	JsonArray *pw = jarr(e->root, "passwords");
	GPtrArray *parts = qexport_parts(msg, len);

	w.visit = visit;
	w.ud = ud;
	w.passwords = g_ptr_array_new();
	collect_passwords(w.passwords, jarr(e->root, "objects"), 0);
	for (guint i = 0; pw && i < json_array_get_length(pw); i++)
		if (jstr(jarr_obj(pw, i), "password"))
			g_ptr_array_add(w.passwords,
			    (char *)jstr(jarr_obj(pw, i), "password"));
	for (guint i = 0; i < parts->len; i++) {
		struct qexport_part *p = g_ptr_array_index(parts, i);
		gsize n;
		const void *d = g_bytes_get_data(p->data, &n);

		if (w.total + n > MAX_TOTAL)
			break;
		w.total += n;
		walk_data(&w, d, n, NULL, 0);
	}
	g_ptr_array_free(w.passwords, TRUE);
	qexport_parts_free(parts);
}

GHashTable *
qhash_files(const char *msg, size_t len, const struct qentry *e)
{
	GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);

	qhash_walk(msg, len, e, add_hashes, out);
	return out;
}
