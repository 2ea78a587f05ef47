/*
 * office.c - OLE2 and SYLK handlers: format, encryption, VBA, XLM, text.
 * See office.h.
 */
#include "config.h"

#include "core/bytes.h"

#include <string.h>
#include <zlib.h>

#include "core/modules.h"
#include "office.h"
#include "ole.h"
#include "rtf.h"
#include "vba.h"
#include "xlm.h"

/* ---- text runs ------------------------------------------------------------ */

/* Letters worth keeping from a UTF-16LE run (not arbitrary code points). */
static bool
text16(uint16_t c)
{
	return c == '\t' || c == '\n' || c == '\r' ||
	    (c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c <= 0x24F) ||
	    (c >= 0x370 && c <= 0x4FF) || (c >= 0x2000 && c <= 0x206F) ||
	    (c >= 0x3000 && c <= 0x30FF) || (c >= 0x4E00 && c <= 0x9FFF) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xFF00 && c <= 0xFFEF);
}

static bool
text8(uint8_t c)
{
	return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7F) ||
	    c >= 0xA0;
}

void
emf_office_text_runs(const uint8_t *d, size_t len, GString *out, size_t cap)
{
	/* UTF-16LE at both alignments: BIFF strings sit at odd offsets. */
	for (size_t align = 0; align < 2; align++) {
		size_t i = align;

		while (i + 1 < len && out->len < cap) {
			size_t j = i, n = 0;

			while (j + 1 < len && text16(rd16(d + j))) {
				j += 2;
				n++;
			}
			if (n >= 4) {
				for (size_t k = i; k < j && out->len < cap;
				    k += 2) {
					uint16_t c = rd16(d + k);

					g_string_append_unichar(out,
					    c == '\r' ? '\n' : c);
				}
				g_string_append_c(out, '\n');
			}
			i = j + 2;
		}
	}
	for (size_t i = 0; i < len && out->len < cap;) {
		size_t j = i;

		while (j < len && text8(d[j]))
			j++;
		/*
		 * text8() admits no byte of 0x80-0x9F, where CP1252 and
		 * Latin-1 differ: the run is Latin-1, each byte its code
		 * point (no iconv per run: fuzz_biff ran at 450 execs/s).
		 */
		if (j - i >= 5) {
			for (size_t k = i; k < j; k++)
				if (d[k] < 0x80)
					g_string_append_c(out, (char)d[k]);
				else
					g_string_append_unichar(out, d[k]);
			g_string_append_c(out, '\n');
		}
		i = j + 1;
	}
	if (out->len > cap) {
		/* Cut back to a character boundary. */
		const char *end = g_utf8_find_prev_char(out->str,
		    out->str + cap);

		g_string_truncate(out, end ? (gsize)(end - out->str) : 0);
	}
}

/* ---- PowerPoint embedded storages ------------------------------------- */

static uint8_t *
inflate_capped(const uint8_t *in, size_t len, size_t cap, size_t *outlen)
{
	z_stream z;
	GByteArray *buf = g_byte_array_new();
	uint8_t chunk[16384];
	int zr;

	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK) {
		g_byte_array_free(buf, TRUE);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)MIN(len, (size_t)UINT32_MAX);
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			break;
		g_byte_array_append(buf, chunk,
		    (guint)MIN(sizeof(chunk) - z.avail_out, cap - buf->len));
	} while (zr == Z_OK && buf->len < cap && z.avail_out == 0);
	inflateEnd(&z);
	*outlen = buf->len;
	return g_byte_array_free(buf, FALSE);
}

unsigned
emf_office_ppt_storages(const uint8_t *d, size_t len, size_t cap,
    unsigned max, void (*fn)(void *ctx, uint8_t *data, size_t len),
    void *ctx)
{
	unsigned found = 0;

	/*
	 * ExOleObjStg record headers: recVer 0, recInstance 1 (compressed)
	 * or 0, recType 0x1011. Searching the stream for them finds the VBA
	 * storage without walking (and trusting) the record tree.
	 */
	for (size_t i = 0; i + 12 <= len && found < max; i++) {
		uint32_t rlen;
		bool compressed;
		uint8_t *out = NULL;
		size_t outlen = 0;

		if (d[i + 2] != 0x11 || d[i + 3] != 0x10 || d[i + 1] != 0 ||
		    (d[i] != 0x10 && d[i] != 0x00))
			continue;
		compressed = d[i] == 0x10;
		rlen = rd32(d + i + 4);
		if (rlen < 8 || rlen > len - i - 8)
			continue;
		if (compressed) {
			out = inflate_capped(d + i + 12, rlen - 4, cap,
			    &outlen);
		} else {
			outlen = MIN((size_t)rlen, cap);
			out = g_memdup2(d + i + 8, outlen);
		}
		if (out != NULL && outlen >= 512 &&
		    memcmp(out, EMF_OLE_MAGIC, 8) == 0) {
			found++;
			fn(ctx, out, outlen);
			i += 7 + rlen;
		} else {
			g_free(out);
		}
	}
	return found;
}

/* ---- reporting ------------------------------------------------------------ */

static char *
join(GPtrArray *a)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; a != NULL && i < a->len; i++) {
		if (i > 0)
			g_string_append(s, ", ");
		g_string_append(s, g_ptr_array_index(a, i));
	}
	return g_string_free(s, FALSE);
}

void
emf_office_macro_report(struct emf_scan *scan, struct emf_object *obj,
    const char *module, const char *src, size_t len, bool is_xlm)
{
	struct emf_vba_findings f = { 0 };
	struct emf_macro *m = emf_macro_new(module);
	char *list;

	m->sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)src, len);
	emf_vba_analyse(src, len, &f);
	if (is_xlm)
		emf_xlm_analyse(src, len, &f.suspicious);
	m->autoexec = f.autoexec;
	m->suspicious = f.suspicious;
	m->urls = f.urls;
	if (obj->macros == NULL)
		obj->macros = g_ptr_array_new();
	g_ptr_array_add(obj->macros, m);
	emf_text_add(scan, EMF_TEXT_MACRO, obj, src, len);
	if (m->autoexec != NULL) {
		list = join(m->autoexec);
		emf_symbol(scan, "MACRO_AUTOEXEC", obj, "%s %s: %s",
		    is_xlm ? "XLM sheet" : "module", module, list);
		g_free(list);
	}
	if (m->suspicious != NULL) {
		list = join(m->suspicious);
		emf_symbol(scan, "MACRO_SUSPICIOUS", obj, "%s %s: %s",
		    is_xlm ? "XLM sheet" : "module", module, list);
		g_free(list);
	}
	for (guint i = 0; m->urls != NULL && i < m->urls->len; i++) {
		emf_symbol(scan, "MACRO_URL", obj, "%s in %s",
		    (char *)g_ptr_array_index(m->urls, i), module);
		emf_strlist_add(&obj->urls, g_ptr_array_index(m->urls, i));
	}
}

/* ---- fields and links ------------------------------------------------------ */

const char *
emf_office_dangerous_scheme(const char *uri)
{
	/* Handlers abused from documents: Follina (ms-msdt), search-ms
	 * lures, MHTML/ITS loading of script, ms-officecmd, the app
	 * installer. */
	static const char *const schemes[] = { "ms-msdt:", "search-ms:",
		"search:", "ms-search:", "mhtml:", "ms-its:", "its:", "mk:",
		"ms-officecmd:", "ms-appinstaller:", "ms-cxh:", "ms-cxh-full:",
		"ms-excel:ofv|u|file", "vbscript:", "javascript:", NULL };

	while (*uri == ' ' || *uri == '\t' || *uri == '"')
		uri++;
	for (size_t k = 0; schemes[k] != NULL; k++)
		if (g_ascii_strncasecmp(uri, schemes[k], strlen(schemes[k]))
		    == 0)
			return schemes[k];
	return NULL;
}

/* The next token of s[*i..len): a quoted string or a run of non-spaces. */
static char *
field_token(const char *s, size_t len, size_t *i)
{
	size_t j;

	while (*i < len && g_ascii_isspace(s[*i]))
		(*i)++;
	if (*i >= len)
		return NULL;
	if (s[*i] == '"') {
		j = ++(*i);
		while (j < len && s[j] != '"')
			j++;
	} else {
		j = *i;
		while (j < len && !g_ascii_isspace(s[j]))
			j++;
	}
	{
		char *t = g_strndup(s + *i, j - *i);

		*i = j < len ? j + 1 : j;
		return t;
	}
}

bool
emf_office_field_code(struct emf_scan *scan, struct emf_object *obj,
    const char *code, size_t len)
{
	/* DDE servers that are Office applications: a live link, no code. */
	static const char *const office[] = { "Excel", "WinWord", "Word",
		"PowerPnt", "PowerPoint", "MSAccess", "Access", "Excel.Sheet",
		"Excel.Sheet.8", "Excel.Sheet.12", "Word.Document.8",
		"Word.Document.12", NULL };
	size_t i = 0;
	char *kw, *app, *line, *valid;
	bool program = true;
	const char *base;

	if ((kw = field_token(code, len, &i)) == NULL)
		return false;
	if (g_ascii_strcasecmp(kw, "DDE") != 0 &&
	    g_ascii_strcasecmp(kw, "DDEAUTO") != 0) {
		g_free(kw);
		return false;
	}
	app = field_token(code, len, &i);
	if (app == NULL)
		app = g_strdup("");
	base = strrchr(app, '\\');
	base = base ? base + 1 : app;
	for (size_t k = 0; office[k] != NULL; k++)
		if (g_ascii_strcasecmp(base, office[k]) == 0)
			program = false;
	valid = g_utf8_make_valid(code, (gssize)MIN(len, (size_t)512));
	g_strstrip(valid);
	line = g_strdup_printf("DDE: %s", valid);
	emf_strlist_add(&obj->external_links, line);
	if (program && *app != '\0') {
		emf_symbol(scan, "OFFICE_DDE", obj, "%s", valid);
		emf_text_add(scan, EMF_TEXT_MACRO, obj, valid, strlen(valid));
	}
	g_free(line);
	g_free(valid);
	g_free(app);
	g_free(kw);
	return true;
}

void
emf_office_doc_fields(struct emf_scan *scan, struct emf_object *obj,
    const uint8_t *d, size_t len, unsigned max)
{
	unsigned found = 0;

	for (size_t i = 0; i + 1 < len && found < max; i++) {
		bool wide;
		GString *code;
		size_t j;

		if (d[i] != 0x13)
			continue;
		/* UTF-16LE when the mark is followed by a zero byte and the
		 * text after it is too. */
		wide = i + 3 < len && d[i + 1] == 0 && d[i + 3] == 0;
		code = g_string_new(NULL);
		for (j = i + (wide ? 2 : 1); j < len && code->len < 1024;
		    j += wide ? 2 : 1) {
			unsigned c = wide ? (j + 1 < len ? rd16(d + j) : 0) :
			    d[j];

			if (c == 0x13 || c == 0x14 || c == 0x15 || c == 0)
				break;
			if (c < 0x20 && c != '\t')
				c = ' ';
			g_string_append_unichar(code, c < 0xD800 ||
			    c > 0xDFFF ? c : 0xFFFD);
		}
		if (emf_office_field_code(scan, obj, code->str, code->len))
			found++;
		g_string_free(code, TRUE);
	}
}

/* ---- VBA projects in a compound file ------------------------------------ */

struct vba_src {
	char *module;
	char *src;
	size_t len;
	size_t pcode_len;	/* bytes before the source: the p-code */
	GPtrArray *pcode_marks;	/* keywords and URLs in the p-code */
};

static void
vba_src_free(gpointer p)
{
	struct vba_src *s = p;

	g_free(s->module);
	g_free(s->src);
	if (s->pcode_marks != NULL)
		g_ptr_array_free(s->pcode_marks, TRUE);
	g_free(s);
}

static gint
vba_src_cmp(gconstpointer a, gconstpointer b)
{
	const struct vba_src *x = *(struct vba_src *const *)a;
	const struct vba_src *y = *(struct vba_src *const *)b;

	return strcmp(x->module, y->module);
}

/*
 * The keywords and URLs that the compiled part of a module stream (its
 * PerformanceCache, before the source) holds as literal text: string
 * constants and declared names survive compilation. Only single tokens
 * (no derived findings such as "Chr() obfuscation").
 */
static GPtrArray *
vba_pcode_marks(const uint8_t *raw, size_t n)
{
	struct emf_vba_findings f = { 0 };
	GPtrArray *marks = NULL;

	if (n == 0)
		return NULL;
	emf_vba_analyse((const char *)raw, n, &f);
	for (int k = 0; k < 2; k++) {
		GPtrArray *a = k == 0 ? f.suspicious : f.urls;

		for (guint i = 0; a != NULL && i < a->len; i++)
			if (strchr(g_ptr_array_index(a, i), ' ') == NULL)
				emf_strlist_add(&marks,
				    g_ptr_array_index(a, i));
	}
	emf_vba_findings_clear(&f);
	return marks;
}

static bool
has_ci(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (g_ascii_strncasecmp(s + i, needle, n) == 0)
			return true;
	return false;
}

/*
 * VBA stomping (the source replaced or removed, the p-code Office runs
 * kept): a module whose p-code holds keywords or URLs its source lacks.
 * Two other signs were measured and left out: "kilobytes of p-code, no
 * code in the source" and "auto-run or suspicious names in the
 * _VBA_PROJECT identifier table that no source uses" each fired on
 * legitimate POI test workbooks (an emptied sheet module keeps its
 * p-code; the identifier table keeps names of deleted code).
 */
static void
vba_stomping(struct emf_scan *scan, struct emf_object *obj,
    GPtrArray *srcs)
{
	GString *why = g_string_new(NULL);
	unsigned shown = 0;

	for (guint i = 0; i < srcs->len; i++) {
		struct vba_src *s = g_ptr_array_index(srcs, i);

		for (guint k = 0; s->pcode_marks != NULL &&
		    k < s->pcode_marks->len; k++) {
			const char *m = g_ptr_array_index(s->pcode_marks, k);

			if (has_ci(s->src, s->len, m) || shown >= 8)
				continue;
			g_string_append_printf(why, "%s%s: p-code has %s",
			    why->len ? "; " : "", s->module, m);
			shown++;
			/* What the stomped code downloads: an indicator. */
			if (strstr(m, "://") != NULL)
				emf_strlist_add(&obj->urls, m);
		}
	}
	if (why->len > 0)
		emf_symbol(scan, "VBA_STOMPED", obj, "%s", why->str);
	g_string_free(why, TRUE);
}

/* Read one module's source; false when the message budget is spent. */
static bool
vba_module(struct emf_scan *scan, struct emf_object *obj,
    struct emf_ole *ole, long vba, const struct emf_vba_project *proj,
    const struct emf_vba_module *m, GPtrArray *srcs)
{
	const struct emf_limits *l = scan->limits;
	long idx = emf_ole_child(ole, vba, m->stream);
	enum emf_ole_read how;
	uint8_t *raw = NULL, *src = NULL;
	size_t rawlen, srclen;
	bool capped;
	struct vba_src *s;
	GPtrArray *pcode;

	if (idx < 0) {
		emf_symbol(scan, "OFFICE_MALFORMED", obj,
		    "VBA module stream %s missing", m->stream);
		return true;
	}
	if (emf_ole_read(ole, (size_t)idx, l->object_bytes, &raw, &rawlen,
	    &how) != EMF_OK)
		return true;
	if (m->offset > rawlen) {
		emf_symbol(scan, "OFFICE_MALFORMED", obj,
		    "VBA module %s: source offset %u past its stream", m->name,
		    m->offset);
		g_free(raw);
		return true;
	}
	if (emf_vba_decompress(raw + m->offset, rawlen - m->offset,
	    l->vba_module_bytes, &src, &srclen, &capped) != EMF_OK)
		emf_symbol(scan, "OFFICE_MALFORMED", obj,
		    "VBA module %s: bad compressed source", m->name);
	pcode = vba_pcode_marks(raw, m->offset);
	g_free(raw);
	if (capped)
		emf_limit_hit(scan, "vba_module_bytes", obj,
		    "VBA module %s cut to %zu bytes", m->name, srclen);
	if (!emf_budget_bytes(scan, srclen)) {
		g_free(src);
		return false;
	}
	s = g_new0(struct vba_src, 1);
	s->module = g_strdup(m->name);
	s->src = emf_vba_to_utf8(src, srclen, proj->codepage);
	s->len = strlen(s->src);
	s->pcode_len = m->offset;
	s->pcode_marks = pcode;
	g_free(src);
	g_ptr_array_add(srcs, s);
	return true;
}

/* One "VBA" storage with its "dir" stream; modules go to srcs. */
static bool
vba_project(struct emf_scan *scan, struct emf_object *obj,
    struct emf_ole *ole, long vba, long dir, GPtrArray *srcs)
{
	const struct emf_limits *l = scan->limits;
	struct emf_vba_project *proj = NULL;
	enum emf_ole_read how;
	uint8_t *raw = NULL, *d = NULL;
	size_t rawlen, dlen;
	bool capped, more = true;
	char *why = NULL;

	if (emf_ole_read(ole, (size_t)dir, l->object_bytes, &raw, &rawlen,
	    &how) != EMF_OK)
		return true;
	/* dir records are small; a dir of more than a few MB is hostile. */
	emf_vba_decompress(raw, rawlen, l->vba_module_bytes, &d, &dlen,
	    &capped);
	g_free(raw);
	if (emf_vba_dir_parse(d, dlen, l->vba_modules, &proj, &capped,
	    &why) != EMF_OK) {
		emf_symbol(scan, "OFFICE_MALFORMED", obj, "VBA project: %s",
		    why);
		/* A VBA storage is still a macro project, if unreadable. */
		g_ptr_array_add(srcs, g_new0(struct vba_src, 1));
		((struct vba_src *)g_ptr_array_index(srcs, srcs->len - 1))
		    ->module = g_strdup("(unreadable VBA project)");
		((struct vba_src *)g_ptr_array_index(srcs, srcs->len - 1))
		    ->src = g_strdup("");
		g_free(why);
		g_free(d);
		return true;
	}
	g_free(d);
	if (capped)
		emf_limit_hit(scan, "vba_modules", obj,
		    "more than %u VBA modules", l->vba_modules);
	for (guint i = 0; i < proj->modules->len && more; i++) {
		if (emf_scan_expired(scan))
			break;
		more = vba_module(scan, obj, ole, vba, proj,
		    g_ptr_array_index(proj->modules, i), srcs);
	}
	emf_vba_project_free(proj);
	return more;
}

/*
 * The text of the UserForms and their controls: the "o" stream of each
 * form or frame storage (one with an "f" stream beside it) holds the
 * captions, values and tags of its controls, where droppers keep their
 * URLs and command lines. Each form's text is analysed like a module.
 */
static void
scan_forms(struct emf_scan *scan, struct emf_object *obj,
    struct emf_ole *ole)
{
	const struct emf_limits *l = scan->limits;
	unsigned forms = 0;

	for (size_t i = 1; i < emf_ole_count(ole) && forms < 64; i++) {
		const struct emf_ole_entry *e = emf_ole_entry(ole, i);
		const struct emf_ole_entry *p;
		uint8_t *d = NULL;
		size_t len = 0;
		enum emf_ole_read how;
		GString *t;
		char *name;

		if (e->type != EMF_OLE_STREAM || strcmp(e->name, "o") != 0 ||
		    e->parent < 0 || emf_ole_child(ole, e->parent, "f") < 0)
			continue;
		if (emf_scan_expired(scan) || emf_ole_read(ole, i,
		    l->vba_module_bytes, &d, &len, &how) != EMF_OK)
			continue;
		t = g_string_new(NULL);
		emf_office_text_runs(d, len, t, l->vba_module_bytes);
		g_free(d);
		p = emf_ole_entry(ole, (size_t)e->parent);
		if (t->len > 0 && emf_budget_bytes(scan, t->len)) {
			forms++;
			name = g_strdup_printf("%s (form text)",
			    p ? p->name : "?");
			emf_office_macro_report(scan, obj, name, t->str,
			    t->len, false);
			g_free(name);
		}
		g_string_free(t, TRUE);
	}
}

static void
scan_vba(struct emf_scan *scan, struct emf_object *obj, struct emf_ole *ole)
{
	GPtrArray *srcs = g_ptr_array_new_with_free_func(vba_src_free);
	GChecksum *ck;
	GString *names;

	/* Every storage named VBA holding a dir stream: the document's own
	 * project and those of embedded objects (ObjectPool, ...). */
	for (size_t i = 1; i < emf_ole_count(ole); i++) {
		const struct emf_ole_entry *e = emf_ole_entry(ole, i);
		long dir;

		if (e->type != EMF_OLE_STORAGE || e->parent < 0 ||
		    g_ascii_strcasecmp(e->name, "VBA") != 0)
			continue;
		if ((dir = emf_ole_child(ole, (long)i, "dir")) < 0)
			continue;
		if (!vba_project(scan, obj, ole, (long)i, dir, srcs))
			break;
	}
	if (srcs->len == 0) {
		g_ptr_array_free(srcs, TRUE);
		return;
	}
	/*
	 * The project's identity for allowlists: modules sorted by name,
	 * each as name NUL source NUL, so the same macros hash the same in
	 * an .xls and an .xlsm whatever the order of the dir records.
	 */
	g_ptr_array_sort(srcs, vba_src_cmp);
	ck = g_checksum_new(G_CHECKSUM_SHA256);
	names = g_string_new(NULL);
	for (guint i = 0; i < srcs->len; i++) {
		struct vba_src *s = g_ptr_array_index(srcs, i);

		g_checksum_update(ck, (const guchar *)s->module,
		    (gssize)strlen(s->module) + 1);
		g_checksum_update(ck, (const guchar *)s->src,
		    (gssize)s->len + 1);
		if (i < 20)
			g_string_append_printf(names, "%s%s", i ? ", " : "",
			    s->module);
		emf_office_macro_report(scan, obj, s->module, s->src, s->len,
		    false);
	}
	if (srcs->len > 20)
		g_string_append_printf(names, ", ... (%u)", srcs->len);
	g_free(obj->vba_sha256);
	obj->vba_sha256 = g_strdup(g_checksum_get_string(ck));
	emf_symbol(scan, "OFFICE_MACRO", obj, "VBA project: %s", names->str);
	vba_stomping(scan, obj, srcs);
	scan_forms(scan, obj, ole);
	g_string_free(names, TRUE);
	g_checksum_free(ck);
	g_ptr_array_free(srcs, TRUE);
}

/* ---- XLM ------------------------------------------------------------------ */

void
emf_office_xlm_report(struct emf_scan *scan, struct emf_object *obj,
    const struct emf_biff_info *bi)
{
	char *list;

	for (guint i = 0; bi->macro_sheets && i < bi->macro_sheets->len; i++)
		emf_strlist_add(&obj->xlm_sheets,
		    g_ptr_array_index(bi->macro_sheets, i));
	if (bi->macro_sheets != NULL) {
		list = join(bi->macro_sheets);
		emf_symbol(scan, "XLM_MACRO", obj, "Excel 4.0 macro sheet: %s",
		    list);
		g_free(list);
	}
	if (bi->auto_names != NULL) {
		list = join(bi->auto_names);
		emf_symbol(scan, "MACRO_AUTOEXEC", obj, "defined name %s",
		    list);
		g_free(list);
	}
	if (bi->formulas != NULL && bi->formulas->len > 0)
		emf_office_macro_report(scan, obj, "XLM formulas",
		    bi->formulas->str, bi->formulas->len, true);
	if (bi->formulas_cut)
		emf_limit_hit(scan, "xlm_formula_bytes", obj,
		    "XLM formulas cut at %u bytes (%u formulas)",
		    EMF_XLM_TEXT_MAX, bi->nformulas);
}

/* ---- embedded objects ------------------------------------------------------ */

/*
 * The OLE objects a compound file carries: the file of every OLE Package
 * ("\1Ole10Native") and the OOXML document of every "Package" stream go
 * to the dispatcher as children; an Equation Editor object (its "Equation
 * Native" stream, or an exploit CLSID on the root) raises
 * OFFICE_EXPLOIT_CLASS.
 */
/*
 * An "Equation Native" stream ([MS-OLEDS]-style EQNOLEFILEHDR, then
 * MTEF) whose FONT record carries a name longer than the editor's
 * buffer: the CVE-2017-11882 / CVE-2018-0802 overflow. Real font names
 * ("Times New Roman", "MT Extra") are short.
 */
static bool
equation_overflow(const uint8_t *d, size_t len)
{
	size_t hdr, end;
	const uint8_t *m;

	if (len < 2 || (hdr = rd16(d)) >= len || len - hdr < 8)
		return false;
	m = d + hdr;
	len -= hdr;
	if (m[0] != 2 && m[0] != 3)	/* MTEF version */
		return false;
	end = MIN(len, (size_t)64);
	for (size_t i = 5; i + 3 < end; i++) {
		const uint8_t *name;
		size_t n = 0;

		if (m[i] != 0x08)	/* FONT record, no options */
			continue;
		name = m + i + 3;
		while (i + 3 + n < len && name[n] != 0 && n < 256)
			n++;
		if (n > 32)
			return true;
	}
	return false;
}

static void
scan_embedded(struct emf_scan *scan, struct emf_object *obj,
    struct emf_ole *ole)
{
	const char *what = emf_rtf_exploit_clsid(obj->data, obj->len);
	unsigned children = 0;

	/* An Equation Editor CLSID alone is not the exploit: its stream
	 * is looked at below. */
	if (what != NULL && strstr(what, "Equation") == NULL)
		emf_symbol(scan, "OFFICE_EXPLOIT_CLASS", obj, "%s", what);
	for (size_t i = 1; i < emf_ole_count(ole) && children < 64; i++) {
		const struct emf_ole_entry *e = emf_ole_entry(ole, i);
		bool native, pkg;
		uint8_t *d = NULL;
		size_t len = 0;
		enum emf_ole_read how;
		char *name = NULL;
		const uint8_t *fd;
		size_t flen;

		if (e->type != EMF_OLE_STREAM || e->parent < 0)
			continue;
		if (g_ascii_strcasecmp(e->name, "Equation Native") == 0) {
			if (emf_ole_read(ole, i, 1u << 20, &d, &len, &how) !=
			    EMF_OK)
				continue;
			if (equation_overflow(d, len))
				emf_symbol(scan, "OFFICE_EXPLOIT_CLASS", obj,
				    "Equation Editor 3.0 object with an "
				    "overlong font name (CVE-2017-11882, "
				    "CVE-2018-0802)");
			else
				emf_symbol(scan, "OFFICE_EQUATION_OBJECT", obj,
				    "Equation Editor 3.0 object");
			g_free(d);
			continue;
		}
		native = g_ascii_strcasecmp(e->name, "\001Ole10Native") == 0;
		pkg = g_ascii_strcasecmp(e->name, "Package") == 0;
		if (!native && !pkg)
			continue;
		if (emf_scan_expired(scan) || emf_ole_read(ole, i,
		    emf_budget_child_cap(scan), &d, &len, &how) != EMF_OK)
			continue;
		if (native && emf_ole_package(d, len, &name, &fd, &flen)) {
			if (emf_filename_is_executable(name) ||
			    (flen == 0 && emf_ole_package_runs(name)))
				emf_symbol(scan, "OFFICE_PACKAGE_EXECUTABLE",
				    obj, "OLE package %s (%s)", name, flen ?
				    "embedded file" : "a link: runs it");
			/* A link has no payload child to be judged: the
			 * program it starts is the executable. */
			if (flen == 0 && emf_ole_package_runs(name))
				emf_symbol(scan, "EXECUTABLE_ATTACHMENT", obj,
				    "OLE package link runs %s", name);
			if (flen > 0 && emf_budget_bytes(scan, flen)) {
				children++;
				emf_object_child(scan, obj, name, NULL,
				    g_memdup2(fd, flen), flen);
			}
			g_free(name);
			g_free(d);
		} else if (pkg && len > 0 && emf_budget_bytes(scan, len)) {
			children++;
			emf_object_child(scan, obj, "Package", NULL, d, len);
		} else {
			g_free(d);
		}
	}
}

/* ---- the handlers --------------------------------------------------------- */

struct ppt_ctx {
	struct emf_scan *scan;
	struct emf_object *obj;
	unsigned n;
};

static void
ppt_child(void *ctx, uint8_t *data, size_t len)
{
	struct ppt_ctx *c = ctx;
	char name[48];

	if (!emf_budget_bytes(c->scan, len)) {
		g_free(data);
		return;
	}
	g_snprintf(name, sizeof(name), "ExOleObjStg-%u", ++c->n);
	emf_object_child(c->scan, c->obj, name, NULL, data, len);
}

static char *
read_stream(struct emf_scan *scan, struct emf_ole *ole, long idx,
    size_t *len)
{
	enum emf_ole_read how;
	uint8_t *d = NULL;

	*len = 0;
	if (idx < 0 || emf_ole_read(ole, (size_t)idx,
	    scan->limits->object_bytes, &d, len, &how) != EMF_OK)
		return NULL;
	return (char *)d;
}

/* EncryptionInfo ([MS-OFFCRYPTO] 2.3.4.5/2.3.4.10): which scheme. */
static const char *
ooxml_encryption(const uint8_t *info, size_t len)
{
	uint16_t major, minor;

	if (len < 4)
		return "OOXML (unknown)";
	major = rd16(info);
	minor = rd16(info + 2);
	if (major == 4 && minor == 4)
		return "OOXML Agile";
	if ((major == 3 || major == 4) && minor == 2)
		return "OOXML Standard";
	if ((major == 3 || major == 4) && minor == 3)
		return "OOXML Extensible";
	return "OOXML (unknown)";
}

static void
set_encrypted(struct emf_scan *scan, struct emf_object *obj,
    const char *how)
{
	obj->encrypted = true;
	g_free(obj->encryption);
	obj->encryption = g_strdup(how);
	emf_symbol(scan, "OFFICE_ENCRYPTED", obj, "%s", how);
}

void
emf_office_ole_handle(struct emf_scan *scan, struct emf_object *obj)
{
	const struct emf_limits *l = scan->limits;
	struct emf_ole *ole = NULL;
	bool capped = false;
	char *why = NULL;
	long word, book, ppt, pkg, idx;
	const char *fmt = "OLE2";
	uint8_t *main_stream = NULL;
	size_t main_len = 0;
	bool encrypted = false;

	if (emf_ole_open(obj->data, obj->len, l->ole_dir_entries, &ole,
	    &capped, &why) != EMF_OK) {
		g_free(obj->error);
		obj->error = g_strdup_printf("ole2: %s", why);
		emf_symbol(scan, "OFFICE_MALFORMED", obj, "%s", obj->error);
		g_free(why);
		return;
	}
	if (capped)
		emf_limit_hit(scan, "ole_dir_entries", obj,
		    "only the first %u directory entries read",
		    l->ole_dir_entries);
	word = emf_ole_child(ole, 0, "WordDocument");
	book = emf_ole_child(ole, 0, "Workbook");
	if (book < 0)
		book = emf_ole_child(ole, 0, "Book");
	ppt = emf_ole_child(ole, 0, "PowerPoint Document");
	pkg = emf_ole_child(ole, 0, "EncryptedPackage");

	if (pkg >= 0) {
		uint8_t *info;
		size_t ilen;

		/* An encrypted OOXML package: OOXML, whatever the wrapper. */
		fmt = "OOXML (encrypted)";
		obj->type = EMF_FT_OOXML;
		info = (uint8_t *)read_stream(scan, ole,
		    emf_ole_child(ole, 0, "EncryptionInfo"), &ilen);
		set_encrypted(scan, obj, ooxml_encryption(info, ilen));
		g_free(info);
		encrypted = true;
	} else if (word >= 0) {
		fmt = "OLE2 Word";
		main_stream = (uint8_t *)read_stream(scan, ole, word,
		    &main_len);
		/* FibBase ([MS-DOC] 2.5.2): fEncrypted, fObfuscated. */
		if (main_len >= 12 && (rd16(main_stream + 10) & 0x0100)) {
			set_encrypted(scan, obj, rd16(main_stream + 10) &
			    0x8000 ? "Word XOR obfuscation" :
			    "Word RC4 / RC4 CryptoAPI");
			encrypted = true;
		}
		if (!encrypted)
			emf_office_doc_fields(scan, obj, main_stream,
			    main_len, 256);
	} else if (book >= 0) {
		struct emf_biff_info bi;

		fmt = "OLE2 Excel";
		main_stream = (uint8_t *)read_stream(scan, ole, book,
		    &main_len);
		if (emf_biff_walk(main_stream, main_len, &bi)) {
			if (bi.biff == 5)
				fmt = "OLE2 Excel 5.0/95";
			if (bi.encrypted) {
				char *how = g_strdup_printf("Excel %s",
				    bi.encryption);

				set_encrypted(scan, obj, how);
				g_free(how);
				encrypted = true;
			}
			emf_office_xlm_report(scan, obj, &bi);
			if (bi.malformed)
				emf_symbol(scan, "OFFICE_MALFORMED", obj,
				    "a BIFF record runs past the stream");
			emf_biff_info_clear(&bi);
		}
	} else if (ppt >= 0) {
		struct ppt_ctx c = { scan, obj, 0 };
		uint8_t *cu;
		size_t culen;

		fmt = "OLE2 PowerPoint";
		main_stream = (uint8_t *)read_stream(scan, ole, ppt,
		    &main_len);
		/* CurrentUserAtom ([MS-PPT] 2.3.2): headerToken. */
		cu = (uint8_t *)read_stream(scan, ole,
		    emf_ole_child(ole, 0, "Current User"), &culen);
		if ((culen >= 16 && rd32(cu + 12) == 0xF3D1C4DF) ||
		    emf_ole_child(ole, 0, "EncryptedSummary") >= 0) {
			set_encrypted(scan, obj, "PowerPoint RC4 CryptoAPI");
			encrypted = true;
		}
		g_free(cu);
		if (!encrypted)
			emf_office_ppt_storages(main_stream, main_len,
			    emf_budget_child_cap(scan), 64, ppt_child, &c);
	} else if ((idx = emf_ole_child(ole, 0, "VBA")) >= 0 &&
	    emf_ole_child(ole, idx, "dir") >= 0) {
		fmt = "VBA project";
	} else if (emf_ole_child(ole, 0, "__properties_version1.0") >= 0) {
		fmt = "OLE2 Outlook message";
	} else if (emf_ole_child(ole, 0, "VisioDocument") >= 0) {
		fmt = "OLE2 Visio";
	}
	g_free(obj->format);
	obj->format = g_strdup(fmt);

	scan_vba(scan, obj, ole);
	if (!encrypted)
		scan_embedded(scan, obj, ole);

	if (main_stream != NULL && !encrypted) {
		GString *t = g_string_new(NULL);

		emf_office_text_runs(main_stream, main_len, t, l->text_bytes);
		emf_text_add(scan, EMF_TEXT_DOCUMENT, obj, t->str, t->len);
		g_string_free(t, TRUE);
	}
	if (emf_ole_warning(ole) != NULL && obj->error == NULL)
		obj->error = g_strdup_printf("ole2: %s",
		    emf_ole_warning(ole));
	g_free(main_stream);
	emf_ole_free(ole);
}

void
emf_office_sylk_handle(struct emf_scan *scan, struct emf_object *obj)
{
	struct emf_biff_info bi;
	GString *f = g_string_new(NULL);

	g_free(obj->format);
	obj->format = g_strdup("SYLK");
	if (emf_sylk_macro(obj->data, obj->len, &bi, f)) {
		emf_office_xlm_report(scan, obj, &bi);
		if (bi.macro_sheets != NULL)
			emf_office_macro_report(scan, obj, "SYLK formulas",
			    f->str, f->len, true);
	}
	emf_biff_info_clear(&bi);
	g_string_free(f, TRUE);
}

/* ---- DDE in a text workbook (CSV) ---------------------------------------- */

#define CSV_SCAN_MAX ((size_t)8 << 20)	/* bytes of one file looked at */
#define CSV_DDE_MAX 16			/* links recorded per file */
#define CSV_APP_MAX 64			/* bytes of a DDE server name */
#define CSV_TOPIC_MAX 1024		/* bytes of its topic */

/* A text file that Excel opens as a workbook: by name or declared type. */
static bool
spreadsheet_text(const struct emf_object *obj)
{
	static const char *const ext[] = { ".csv", ".tsv", ".tab", ".dif",
		".prn", ".xls", ".xlt", ".xla", ".xlsx", ".xlsm", ".xlsb",
		".xltx", ".xltm", ".xlam", NULL };
	static const char *const types[] = { "text/csv",
		"text/comma-separated-values", "text/x-csv",
		"text/x-comma-separated-values", "text/tab-separated-values",
		"application/csv", "application/x-csv",
		"application/vnd.ms-excel", NULL };

	if (obj->name != NULL) {
		size_t n = strlen(obj->name);

		for (size_t k = 0; ext[k] != NULL; k++) {
			size_t e = strlen(ext[k]);

			if (n > e && g_ascii_strcasecmp(obj->name + n - e,
			    ext[k]) == 0)
				return true;
		}
	}
	if (obj->mime_type != NULL)
		for (size_t k = 0; types[k] != NULL; k++)
			if (g_ascii_strcasecmp(obj->mime_type, types[k]) == 0)
				return true;
	return false;
}

static bool
dde_app_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '\\' ||
	    c == ':' || c == '$';
}

/*
 * The DDE link of a formula around the '|' at d[bar]: SERVER|TOPIC!ITEM
 * (TOPIC plain or in single quotes), inside a cell that starts with a
 * formula sign (= + - @) after a line start, a delimiter or a double
 * quote: "=cmd|' /C calc'!A0", "@SUM(cmd|'/c calc'!A0)", "-2+3+cmd|...".
 * Returns the field code "DDE SERVER TOPIC" (g_free), else NULL.
 */
static char *
csv_dde_at(const char *d, size_t len, size_t bar)
{
	size_t a = bar, c, t, e;

	while (a > 0 && bar - a < CSV_APP_MAX && dde_app_char(d[a - 1]))
		a--;
	if (a == bar || !g_ascii_isalpha(d[a]))
		return NULL;
	/* Back to the start of the cell; it must open a formula. */
	for (c = a; c > 0 && a - c < 256; c--)
		if (strchr(",;\t \"|^\r\n", d[c - 1]) != NULL)
			break;
	if (c > 0 && a - c >= 256)
		return NULL;
	if (strchr("=+-@", d[c]) == NULL || d[c] == '\0')
		return NULL;
	/* The topic, then the '!' of the item. */
	t = bar + 1;
	if (t < len && d[t] == '\'') {
		for (e = t + 1; e < len && e - t < CSV_TOPIC_MAX &&
		    d[e] != '\'' && d[e] != '\n'; e++)
			;
		if (e >= len || d[e] != '\'')
			return NULL;
		e++;
	} else {
		for (e = t; e < len && e - t < CSV_APP_MAX && d[e] != '!' &&
		    strchr(",;\t \"|\r\n", d[e]) == NULL; e++)
			;
		if (e == t)
			return NULL;
	}
	if (e >= len || d[e] != '!')
		return NULL;
	return g_strdup_printf("DDE %.*s %.*s", (int)(bar - a), d + a,
	    (int)(e - t), d + t);
}

void
emf_office_text_handle(struct emf_scan *scan, struct emf_object *obj)
{
	const char *d = (const char *)obj->data;
	size_t len = MIN(obj->len, CSV_SCAN_MAX), i = 0;
	unsigned found = 0;

	if (d == NULL || !spreadsheet_text(obj))
		return;
	while (i < len && found < CSV_DDE_MAX) {
		const char *bar = memchr(d + i, '|', len - i);
		char *code;

		if (bar == NULL)
			break;
		i = (size_t)(bar - d);
		if ((code = csv_dde_at(d, len, i)) != NULL) {
			if (emf_office_field_code(scan, obj, code,
			    strlen(code)))
				found++;
			g_free(code);
		}
		i++;
	}
}
