/*
 * zipscan.c - zip archives from memory through libzip (its only user).
 *
 * Sizes in headers are never trusted: reads count the bytes libzip
 * actually produces and stop at the caller's cap and deadline. [APPNOTE]
 */
#include "config.h"

#include "core/bytes.h"

#include <stdarg.h>
#include <string.h>

#include <zip.h>

#include "zipscan.h"

#define READ_CHUNK 65536

struct emf_zip {
	zip_t *za;
	zip_int64_t n;
	char *names_buf;	/* last name returned, converted to UTF-8 */

	/* Borrowed bytes, for emf_zip_check()'s own directory walk. */
	const uint8_t *data;
	size_t len;
	bool checked;
	unsigned flaws;
	unsigned *eflaws;	/* per directory record */
	size_t neflaws;
	uint64_t unchecked;
	char *detail;
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
	z->data = data;
	z->len = len;
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
	g_free(z->eflaws);
	g_free(z->detail);
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

/*
 * The output buffer: grows by doubling but never past the cap, so the
 * peak is the cap, not twice it (GByteArray rounds up to a power of 2).
 */
struct growbuf {
	uint8_t *p;
	size_t len, size;
};

static bool
growbuf_append(struct growbuf *b, const uint8_t *src, size_t n, size_t cap)
{
	if (n > cap - b->len)
		return false;
	if (b->len + n > b->size) {
		size_t ns = b->size ? b->size : READ_CHUNK;

		while (ns < b->len + n && ns <= cap / 2)
			ns *= 2;
		if (ns < b->len + n || ns > cap)
			ns = cap;
		uint8_t *np = g_try_realloc(b->p, ns);

		if (np == NULL)
			return false;
		b->p = np;
		b->size = ns;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
	return true;
}

/* The CRC failure of an AE-2 entry read whole (see emf_zip_read()). */
static bool
ae2_end(zip_file_t *f, bool ae2, const zip_stat_t *st, size_t got)
{
	return ae2 && got == st->size &&
	    zip_error_code_zip(zip_file_get_error(f)) == ZIP_ER_CRC;
}

enum emf_zip_read
emf_zip_read(struct emf_zip *z, size_t i, const char *password, size_t cap,
    gint64 deadline_us, uint8_t **out, size_t *outlen)
{
	zip_file_t *f;
	struct growbuf gb = { NULL, 0, 0 };
	enum emf_zip_read rc = EMF_ZIP_OK;
	uint8_t chunk[READ_CHUNK];
	zip_stat_t st;
	bool ae2 = false;

	*out = NULL;
	*outlen = 0;
	if ((zip_int64_t)i >= z->n)
		return EMF_ZIP_CORRUPT;
	/*
	 * WinZip AE-2 (what 7-Zip writes) stores CRC 0 and relies on the
	 * HMAC; libzip before 1.8 still checks the CRC and fails at the end
	 * (libzip issue #261). Such an entry read to its declared size is
	 * taken as read.
	 */
	zip_stat_init(&st);
	if (password != NULL && zip_stat_index(z->za, i, 0, &st) == 0 &&
	    (st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	    (st.valid & ZIP_STAT_CRC) && (st.valid & ZIP_STAT_SIZE) &&
	    st.crc == 0 && (st.encryption_method == ZIP_EM_AES_128 ||
	    st.encryption_method == ZIP_EM_AES_192 ||
	    st.encryption_method == ZIP_EM_AES_256))
		ae2 = true;
	zip_error_clear(z->za);
	f = password ? zip_fopen_index_encrypted(z->za, i, 0, password) :
	    zip_fopen_index(z->za, i, 0);
	if (f == NULL)
		return map_open_error(z->za, password != NULL);
	for (;;) {
		size_t want = cap - gb.len;
		zip_int64_t n;

		if (want == 0) {
			/* Is there more? One byte tells. */
			n = zip_fread(f, chunk, 1);
			if (n > 0)
				rc = EMF_ZIP_TRUNCATED;
			else if (n < 0 && !ae2_end(f, ae2, &st, gb.len))
				rc = password ? EMF_ZIP_BAD_PASSWORD :
				    EMF_ZIP_CORRUPT;
			break;
		}
		if (want > sizeof(chunk))
			want = sizeof(chunk);
		n = zip_fread(f, chunk, want);
		if (n < 0 && ae2_end(f, ae2, &st, gb.len))
			break;
		if (n < 0) {
			/* A wrong ZipCrypto key passes the header check 1 time
			 * in 256 and then fails inflate or the CRC. */
			rc = password ? EMF_ZIP_BAD_PASSWORD : EMF_ZIP_CORRUPT;
			break;
		}
		if (n == 0)
			break;
		if (!growbuf_append(&gb, chunk, (size_t)n, cap)) {
			rc = EMF_ZIP_NOMEM;
			break;
		}
		if (deadline_us != 0 && g_get_monotonic_time() > deadline_us) {
			rc = EMF_ZIP_TIMEOUT;
			break;
		}
	}
	zip_fclose(f);
	if (rc == EMF_ZIP_OK || rc == EMF_ZIP_TRUNCATED) {
		*outlen = gb.len;
		*out = gb.p != NULL ? gb.p : g_malloc(1);
	} else {
		g_free(gb.p);
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

/* ---- our own directory walk ----------------------------------------------- */

/* True when [off, off + n) lies inside [0, len). */
static inline bool
inside(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_EOCD64_LOC 0x07064b50u
#define EOCD_LEN 22
#define CENTRAL_LEN 46
#define LOCAL_LEN 30

bool
emf_zip_name_unsafe(const char *name, size_t len)
{
	if (len == 0)
		return false;
	if (memchr(name, '\0', len) != NULL)
		return true;
	if (name[0] == '/' || name[0] == '\\')
		return true;
	/* "C:" drive prefix: Windows would write there. */
	if (len >= 2 && name[1] == ':' && g_ascii_isalpha(name[0]))
		return true;
	/* A ".." component, with either separator. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (name[i] != '.' || name[i + 1] != '.')
			continue;
		if ((i == 0 || name[i - 1] == '/' || name[i - 1] == '\\') &&
		    (i + 2 == len || name[i + 2] == '/' || name[i + 2] == '\\'))
			return true;
	}
	return false;
}

/* The end of central directory record, searched back over the comment. */
static bool
find_eocd(const uint8_t *d, size_t len, size_t *pos)
{
	size_t lo;

	if (len < EOCD_LEN)
		return false;
	lo = len - EOCD_LEN > 65535 ? len - EOCD_LEN - 65535 : 0;
	for (size_t p = len - EOCD_LEN + 1; p-- > lo;) {
		if (rd32(d + p) == SIG_EOCD) {
			*pos = p;
			return true;
		}
	}
	return false;
}

/* The zip64 extra field (0x0001) of a directory record. [APPNOTE 4.5.3] */
static void
zip64_extra(const uint8_t *x, size_t xlen, uint64_t *size, uint64_t *comp,
    uint64_t *off)
{
	while (xlen >= 4) {
		uint16_t id = rd16(x), n = rd16(x + 2);
		const uint8_t *v = x + 4;
		size_t left;

		if ((size_t)n > xlen - 4)
			return;
		if (id == 0x0001) {
			left = n;
			if (*size == 0xffffffffu && left >= 8) {
				*size = rd64(v);
				v += 8;
				left -= 8;
			}
			if (*comp == 0xffffffffu && left >= 8) {
				*comp = rd64(v);
				v += 8;
				left -= 8;
			}
			if (*off == 0xffffffffu && left >= 8)
				*off = rd64(v);
			return;
		}
		x += 4 + n;
		xlen -= 4 + (size_t)n;
	}
}

struct span {
	uint64_t start, end;
	size_t idx;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
add_flaw(struct emf_zip *z, GString *why, unsigned flaw, const char *fmt,
    ...) G_GNUC_PRINTF(4, 5);

/* Record an archive-wide flaw; the first sentence of each kind is kept. */
static void
add_flaw(struct emf_zip *z, GString *why, unsigned flaw, const char *fmt,
    ...)
{
	va_list ap;

	if (z->flaws & flaw)
		return;
	z->flaws |= flaw;
	if (why->len > 0)
		g_string_append(why, "; ");
	va_start(ap, fmt);
	g_string_append_vprintf(why, fmt, ap);
	va_end(ap);
}

/*
 * Where the directory is and how many records it claims. The base is the
 * number of bytes prepended to the archive (a self-extractor stub, junk):
 * where the directory really ends minus where it says it starts.
 */
static bool
locate_cd(struct emf_zip *z, GString *why, uint64_t *cd_pos,
    uint64_t *cd_size, uint64_t *count, uint64_t *base)
{
	const uint8_t *d = z->data;
	size_t len = z->len, eocd;
	uint64_t cd_off, end;

	if (!find_eocd(d, len, &eocd)) {
		add_flaw(z, why, EMF_ZIP_FLAW_CD, "no end of central directory");
		return false;
	}
	*count = rd16(d + eocd + 10);
	*cd_size = rd32(d + eocd + 12);
	cd_off = rd32(d + eocd + 16);
	end = eocd;
	/* ZIP64: a locator just before the end record. [APPNOTE 4.3.15] */
	if (eocd >= 20 && rd32(d + eocd - 20) == SIG_EOCD64_LOC) {
		uint64_t e64 = rd64(d + eocd - 20 + 8);

		/*
		 * With prepended bytes the locator's offset is short too: the
		 * record usually sits right before the locator.
		 */
		if (inside(len, e64, 56) && rd32(d + e64) == SIG_EOCD64) {
			/* where it says */
		} else if (eocd >= 20 + 56 &&
		    rd32(d + eocd - 20 - 56) == SIG_EOCD64) {
			e64 = eocd - 20 - 56;
		} else {
			add_flaw(z, why, EMF_ZIP_FLAW_CD,
			    "ZIP64 end record missing");
			return false;
		}
		*count = rd64(d + e64 + 32);
		*cd_size = rd64(d + e64 + 40);
		cd_off = rd64(d + e64 + 48);
		end = e64;
	}
	if (*cd_size > end) {
		add_flaw(z, why, EMF_ZIP_FLAW_CD,
		    "central directory larger than the archive");
		return false;
	}
	/*
	 * Where the record says, when a directory starts there (bytes may
	 * sit between the directory and the end record); else right before
	 * the end record, the offsets then being off by the prepended bytes.
	 */
	if (cd_off <= end && *cd_size <= end - cd_off &&
	    (*cd_size < 4 ? *cd_size == 0 :
	    rd32(d + cd_off) == SIG_CENTRAL)) {
		*cd_pos = cd_off;
		*base = 0;
		return true;
	}
	*cd_pos = end - *cd_size;
	if (cd_off > *cd_pos) {
		add_flaw(z, why, EMF_ZIP_FLAW_CD,
		    "central directory offset past its end");
		return false;
	}
	*base = *cd_pos - cd_off;
	return true;
}

unsigned
emf_zip_check(struct emf_zip *z, size_t max_entries, char **detail)
{
	const uint8_t *d = z->data;
	size_t len = z->len;
	uint64_t cd_pos, cd_size, count, base, p;
	GString *why;
	GArray *spans;
	GHashTable *names;
	size_t nrec = 0;

	if (detail != NULL)
		*detail = NULL;
	if (z->checked)
		goto out;
	z->checked = true;
	why = g_string_new(NULL);
	if (!locate_cd(z, why, &cd_pos, &cd_size, &count, &base)) {
		z->detail = g_string_free(why, FALSE);
		goto out;
	}
	/* Every record is at least 46 bytes: the size bounds the count. */
	if (count > cd_size / CENTRAL_LEN + 1)
		add_flaw(z, why, EMF_ZIP_FLAW_COUNT,
		    "end record claims %" G_GUINT64_FORMAT
		    " entries, the directory cannot hold them", count);
	z->neflaws = count < max_entries ? (size_t)count : max_entries;
	if (z->neflaws > cd_size / CENTRAL_LEN)
		z->neflaws = (size_t)(cd_size / CENTRAL_LEN);
	z->eflaws = g_new0(unsigned, z->neflaws + 1);
	spans = g_array_sized_new(FALSE, FALSE, sizeof(struct span),
	    (guint)z->neflaws);
	names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	p = cd_pos;
	while (nrec < max_entries && p < cd_pos + cd_size) {
		uint64_t size, comp, off, lh, end;
		uint16_t flags, nlen, xlen, clen;
		char *name;

		if (!inside(len, p, CENTRAL_LEN) ||
		    rd32(d + p) != SIG_CENTRAL) {
			add_flaw(z, why, EMF_ZIP_FLAW_CD,
			    "directory record %zu is broken", nrec + 1);
			break;
		}
		flags = rd16(d + p + 8);
		comp = rd32(d + p + 20);
		size = rd32(d + p + 24);
		nlen = rd16(d + p + 28);
		xlen = rd16(d + p + 30);
		clen = rd16(d + p + 32);
		off = rd32(d + p + 42);
		if (!inside(len, p + CENTRAL_LEN,
		    (uint64_t)nlen + xlen + clen)) {
			add_flaw(z, why, EMF_ZIP_FLAW_CD,
			    "directory record %zu is cut", nrec + 1);
			break;
		}
		if (nrec >= z->neflaws) {
			/* More records than the end record said. */
			z->eflaws = g_renew(unsigned, z->eflaws, nrec + 2);
			z->eflaws[nrec] = z->eflaws[nrec + 1] = 0;
			z->neflaws = nrec + 1;
		}
		zip64_extra(d + p + CENTRAL_LEN + nlen, xlen, &size, &comp,
		    &off);
		(void)size;
		(void)flags;
		name = g_strndup((const char *)d + p + CENTRAL_LEN, nlen);
		if (emf_zip_name_unsafe((const char *)d + p + CENTRAL_LEN,
		    nlen)) {
			z->eflaws[nrec] |= EMF_ZIP_FLAW_UNSAFE_NAME;
			add_flaw(z, why, EMF_ZIP_FLAW_UNSAFE_NAME,
			    "unsafe member name (path traversal)");
		}
		if (g_hash_table_contains(names, name)) {
			z->eflaws[nrec] |= EMF_ZIP_FLAW_DUPNAME;
			add_flaw(z, why, EMF_ZIP_FLAW_DUPNAME,
			    "duplicate member names");
			g_free(name);
		} else {
			g_hash_table_add(names, name);
		}
		/* The local header and the data it leads to. [APPNOTE 4.3.7] */
		lh = base + off;
		if (off > UINT64_MAX - base || !inside(len, lh, LOCAL_LEN) ||
		    rd32(d + lh) != SIG_LOCAL) {
			z->eflaws[nrec] |= EMF_ZIP_FLAW_LOCAL;
			add_flaw(z, why, EMF_ZIP_FLAW_LOCAL,
			    "member %zu has no local header", nrec + 1);
		} else {
			end = lh + LOCAL_LEN + rd16(d + lh + 26) +
			    rd16(d + lh + 28);
			if (comp > UINT64_MAX - end || end + comp > cd_pos) {
				z->eflaws[nrec] |= EMF_ZIP_FLAW_OUTSIDE;
				add_flaw(z, why, EMF_ZIP_FLAW_OUTSIDE,
				    "member %zu runs past its bounds",
				    nrec + 1);
			} else {
				struct span sp = { lh, end + comp, nrec };

				g_array_append_val(spans, sp);
			}
		}
		p += CENTRAL_LEN + (uint64_t)nlen + xlen + clen;
		nrec++;
	}
	if (nrec < max_entries && nrec != count &&
	    !(z->flaws & EMF_ZIP_FLAW_CD))
		add_flaw(z, why, EMF_ZIP_FLAW_COUNT,
		    "end record claims %" G_GUINT64_FORMAT
		    " entries, the directory holds %zu", count, nrec);
	if (nrec >= max_entries && count > nrec)
		z->unchecked = count - nrec;
	/*
	 * Overlap: sort the spans by start; a span starting before the
	 * furthest end seen so far shares bytes with the span owning that
	 * end. Both are marked: neither can be trusted. [Fifield 2019]
	 */
	g_array_sort(spans, span_cmp);
	{
		uint64_t far = 0;
		size_t owner = 0, nover = 0;

		for (guint k = 0; k < spans->len; k++) {
			struct span *sp = &g_array_index(spans, struct span, k);

			if (k > 0 && sp->start < far) {
				if (!(z->eflaws[sp->idx] & EMF_ZIP_FLAW_OVERLAP))
					nover++;
				if (!(z->eflaws[owner] & EMF_ZIP_FLAW_OVERLAP))
					nover++;
				z->eflaws[sp->idx] |= EMF_ZIP_FLAW_OVERLAP;
				z->eflaws[owner] |= EMF_ZIP_FLAW_OVERLAP;
			}
			if (k == 0 || sp->end > far) {
				far = sp->end;
				owner = sp->idx;
			}
		}
		if (nover > 0)
			add_flaw(z, why, EMF_ZIP_FLAW_OVERLAP,
			    "%zu members share their data (overlapping-entry "
			    "zip bomb)", nover);
	}
	g_array_free(spans, TRUE);
	g_hash_table_destroy(names);
	z->detail = g_string_free(why, why->len == 0);
out:
	if (detail != NULL && z->detail != NULL)
		*detail = g_strdup(z->detail);
	return z->flaws;
}

unsigned
emf_zip_entry_flaws(const struct emf_zip *z, size_t i)
{
	return z->eflaws != NULL && i < z->neflaws ? z->eflaws[i] : 0;
}

uint64_t
emf_zip_unchecked(const struct emf_zip *z)
{
	return z->unchecked;
}
