/*
 * archive.c - a zip that is not an Office document: its members become
 * child objects; encrypted members are tried with the password candidates
 * harvested from the mail.
 */
#include "config.h"

#include <string.h>

#include "modules.h"

/* Try the candidates on an encrypted entry; returns the read result. */
static enum emf_zip_read
read_encrypted(struct emf_scan *scan, struct emf_zip *zip, size_t i,
    size_t cap, uint8_t **data, size_t *len, struct emf_password **used)
{
	enum emf_zip_read r = EMF_ZIP_NEED_PASSWORD;
	unsigned tries = 0;

	*used = NULL;
	for (guint k = 0; k < scan->passwords->len; k++) {
		struct emf_password *pw = g_ptr_array_index(scan->passwords, k);

		if (tries++ >= scan->limits->password_tries) {
			emf_limit_hit(scan, "password_tries", NULL,
			    "more than %u passwords tried on one archive",
			    scan->limits->password_tries);
			break;
		}
		r = emf_zip_read(zip, i, pw->value, cap, scan->deadline_us,
		    data, len);
		if (r == EMF_ZIP_OK || r == EMF_ZIP_TRUNCATED) {
			*used = pw;
			return r;
		}
		if (r != EMF_ZIP_BAD_PASSWORD)
			return r;
	}
	return r;
}

void
emf_archive_handle(struct emf_scan *scan, struct emf_object *obj,
    struct emf_zip *zip)
{
	size_t n = emf_zip_count(zip);

	obj->format = g_strdup("zip");
	if (n > scan->limits->archive_entries) {
		emf_limit_hit(scan, "archive_entries", obj,
		    "%zu entries, only %u read", n,
		    scan->limits->archive_entries);
		n = scan->limits->archive_entries;
	}
	for (size_t i = 0; i < n && !emf_scan_expired(scan); i++) {
		struct emf_zip_entry e;
		struct emf_password *pw = NULL;
		struct emf_object *child;
		enum emf_zip_read r;
		uint8_t *data = NULL;
		size_t len = 0, cap = emf_budget_child_cap(scan);
		char *name;

		if (!emf_zip_entry(zip, i, &e) || e.is_dir)
			continue;
		name = g_strdup(e.name);
		if (e.encrypted)
			r = read_encrypted(scan, zip, i, cap, &data, &len, &pw);
		else
			r = emf_zip_read(zip, i, NULL, cap, scan->deadline_us,
			    &data, &len);
		if ((r == EMF_ZIP_OK || r == EMF_ZIP_TRUNCATED) &&
		    !emf_budget_bytes(scan, len)) {
			g_free(data);
			g_free(name);
			break;
		}
		child = emf_object_child(scan, obj, name, NULL, data, len);
		if (child == NULL) {
			g_free(name);
			break;
		}
		child->declared_size = e.size;
		child->truncated = r == EMF_ZIP_TRUNCATED;
		if (e.encrypted) {
			child->encrypted = true;
			child->encryption = g_strdup(e.encryption);
			emf_symbol(scan, "ARCHIVE_ENCRYPTED", child, "%s member",
			    e.encryption);
		}
		if (pw != NULL) {
			pw->used = true;
			child->password = g_strdup(pw->value);
			child->password_source = g_strdup(pw->source);
			emf_symbol(scan, "ARCHIVE_PASSWORD_IN_BODY", child,
			    "opened with a password found in %s", pw->source);
		} else if (e.encrypted && r != EMF_ZIP_OK &&
		    r != EMF_ZIP_TRUNCATED) {
			emf_symbol(scan, "ARCHIVE_PASSWORD_UNKNOWN", child,
			    "%s", emf_zip_read_str(r));
		} else if (r == EMF_ZIP_CORRUPT || r == EMF_ZIP_UNSUPPORTED) {
			child->error = g_strdup(emf_zip_read_str(r));
			emf_symbol(scan, "ARCHIVE_MALFORMED", child, "%s",
			    emf_zip_read_str(r));
		}
		if (r == EMF_ZIP_TRUNCATED)
			emf_limit_hit(scan, "object_bytes", child,
			    "member cut to its first %zu bytes", len);
		g_free(name);
	}
}
