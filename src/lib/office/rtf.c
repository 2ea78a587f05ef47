/*
 * rtf.c - RTF: OLE objects (\objdata), OLE1 headers, packages, exploit
 * classes, DDE field codes, text. See rtf.h.
 */
#include "config.h"

#include "core/bytes.h"

#include <string.h>

#include "core/modules.h"
#include "office.h"
#include "ole.h"
#include "rtf.h"

#define CLASS_MAX 128		/* bytes of an \objclass kept */
#define FIELD_MAX 4096		/* bytes of a field code kept */
#define WORD_MAX 32		/* letters of a control word */

/* ---- OLE1 objects and packages ------------------------------------------ */

/* Latin-1 bytes to UTF-8, trailing NULs dropped. */
static char *
latin1(const uint8_t *s, size_t n)
{
	GString *o = g_string_new(NULL);

	while (n > 0 && s[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		g_string_append_unichar(o, s[i] ? s[i] : 0xFFFD);
	return g_string_free(o, FALSE);
}

bool
emf_ole1_parse(const uint8_t *d, size_t len, struct emf_ole1 *o)
{
	size_t off = 8, n;

	memset(o, 0, sizeof(*o));
	/* OLEVersion is not checked: Word does not (0x0511 works too). */
	if (len < 12)
		return false;
	o->format_id = rd32(d + 4);
	if (o->format_id != 1 && o->format_id != 2)
		return false;
	n = rd32(d + off);
	off += 4;
	if (n > 256 || n > len - off)
		return false;
	if (n > 0)
		o->class_name = latin1(d + off, n);
	off += n;
	/* TopicName, ItemName: LengthPrefixedAnsiString. */
	for (int k = 0; k < 2; k++) {
		if (len - off < 4) {
			if (o->format_id == 1)
				return true;
			emf_ole1_clear(o);
			return false;
		}
		n = rd32(d + off);
		off += 4;
		if (n > len - off) {
			emf_ole1_clear(o);
			return false;
		}
		if (k == 0 && n > 1 && o->format_id == 1)
			o->topic = latin1(d + off, MIN(n, (size_t)2048));
		off += n;
	}
	if (o->format_id == 2 && len - off >= 4) {
		n = rd32(d + off);
		off += 4;
		o->native = d + off;
		o->native_len = MIN(n, len - off);
	}
	return true;
}

void
emf_ole1_clear(struct emf_ole1 *o)
{
	g_free(o->class_name);
	g_free(o->topic);
	memset(o, 0, sizeof(*o));
}

/* A NUL-terminated ANSI string at d[*off..len), at most 1024 bytes. */
static char *
cstring(const uint8_t *d, size_t len, size_t *off)
{
	const uint8_t *z;
	size_t n;
	char *s;

	if (*off >= len)
		return NULL;
	z = memchr(d + *off, 0, MIN(len - *off, (size_t)1024));
	if (z == NULL)
		return NULL;
	n = (size_t)(z - (d + *off));
	s = latin1(d + *off, n);
	*off += n + 1;
	return s;
}

static char *
basename_of(const char *path)
{
	const char *b = path, *p;

	for (p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return g_strdup(b);
}

bool
emf_ole_package_runs(const char *name)
{
	size_t n = strlen(name);
	bool found = false;

	if (n > 4096)
		n = 4096;
	/* Each prefix that ends before a space or a quote, quotes dropped. */
	for (size_t i = 1; i <= n && !found; i++) {
		char *p;

		if (i < n && name[i] != ' ' && name[i] != '"')
			continue;
		p = g_strndup(name, i);
		g_strdelimit(p, "\"", ' ');
		g_strstrip(p);
		found = *p != '\0' && emf_filename_is_executable(p);
		g_free(p);
	}
	return found;
}

bool
emf_ole_package(const uint8_t *d, size_t len, char **name,
    const uint8_t **data, size_t *dlen)
{
	size_t off = 2, n;
	char *label = NULL, *src = NULL, *tmp = NULL;
	bool ok = false;

	*name = NULL;
	/* An Ole10Native stream starts with the size of what follows. */
	if (len >= 6 && rd16(d) != 2 && rd32(d) <= len - 4 && rd16(d + 4) == 2) {
		d += 4;
		len -= 4;
	}
	if (len < 2 || rd16(d) != 2)
		return false;
	if ((label = cstring(d, len, &off)) == NULL ||
	    (src = cstring(d, len, &off)) == NULL)
		goto out;
	/* Reserved 0, type 3 (embedded file) or 1 (a link: a command). */
	if (len - off >= 6 && rd16(d + off + 2) == 1) {
		size_t c = off + 4;
		char *cmd;

		while (c < len && c < off + 8 && d[c] < 0x20)
			c++;
		if ((cmd = cstring(d, len, &c)) == NULL || *cmd == '\0') {
			g_free(cmd);
			goto out;
		}
		*name = cmd;
		*data = d;
		*dlen = 0;
		ok = true;
		goto out;
	}
	if (len - off < 8 || rd16(d + off + 2) != 3)
		goto out;
	off += 4;
	n = rd32(d + off);
	off += 4;
	if (n > len - off || n > 1024)
		goto out;
	tmp = latin1(d + off, n);
	off += n;
	if (len - off < 4)
		goto out;
	n = rd32(d + off);
	off += 4;
	*data = d + off;
	*dlen = MIN(n, len - off);
	*name = basename_of(*src ? src : *tmp ? tmp : label);
	if (**name == '\0') {
		g_free(*name);
		*name = g_strdup("package");
	}
	/* A display label that names an executable says enough too. */
	if (!emf_filename_is_executable(*name) &&
	    (emf_filename_is_executable(label) ||
	    emf_filename_is_executable(tmp))) {
		g_free(*name);
		*name = basename_of(emf_filename_is_executable(tmp) ? tmp :
		    label);
	}
	ok = true;
out:
	g_free(label);
	g_free(src);
	g_free(tmp);
	return ok;
}

const char *
emf_rtf_exploit_class(const char *c)
{
	static const struct {
		const char *prefix, *what;
	} classes[] = {
		{ "Equation", "Equation Editor 3.0 (CVE-2017-11882, "
		    "CVE-2018-0802)" },
		{ "OLE2Link", "OLE2Link URL moniker (CVE-2017-0199)" },
		{ "scriptletfile", "scriptlet (CVE-2017-8570)" },
		{ "Script.Moniker", "script moniker (CVE-2017-8570)" },
		{ "htmlfile", "htmlfile moniker (CVE-2017-0199)" },
	};

	if (c == NULL)
		return NULL;
	while (*c == ' ')
		c++;
	for (size_t k = 0; k < G_N_ELEMENTS(classes); k++) {
		size_t n = strlen(classes[k].prefix);

		/* Equation.3, Equation.2, "Equation": not Equation.DSMT4
		 * (MathType, a different program). */
		if (g_ascii_strncasecmp(c, classes[k].prefix, n) != 0)
			continue;
		if (k == 0 && c[n] != '\0' && !(c[n] == '.' &&
		    g_ascii_isdigit(c[n + 1]) && c[n + 2] == '\0'))
			continue;
		return classes[k].what;
	}
	return NULL;
}

const char *
emf_rtf_exploit_clsid(const uint8_t *d, size_t len)
{
	static const struct {
		uint8_t id[16];
		const char *what;
	} ids[] = {
		/* 0002CE02-0000-0000-C000-000000000046 */
		{ { 0x02, 0xCE, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00,
		    0x00, 0x00, 0x00, 0x00, 0x00, 0x46 },
		    "Equation Editor 3.0 CLSID (CVE-2017-11882)" },
		/* 00000300-0000-0000-C000-000000000046 StdOleLink */
		{ { 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00,
		    0x00, 0x00, 0x00, 0x00, 0x00, 0x46 },
		    "OLE2Link CLSID (CVE-2017-0199)" },
		/* 00000309-0000-0000-C000-000000000046 composite moniker */
		{ { 0x09, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00,
		    0x00, 0x00, 0x00, 0x00, 0x00, 0x46 },
		    "composite moniker CLSID (CVE-2017-8570)" },
		/* 06290BD3-48AA-11D2-8432-006008C3FBFC scriptlet */
		{ { 0xD3, 0x0B, 0x29, 0x06, 0xAA, 0x48, 0xD2, 0x11, 0x84, 0x32,
		    0x00, 0x60, 0x08, 0xC3, 0xFB, 0xFC },
		    "scriptlet CLSID (CVE-2017-8570)" },
	};
	unsigned shift;
	uint64_t off;

	if (len < 512 || memcmp(d, EMF_OLE_MAGIC, 8) != 0)
		return NULL;
	shift = rd16(d + 0x1E);
	if (shift != 9 && shift != 12)
		return NULL;
	/* The root entry opens the first directory sector. */
	off = ((uint64_t)rd32(d + 0x30) + 1) << shift;
	if (off > len || len - off < 0x60)
		return NULL;
	for (size_t k = 0; k < G_N_ELEMENTS(ids); k++)
		if (memcmp(d + off + 0x50, ids[k].id, 16) == 0)
			return ids[k].what;
	return NULL;
}

/* ---- the tokenizer ------------------------------------------------------ */

enum dest {
	D_TEXT,		/* shown text */
	D_IGNORE,	/* a destination whose content is not text */
	D_OBJDATA,	/* hex of an object (\objdata, \datastore) */
	D_OBJCLASS,
	D_FLDINST
};

/* Destinations whose content Word does not show. */
static const char *const ignore_dests[] = { "fonttbl", "colortbl",
	"stylesheet", "info", "pict", "shppict", "nonshppict", "themedata",
	"colorschememapping", "latentstyles", "listtable",
	"listoverridetable", "generator", "xmlnstbl", "filetbl", "revtbl",
	"author", "operator", "title", "subject", "keywords", "comment",
	"doccomm", "company", "manager", "category", "creatim", "revtim",
	"printim", "buptim", "bkmkstart", "bkmkend", "picprop", "blipuid",
	"propname", "staticval", "userprops", "docvar", "template", "falt",
	"panose", "fontemb", "leveltext", "levelnumbers", "listname",
	"liststylename", "lsdlockedexcept", "pgptbl", "protusertbl",
	"password", "passwordhash", "wgrffmtfilter", "xform", "xmlattrname",
	"xmlattrvalue", "xmlname", "xmlopen", "xmlclose", "objalias",
	"objname", "objsect", "oleclsid", "hlinkbase", "sn", "sv", "defchp",
	"defpap", "ebcstart", "ebcend", "factoidname", "ffname", "ffdeftext",
	"ffformat", "ffhelptext", "ffstattext", "ffentrymcr", "ffexitmcr",
	"datafield", "fldtype", "atnid", "atnauthor", "atndate", "atnref",
	"atnparent", "atrfstart", "atrfend", "tc", "txe", "xe", "rxe", "ud",
	"upr", "hl", "hlfr", "hlloc", "hlsrc", "linkval", "mailmerge",
	"windowcaption", "writereservation", "writereservhash", "gridtbl",
	"pn", "pntxta", "pntxtb", "listpicture", "background", "fchars",
	"lchars", "mmathPict", NULL };

/* Destinations that hold text. */
static const char *const text_dests[] = { "object", "result", "field",
	"fldrslt", "header", "headerl", "headerr", "headerf", "footer",
	"footerl", "footerr", "footerf", "footnote", "annotation", "shp",
	"shpinst", "shptxt", "shprslt", "shpgrp", "sp", "nesttableprops",
	"ftnsep", "ftnsepc", "ftncn", "aftnsep", "aftnsepc", "aftncn",
	"listtext", "pntext", "dptxbxtext", "formfield", NULL };

static bool
in_list(const char *const *l, const char *w)
{
	for (size_t k = 0; l[k] != NULL; k++)
		if (strcmp(l[k], w) == 0)
			return true;
	return false;
}

struct rtf {
	struct emf_scan *scan;
	struct emf_object *obj;
	const uint8_t *d;
	size_t len, pos;

	uint8_t dest[RTF_DEPTH_MAX];
	size_t depth;
	bool star;		/* \* before the next control word */
	bool deep_noted;

	/* the object blob being collected */
	GByteArray *blob;
	size_t blob_depth;
	bool blob_active, blob_cut, blob_datastore;
	int nib;		/* pending high nibble, -1 if none */
	size_t cap;

	/* hex in plain text that began with an OLE1 header */
	GByteArray *loose;
	int loose_nib;
	bool loose_ole1;

	GString *objclass;
	bool objupdate;
	GString *fld;
	size_t fld_depth;
	bool fld_active;

	GString *text;
	size_t text_cap;
	unsigned ansicpg;
	GByteArray *cp;		/* \'hh bytes of a non-1252 code page */
	unsigned uc, skip;

	unsigned objects;
	bool objects_capped;
};

static uint8_t *
cur(struct rtf *r)
{
	return &r->dest[MIN(r->depth, (size_t)RTF_DEPTH_MAX - 1)];
}

static void
flush_cp(struct rtf *r)
{
	char *u, cs[16];

	if (r->cp->len == 0)
		return;
	g_snprintf(cs, sizeof(cs), "CP%u", r->ansicpg);
	u = g_convert_with_fallback((const char *)r->cp->data,
	    (gssize)r->cp->len, "UTF-8", cs, "?", NULL, NULL, NULL);
	if (u != NULL && r->text->len < r->text_cap)
		g_string_append(r->text, u);
	g_free(u);
	g_byte_array_set_size(r->cp, 0);
}

/* URLs as UTF-16LE or ASCII inside a moniker (OLE2Link's "\1Ole"). */
static void
moniker_urls(struct rtf *r, const uint8_t *d, size_t len)
{
	unsigned found = 0;

	for (size_t i = 0; i + 16 <= len && found < 8; i++) {
		GString *u;
		size_t j;

		if (!(d[i] == 'h' && d[i + 1] == 0 && d[i + 2] == 't' &&
		    d[i + 3] == 0 && d[i + 4] == 't' && d[i + 6] == 'p'))
			continue;
		u = g_string_new(NULL);
		for (j = i; j + 1 < len && d[j] > 0x20 && d[j] < 0x7F &&
		    d[j + 1] == 0 && u->len < 2048; j += 2)
			g_string_append_c(u, (char)d[j]);
		if (g_str_has_prefix(u->str, "http://") ||
		    g_str_has_prefix(u->str, "https://")) {
			char *l = g_strdup_printf("moniker: %s", u->str);

			emf_strlist_add(&r->obj->urls, u->str);
			emf_strlist_add(&r->obj->external_links, l);
			g_free(l);
			found++;
		}
		g_string_free(u, TRUE);
		i = j;
	}
}

static void
child(struct rtf *r, const char *name, const uint8_t *d, size_t len)
{
	struct emf_object *c;
	size_t n = MIN(len, emf_budget_child_cap(r->scan));

	if (n == 0 || !emf_budget_bytes(r->scan, n))
		return;
	c = emf_object_child(r->scan, r->obj, name, NULL, g_memdup2(d, n), n);
	if (c != NULL && n < len) {
		c->truncated = true;
		emf_limit_hit(r->scan, "object_bytes", c,
		    "embedded object cut to its first %zu bytes", n);
	}
}

/* One object's bytes: what it is, and its payload as a child. */
static void
object_done(struct rtf *r, const uint8_t *d, size_t len, bool datastore,
    bool cut)
{
	struct emf_ole1 o;
	bool ole1;
	const char *cls, *exploit = NULL;
	const uint8_t *payload = d;
	size_t plen = len;
	char name[64];

	if (len == 0)
		return;
	if (r->objects >= RTF_OBJECTS_MAX) {
		if (!r->objects_capped)
			emf_limit_hit(r->scan, "rtf_objects", r->obj,
			    "more than %u RTF objects", RTF_OBJECTS_MAX);
		r->objects_capped = true;
		return;
	}
	ole1 = emf_ole1_parse(d, len, &o);
	if (!ole1)
		memset(&o, 0, sizeof(o));
	/* Word 2007 and later end every RTF with this one: no sign. */
	if (datastore && ole1 && o.class_name != NULL &&
	    g_ascii_strncasecmp(o.class_name, "Msxml2.SAXXMLReader", 19) ==
	    0) {
		emf_ole1_clear(&o);
		return;
	}
	r->objects++;
	cls = o.class_name ? o.class_name : r->objclass->len ?
	    r->objclass->str : NULL;
	if (ole1 && o.native != NULL) {
		payload = o.native;
		plen = o.native_len;
	}
	exploit = emf_rtf_exploit_class(o.class_name);
	if (exploit == NULL)
		exploit = emf_rtf_exploit_class(r->objclass->str);
	if (exploit == NULL)
		exploit = emf_rtf_exploit_clsid(payload, plen);
	emf_symbol(r->scan, "RTF_OBJECT", r->obj,
	    "object %u: %s%s, class %s, %zu bytes%s%s", r->objects,
	    datastore ? "datastore" : !ole1 ? "not OLE1" :
	    o.format_id == 1 ? "linked" : "embedded",
	    r->objupdate ? " (\\objupdate)" : "", cls ? cls : "?", plen,
	    cut ? " (cut)" : "", o.topic ? ", source " : "");
	if (exploit != NULL)
		emf_symbol(r->scan, "RTF_EXPLOIT_CLASS", r->obj, "%s: class %s",
		    exploit, cls ? cls : "?");
	if (o.topic != NULL) {
		char *l = g_strdup_printf("OLE link: %s", o.topic);

		emf_strlist_add(&r->obj->external_links, l);
		g_free(l);
	}
	moniker_urls(r, payload, plen);
	if (ole1 && o.class_name != NULL &&
	    g_ascii_strcasecmp(o.class_name, "Package") == 0) {
		char *fname = NULL;
		const uint8_t *fd;
		size_t flen;

		if (emf_ole_package(payload, plen, &fname, &fd, &flen)) {
			if (emf_filename_is_executable(fname) ||
			    (flen == 0 && emf_ole_package_runs(fname)))
				emf_symbol(r->scan,
				    "OFFICE_PACKAGE_EXECUTABLE", r->obj,
				    "RTF package %s (%s)", fname, flen ?
				    "embedded file" : "a link: runs it");
			/* A link has no payload child: what it runs is the
			 * executable (as in office.c). */
			if (flen == 0 && emf_ole_package_runs(fname))
				emf_symbol(r->scan, "EXECUTABLE_ATTACHMENT",
				    r->obj, "RTF package link runs %s", fname);
			child(r, fname, fd, flen);
			g_free(fname);
			emf_ole1_clear(&o);
			g_string_truncate(r->objclass, 0);
			return;
		}
	}
	g_snprintf(name, sizeof(name), "rtf-object-%u", r->objects);
	child(r, name, payload, plen);
	emf_ole1_clear(&o);
	g_string_truncate(r->objclass, 0);
}

static void
blob_byte(struct rtf *r, uint8_t b)
{
	if (r->blob->len < r->cap)
		g_byte_array_append(r->blob, &b, 1);
	else
		r->blob_cut = true;
}

static void
blob_finish(struct rtf *r)
{
	object_done(r, r->blob->data, r->blob->len, r->blob_datastore,
	    r->blob_cut);
	g_byte_array_set_size(r->blob, 0);
	r->blob_active = r->blob_cut = false;
	r->nib = -1;
}

static void
loose_reset(struct rtf *r)
{
	if (r->loose_ole1)
		object_done(r, r->loose->data, r->loose->len, false,
		    r->loose->len >= r->cap);
	g_byte_array_set_size(r->loose, 0);
	r->loose_nib = -1;
	r->loose_ole1 = false;
}

/* A hex digit of plain text: an object written outside \objdata? */
static void
loose_hex(struct rtf *r, int v)
{
	uint8_t b, *p;

	if (r->loose_nib < 0) {
		r->loose_nib = v;
		return;
	}
	b = (uint8_t)(r->loose_nib << 4 | v);
	r->loose_nib = -1;
	if (r->loose->len < r->cap)
		g_byte_array_append(r->loose, &b, 1);
	if (r->loose->len == 8 && !r->loose_ole1) {
		p = r->loose->data;
		/* OLEVersion xx 05 00 00, FormatID 1 or 2. */
		if (p[1] == 0x05 && p[2] == 0 && p[3] == 0 &&
		    (p[4] == 1 || p[4] == 2) && p[5] == 0 && p[6] == 0 &&
		    p[7] == 0)
			r->loose_ole1 = true;
		else
			g_byte_array_set_size(r->loose, 0);
	}
}

static void
text_char(struct rtf *r, gunichar c, bool raw_byte)
{
	uint8_t *d = cur(r);
	int v;

	if (r->skip > 0) {
		r->skip--;
		return;
	}
	switch (*d) {
	case D_OBJDATA:
		if (!r->blob_active || (v = g_ascii_xdigit_value((char)c)) < 0
		    || c > 0x7F)
			return;
		if (r->nib < 0) {
			r->nib = v;
		} else {
			blob_byte(r, (uint8_t)(r->nib << 4 | v));
			r->nib = -1;
		}
		return;
	case D_OBJCLASS:
		if (r->objclass->len < CLASS_MAX && c >= 0x20)
			g_string_append_unichar(r->objclass, c);
		return;
	case D_FLDINST:
		if (r->fld->len < FIELD_MAX)
			g_string_append_unichar(r->fld, c);
		return;
	case D_TEXT:
		if (c < 0x80 && (v = g_ascii_xdigit_value((char)c)) >= 0)
			loose_hex(r, v);
		else if (c != ' ' && c != '\t')
			loose_reset(r);
		if (raw_byte && r->ansicpg != 0 && r->ansicpg != 1252) {
			uint8_t b = (uint8_t)c;

			g_byte_array_append(r->cp, &b, 1);
			return;
		}
		flush_cp(r);
		if (r->text->len < r->text_cap)
			g_string_append_unichar(r->text, c);
		return;
	default:
		return;
	}
}

static void
group_close(struct rtf *r)
{
	if (r->blob_active && r->depth == r->blob_depth)
		blob_finish(r);
	if (r->fld_active && r->depth == r->fld_depth) {
		emf_office_field_code(r->scan, r->obj, r->fld->str,
		    r->fld->len);
		g_string_truncate(r->fld, 0);
		r->fld_active = false;
	}
	if (r->depth > 0)
		r->depth--;
}

static void
control_word(struct rtf *r, const char *w, bool has_param, long param)
{
	uint8_t *d = cur(r);
	bool star = r->star;

	r->star = false;
	if (strcmp(w, "bin") == 0) {
		size_t n = has_param && param > 0 ? (size_t)param : 0;

		n = MIN(n, r->len - r->pos);
		if (*d == D_OBJDATA && r->blob_active)
			for (size_t i = 0; i < n; i++)
				blob_byte(r, r->d[r->pos + i]);
		r->nib = -1;
		r->pos += n;
		return;
	}
	if (strcmp(w, "objdata") == 0 || strcmp(w, "datastore") == 0) {
		*d = D_OBJDATA;
		if (!r->blob_active) {
			r->blob_active = true;
			r->blob_depth = r->depth;
			r->blob_datastore = w[0] == 'd';
			r->nib = -1;
		}
		return;
	}
	if (strcmp(w, "objclass") == 0) {
		*d = D_OBJCLASS;
		g_string_truncate(r->objclass, 0);
		return;
	}
	if (strcmp(w, "fldinst") == 0) {
		*d = D_FLDINST;
		if (!r->fld_active) {
			r->fld_active = true;
			r->fld_depth = r->depth;
		}
		return;
	}
	if (strcmp(w, "objupdate") == 0) {
		r->objupdate = true;
		return;
	}
	if (strcmp(w, "ansicpg") == 0 && has_param && param > 0 &&
	    param < 100000) {
		flush_cp(r);
		r->ansicpg = (unsigned)param;
		return;
	}
	if (strcmp(w, "uc") == 0 && has_param && param >= 0 && param < 16) {
		r->uc = (unsigned)param;
		return;
	}
	if (strcmp(w, "u") == 0 && has_param) {
		long c = param < 0 ? param + 65536 : param;

		if (*d == D_TEXT || *d == D_FLDINST || *d == D_OBJCLASS) {
			flush_cp(r);
			text_char(r, c > 0 && c < 0xD800 ? (gunichar)c : 0xFFFD,
			    false);
		}
		r->skip = r->uc;
		return;
	}
	if (strcmp(w, "par") == 0 || strcmp(w, "line") == 0 ||
	    strcmp(w, "sect") == 0 || strcmp(w, "row") == 0) {
		if (*d == D_TEXT) {
			flush_cp(r);
			loose_reset(r);
			if (r->text->len < r->text_cap)
				g_string_append_c(r->text, '\n');
		}
		return;
	}
	if (strcmp(w, "tab") == 0 || strcmp(w, "cell") == 0) {
		if (*d == D_TEXT && r->text->len < r->text_cap)
			g_string_append_c(r->text, ' ');
		return;
	}
	/*
	 * A destination word switches the group, wherever it stands (as
	 * Word does; obfuscators hide hex behind \*\staticval and the
	 * like). A text destination inside a hidden one stays hidden.
	 */
	if (in_list(ignore_dests, w)) {
		*d = D_IGNORE;
	} else if (in_list(text_dests, w)) {
		if (*d != D_IGNORE && *d != D_OBJDATA)
			*d = D_TEXT;
	} else if (star) {
		*d = D_IGNORE;
	}
}

static void
tokenize(struct rtf *r)
{
	size_t next_check = 65536;

	while (r->pos < r->len) {
		uint8_t c = r->d[r->pos++];

		if (r->pos >= next_check) {
			next_check = r->pos + 65536;
			if (emf_scan_expired(r->scan))
				return;
		}
		if (c == '{') {
			r->depth++;
			if (r->depth < RTF_DEPTH_MAX) {
				r->dest[r->depth] = r->dest[r->depth - 1];
			} else if (!r->deep_noted) {
				r->deep_noted = true;
				emf_limit_hit(r->scan, "rtf_depth", r->obj,
				    "RTF groups nested deeper than %u",
				    RTF_DEPTH_MAX);
			}
			r->star = false;
			continue;
		}
		if (c == '}') {
			group_close(r);
			r->star = false;
			continue;
		}
		if (c == '\r' || c == '\n' || c == 0)
			continue;
		if (c != '\\') {
			text_char(r, c, c >= 0x80);
			continue;
		}
		if (r->pos >= r->len)
			break;
		c = r->d[r->pos];
		if (g_ascii_isalpha(c)) {
			char w[WORD_MAX + 1];
			size_t n = 0;
			bool has_param = false, neg = false;
			long param = 0;
			unsigned digits = 0;

			while (r->pos < r->len && g_ascii_isalpha(r->d[r->pos])) {
				if (n < WORD_MAX)
					w[n++] = (char)r->d[r->pos];
				r->pos++;
			}
			w[n] = '\0';
			if (r->pos < r->len && r->d[r->pos] == '-') {
				neg = true;
				r->pos++;
			}
			while (r->pos < r->len && g_ascii_isdigit(r->d[r->pos])) {
				if (digits++ < 10)
					param = param * 10 + (r->d[r->pos] -
					    '0');
				has_param = true;
				r->pos++;
			}
			if (neg)
				param = -param;
			if (r->pos < r->len && r->d[r->pos] == ' ')
				r->pos++;
			control_word(r, w, has_param, param);
			continue;
		}
		r->pos++;
		switch (c) {
		case '*':
			r->star = true;
			break;
		case '\'': {
			int hi, lo;

			if (r->len - r->pos < 2)
				break;
			hi = g_ascii_xdigit_value((char)r->d[r->pos]);
			lo = g_ascii_xdigit_value((char)r->d[r->pos + 1]);
			r->pos += 2;
			if (hi >= 0 && lo >= 0) {
				uint8_t *dd = cur(r);

				if (*dd == D_TEXT || *dd == D_FLDINST ||
				    *dd == D_OBJCLASS)
					text_char(r, (gunichar)(hi << 4 | lo),
					    true);
			}
			break;
		}
		case '\\': case '{': case '}':
			text_char(r, c, false);
			break;
		case '~':
			text_char(r, ' ', false);
			break;
		default:
			/* \- \_ \: \| and unknown symbols: nothing. */
			break;
		}
	}
}

void
emf_rtf_handle(struct emf_scan *scan, struct emf_object *obj)
{
	struct rtf *r = g_new0(struct rtf, 1);

	g_free(obj->format);
	obj->format = g_strdup("RTF");
	r->scan = scan;
	r->obj = obj;
	r->d = obj->data;
	r->len = obj->len;
	r->blob = g_byte_array_new();
	r->loose = g_byte_array_new();
	r->nib = r->loose_nib = -1;
	r->cap = emf_budget_child_cap(scan);
	r->objclass = g_string_new(NULL);
	r->fld = g_string_new(NULL);
	r->text = g_string_new(NULL);
	r->text_cap = scan->limits->text_bytes;
	r->cp = g_byte_array_new();
	r->uc = 1;
	tokenize(r);
	/* An unterminated document: what was open still counts. */
	while (r->depth > 0 && (r->blob_active || r->fld_active))
		group_close(r);
	if (r->blob_active)
		blob_finish(r);
	loose_reset(r);
	flush_cp(r);
	emf_text_add(scan, EMF_TEXT_DOCUMENT, obj, r->text->str, r->text->len);
	g_byte_array_free(r->blob, TRUE);
	g_byte_array_free(r->loose, TRUE);
	g_byte_array_free(r->cp, TRUE);
	g_string_free(r->objclass, TRUE);
	g_string_free(r->fld, TRUE);
	g_string_free(r->text, TRUE);
	g_free(r);
}
