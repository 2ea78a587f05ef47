/*
 * archive.c - a zip that is not an Office document: its members become
 * child objects; encrypted members are tried with the password candidates
 * harvested from the mail (passwords.c).
 *
 * What is checked here, before and while members are read:
 *   - the structure (zipscan.c's own directory walk): overlapping entries
 *     are not extracted (Fifield's bomb), entries outside their bounds
 *     neither; duplicate and path-traversal names are reported;
 *   - the entry count (limits.archive_entries), the bytes of each member
 *     (limits.object_bytes) and of the message (limits.total_bytes),
 *     counted on what inflate produced, never on the headers;
 *   - INFLATED_FILE: a member larger than object_bytes (declared, or
 *     found by reading up to the cap) at a ratio above
 *     limits.archive_ratio. Only its leading part is kept, marked
 *     truncated, and handed on like any member, so the Office handler
 *     still sees the document at its start;
 *   - ARCHIVE_NESTED: a member that is itself an archive (zip that is not
 *     OOXML, rar, 7z, gzip, bzip2, xz, cab), told by its magic;
 *   - a member identical to the archive or one of its ancestors (a quine
 *     like droste.zip) is dropped;
 *   - password tries: limits.password_tries failed tries per archive; the
 *     candidate that opened the last member is tried first.
 *
 * LIMITATIONS: 7z and rar archives are not opened (only flagged as nested
 * when found inside a zip); an archive libzip refuses is reported
 * malformed by the dispatcher and not listed.
 */
#include "config.h"

#include <string.h>

#include "core/modules.h"

/* Below this many bytes no member is called inflated, whatever the ratio. */
#define INFLATED_MIN ((uint64_t)1 << 20)

struct archive {
	struct emf_scan *scan;
	struct emf_object *obj;
	struct emf_zip *zip;
	unsigned failed_tries;	/* wrong passwords, whole archive */
	bool tries_noted;	/* password_tries limit recorded */
	struct emf_password *last; /* opened the previous member */
	unsigned skipped_bad;	/* members not extracted: structure */
};

/* One attempt with one candidate. */
static enum emf_zip_read
try_one(struct archive *a, size_t i, struct emf_password *pw, size_t cap,
    uint8_t **data, size_t *len)
{
	return emf_zip_read(a->zip, i, pw->value, cap, a->scan->deadline_us,
	    data, len);
}

static bool
opened(enum emf_zip_read r)
{
	return r == EMF_ZIP_OK || r == EMF_ZIP_TRUNCATED;
}

/*
 * Try the candidates on an encrypted entry. The one that opened the
 * previous member goes first: an archive has one password as a rule.
 */
static enum emf_zip_read
read_encrypted(struct archive *a, size_t i, size_t cap, uint8_t **data,
    size_t *len, struct emf_password **used, unsigned *ntried)
{
	struct emf_scan *scan = a->scan;
	enum emf_zip_read r = EMF_ZIP_NEED_PASSWORD;

	*used = NULL;
	*ntried = 0;
	if (a->last != NULL) {
		(*ntried)++;
		r = try_one(a, i, a->last, cap, data, len);
		if (opened(r)) {
			*used = a->last;
			return r;
		}
		if (r != EMF_ZIP_BAD_PASSWORD)
			return r;
		a->failed_tries++;
	}
	for (guint k = 0; k < scan->passwords->len; k++) {
		struct emf_password *pw = g_ptr_array_index(scan->passwords, k);

		if (pw == a->last)
			continue;
		if (a->failed_tries >= scan->limits->password_tries) {
			if (!a->tries_noted)
				emf_limit_hit(scan, "password_tries", a->obj,
				    "%u wrong passwords tried on one archive",
				    a->failed_tries);
			a->tries_noted = true;
			break;
		}
		if (emf_scan_expired(scan))
			break;
		(*ntried)++;
		r = try_one(a, i, pw, cap, data, len);
		if (opened(r)) {
			*used = pw;
			a->last = pw;
			return r;
		}
		if (r != EMF_ZIP_BAD_PASSWORD)
			return r;
		a->failed_tries++;
	}
	return r;
}

static void
sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(c, data ? data : (const uint8_t *)"", (gssize)len);
	g_strlcpy(out, g_checksum_get_string(c), 65);
	g_checksum_free(c);
}

/* The ancestor (obj itself or above) whose bytes are data, or NULL. */
static const struct emf_object *
same_as_ancestor(const struct emf_object *obj, const uint8_t *data,
    size_t len)
{
	char h[65];

	sha256_hex(data, len, h);
	for (const struct emf_object *o = obj; o != NULL; o = o->parent)
		if (o->sha256[0] != '\0' && strcmp(o->sha256, h) == 0)
			return o;
	return NULL;
}

/*
 * What kind of archive data is, told by magic, or NULL. A zip is an
 * archive unless it is an OOXML document ([Content_Types].xml), which the
 * Office handler takes. [ECMA-376 Part 2, 10.1.2.4]
 */
static const char *
nested_kind(const uint8_t *data, size_t len)
{
	enum emf_ftype t = emf_filetype_sniff(data, len);
	struct emf_zip *z;
	const char *kind = NULL;

	switch (t) {
	case EMF_FT_ZIP:
		if (emf_zip_open(data, len, &z, NULL) != EMF_OK)
			return "zip";
		kind = emf_zip_find(z, "[Content_Types].xml") < 0 ? "zip" :
		    NULL;
		emf_zip_close(z);
		return kind;
	case EMF_FT_RAR:
	case EMF_FT_7Z:
	case EMF_FT_GZIP:
	case EMF_FT_BZIP2:
	case EMF_FT_XZ:
	case EMF_FT_CAB:
		return emf_filetype_name(t);
	default:
		return NULL;
	}
}

/* Ratio of a member's size (declared or produced) to its stored size. */
static uint64_t
ratio_of(uint64_t size, uint64_t comp)
{
	return size / (comp ? comp : 1);
}

static void
check_structure(struct archive *a)
{
	struct emf_scan *scan = a->scan;
	char *detail = NULL;
	unsigned flaws = emf_zip_check(a->zip,
	    scan->limits->archive_entries, &detail);

	if (flaws != 0) {
		g_free(a->obj->error);
		a->obj->error = g_strdup_printf("zip: %s", detail);
		emf_symbol(scan, "ARCHIVE_MALFORMED", a->obj, "%s", detail);
	}
	if (flaws & EMF_ZIP_FLAW_OVERLAP)
		emf_limit_hit(scan, "archive_overlap", a->obj,
		    "overlapping members not extracted");
	g_free(detail);
}

/* Report and check one member that was read (or could not be). */
static void
member_done(struct archive *a, struct emf_object *child,
    const struct emf_zip_entry *e, enum emf_zip_read r,
    struct emf_password *pw, unsigned ntried)
{
	struct emf_scan *scan = a->scan;
	uint64_t produced = child->len;

	child->declared_size = e->size;
	child->truncated = r == EMF_ZIP_TRUNCATED;
	if (e->encrypted) {
		child->encrypted = true;
		child->encryption = g_strdup(e->encryption);
		emf_symbol(scan, "ARCHIVE_ENCRYPTED", child, "%s member",
		    e->encryption ? e->encryption : "encrypted");
	}
	if (pw != NULL) {
		pw->used = true;
		child->password = g_strdup(pw->value);
		child->password_source = g_strdup(pw->source);
		/* The password itself stays out of symbol details (logs). */
		emf_symbol(scan, "ARCHIVE_PASSWORD_IN_BODY", child,
		    "opened with a password found in %s", pw->source);
	} else if (e->encrypted && !opened(r)) {
		emf_symbol(scan, "ARCHIVE_PASSWORD_UNKNOWN", child,
		    "%s; %u candidate%s tried", emf_zip_read_str(r), ntried,
		    ntried == 1 ? "" : "s");
		/* The dispatcher will not look at it: judge the name here. */
		if (child->name != NULL &&
		    emf_filename_is_executable(child->name))
			emf_symbol(scan, "EXECUTABLE_ATTACHMENT", child,
			    "executable name %s (encrypted, not opened)",
			    child->name);
	} else if (r == EMF_ZIP_CORRUPT || r == EMF_ZIP_UNSUPPORTED) {
		child->error = g_strdup(emf_zip_read_str(r));
		emf_symbol(scan, "ARCHIVE_MALFORMED", child, "%s",
		    emf_zip_read_str(r));
	}
	if (r == EMF_ZIP_OK && e->size != produced) {
		g_free(child->error);
		child->error = g_strdup_printf("size in header %" G_GUINT64_FORMAT
		    ", data %" G_GUINT64_FORMAT, e->size, produced);
		emf_symbol(scan, "ARCHIVE_MALFORMED", child, "%s", child->error);
	}
	/*
	 * The 2023 trick: a document padded with zeros past what scanners
	 * read, at a ratio no real document reaches. Declared sizes tell
	 * without inflating; lying headers are caught by the read hitting
	 * the cap.
	 */
	if (opened(r) || e->encrypted) {
		uint64_t big = MAX(e->size, produced);

		if ((e->size > scan->limits->object_bytes ||
		    r == EMF_ZIP_TRUNCATED) && big >= INFLATED_MIN &&
		    ratio_of(big, e->comp_size) > scan->limits->archive_ratio)
			emf_symbol(scan, "INFLATED_FILE", child,
			    "%" G_GUINT64_FORMAT " bytes%s from %"
			    G_GUINT64_FORMAT " stored (%" G_GUINT64_FORMAT
			    ":1); first %" G_GUINT64_FORMAT " bytes inspected",
			    big, r == EMF_ZIP_TRUNCATED && big == produced ?
			    " or more" : " declared", e->comp_size,
			    ratio_of(big, e->comp_size), produced);
	}
	if (r == EMF_ZIP_TRUNCATED)
		emf_limit_hit(scan, "object_bytes", child,
		    "member cut to its first %" G_GUINT64_FORMAT " bytes",
		    produced);
	if (opened(r)) {
		const char *kind = nested_kind(child->data, child->len);

		if (kind != NULL)
			emf_symbol(scan, "ARCHIVE_NESTED", child,
			    "%s inside %s", kind, a->obj->path);
	}
}

/* Read member i and queue it; false when the archive must stop. */
static bool
do_member(struct archive *a, size_t i)
{
	struct emf_scan *scan = a->scan;
	struct emf_zip_entry e;
	struct emf_password *pw = NULL;
	struct emf_object *child;
	const struct emf_object *anc;
	enum emf_zip_read r;
	uint8_t *data = NULL;
	size_t len = 0, cap;
	unsigned flaws, ntried = 0;
	char *name;

	if (!emf_zip_entry(a->zip, i, &e) || e.is_dir)
		return true;
	flaws = emf_zip_entry_flaws(a->zip, i);
	if (flaws & (EMF_ZIP_FLAW_OVERLAP | EMF_ZIP_FLAW_OUTSIDE)) {
		/* Reading it is what the bomb wants; the detail says why. */
		a->skipped_bad++;
		return true;
	}
	cap = emf_budget_child_cap(scan);
	if (cap == 0) {
		emf_limit_hit(scan, "total_bytes", a->obj,
		    "no bytes left for the members of %s", a->obj->path);
		return false;
	}
	name = g_strdup(e.name);
	if (e.encrypted)
		r = read_encrypted(a, i, cap, &data, &len, &pw, &ntried);
	else
		r = emf_zip_read(a->zip, i, NULL, cap, scan->deadline_us,
		    &data, &len);
	if (r == EMF_ZIP_NOMEM) {
		scan->error = EMF_ERR_NOMEM;
		g_free(name);
		return false;
	}
	if (opened(r) && (anc = same_as_ancestor(a->obj, data, len)) !=
	    NULL) {
		emf_symbol(scan, "ARCHIVE_MALFORMED", a->obj,
		    "member %s is a copy of %s (an archive containing itself)",
		    name, anc->path);
		g_free(data);
		g_free(name);
		return true;
	}
	if (opened(r) && !emf_budget_bytes(scan, len)) {
		g_free(data);
		g_free(name);
		return false;
	}
	if (!opened(r)) {
		g_free(data);
		data = NULL;
		len = 0;
	}
	child = emf_object_child(scan, a->obj, name, NULL, data, len);
	if (child == NULL) {
		g_free(name);
		return false;
	}
	member_done(a, child, &e, r, pw, ntried);
	g_free(name);
	return r != EMF_ZIP_TIMEOUT;
}

void
emf_archive_handle(struct emf_scan *scan, struct emf_object *obj,
    struct emf_zip *zip)
{
	struct archive a = { scan, obj, zip, 0, false, NULL, 0 };
	size_t n = emf_zip_count(zip);

	g_free(obj->format);
	obj->format = g_strdup("zip");
	check_structure(&a);
	if (n > scan->limits->archive_entries) {
		emf_limit_hit(scan, "archive_entries", obj,
		    "%zu entries, only %u read", n,
		    scan->limits->archive_entries);
		n = scan->limits->archive_entries;
	}
	for (size_t i = 0; i < n && !emf_scan_expired(scan); i++)
		if (!do_member(&a, i))
			break;
	if (a.skipped_bad > 0)
		emf_symbol(scan, "ARCHIVE_MALFORMED", obj,
		    "%u members with overlapping or out-of-bounds data not "
		    "extracted", a.skipped_bad);
}
