/*
 * check_archive.c - zip members as objects: passwords from the mail on
 * ZipCrypto and WinZip AES members, nesting, the padded-document trick,
 * and one case per hostile-archive kind (overlap bomb, self-containing,
 * duplicate and traversal names, lying counts and bounds, entry, byte
 * and try limits, truncation anywhere).
 *
 * Encrypted fixtures are made at test time by tests/mkfixtures-zip.sh
 * (zip -P, 7z -mem=AES*); the structural ones are built here byte by
 * byte. Cases needing a missing tool or the shared corpus are skipped.
 */
#include "config.h"

#include <sys/stat.h>

#include "reportutil.h"

#define PW "L51ylaH"
/* invoice.doc.txt as tests/mkfixtures-zip.sh writes it. */
#define INVOICE "Invoice 2020-09 for your order.\r\n" \
	"This text stands in for a document.\r\n"

static char *fxdir;		/* NULL: fixtures could not be made */

static void
make_fixtures(void)
{
	char *script = tu_srcpath("tests/mkfixtures-zip.sh");
	char *cwd = g_get_current_dir();
	char *dir = g_build_filename(cwd, "tests", "fixtures-zip", NULL);
	char *argv[] = { "sh", script, dir, NULL };
	int status = 0;
	GError *ge = NULL;

	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
	    NULL, NULL, &status, &ge)) {
		fprintf(stderr, "check_archive: %s\n", ge->message);
		g_error_free(ge);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		fxdir = g_strdup(dir);
	} else {
		fprintf(stderr, "check_archive: fixtures not made (status %d); "
		    "fixture cases skipped\n", status);
	}
	g_free(dir);
	g_free(cwd);
	g_free(script);
}

/* Contents of a fixture, or NULL (the case is skipped). */
static uint8_t *
fixture(const char *name, size_t *len)
{
	char *p, *data = NULL;
	gsize n = 0;

	if (fxdir == NULL)
		return NULL;
	p = g_build_filename(fxdir, name, NULL);
	ck_assert_msg(g_file_get_contents(p, &data, &n, NULL),
	    "fixture %s missing", p);
	g_free(p);
	*len = n;
	return (uint8_t *)data;
}

static uint8_t *
corpus(const char *rel, size_t *len)
{
	char *p = tu_corpus(rel), *data = NULL;
	gsize n = 0;

	if (p == NULL) {
		fprintf(stderr, "check_archive: corpus %s absent, skipped\n",
		    rel);
		return NULL;
	}
	ck_assert(g_file_get_contents(p, &data, &n, NULL));
	g_free(p);
	*len = n;
	return (uint8_t *)data;
}

static char *
sha256_of(const char *s, size_t len)
{
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)s, len);
}

/* ---- passwords from the mail on encrypted members ------------------------ */

static const struct {
	const char *zip;
	const char *body;
	const char *encryption;
	const char *source;	/* prefix of the password's source */
} opened[] = {
	{ "zipcrypto.zip", "パスワード: " PW, "ZipCrypto", "body" },
	{ "zipcrypto.zip", "添付ファイルのパスワードは「" PW "」です。",
	  "ZipCrypto", "body" },
	{ "zipcrypto.zip", "ＰＷ：Ｌ５１ｙｌａＨ", "ZipCrypto", "body" },
	{ "aes128.zip", "【パスワード】" PW, "AES-128", "body" },
	{ "aes256.zip", "Password: \"" PW "\".", "AES-256", "body" },
	{ "aes256.zip", "解凍パスワード " PW, "AES-256", "body" },
	{ "aes256.zip", "Please see the file.\n\n" PW "\n", "AES-256",
	  "body 1 line 3 (bare" },
	{ "zipcrypto.zip", "請求書.zip : " PW "\n", "ZipCrypto",
	  "body 1 line 1 (next to" },
};

START_TEST(encrypted_member_opened_with_body_password)
{
	struct emf_engine *e = tu_engine(NULL);
	size_t len;
	uint8_t *zip = fixture(opened[_i].zip, &len);
	JsonNode *root;
	JsonObject *m;
	char *want_sha = sha256_of(INVOICE, strlen(INVOICE));

	if (zip == NULL)
		goto out;
	root = ru_scan_mail(e, "請求書", opened[_i].body, "請求書.zip", zip,
	    len, NULL);
	m = ru_object(root, "請求書.zip/invoice.doc.txt");
	ck_assert_msg(m != NULL, "%s: member not in the report",
	    opened[_i].zip);
	ck_assert_msg(strcmp(ru_str(m, "password"), PW) == 0,
	    "%s / \"%s\": got password \"%s\", want %s", opened[_i].zip,
	    opened[_i].body, ru_str(m, "password"), PW);
	ck_assert_str_eq(ru_str(m, "encryption"), opened[_i].encryption);
	ck_assert_msg(g_str_has_prefix(ru_str(m, "password_source"),
	    opened[_i].source), "got source \"%s\", want \"%s...\"",
	    ru_str(m, "password_source"), opened[_i].source);
	ck_assert_str_eq(ru_str(m, "sha256"), want_sha);
	ck_assert_int_eq(ru_int(m, "size"), strlen(INVOICE));
	{
		char *d = ru_details(root, "ARCHIVE_PASSWORD_IN_BODY");

		ck_assert_msg(*d != '\0', "no ARCHIVE_PASSWORD_IN_BODY");
		/* The password itself never goes into a detail (syslog). */
		ck_assert_ptr_null(strstr(d, PW));
		g_free(d);
	}
	json_node_unref(root);
	g_free(zip);
out:
	g_free(want_sha);
	emf_engine_unref(e);
}
END_TEST

START_TEST(unknown_password_and_executable_name)
{
	struct emf_engine *e = tu_engine(NULL);
	size_t len;
	uint8_t *zip = fixture("unknown.zip", &len);
	struct emf_report *r;
	JsonNode *root;
	JsonObject *m;

	if (zip == NULL)
		goto out;
	root = ru_scan_mail(e, "Invoice", "パスワード: " PW, "inv.zip", zip,
	    len, &r);
	m = ru_object(root, "inv.zip/invoice.exe");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(ru_str(m, "password"), "");
	ck_assert(ru_bool(m, "encrypted"));
	ck_assert(emf_report_has_symbol(r, "ARCHIVE_PASSWORD_UNKNOWN"));
	ck_assert(emf_report_has_symbol(r, "EXECUTABLE_ATTACHMENT"));
	ck_assert(!emf_report_has_symbol(r, "ARCHIVE_PASSWORD_IN_BODY"));
	emf_report_free(r);
	json_node_unref(root);
	g_free(zip);
out:
	emf_engine_unref(e);
}
END_TEST

START_TEST(nested_zip_followed)
{
	struct emf_engine *e = tu_engine(NULL);
	size_t len;
	uint8_t *zip = fixture("nested.zip", &len);
	struct emf_report *r;
	JsonNode *root;

	if (zip == NULL)
		goto out;
	root = ru_scan_mail(e, "x", "PW: " PW, "outer.zip", zip, len, &r);
	ck_assert(emf_report_has_symbol(r, "ARCHIVE_NESTED"));
	ck_assert_str_eq(ru_str(ru_object(root,
	    "outer.zip/inner.zip/invoice.doc.txt"), "password"), PW);
	emf_report_free(r);
	json_node_unref(root);
	g_free(zip);
out:
	emf_engine_unref(e);
}
END_TEST

START_TEST(nesting_stops_at_depth_limit)
{
	struct emf_engine *e = tu_engine(
	    "limits = { container_depth = 1; };\n");
	size_t len;
	uint8_t *zip = fixture("nested.zip", &len);
	JsonNode *root;

	if (zip == NULL)
		goto out;
	root = ru_scan_mail(e, "x", "PW: " PW, "outer.zip", zip, len, NULL);
	ck_assert(ru_limit(root, "container_depth"));
	ck_assert_ptr_null(ru_object(root, "inner.zip/invoice.doc.txt"));
	json_node_unref(root);
	g_free(zip);
out:
	emf_engine_unref(e);
}
END_TEST

/*
 * Tries: the candidate that opened one member is tried first on the
 * next, and wrong tries are bounded per archive.
 */
START_TEST(password_tries_per_archive)
{
	static const struct {
		int tries;
		unsigned want_opened;
		bool want_limit;
	} cases[] = { { 2, 3, false }, { 1, 0, true } };
	size_t len;
	uint8_t *zip = fixture("multi.zip", &len);

	if (zip == NULL)
		return;
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		char *conf = g_strdup_printf(
		    "limits = { password_tries = %d; };\n", cases[k].tries);
		struct emf_engine *e = tu_engine(conf);
		JsonNode *root = ru_scan_mail(e, "x",
		    "PW: wrong1x\nPW: " PW "\n", "m.zip", zip, len, NULL);
		JsonObject *z = ru_object(root, "m.zip");
		JsonArray *ch = json_object_get_array_member(z, "children");
		unsigned n = 0;

		for (guint i = 0; i < json_array_get_length(ch); i++)
			n += strcmp(ru_str(json_array_get_object_element(ch, i),
			    "password"), PW) == 0;
		ck_assert_msg(n == cases[k].want_opened,
		    "tries %d: got %u opened, want %u", cases[k].tries, n,
		    cases[k].want_opened);
		ck_assert_int_eq(ru_limit(root, "password_tries"),
		    cases[k].want_limit);
		json_node_unref(root);
		emf_engine_unref(e);
		g_free(conf);
	}
	g_free(zip);
}
END_TEST

/* ---- the padded document ---------------------------------------------------- */

START_TEST(inflated_document_head_kept)
{
	struct emf_engine *e = tu_engine(
	    "limits = { object_bytes = 4194304; };\n");
	size_t len;
	uint8_t *zip = fixture("inflated.zip", &len);
	struct emf_report *r;
	JsonNode *root;
	JsonObject *m;

	if (zip == NULL)
		goto out;
	ck_assert_int_lt(len, 1024 * 1024);
	root = ru_scan_mail(e, "x", "see attached", "doc.zip", zip, len, &r);
	m = ru_object(root, "doc.zip/doc.doc");
	ck_assert_ptr_nonnull(m);
	ck_assert(emf_report_has_symbol(r, "INFLATED_FILE"));
	ck_assert(ru_bool(m, "truncated"));
	/* The head is what the Office handler needs: kept, and typed. */
	ck_assert_int_eq(ru_int(m, "size"), 4194304);
	ck_assert_str_eq(ru_str(m, "type"), "ole2");
	ck_assert_int_gt(ru_int(m, "declared_size"), 40 * 1024 * 1024);
	ck_assert(ru_limit(root, "object_bytes"));
	emf_report_free(r);
	json_node_unref(root);
	g_free(zip);
out:
	emf_engine_unref(e);
}
END_TEST

/* ---- zips built byte by byte --------------------------------------------- */

static uint32_t
crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void
put16(GByteArray *b, unsigned v)
{
	uint8_t x[2] = { v & 0xff, (v >> 8) & 0xff };

	g_byte_array_append(b, x, 2);
}

static void
put32(GByteArray *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

struct zent {
	const char *name;
	const char *data;
};

enum {
	Z_OVERLAP = 1,		/* every record points at local header 0 */
	Z_COUNT_LOW = 2,	/* end record claims one entry fewer */
	Z_COMP_PAST = 4,	/* record 0's compressed size runs into the CD */
	Z_BAD_CD_SIG = 8	/* record 1's signature broken */
};

/* A zip of stored members, bent by opts. Caller frees (g_byte_array). */
static GByteArray *
build_zip(const struct zent *ents, size_t n, unsigned opts)
{
	GByteArray *b = g_byte_array_new();
	uint32_t *offs = g_new0(uint32_t, n);
	uint32_t cd;

	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(ents[i].name), dl = strlen(ents[i].data);
		uint32_t crc = crc32_of((const uint8_t *)ents[i].data, dl);

		offs[i] = b->len;
		put32(b, 0x04034b50);
		put16(b, 10); put16(b, 0); put16(b, 0);	/* ver, flags, stored */
		put16(b, 0); put16(b, 0x21);		/* time, date */
		put32(b, crc); put32(b, dl); put32(b, dl);
		put16(b, nl); put16(b, 0);
		g_byte_array_append(b, (const guint8 *)ents[i].name, nl);
		g_byte_array_append(b, (const guint8 *)ents[i].data, dl);
	}
	cd = b->len;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(ents[i].name), dl = strlen(ents[i].data);
		uint32_t crc = crc32_of((const uint8_t *)ents[i].data, dl);
		uint32_t comp = dl;

		if ((opts & Z_COMP_PAST) && i == 0)
			comp = cd - offs[0];
		put32(b, (opts & Z_BAD_CD_SIG) && i == 1 ? 0x02014b51 :
		    0x02014b50);
		put16(b, 20); put16(b, 10); put16(b, 0); put16(b, 0);
		put16(b, 0); put16(b, 0x21);
		put32(b, crc); put32(b, comp); put32(b, dl);
		put16(b, nl); put16(b, 0); put16(b, 0);
		put16(b, 0); put16(b, 0); put32(b, 0);
		put32(b, (opts & Z_OVERLAP) ? offs[0] : offs[i]);
		g_byte_array_append(b, (const guint8 *)ents[i].name, nl);
	}
	put32(b, 0x06054b50);
	put16(b, 0); put16(b, 0);
	put16(b, n - ((opts & Z_COUNT_LOW) ? 1 : 0));
	put16(b, n - ((opts & Z_COUNT_LOW) ? 1 : 0));
	put32(b, b->len - 12 - cd);		/* CD size: before this record */
	put32(b, cd);
	put16(b, 0);
	/* The size was written 12 bytes in: fix it to the real one. */
	{
		uint32_t size = (b->len - 22) - cd;

		b->data[b->len - 10] = size & 0xff;
		b->data[b->len - 9] = (size >> 8) & 0xff;
		b->data[b->len - 8] = (size >> 16) & 0xff;
		b->data[b->len - 7] = size >> 24;
	}
	g_free(offs);
	return b;
}

static JsonNode *
scan_zip(struct emf_engine *e, const GByteArray *z, struct emf_report **rp)
{
	struct emf_report *r = NULL;
	JsonNode *root;

	ck_assert_int_eq(emf_scan_file(e, z->data, z->len, "t.zip", NULL, &r),
	    EMF_OK);
	root = ru_json(r);
	if (rp != NULL)
		*rp = r;
	else
		emf_report_free(r);
	return root;
}

static const struct zent three[] = {
	{ "a.txt", "alpha alpha alpha\n" },
	{ "b.txt", "bravo bravo bravo\n" },
	{ "c.txt", "charlie charlie charlie\n" },
};

static const struct {
	const char *label;
	struct zent ents[3];
	unsigned opts;
	const char *want_detail;	/* in ARCHIVE_MALFORMED's details */
	int want_children;		/* -1: don't care */
	const char *want_limit;		/* or NULL */
} hostile[] = {
	{ "overlap bomb", { { "a.txt", "zzzzzzzzzzzzzzzzzzzzzzzzzz" },
	  { "b.txt", "x" }, { "c.txt", "y" } }, Z_OVERLAP,
	  "share their data", 0, "archive_overlap" },
	{ "duplicate names", { { "a.txt", "one" }, { "a.txt", "two" },
	  { "b.txt", "three" } }, 0, "duplicate member names", 3, NULL },
	{ "zip-slip", { { "../../etc/cron.d/x", "one" },
	  { "ok.txt", "two" }, { "C:/Windows/x.txt", "three" } }, 0,
	  "unsafe member name", 3, NULL },
	{ "backslash zip-slip", { { "..\\..\\x.bat", "one" },
	  { "ok.txt", "two" }, { "ok2.txt", "three" } }, 0,
	  "unsafe member name", -1, NULL },
	/* libzip refuses this one itself; the corpus case below covers
	 * a count that libzip accepts and we flag. */
	{ "count too low", { { "a.txt", "one" }, { "b.txt", "two" },
	  { "c.txt", "three" } }, Z_COUNT_LOW, "", -1,
	  NULL },
	{ "data into the directory", { { "a.txt", "one" }, { "b.txt", "two" },
	  { "c.txt", "three" } }, Z_COMP_PAST, "runs past its bounds", -1,
	  NULL },
	{ "broken directory record", { { "a.txt", "one" }, { "b.txt", "two" },
	  { "c.txt", "three" } }, Z_BAD_CD_SIG, "", -1, NULL },
};

START_TEST(hostile_structure)
{
	struct emf_engine *e = tu_engine(NULL);
	GByteArray *z = build_zip(hostile[_i].ents, 3, hostile[_i].opts);
	struct emf_report *r;
	JsonNode *root = scan_zip(e, z, &r);
	char *d = ru_details(root, "ARCHIVE_MALFORMED");
	JsonObject *top = ru_object(root, "t.zip");

	ck_assert_msg(emf_report_has_symbol(r, "ARCHIVE_MALFORMED"),
	    "%s: no ARCHIVE_MALFORMED", hostile[_i].label);
	ck_assert_msg(strstr(d, hostile[_i].want_detail) != NULL,
	    "%s: got details \"%s\", want \"%s\"", hostile[_i].label, d,
	    hostile[_i].want_detail);
	if (hostile[_i].want_children >= 0)
		ck_assert_msg(ru_nchildren(top) ==
		    (guint)hostile[_i].want_children,
		    "%s: got %u members, want %d", hostile[_i].label,
		    ru_nchildren(top), hostile[_i].want_children);
	if (hostile[_i].want_limit != NULL)
		ck_assert_msg(ru_limit(root, hostile[_i].want_limit),
		    "%s: limit %s not recorded", hostile[_i].label,
		    hostile[_i].want_limit);
	g_free(d);
	emf_report_free(r);
	json_node_unref(root);
	g_byte_array_free(z, TRUE);
	emf_engine_unref(e);
}
END_TEST

START_TEST(clean_zip_is_not_malformed)
{
	struct emf_engine *e = tu_engine(NULL);
	GByteArray *z = build_zip(three, 3, 0);
	struct emf_report *r;
	JsonNode *root = scan_zip(e, z, &r);
	JsonObject *a = ru_object(root, "t.zip/a.txt");
	char *want = sha256_of(three[0].data, strlen(three[0].data));

	ck_assert_msg(emf_report_nsymbols(r) == 0, "got symbol %s",
	    emf_report_symbol_name(r, 0));
	ck_assert_int_eq(ru_nchildren(ru_object(root, "t.zip")), 3);
	ck_assert_str_eq(ru_str(a, "sha256"), want);
	ck_assert_int_eq(ru_int(a, "size"), strlen(three[0].data));
	g_free(want);
	emf_report_free(r);
	json_node_unref(root);
	g_byte_array_free(z, TRUE);
	emf_engine_unref(e);
}
END_TEST

START_TEST(entry_count_capped)
{
	struct emf_engine *e = tu_engine(
	    "limits = { archive_entries = 2; };\n");
	GByteArray *z = build_zip(three, 3, 0);
	JsonNode *root = scan_zip(e, z, NULL);

	ck_assert(ru_limit(root, "archive_entries"));
	ck_assert_int_eq(ru_nchildren(ru_object(root, "t.zip")), 2);
	json_node_unref(root);
	g_byte_array_free(z, TRUE);
	emf_engine_unref(e);
}
END_TEST

START_TEST(message_bytes_capped)
{
	struct emf_engine *e = tu_engine(
	    "limits = { total_bytes = 4096; object_bytes = 16384; };\n");
	char *big = g_strnfill(3000, 'q');
	struct zent ents[] = { { "1.txt", big }, { "2.txt", big },
		{ "3.txt", big } };
	GByteArray *z = build_zip(ents, 3, 0);
	JsonNode *root = scan_zip(e, z, NULL);
	JsonObject *m1 = ru_object(root, "t.zip/1.txt");
	JsonObject *m2 = ru_object(root, "t.zip/2.txt");

	/*
	 * 3000 bytes fit; the second member gets what is left of the 4096
	 * and is cut; the third gets nothing and is not extracted.
	 */
	ck_assert_int_eq(ru_int(m1, "size"), 3000);
	ck_assert(!ru_bool(m1, "truncated"));
	ck_assert_int_eq(ru_int(m2, "size"), 4096 - 3000);
	ck_assert(ru_bool(m2, "truncated"));
	ck_assert(ru_limit(root, "object_bytes"));
	ck_assert(ru_limit(root, "total_bytes"));
	ck_assert_int_eq(ru_nchildren(ru_object(root, "t.zip")), 2);
	json_node_unref(root);
	g_byte_array_free(z, TRUE);
	g_free(big);
	emf_engine_unref(e);
}
END_TEST

/* Every prefix and a byte flipped everywhere: a verdict, never a crash. */
START_TEST(truncated_and_flipped_never_crash)
{
	struct emf_engine *e = tu_engine(NULL);
	GByteArray *z = build_zip(three, 3, 0);

	for (guint n = 0; n <= z->len; n++) {
		struct emf_report *r = NULL;

		ck_assert_int_eq(emf_scan_file(e, z->data, n, "t.zip", NULL,
		    &r), EMF_OK);
		emf_report_free(r);
	}
	for (guint i = 0; i < z->len; i++) {
		struct emf_report *r = NULL;
		uint8_t *c = g_memdup2(z->data, z->len);

		c[i] ^= 0xff;
		ck_assert_int_eq(emf_scan_file(e, c, z->len, "t.zip", NULL,
		    &r), EMF_OK);
		emf_report_free(r);
		g_free(c);
	}
	g_byte_array_free(z, TRUE);
	emf_engine_unref(e);
}
END_TEST

/* ---- the shared corpus ------------------------------------------------------ */

START_TEST(corpus_tika_mail_password_test)
{
	struct emf_engine *e = tu_engine(NULL);
	size_t len;
	uint8_t *m = corpus("tika-mail/testRFC822_encrypted_zip", &len);
	struct emf_report *r = NULL;
	JsonNode *root;
	JsonObject *o;

	if (m == NULL)
		goto out;
	ck_assert_int_eq(emf_scan_message(e, m, len, NULL, &r), EMF_OK);
	root = ru_json(r);
	o = ru_object(root, "test.zip/text.txt");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(ru_str(o, "password"), "test");
	ck_assert_str_eq(ru_str(o, "encryption"), "ZipCrypto");
	ck_assert(emf_report_has_symbol(r, "ARCHIVE_PASSWORD_IN_BODY"));
	ck_assert(!emf_report_has_symbol(r, "ARCHIVE_PASSWORD_UNKNOWN"));
	json_node_unref(root);
	emf_report_free(r);
	g_free(m);
out:
	emf_engine_unref(e);
}
END_TEST

static const struct {
	const char *file;
	const char *body;	/* NULL: scanned as a bare file */
	const char *symbol;	/* must be raised */
	const char *detail;	/* in that symbol's details, or NULL */
	const char *limit;	/* must be in limits_hit, or NULL */
} corpus_cases[] = {
	{ "recursiveextractor-testdata/TestData/Bombs/zbsm.zip", NULL,
	  "ARCHIVE_MALFORMED", "overlapping-entry zip bomb",
	  "archive_overlap" },
	{ "tika-archives/droste.zip", NULL, "ARCHIVE_MALFORMED",
	  "containing itself", NULL },
	{ "recursiveextractor-testdata/TestData/Bombs/zip-slip.zip", NULL,
	  "ARCHIVE_MALFORMED", "unsafe member name", NULL },
	{ "recursiveextractor-testdata/TestData/Bombs/zip-slip-win.zip", NULL,
	  "ARCHIVE_MALFORMED", "unsafe member name", NULL },
	{ "libzip-regress/data/filename_duplicate.zip", NULL,
	  "ARCHIVE_MALFORMED", "duplicate member names", NULL },
	{ "libzip-regress/data/bigzero-zip.zip", NULL, "INFLATED_FILE", NULL,
	  "object_bytes" },
	{ "libzip-regress/data/incons-local-filename-long.zip", NULL,
	  "ARCHIVE_MALFORMED", "runs past its bounds", NULL },
	{ "libzip-regress/data/incons-file-count-high.zip", NULL,
	  "ARCHIVE_MALFORMED", NULL, NULL },
	{ "libzip-regress/data/encrypt-aes256.zip", "Password: foofoofoo",
	  "ARCHIVE_PASSWORD_IN_BODY", NULL, NULL },
	{ "libzip-regress/data/encrypt-aes128.zip", "パスワード：foofoofoo",
	  "ARCHIVE_PASSWORD_IN_BODY", NULL, NULL },
	{ "libzip-regress/data/encrypt.zip", "PW: foo\nパスワード: wrong",
	  "ARCHIVE_PASSWORD_IN_BODY", NULL, NULL },
	{ "recursiveextractor-testdata/TestData/TestDataArchives/"
	  "TestDataEncryptedAES.zip", "【パスワード】TestData",
	  "ARCHIVE_PASSWORD_IN_BODY", NULL, NULL },
	{ "recursiveextractor-testdata/TestData/TestDataArchives/"
	  "TestDataEncryptedZipCrypto.zip", "password is \"TestData\"",
	  "ARCHIVE_PASSWORD_IN_BODY", NULL, NULL },
	{ "libarchive-testdata/decoded/"
	  "test_read_format_zip_traditional_encryption_data.zip",
	  "パスワードは 12345678 です", "ARCHIVE_PASSWORD_IN_BODY", NULL, NULL },
	{ "tika-archives/testZipEncrypted.zip", "PW: unknown1",
	  "ARCHIVE_PASSWORD_UNKNOWN", NULL, NULL },
	{ "tika-archives/test-zip-of-zip.zip", NULL, "ARCHIVE_NESTED", NULL,
	  NULL },
};

START_TEST(corpus_archives)
{
	struct emf_engine *e = tu_engine(NULL);
	size_t len;
	uint8_t *data = corpus(corpus_cases[_i].file, &len);
	struct emf_report *r = NULL;
	JsonNode *root;

	if (data == NULL)
		goto out;
	if (corpus_cases[_i].body != NULL) {
		root = ru_scan_mail(e, "x", corpus_cases[_i].body, "a.zip",
		    data, len, &r);
	} else {
		ck_assert_int_eq(emf_scan_file(e, data, len, "a.zip", NULL,
		    &r), EMF_OK);
		root = ru_json(r);
	}
	ck_assert_msg(emf_report_has_symbol(r, corpus_cases[_i].symbol),
	    "%s: no %s", corpus_cases[_i].file, corpus_cases[_i].symbol);
	if (corpus_cases[_i].detail != NULL) {
		char *d = ru_details(root, corpus_cases[_i].symbol);

		ck_assert_msg(strstr(d, corpus_cases[_i].detail) != NULL,
		    "%s: got \"%s\", want \"%s\"", corpus_cases[_i].file, d,
		    corpus_cases[_i].detail);
		g_free(d);
	}
	if (corpus_cases[_i].limit != NULL)
		ck_assert_msg(ru_limit(root, corpus_cases[_i].limit),
		    "%s: limit %s not recorded", corpus_cases[_i].file,
		    corpus_cases[_i].limit);
	json_node_unref(root);
	emf_report_free(r);
	g_free(data);
out:
	emf_engine_unref(e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("archive");
	TCase *tp = tcase_create("passwords");
	TCase *th = tcase_create("hostile");
	TCase *tc = tcase_create("corpus");

	make_fixtures();
	tcase_add_loop_test(tp, encrypted_member_opened_with_body_password, 0,
	    G_N_ELEMENTS(opened));
	tcase_add_test(tp, unknown_password_and_executable_name);
	tcase_add_test(tp, nested_zip_followed);
	tcase_add_test(tp, nesting_stops_at_depth_limit);
	tcase_add_test(tp, password_tries_per_archive);
	tcase_add_test(tp, inflated_document_head_kept);
	suite_add_tcase(s, tp);

	tcase_add_loop_test(th, hostile_structure, 0, G_N_ELEMENTS(hostile));
	tcase_add_test(th, clean_zip_is_not_malformed);
	tcase_add_test(th, entry_count_capped);
	tcase_add_test(th, message_bytes_capped);
	tcase_add_test(th, truncated_and_flipped_never_crash);
	suite_add_tcase(s, th);

	tcase_add_test(tc, corpus_tika_mail_password_test);
	tcase_add_loop_test(tc, corpus_archives, 0,
	    G_N_ELEMENTS(corpus_cases));
	suite_add_tcase(s, tc);
	return tu_run(s);
}
