/*
 * qexport.c - attachments out of a stored message, into an encrypted zip
 * (see qexport.h for why libzip and GMime appear here).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <zip.h>

#include "qexport.h"
#include "qjson.h"
#include "qsafe.h"

/* Deeper object trees are not searched (the scanner's own cap is lower). */
#define MAX_OBJECT_DEPTH 64

static void
part_free(gpointer p)
{
	struct qexport_part *q = p;

	g_free(q->name);
	g_free(q->orig_name);
	g_bytes_unref(q->data);
	g_free(q);
}

void
qexport_parts_free(GPtrArray *parts)
{
	if (parts != NULL)
		g_ptr_array_free(parts, TRUE);
}

/*
 * A member name that cannot climb out of the extraction directory or
 * confuse a terminal: the last path component, control characters,
 * separators and leading dots replaced, at most 100 bytes of UTF-8.
 */
static char *
safe_name(unsigned n, const char *orig, const char *fallback)
{
	GString *s = g_string_new(NULL);
	const char *p;

	g_string_append_printf(s, "attachments/%u-", n);
	if (orig == NULL || *orig == '\0')
		orig = fallback;
	p = strrchr(orig, '/');
	orig = p ? p + 1 : orig;
	p = strrchr(orig, '\\');
	orig = p ? p + 1 : orig;
	while (*orig == '.')
		orig++;
	for (p = orig; *p != '\0' && s->len < 112;) {
		gunichar c = g_utf8_get_char_validated(p, -1);

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_c(s, '_');
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
		    c == ':' || c == '*' || c == '?' || c == '"' || c == '<' ||
		    c == '>' || c == '|' || (c >= 0x200b && c <= 0x200f) ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
			g_string_append_c(s, '_');
		else
			g_string_append_unichar(s, c);
		p = g_utf8_next_char(p);
	}
	if (g_str_has_suffix(s->str, "-"))
		g_string_append(s, fallback);
	return g_string_free(s, FALSE);
}

static void
add_part(GPtrArray *parts, const char *orig, GBytes *data)
{
	struct qexport_part *q = g_new0(struct qexport_part, 1);
	gsize n;
	const guint8 *d = g_bytes_get_data(data, &n);
	char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, d, n);

	q->orig_name = orig ? g_utf8_make_valid(orig, -1) : NULL;
	q->name = safe_name(parts->len + 1, q->orig_name, "part.bin");
	q->data = data;
	g_strlcpy(q->sha256, sum, sizeof(q->sha256));
	g_free(sum);
	g_ptr_array_add(parts, q);
}

static void
visit(GMimeObject *parent, GMimeObject *obj, gpointer user)
{
	GPtrArray *parts = user;
	GMimeStream *mem;
	GByteArray *ba;

	(void)parent;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));

		if (m == NULL)
			return;
		mem = g_mime_stream_mem_new();
		g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, mem);
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		add_part(parts, "attached.eml", g_bytes_new(ba->data, ba->len));
		g_object_unref(mem);
		return;
	}
	if (GMIME_IS_PART(obj)) {
		GMimePart *part = GMIME_PART(obj);
		const char *fname = g_mime_part_get_filename(part);
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		GMimeDataWrapper *dw;

		/* The body text is not an attachment. */
		if (fname == NULL && ct != NULL &&
		    g_mime_content_type_is_type(ct, "text", "*"))
			return;
		dw = g_mime_part_get_content(part);
		if (dw == NULL)
			return;
		mem = g_mime_stream_mem_new();
		g_mime_data_wrapper_write_to_stream(dw, mem);
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		add_part(parts, fname, g_bytes_new(ba->data, ba->len));
		g_object_unref(mem);
	}
}

GPtrArray *
qexport_parts(const char *msg, size_t len)
{
	GPtrArray *parts = g_ptr_array_new_with_free_func(part_free);
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *m;

	stream = g_mime_stream_mem_new_with_buffer(msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	m = g_mime_parser_construct_message(parser, NULL);
	if (m != NULL) {
		g_mime_message_foreach(m, visit, parts);
		/* A single-part message that is itself an attachment. */
		if (parts->len == 0 && m->mime_part != NULL &&
		    !GMIME_IS_MULTIPART(m->mime_part))
			visit(NULL, m->mime_part, parts);
		g_object_unref(m);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	return parts;
}

/* The path of the report object with this SHA-256 (depth-first), or NULL. */
static const char *
object_path_by_sha(JsonArray *objs, const char *sha, int depth)
{
	for (guint i = 0; objs && depth < MAX_OBJECT_DEPTH &&
	    i < json_array_get_length(objs); i++) {
		JsonObject *o = jarr_obj(objs, i);
		const char *p;

		if (jstr(o, "sha256") && strcmp(jstr(o, "sha256"), sha) == 0)
			return jstr(o, "path");
		if ((p = object_path_by_sha(jarr(o, "children"), sha,
		    depth + 1)) != NULL)
			return p;
	}
	return NULL;
}

char *
qexport_manifest(const char *id, const char *msg, size_t len,
    GPtrArray *parts, JsonArray *objects)
{
	GString *man = g_string_new(NULL);
	char *msha = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)msg, len);

	g_string_append_printf(man, "emofilter quarantine export of %s\n"
	    "Samples: handle with care. Zip password: %s\n\n"
	    "sha256  size  member  (original name; report object)\n"
	    "%s  %zu  %s.eml\n", id, QEXPORT_PASSWORD, msha, len, id);
	for (guint i = 0; i < parts->len; i++) {
		struct qexport_part *q = g_ptr_array_index(parts, i);
		const char *path = object_path_by_sha(objects, q->sha256, 0);

		g_string_append_printf(man, "%s  %zu  %s  (", q->sha256,
		    g_bytes_get_size(q->data), q->name);
		safe_append(man, q->orig_name ? q->orig_name : "no name");
		g_string_append_printf(man, "; %s)\n",
		    path ? path : "not in the report");
	}
	g_free(msha);
	return g_string_free(man, FALSE);
}

/* Add a member from borrowed bytes (they outlive zip_close()). */
static bool
add_member(zip_t *za, const char *name, const void *data, size_t len,
    char **errmsg)
{
	zip_source_t *src = zip_source_buffer(za, data, len, 0);
	zip_int64_t idx;

	if (src == NULL ||
	    (idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8)) < 0) {
		*errmsg = g_strdup_printf("%s: %s", name, zip_strerror(za));
		zip_source_free(src);
		return false;
	}
	if (zip_file_set_encryption(za, (zip_uint64_t)idx, ZIP_EM_AES_256,
	    QEXPORT_PASSWORD) != 0) {
		*errmsg = g_strdup_printf("%s: AES-256: %s", name,
		    zip_strerror(za));
		return false;
	}
	return true;
}

char *
qexport_write(const char *path, const char *id, const char *msg,
    size_t len, GPtrArray *parts, const char *manifest)
{
	char *errmsg = NULL, *emlname = g_strdup_printf("%s.eml", id);
	zip_t *za;
	int zerr;
	mode_t old;

	if (access(path, F_OK) == 0) {
		g_free(emlname);
		return g_strdup_printf("%s: already exists", path);
	}
	za = zip_open(path, ZIP_CREATE | ZIP_EXCL, &zerr);
	if (za == NULL) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		errmsg = g_strdup_printf("%s: %s", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		g_free(emlname);
		return errmsg;
	}
	if (!add_member(za, emlname, msg, len, &errmsg) ||
	    !add_member(za, "MANIFEST.txt", manifest, strlen(manifest),
	    &errmsg))
		goto fail;
	for (guint i = 0; i < parts->len; i++) {
		struct qexport_part *q = g_ptr_array_index(parts, i);
		gsize n;
		const void *d = g_bytes_get_data(q->data, &n);

		if (!add_member(za, q->name, d, n, &errmsg))
			goto fail;
	}
	/* Samples: nobody else may read the file, whatever the umask. */
	old = umask(077);
	if (zip_close(za) != 0) {
		umask(old);
		errmsg = g_strdup_printf("%s: %s", path, zip_strerror(za));
		goto fail;
	}
	umask(old);
	if (chmod(path, 0600) != 0) {
		errmsg = g_strdup_printf("%s: chmod: %s", path,
		    g_strerror(errno));
		unlink(path);
	}
	g_free(emlname);
	return errmsg;
fail:
	zip_discard(za);
	unlink(path);
	g_free(emlname);
	return errmsg;
}
