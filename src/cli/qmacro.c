/*
 * qmacro.c - VBA macro source of a message's documents (see qmacro.h).
 */
#include "config.h"

#include <string.h>

#include "office/ole.h"
#include "office/vba.h"
#include "office/xlm.h"
#include "qhash.h"
#include "qjson.h"
#include "qmacro.h"
#include "qsafe.h"

#define MAX_DIR_ENTRIES 4096
#define MAX_MODULES 1000
#define MAX_STREAM ((size_t)16 << 20)
#define MAX_SOURCE ((size_t)1 << 20)
#define MAX_TOTAL ((size_t)8 << 20)
#define MAX_OBJECT_DEPTH 64

struct collect {
	const struct qentry *e;
	GPtrArray *out;
	size_t total;
};

static void
qmacro_free(gpointer p)
{
	struct qmacro *m = p;

	g_free(m->where);
	g_free(m->module);
	g_free(m->source);
	g_free(m);
}

/* The path of the report object with this SHA-256, or NULL. */
static const char *
path_by_sha(JsonArray *objs, const char *sha, int depth)
{
	for (guint i = 0; sha && objs && depth < MAX_OBJECT_DEPTH &&
	    i < json_array_get_length(objs); i++) {
		JsonObject *o = jarr_obj(objs, i);
		const char *p;

		if (g_strcmp0(jstr(o, "sha256"), sha) == 0)
			return jstr(o, "path");
		if ((p = path_by_sha(jarr(o, "children"), sha, depth + 1)))
			return p;
	}
	return NULL;
}

/* One module of the project of the VBA storage vba. */
static void
module_source(struct collect *c, struct emf_ole *ole, long vba,
    const struct emf_vba_project *proj, const struct emf_vba_module *m,
    const char *where)
{
	long idx = emf_ole_child(ole, vba, m->stream);
	enum emf_ole_read how;
	uint8_t *raw = NULL, *src = NULL;
	size_t rawlen, srclen = 0;
	bool capped = false;
	struct qmacro *q;

	if (idx < 0 || emf_ole_read(ole, (size_t)idx, MAX_STREAM, &raw,
	    &rawlen, &how) != EMF_OK)
		return;
	if (m->offset <= rawlen)
		emf_vba_decompress(raw + m->offset, rawlen - m->offset,
		    MAX_SOURCE, &src, &srclen, &capped);
	g_free(raw);
	if (src == NULL || c->total + srclen > MAX_TOTAL) {
		g_free(src);
		return;
	}
	c->total += srclen;
	q = g_new0(struct qmacro, 1);
	q->where = g_strdup(where);
	q->module = g_strdup(m->name ? m->name : "?");
	q->source = emf_vba_to_utf8(src, srclen, proj->codepage);
	q->cut = capped;
	g_free(src);
	g_ptr_array_add(c->out, q);
}

static void
project(struct collect *c, struct emf_ole *ole, long vba, long dir,
    const char *where)
{
	struct emf_vba_project *proj = NULL;
	enum emf_ole_read how;
	uint8_t *raw = NULL, *d = NULL;
	size_t rawlen, dlen = 0;
	bool capped;
	char *why = NULL;

	if (emf_ole_read(ole, (size_t)dir, MAX_STREAM, &raw, &rawlen,
	    &how) != EMF_OK)
		return;
	emf_vba_decompress(raw, rawlen, MAX_SOURCE, &d, &dlen, &capped);
	g_free(raw);
	if (d == NULL || emf_vba_dir_parse(d, dlen, MAX_MODULES, &proj,
	    &capped, &why) != EMF_OK) {
		g_free(why);
		g_free(d);
		return;
	}
	g_free(d);
	for (guint i = 0; i < proj->modules->len; i++)
		module_source(c, ole, vba, proj,
		    g_ptr_array_index(proj->modules, i), where);
	emf_vba_project_free(proj);
}

/*
 * The Excel 4.0 macro sheets of a workbook as one "module": the formulas
 * the library's BIFF walk decodes (office/xlm.h), one cell a line.
 */
static void
xlm_sheets(struct collect *c, struct emf_ole *ole, const char *where)
{
	long wb = emf_ole_child(ole, 0, "Workbook");
	enum emf_ole_read how;
	struct emf_biff_info info = { 0 };
	uint8_t *raw = NULL;
	size_t len;

	if (wb < 0)
		wb = emf_ole_child(ole, 0, "Book");
	if (wb < 0 || emf_ole_read(ole, (size_t)wb, MAX_STREAM, &raw, &len,
	    &how) != EMF_OK)
		return;
	if (emf_biff_walk(raw, len, &info) && info.macro_sheets != NULL &&
	    info.macro_sheets->len > 0) {
		GString *names = g_string_new(NULL);
		const char *text = info.formulas != NULL &&
		    info.formulas->len > 0 ? info.formulas->str :
		    "(no formulas)\n";
		size_t n = strlen(text);

		for (guint i = 0; i < info.macro_sheets->len; i++)
			g_string_append_printf(names, "%s%s", i ? ", " : "",
			    (const char *)g_ptr_array_index(info.macro_sheets,
			    i));
		if (c->total + n <= MAX_TOTAL) {
			struct qmacro *q = g_new0(struct qmacro, 1);

			c->total += n;
			q->where = g_strdup(where);
			q->module = g_strdup_printf(
			    "Excel 4.0 macro sheet %s%s", names->str,
			    info.formulas_cut ? " (formulas cut)" : "");
			q->source = g_strdup_printf("%s%s", text,
			    n > 0 && text[n - 1] != '\n' ? "\n" : "");
			g_ptr_array_add(c->out, q);
		}
		g_string_free(names, TRUE);
	}
	emf_biff_info_clear(&info);
	g_free(raw);
}

static void
visit(const void *data, size_t len, const char *parent, void *ud)
{
	static const uint8_t magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1,
		0x1a, 0xe1 };
	struct collect *c = ud;
	struct emf_ole *ole = NULL;
	char *why = NULL, *sha;
	const char *where;

	if (len < 512 || memcmp(data, magic, 8) != 0)
		return;
	if (emf_ole_open(data, len, MAX_DIR_ENTRIES, &ole, NULL, &why) !=
	    EMF_OK) {
		g_free(why);
		return;
	}
	/* The document itself, or (vbaProject.bin) the one it is in. */
	sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
	where = path_by_sha(jarr(c->e->root, "objects"), sha, 0);
	if (where == NULL)
		where = path_by_sha(jarr(c->e->root, "objects"), parent, 0);
	for (size_t i = 1; i < emf_ole_count(ole); i++) {
		const struct emf_ole_entry *en = emf_ole_entry(ole, i);
		long dir;

		if (en->type != EMF_OLE_STORAGE || en->parent < 0 ||
		    g_ascii_strcasecmp(en->name, "VBA") != 0 ||
		    (dir = emf_ole_child(ole, (long)i, "dir")) < 0)
			continue;
		project(c, ole, (long)i, dir, where ? where : "?");
	}
	xlm_sheets(c, ole, where ? where : "?");
	g_free(sha);
	emf_ole_free(ole);
}

GPtrArray *
qmacro_sources(const char *msg, size_t len, const struct qentry *e)
{
	struct collect c = { e, g_ptr_array_new_with_free_func(qmacro_free),
		0 };

	qhash_walk(msg, len, e, visit, &c);
	return c.out;
}

char *
qmacro_render_text(GPtrArray *macros)
{
	GString *s = g_string_new(NULL);

	if (macros->len > 0)
		g_string_append(s, "\nMacro source\n");
	for (guint i = 0; i < macros->len; i++) {
		struct qmacro *m = g_ptr_array_index(macros, i);
		char **lines = g_strsplit(m->source, "\n", -1);

		g_string_append(s, "  --- module ");
		safe_append(s, m->module);
		g_string_append(s, " in ");
		safe_append(s, m->where);
		g_string_append_printf(s, "%s\n", m->cut ? " (cut at 1 MiB)" :
		    "");
		for (char **l = lines; *l; l++) {
			size_t n = strlen(*l);

			if (l[1] == NULL && n == 0)
				break;	/* the final line end */
			if (n > 0 && (*l)[n - 1] == '\r')
				(*l)[n - 1] = '\0';
			g_string_append(s, "    ");
			safe_append(s, *l);
			g_string_append_c(s, '\n');
		}
		g_strfreev(lines);
	}
	return g_string_free(s, FALSE);
}
