/*
 * zipscan.c - zip archives from memory through libzip (its only user).
 *
 * Sizes in headers are never trusted: reads count the bytes libzip
 * actually produces and stop at the caller's cap and deadline. [APPNOTE]
 */
#include "config.h"

#include <string.h>

#include <zip.h>

#include "zipscan.h"

#define READ_CHUNK 65536

struct emf_zip {
	zip_t *za;
	zip_int64_t n;
	char *names_buf;	/* last name returned, converted to UTF-8 */
};

enum emf_rc
emf_zip_open(const uint8_t *data, size_t len, struct emf_zip **out,
    char **why)
{
	zip_error_t err;
	zip_source_t *src;
	zip_t *za;
	struct emf_zip *z;

	*out = NULL;
	zip_error_init(&err);
	src = zip_source_buffer_create(data, len, 0, &err);
	if (src == NULL)
		goto fail;
	za = zip_open_from_source(src, ZIP_RDONLY, &err);
	if (za == NULL) {
		zip_source_free(src);
		goto fail;
	}
	z = g_new0(struct emf_zip, 1);
	z->za = za;
	z->n = zip_get_num_entries(za, 0);
	if (z->n < 0)
		z->n = 0;
	zip_error_fini(&err);
	*out = z;
	return EMF_OK;
fail:
	if (why != NULL)
		*why = g_strdup(zip_error_strerror(&err));
	zip_error_fini(&err);
	return EMF_ERR_FORMAT;
}

void
emf_zip_close(struct emf_zip *z)
{
	if (z == NULL)
		return;
	zip_discard(z->za);
	g_free(z->names_buf);
	g_free(z);
}

size_t
emf_zip_count(const struct emf_zip *z)
{
	return (size_t)z->n;
}

static const char *
encryption_name(zip_uint16_t em)
{
	switch (em) {
	case ZIP_EM_NONE: return NULL;
	case ZIP_EM_TRAD_PKWARE: return "ZipCrypto";
	case ZIP_EM_AES_128: return "AES-128";
	case ZIP_EM_AES_192: return "AES-192";
	case ZIP_EM_AES_256: return "AES-256";
	default: return "unknown";
	}
}

/*
 * Entry names: UTF-8 when flagged or valid; otherwise CP932 (Japanese
 * Windows zips carry Shift_JIS names without the flag), else libzip's
 * CP437 guess.
 */
static char *
entry_name(zip_t *za, zip_uint64_t i)
{
	const char *raw = zip_get_name(za, i, ZIP_FL_ENC_RAW);
	char *conv;

	if (raw == NULL)
		return g_strdup("");
	if (g_utf8_validate(raw, -1, NULL))
		return g_strdup(raw);
	conv = g_convert(raw, -1, "UTF-8", "CP932", NULL, NULL, NULL);
	if (conv != NULL)
		return conv;
	raw = zip_get_name(za, i, ZIP_FL_ENC_GUESS);
	return g_utf8_make_valid(raw ? raw : "", -1);
}

bool
emf_zip_entry(const struct emf_zip *zc, size_t i, struct emf_zip_entry *e)
{
	struct emf_zip *z = (struct emf_zip *)zc;
	zip_stat_t st;
	size_t nl;

	if ((zip_int64_t)i >= z->n)
		return false;
	zip_stat_init(&st);
	if (zip_stat_index(z->za, i, ZIP_FL_ENC_RAW, &st) != 0)
		return false;
	memset(e, 0, sizeof(*e));
	g_free(z->names_buf);
	z->names_buf = entry_name(z->za, i);
	e->name = z->names_buf;
	nl = strlen(e->name);
	e->is_dir = nl > 0 && e->name[nl - 1] == '/';
	e->size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
	e->comp_size = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
	e->method = (st.valid & ZIP_STAT_COMP_METHOD) ? st.comp_method : 0;
	e->crc = (st.valid & ZIP_STAT_CRC) ? st.crc : 0;
	if (st.valid & ZIP_STAT_ENCRYPTION_METHOD) {
		e->encrypted = st.encryption_method != ZIP_EM_NONE;
		e->encryption = encryption_name(st.encryption_method);
	}
	return true;
}

long
emf_zip_find(const struct emf_zip *z, const char *name)
{
	zip_int64_t i = zip_name_locate(z->za, name, ZIP_FL_NOCASE |
	    ZIP_FL_ENC_RAW);

	return i < 0 ? -1 : (long)i;
}

static enum emf_zip_read
map_open_error(zip_t *za, bool have_password)
{
	switch (zip_error_code_zip(zip_get_error(za))) {
	case ZIP_ER_NOPASSWD:
		return EMF_ZIP_NEED_PASSWORD;
	case ZIP_ER_WRONGPASSWD:
		return EMF_ZIP_BAD_PASSWORD;
	case ZIP_ER_COMPNOTSUPP:
	case ZIP_ER_ENCRNOTSUPP:
		return EMF_ZIP_UNSUPPORTED;
	case ZIP_ER_MEMORY:
		return EMF_ZIP_NOMEM;
	default:
		return have_password ? EMF_ZIP_BAD_PASSWORD : EMF_ZIP_CORRUPT;
	}
}

enum emf_zip_read
emf_zip_read(struct emf_zip *z, size_t i, const char *password, size_t cap,
    gint64 deadline_us, uint8_t **out, size_t *outlen)
{
	zip_file_t *f;
	GByteArray *buf;
	enum emf_zip_read rc = EMF_ZIP_OK;
	uint8_t chunk[READ_CHUNK];

	*out = NULL;
	*outlen = 0;
	zip_error_clear(z->za);
	f = password ? zip_fopen_index_encrypted(z->za, i, 0, password) :
	    zip_fopen_index(z->za, i, 0);
	if (f == NULL)
		return map_open_error(z->za, password != NULL);
	buf = g_byte_array_new();
	for (;;) {
		size_t want = cap - buf->len;
		zip_int64_t n;

		if (want == 0) {
			/* Is there more? One byte tells. */
			n = zip_fread(f, chunk, 1);
			if (n > 0)
				rc = EMF_ZIP_TRUNCATED;
			else if (n < 0)
				rc = password ? EMF_ZIP_BAD_PASSWORD :
				    EMF_ZIP_CORRUPT;
			break;
		}
		if (want > sizeof(chunk))
			want = sizeof(chunk);
		n = zip_fread(f, chunk, want);
		if (n < 0) {
			/* A wrong ZipCrypto key passes the header check 1 time
			 * in 256 and then fails inflate or the CRC. */
			rc = password ? EMF_ZIP_BAD_PASSWORD : EMF_ZIP_CORRUPT;
			break;
		}
		if (n == 0)
			break;
		g_byte_array_append(buf, chunk, (guint)n);
		if (deadline_us != 0 && g_get_monotonic_time() > deadline_us) {
			rc = EMF_ZIP_TIMEOUT;
			break;
		}
	}
	zip_fclose(f);
	if (rc == EMF_ZIP_OK || rc == EMF_ZIP_TRUNCATED ||
	    rc == EMF_ZIP_TIMEOUT) {
		*outlen = buf->len;
		*out = g_byte_array_free(buf, FALSE);
		if (rc == EMF_ZIP_TIMEOUT) {
			g_free(*out);
			*out = NULL;
			*outlen = 0;
		}
	} else {
		g_byte_array_free(buf, TRUE);
	}
	return rc;
}

const char *
emf_zip_read_str(enum emf_zip_read r)
{
	switch (r) {
	case EMF_ZIP_OK: return "ok";
	case EMF_ZIP_TRUNCATED: return "truncated at the cap";
	case EMF_ZIP_NEED_PASSWORD: return "encrypted, no password";
	case EMF_ZIP_BAD_PASSWORD: return "wrong password";
	case EMF_ZIP_UNSUPPORTED: return "unsupported method";
	case EMF_ZIP_TIMEOUT: return "deadline passed";
	case EMF_ZIP_CORRUPT: return "corrupt data";
	case EMF_ZIP_NOMEM: return "out of memory";
	}
	return "?";
}
