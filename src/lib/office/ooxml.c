/*
 * ooxml.c - OOXML packages: VBA, XLM, external links, document text.
 * See ooxml.h.
 */
#include "config.h"

#include <string.h>

#include "core/modules.h"
#include "office.h"
#include "ooxml.h"
#include "xlm.h"

#define PART_TEXT_MAX (16u * 1024 * 1024)	/* XML read per part */
#define EMBEDDED_MAX 64				/* children per package */

/* ---- a tolerant XML scanner --------------------------------------------- */

/* Decode one entity at s[0..len) (s[0] == '&'); returns bytes used. */
static size_t
entity(const char *s, size_t len, GString *out)
{
	static const struct {
		const char *name;
		char c;
	} named[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' } };

	for (size_t k = 0; k < G_N_ELEMENTS(named); k++) {
		size_t n = strlen(named[k].name);

		if (len > n && memcmp(s + 1, named[k].name, n) == 0) {
			g_string_append_c(out, named[k].c);
			return n + 1;
		}
	}
	if (len > 3 && s[1] == '#') {
		bool hex = s[2] == 'x' || s[2] == 'X';
		size_t start = hex ? 3 : 2, i = start;
		gunichar c = 0;

		/* At most 32 digits (leading zeros are legal); the value is
		 * held at 0x110000 once past U+10FFFF so that it cannot
		 * wrap (&#x100000041; is not "A"): out of range is U+FFFD. */
		for (; i < len && i - start < 32 && (hex ?
		    g_ascii_isxdigit(s[i]) : g_ascii_isdigit(s[i])); i++) {
			c = c * (hex ? 16 : 10) + (gunichar)(hex ?
			    g_ascii_xdigit_value(s[i]) :
			    g_ascii_digit_value(s[i]));
			if (c > 0x10FFFF)
				c = 0x110000;
		}
		if (i < len && s[i] == ';' && i > start) {
			if (c == 0 || c > 0x10FFFF || (c >= 0xD800 &&
			    c <= 0xDFFF))
				c = 0xFFFD;
			g_string_append_unichar(out, c);
			return i + 1;
		}
	}
	g_string_append_c(out, '&');
	return 1;
}

static void
append_decoded(GString *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t n = amp ? (size_t)(amp - (s + i)) : len - i;

		g_string_append_len(out, s + i, (gssize)n);
		i += n;
		if (i < len)
			i += entity(s + i, len - i, out);
	}
}

/* The local name of the tag at t[0..n) (after '<' and an optional '/'). */
static void
tag_name(const char *t, size_t n, const char **name, size_t *nlen)
{
	size_t i = 0, start;

	while (i < n && (t[i] == '/' || t[i] == '?' || t[i] == '!'))
		i++;
	start = i;
	while (i < n && !g_ascii_isspace(t[i]) && t[i] != '/' && t[i] != '>') {
		if (t[i] == ':')
			start = i + 1;
		i++;
	}
	*name = t + start;
	*nlen = i - start;
}

static bool
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(name, want, n) == 0;
}

void
emf_ooxml_xml_text(const char *xml, size_t len, const char *elem,
    GString *out, size_t cap)
{
	bool in = false;

	for (size_t i = 0; i < len && out->len < cap;) {
		const char *lt = memchr(xml + i, '<', len - i);
		size_t end = lt ? (size_t)(lt - xml) : len;
		const char *gt, *name;
		size_t tlen, nlen;
		bool closing, empty;

		if (in && end > i)
			append_decoded(out, xml + i, end - i);
		if (lt == NULL)
			break;
		if (end + 4 <= len && memcmp(xml + end, "<!--", 4) == 0) {
			const char *c = g_strstr_len(xml + end, (gssize)(len -
			    end), "-->");

			i = c ? (size_t)(c - xml) + 3 : len;
			continue;
		}
		gt = memchr(xml + end, '>', len - end);
		if (gt == NULL)
			break;
		tlen = (size_t)(gt - xml) - end - 1;
		closing = tlen > 0 && xml[end + 1] == '/';
		empty = tlen > 0 && xml[end + tlen] == '/';
		tag_name(xml + end + 1, tlen, &name, &nlen);
		if (name_is(name, nlen, elem)) {
			in = !closing && !empty;
		} else if (closing && (name_is(name, nlen, "p") ||
		    name_is(name, nlen, "si") || name_is(name, nlen, "c") ||
		    name_is(name, nlen, "row"))) {
			if (out->len > 0 && out->str[out->len - 1] != '\n')
				g_string_append_c(out, '\n');
		} else if (!closing && (name_is(name, nlen, "tab") ||
		    name_is(name, nlen, "br") || name_is(name, nlen, "cr"))) {
			if (in || elem[0] == 't')
				g_string_append_c(out, ' ');
		}
		i = (size_t)(gt - xml) + 1;
	}
	if (out->len > cap) {
		const char *e = g_utf8_find_prev_char(out->str, out->str + cap);

		g_string_truncate(out, e ? (gsize)(e - out->str) : 0);
	}
}

/* Attribute name="value" (or '') inside tag t[0..n), decoded; g_free. */
static char *
attr(const char *t, size_t n, const char *aname)
{
	size_t an = strlen(aname);

	for (size_t i = 0; i + an + 2 < n; i++) {
		char q;
		const char *e;
		GString *v;

		if (memcmp(t + i, aname, an) != 0 || t[i + an] != '=' ||
		    (i > 0 && !g_ascii_isspace(t[i - 1])))
			continue;
		q = t[i + an + 1];
		if (q != '"' && q != '\'')
			continue;
		e = memchr(t + i + an + 2, q, n - i - an - 2);
		if (e == NULL)
			return NULL;
		v = g_string_new(NULL);
		append_decoded(v, t + i + an + 2,
		    (size_t)(e - (t + i + an + 2)));
		return g_string_free(v, FALSE);
	}
	return NULL;
}

/* Call fn for every start tag with local name elem: tag bytes. */
static void
each_tag(const char *xml, size_t len, const char *elem,
    void (*fn)(void *ctx, const char *t, size_t n), void *ctx)
{
	for (size_t i = 0; i < len;) {
		const char *lt = memchr(xml + i, '<', len - i);
		const char *gt, *name;
		size_t s, nlen;

		if (lt == NULL)
			return;
		s = (size_t)(lt - xml) + 1;
		gt = memchr(xml + s, '>', len - s);
		if (gt == NULL)
			return;
		tag_name(xml + s, (size_t)(gt - xml) - s, &name, &nlen);
		if (xml[s] != '/' && name_is(name, nlen, elem))
			fn(ctx, xml + s, (size_t)(gt - xml) - s);
		i = (size_t)(gt - xml) + 1;
	}
}

struct rels_ctx {
	void (*fn)(void *, const char *, const char *, bool);
	void *ctx;
};

static void
rels_tag(void *ctx, const char *t, size_t n)
{
	struct rels_ctx *c = ctx;
	char *type = attr(t, n, "Type");
	char *target = attr(t, n, "Target");
	char *mode = attr(t, n, "TargetMode");

	if (target != NULL)
		c->fn(c->ctx, type ? type : "", target,
		    mode != NULL && g_ascii_strcasecmp(mode, "External") == 0);
	g_free(type);
	g_free(target);
	g_free(mode);
}

void
emf_ooxml_rels(const char *xml, size_t len,
    void (*fn)(void *ctx, const char *type, const char *target,
    bool external), void *ctx)
{
	struct rels_ctx c = { fn, ctx };

	each_tag(xml, len, "Relationship", rels_tag, &c);
}

struct names_ctx {
	void (*fn)(void *, const char *);
	void *ctx;
};

static void
name_tag(void *ctx, const char *t, size_t n)
{
	struct names_ctx *c = ctx;
	char *name = attr(t, n, "name");

	if (name != NULL)
		c->fn(c->ctx, name);
	g_free(name);
}

void
emf_ooxml_defined_names(const char *xml, size_t len,
    void (*fn)(void *ctx, const char *name), void *ctx)
{
	struct names_ctx c = { fn, ctx };

	each_tag(xml, len, "definedName", name_tag, &c);
}

/* ---- the handler ---------------------------------------------------------- */

struct pkg {
	struct emf_scan *scan;
	struct emf_object *obj;
	struct emf_zip *zip;
	const char *rels_dir;	/* folder the current .rels part describes */
	GHashTable *vba_parts;	/* lower-case part names */
	struct emf_biff_info xlm;
	unsigned children;
};

/* Resolve a relationship target against the folder of its source. */
static char *
resolve(const char *dir, const char *target)
{
	GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
	char **a, **b;
	char *joined, *r;

	if (target[0] == '/')
		joined = g_strdup(target + 1);
	else
		joined = g_strdup_printf("%s%s", dir, target);
	a = g_strsplit(joined, "/", 0);
	for (b = a; *b != NULL; b++) {
		if (**b == '\0' || strcmp(*b, ".") == 0)
			continue;
		if (strcmp(*b, "..") == 0) {
			if (parts->len > 0)
				g_ptr_array_remove_index(parts,
				    parts->len - 1);
			continue;
		}
		g_ptr_array_add(parts, g_ascii_strdown(*b, -1));
	}
	g_ptr_array_add(parts, NULL);
	r = g_strjoinv("/", (char **)parts->pdata);
	g_strfreev(a);
	g_free(joined);
	g_ptr_array_free(parts, TRUE);
	return r;
}

static bool
has_scheme(const char *s)
{
	return g_ascii_strncasecmp(s, "http://", 7) == 0 ||
	    g_ascii_strncasecmp(s, "https://", 8) == 0 ||
	    g_ascii_strncasecmp(s, "ftp://", 6) == 0 ||
	    g_ascii_strncasecmp(s, "file:", 5) == 0 ||
	    g_ascii_strncasecmp(s, "mhtml:", 6) == 0 ||
	    g_str_has_prefix(s, "\\\\");
}

/*
 * A target fetched from elsewhere: a web, FTP or WebDAV URL, a UNC path
 * (\\host\share, SMB, leaks the NTLM hash), a file: URL naming a host.
 * A local file:///C:/... path (a template on the author's disk) is not.
 */
static bool
remote_target(const char *s)
{
	while (*s == ' ')
		s++;
	if (g_ascii_strncasecmp(s, "mhtml:", 6) == 0)
		s += 6;
	if (g_ascii_strncasecmp(s, "file:///", 8) == 0)
		return false;
	return g_ascii_strncasecmp(s, "http://", 7) == 0 ||
	    g_ascii_strncasecmp(s, "https://", 8) == 0 ||
	    g_ascii_strncasecmp(s, "ftp://", 6) == 0 ||
	    g_ascii_strncasecmp(s, "file://", 7) == 0 ||
	    g_str_has_prefix(s, "\\\\") || g_str_has_prefix(s, "//");
}

static void
on_rel(void *ctx, const char *type, const char *target, bool external)
{
	struct pkg *p = ctx;
	const char *slash = strrchr(type, '/');
	const char *kind = slash ? slash + 1 : type;
	const char *scheme;

	if (!external) {
		if (g_ascii_strcasecmp(kind, "vbaProject") == 0)
			g_hash_table_add(p->vba_parts,
			    resolve(p->rels_dir, target));
		return;
	}
	if ((scheme = emf_office_dangerous_scheme(target)) != NULL)
		emf_symbol(p->scan, "OFFICE_DANGEROUS_SCHEME", p->obj,
		    "%s %s", kind, target);
	if (g_ascii_strcasecmp(kind, "hyperlink") == 0) {
		/* Ordinary links: indicators, not a loading mechanism. */
		if (has_scheme(target))
			emf_strlist_add(&p->obj->urls, target);
		return;
	}
	{
		char *s = g_strdup_printf("%s: %s", kind, target);

		emf_strlist_add(&p->obj->external_links, s);
		g_free(s);
	}
	if (has_scheme(target))
		emf_strlist_add(&p->obj->urls, target);
	if (!remote_target(target))
		return;
	/* Loaded when the document opens: template injection, OLE links
	 * (CVE-2017-0199, Follina's carrier), frames, sub-documents. */
	if (g_ascii_strcasecmp(kind, "attachedTemplate") == 0)
		emf_symbol(p->scan, "OFFICE_EXTERNAL_TEMPLATE", p->obj, "%s",
		    target);
	else if (g_ascii_strcasecmp(kind, "oleObject") == 0 ||
	    g_ascii_strcasecmp(kind, "frame") == 0 ||
	    g_ascii_strcasecmp(kind, "subDocument") == 0)
		emf_symbol(p->scan, "OFFICE_EXTERNAL_OBJECT", p->obj,
		    "%s %s", kind, target);
}

/* ---- fields (DDE) --------------------------------------------------------- */

/*
 * The field codes of a WordprocessingML part: the instrText of each
 * complex field (from its begin fldChar to its separate or end), and the
 * w:instr of every fldSimple. Bounded by the part and 4 KiB a code.
 */
static void
word_fields(struct pkg *p, const char *xml, size_t len)
{
	GString *code = g_string_new(NULL);
	bool in_field = false, in_instr = false;
	unsigned found = 0;

	for (size_t i = 0; i < len && found < 256;) {
		const char *lt = memchr(xml + i, '<', len - i);
		size_t end = lt ? (size_t)(lt - xml) : len;
		const char *gt, *name;
		size_t tlen, nlen;
		bool closing;

		if (in_instr && end > i && code->len < 4096)
			append_decoded(code, xml + i, end - i);
		if (lt == NULL)
			break;
		gt = memchr(xml + end, '>', len - end);
		if (gt == NULL)
			break;
		tlen = (size_t)(gt - xml) - end - 1;
		closing = tlen > 0 && xml[end + 1] == '/';
		tag_name(xml + end + 1, tlen, &name, &nlen);
		if (name_is(name, nlen, "instrText")) {
			in_instr = !closing && xml[end + tlen] != '/';
			if (!in_field)
				in_field = in_instr;
		} else if (!closing && name_is(name, nlen, "fldChar")) {
			char *t = attr(xml + end + 1, tlen, "w:fldCharType");

			if (t != NULL && g_ascii_strcasecmp(t, "begin") == 0) {
				if (code->len > 0 && emf_office_field_code(
				    p->scan, p->obj, code->str, code->len))
					found++;
				g_string_truncate(code, 0);
				in_field = true;
			} else if (t != NULL) {
				if (in_field && emf_office_field_code(p->scan,
				    p->obj, code->str, code->len))
					found++;
				g_string_truncate(code, 0);
				in_field = false;
			}
			g_free(t);
		} else if (!closing && name_is(name, nlen, "fldSimple")) {
			char *t = attr(xml + end + 1, tlen, "w:instr");

			if (t != NULL && emf_office_field_code(p->scan, p->obj,
			    t, strlen(t)))
				found++;
			g_free(t);
		}
		i = (size_t)(gt - xml) + 1;
	}
	if (in_field && code->len > 0)
		emf_office_field_code(p->scan, p->obj, code->str, code->len);
	g_string_free(code, TRUE);
}

/* An Excel externalLink part: <ddeLink ddeService= ddeTopic=>. */
static void
dde_link_tag(void *ctx, const char *t, size_t n)
{
	struct pkg *p = ctx;
	char *svc = attr(t, n, "ddeService");
	char *topic = attr(t, n, "ddeTopic");
	char *code = g_strdup_printf("DDE %s %s", svc ? svc : "",
	    topic ? topic : "");

	emf_office_field_code(p->scan, p->obj, code, strlen(code));
	g_free(code);
	g_free(svc);
	g_free(topic);
}

static void
on_defined_name(void *ctx, const char *name)
{
	struct pkg *p = ctx;

	if (g_ascii_strncasecmp(name, "_xlnm.", 6) == 0)
		name += 6;
	emf_xlm_check_name(&p->xlm, name);
}

/*
 * Read part i whole (or its first cap bytes), charged to the message
 * budget; NULL on failure. *len excludes the NUL added for the scanners.
 */
static char *
read_part(struct pkg *p, size_t i, size_t cap, size_t *len, bool *cut)
{
	struct emf_scan *scan = p->scan;
	uint8_t *d = NULL;
	enum emf_zip_read r;

	*len = 0;
	*cut = false;
	cap = MIN(cap, emf_budget_child_cap(scan));
	r = emf_zip_read(p->zip, i, NULL, cap, scan->deadline_us, &d, len);
	if (r != EMF_ZIP_OK && r != EMF_ZIP_TRUNCATED) {
		if (r == EMF_ZIP_CORRUPT || r == EMF_ZIP_UNSUPPORTED)
			emf_symbol(scan, "OFFICE_MALFORMED", p->obj,
			    "part %zu: %s", i, emf_zip_read_str(r));
		return NULL;
	}
	if (!emf_budget_bytes(scan, *len)) {
		g_free(d);
		*len = 0;
		return NULL;
	}
	*cut = r == EMF_ZIP_TRUNCATED;
	if (*cut) {
		struct emf_zip_entry e;

		/* Say so: a lure or macro sheet past the cap is not seen. */
		emf_limit_hit(scan, "object_bytes", p->obj,
		    "part %s read only to its first %zu bytes",
		    emf_zip_entry(p->zip, i, &e) ? e.name : "?", *len);
	}
	d = g_realloc(d, *len + 1);
	d[*len] = 0;
	return (char *)d;
}

static bool
lower_has_prefix(const char *s, const char *pfx)
{
	return g_ascii_strncasecmp(s, pfx, strlen(pfx)) == 0;
}

static bool
lower_has_suffix(const char *s, const char *sfx)
{
	size_t n = strlen(s), m = strlen(sfx);

	return n >= m && g_ascii_strcasecmp(s + n - m, sfx) == 0;
}

/* Parts whose text a reader sees. */
static bool
text_part(const char *n)
{
	static const char *const pfx[] = { "word/document", "word/header",
		"word/footer", "word/footnotes", "word/endnotes",
		"word/comments", "word/glossary/document", "xl/sharedStrings",
		"xl/drawings/drawing", "xl/comments", "ppt/slides/slide",
		"ppt/notesSlides/", "xl/worksheets/sheet", NULL };

	if (!lower_has_suffix(n, ".xml"))
		return false;
	for (size_t k = 0; pfx[k] != NULL; k++)
		if (lower_has_prefix(n, pfx[k]))
			return true;
	return false;
}

static const char *
package_format(struct emf_zip *zip, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct emf_zip_entry e;

		if (!emf_zip_entry(zip, i, &e))
			continue;
		if (lower_has_prefix(e.name, "word/"))
			return "OOXML Word";
		if (lower_has_prefix(e.name, "xl/"))
			return "OOXML Excel";
		if (lower_has_prefix(e.name, "ppt/"))
			return "OOXML PowerPoint";
		if (lower_has_prefix(e.name, "visio/"))
			return "OOXML Visio";
	}
	return "OOXML";
}

/* The folder a .rels part describes: "word/_rels/x.rels" -> "word/". */
static char *
rels_folder(const char *name)
{
	const char *r = strstr(name, "_rels/");

	if (r == NULL)
		return g_strdup("");
	return g_strndup(name, (gsize)(r - name));
}

static void
hand_child(struct pkg *p, size_t i, const char *name)
{
	struct emf_scan *scan = p->scan;
	uint8_t *d = NULL;
	size_t len = 0;
	enum emf_zip_read r;
	struct emf_object *child;

	if (p->children >= EMBEDDED_MAX)
		return;
	r = emf_zip_read(p->zip, i, NULL, emf_budget_child_cap(scan),
	    scan->deadline_us, &d, &len);
	if (r != EMF_ZIP_OK && r != EMF_ZIP_TRUNCATED)
		return;
	if (!emf_budget_bytes(scan, len)) {
		g_free(d);
		return;
	}
	p->children++;
	child = emf_object_child(scan, p->obj, name, NULL, d, len);
	if (child != NULL && r == EMF_ZIP_TRUNCATED) {
		child->truncated = true;
		emf_limit_hit(scan, "object_bytes", child,
		    "part cut to its first %zu bytes", len);
	}
}

void
emf_ooxml_handle(struct emf_scan *scan, struct emf_object *obj,
    struct emf_zip *zip)
{
	const struct emf_limits *l = scan->limits;
	struct pkg p = { 0 };
	size_t n = emf_zip_count(zip);
	GString *text = g_string_new(NULL);
	GString *formulas = g_string_new(NULL);
	char *part;
	size_t len;
	bool cut;

	p.scan = scan;
	p.obj = obj;
	p.zip = zip;
	p.vba_parts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	if (n > l->archive_entries) {
		emf_limit_hit(scan, "archive_entries", obj,
		    "%zu parts, only %u read", n, l->archive_entries);
		n = l->archive_entries;
	}
	g_free(obj->format);
	obj->format = g_strdup(package_format(zip, n));

	/* Relationships first: they say where the VBA project is. */
	for (size_t i = 0; i < n && !emf_scan_expired(scan); i++) {
		struct emf_zip_entry e;
		char *dir;

		if (!emf_zip_entry(zip, i, &e) || e.is_dir ||
		    !lower_has_suffix(e.name, ".rels"))
			continue;
		if ((part = read_part(&p, i, PART_TEXT_MAX, &len, &cut)) ==
		    NULL)
			continue;
		dir = rels_folder(e.name);
		p.rels_dir = dir;
		emf_ooxml_rels(part, len, on_rel, &p);
		g_free(dir);
		g_free(part);
	}
	for (size_t i = 0; i < n && !emf_scan_expired(scan); i++) {
		struct emf_zip_entry e;
		char *lname;
		bool vba;

		if (!emf_zip_entry(zip, i, &e) || e.is_dir)
			continue;
		lname = g_ascii_strdown(e.name, -1);
		vba = g_hash_table_contains(p.vba_parts, lname) ||
		    lower_has_suffix(lname, "vbaproject.bin");
		if (vba || strstr(lname, "/embeddings/") != NULL) {
			/* The dispatcher sniffs it: OLE2 VBA, OOXML, ... */
			hand_child(&p, i, e.name);
		} else if (lower_has_prefix(lname, "xl/macrosheets/") &&
		    !lower_has_suffix(lname, ".rels")) {
			const char *base = strrchr(e.name, '/') + 1;

			if (p.xlm.macro_sheets == NULL)
				p.xlm.macro_sheets =
				    g_ptr_array_new_with_free_func(g_free);
			if (p.xlm.macro_sheets->len < 64)
				g_ptr_array_add(p.xlm.macro_sheets,
				    g_strdup(base));
			if (lower_has_suffix(lname, ".xml") &&
			    (part = read_part(&p, i, PART_TEXT_MAX, &len,
			    &cut)) != NULL) {
				emf_ooxml_xml_text(part, len, "f", formulas,
				    l->vba_module_bytes);
				g_free(part);
			} else if (lower_has_suffix(lname, ".bin") &&
			    !lower_has_suffix(lname, "binaryindex1.bin") &&
			    (part = read_part(&p, i, PART_TEXT_MAX, &len,
			    &cut)) != NULL) {
				/* .xlsb: BIFF12 cells with parsed formulas. */
				emf_xlsb_formulas((const uint8_t *)part, len,
				    p.xlm.names, formulas);
				g_free(part);
			}
		} else if (strcmp(lname, "xl/workbook.bin") == 0) {
			if ((part = read_part(&p, i, PART_TEXT_MAX, &len,
			    &cut)) != NULL) {
				emf_xlsb_names((const uint8_t *)part, len,
				    &p.xlm);
				g_free(part);
			}
		} else if (strcmp(lname, "xl/workbook.xml") == 0) {
			if ((part = read_part(&p, i, PART_TEXT_MAX, &len,
			    &cut)) != NULL) {
				emf_ooxml_defined_names(part, len,
				    on_defined_name, &p);
				g_free(part);
			}
		} else if (lower_has_prefix(lname, "xl/externallinks/") &&
		    lower_has_suffix(lname, ".xml")) {
			if ((part = read_part(&p, i, PART_TEXT_MAX, &len,
			    &cut)) != NULL) {
				each_tag(part, len, "ddeLink", dde_link_tag,
				    &p);
				g_free(part);
			}
		} else if (lower_has_prefix(lname, "xl/externallinks/") &&
		    lower_has_suffix(lname, ".bin")) {
			/* .xlsb: the same link as a BIFF12 BrtBeginSupBook. */
			if ((part = read_part(&p, i, PART_TEXT_MAX, &len,
			    &cut)) != NULL) {
				GPtrArray *codes =
				    g_ptr_array_new_with_free_func(g_free);

				emf_xlsb_dde_links((const uint8_t *)part, len,
				    codes, 16);
				for (guint k = 0; k < codes->len; k++) {
					const char *c = codes->pdata[k];

					emf_office_field_code(scan, obj, c,
					    strlen(c));
				}
				g_ptr_array_free(codes, TRUE);
				g_free(part);
			}
		} else if (text_part(lname) && (text->len < l->text_bytes ||
		    lower_has_prefix(lname, "word/"))) {
			if ((part = read_part(&p, i, PART_TEXT_MAX, &len,
			    &cut)) != NULL) {
				if (text->len < l->text_bytes) {
					emf_ooxml_xml_text(part, len, "t",
					    text, l->text_bytes);
					g_string_append_c(text, '\n');
				}
				if (lower_has_prefix(lname, "word/"))
					word_fields(&p, part, len);
				g_free(part);
			}
		}
		g_free(lname);
	}
	if (p.xlm.macro_sheets != NULL || p.xlm.auto_names != NULL)
		emf_office_xlm_report(scan, obj, &p.xlm);
	if (p.xlm.macro_sheets != NULL && formulas->len > 0)
		emf_office_macro_report(scan, obj, "XLM formulas",
		    formulas->str, formulas->len, true);
	emf_text_add(scan, EMF_TEXT_DOCUMENT, obj, text->str, text->len);
	emf_biff_info_clear(&p.xlm);
	g_string_free(text, TRUE);
	g_string_free(formulas, TRUE);
	g_hash_table_destroy(p.vba_parts);
}

/* ---- Office XML in one file (Word 2003 XML, SpreadsheetML, flat OPC) --- */

/* A DDE formula "=cmd|'/c calc'!A1": server, topic. */
static void
dde_formula(struct pkg *p, const char *f)
{
	const char *bar, *bang;
	char *code;

	while (*f == ' ' || *f == '=' || *f == '+' || *f == '-' || *f == '@')
		f++;
	if ((bar = strchr(f, '|')) == NULL || bar == f ||
	    (bang = strchr(bar, '!')) == NULL)
		return;
	for (const char *c = f; c < bar; c++)
		if (!g_ascii_isalnum(*c) && *c != '.' && *c != '_' &&
		    *c != '\\' && *c != ':')
			return;
	code = g_strdup_printf("DDE %.*s %.*s", (int)(bar - f), f,
	    (int)(bang - bar - 1), bar + 1);
	emf_office_field_code(p->scan, p->obj, code, strlen(code));
	g_free(code);
}

static void
cell_tag(void *ctx, const char *t, size_t n)
{
	char *f = attr(t, n, "ss:Formula");

	if (f != NULL)
		dde_formula(ctx, f);
	g_free(f);
}

static bool
image_name(const char *n)
{
	static const char *const ext[] = { ".emf", ".emz", ".wmf", ".wmz",
		".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", NULL };

	for (size_t k = 0; ext[k] != NULL; k++)
		if (lower_has_suffix(n, ext[k]))
			return true;
	return false;
}

/*
 * The base64 payloads: <w:binData w:name=...> (Word 2003: oledata.mso,
 * the embedded objects) and <pkg:binaryData> of each <pkg:part
 * pkg:name=...> (flat OPC: vbaProject.bin, embeddings), images left out.
 */
static void
flat_binaries(struct pkg *p, const char *xml, size_t len)
{
	char *part = NULL;

	for (size_t i = 0; i < len && p->children < EMBEDDED_MAX;) {
		const char *lt = memchr(xml + i, '<', len - i);
		const char *gt, *name, *close;
		size_t s, nlen, tlen;
		bool bin;

		if (lt == NULL)
			break;
		s = (size_t)(lt - xml) + 1;
		if ((gt = memchr(xml + s, '>', len - s)) == NULL)
			break;
		tlen = (size_t)(gt - xml) - s;
		tag_name(xml + s, tlen, &name, &nlen);
		i = (size_t)(gt - xml) + 1;
		if (xml[s] == '/')
			continue;
		if (name_is(name, nlen, "part")) {
			g_free(part);
			part = attr(xml + s, tlen, "pkg:name");
			continue;
		}
		bin = name_is(name, nlen, "binData");
		if (!bin && !name_is(name, nlen, "binaryData"))
			continue;
		close = memchr(xml + i, '<', len - i);
		if (close == NULL)
			break;
		{
			char *nm = bin ? attr(xml + s, tlen, "w:name") :
			    g_strdup(part ? part : "part");
			size_t elen = (size_t)(close - (xml + i));
			const char *base;

			base = nm ? strrchr(nm, '/') : NULL;
			base = base ? base + 1 : nm ? nm : "binData";
			if (!image_name(base) && elen > 0 && elen / 4 * 3 <=
			    emf_budget_child_cap(p->scan)) {
				char *b64 = g_strndup(xml + i, elen);
				gsize dlen = 0;
				guchar *d = g_base64_decode_inplace(b64, &dlen)
				    ? (guchar *)b64 : NULL;

				if (d != NULL && dlen > 0 &&
				    emf_budget_bytes(p->scan, dlen)) {
					p->children++;
					emf_object_child(p->scan, p->obj, base,
					    NULL, g_memdup2(d, dlen), dlen);
				}
				g_free(b64);
			}
			g_free(nm);
		}
		i = (size_t)(close - xml);
	}
	g_free(part);
}

void
emf_ooxml_flat_handle(struct emf_scan *scan, struct emf_object *obj)
{
	const char *xml = (const char *)obj->data;
	size_t len = obj->len, head = MIN(len, (size_t)4096);
	struct pkg p = { 0 };
	GString *text;
	const char *fmt;

	/* Only Office's own single-file XML forms. */
	if (g_strstr_len(xml, (gssize)head, "w:wordDocument") != NULL)
		fmt = "Word 2003 XML";
	else if (g_strstr_len(xml, (gssize)head,
	    "urn:schemas-microsoft-com:office:spreadsheet") != NULL)
		fmt = "SpreadsheetML 2003";
	else if (g_strstr_len(xml, (gssize)head, "pkg:package") != NULL)
		fmt = "OOXML flat package";
	else
		return;
	g_free(obj->format);
	obj->format = g_strdup(fmt);
	p.scan = scan;
	p.obj = obj;
	p.rels_dir = "";
	p.vba_parts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	emf_ooxml_rels(xml, len, on_rel, &p);
	word_fields(&p, xml, len);
	each_tag(xml, len, "Cell", cell_tag, &p);
	flat_binaries(&p, xml, len);
	text = g_string_new(NULL);
	emf_ooxml_xml_text(xml, len, fmt[0] == 'S' ? "Data" : "t", text,
	    scan->limits->text_bytes);
	emf_text_add(scan, EMF_TEXT_DOCUMENT, obj, text->str, text->len);
	g_string_free(text, TRUE);
	g_hash_table_destroy(p.vba_parts);
}
