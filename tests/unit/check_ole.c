/*
 * check_ole.c - the bounded compound file reader on a small file built
 * here ([MS-CFB]), and on broken copies of it: loops in the FAT and the
 * mini FAT, directory cycles, truncation, caps.
 */
#include "config.h"

#include "office/ole.h"
#include "testutil.h"

#define SS 512
#define END 0xFFFFFFFEu
#define FREE 0xFFFFFFFFu

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Sector s of the file (header is sector -1). */
static uint8_t *
sec(GByteArray *b, int s)
{
	return b->data + (size_t)(s + 1) * SS;
}

static void
dirent(GByteArray *b, int i, const char *name, uint8_t type, uint32_t left,
    uint32_t right, uint32_t child, uint32_t start, uint32_t size)
{
	uint8_t *p = sec(b, 1 + i / 4) + (i % 4) * 128;
	size_t n = strlen(name);

	memset(p, 0, 128);
	for (size_t k = 0; k < n; k++)
		put16(p + 2 * k, (uint16_t)name[k]);
	put16(p + 0x40, (uint16_t)(2 * n + 2));
	p[0x42] = type;
	p[0x43] = 1;
	put32(p + 0x44, left);
	put32(p + 0x48, right);
	put32(p + 0x4C, child);
	put32(p + 0x74, start);
	put32(p + 0x78, size);
}

static uint8_t
pat(size_t i, uint8_t seed)
{
	return (uint8_t)(i * 7 + seed);
}

/*
 * Sectors: 0 FAT, 1-2 directory, 3 mini FAT, 4 mini stream, 5-14 "Big"
 * (5000 bytes). Tree: root -> { Small, Big, Store -> { Inner } }.
 * Small (100 bytes, mini sectors 0-1), Inner (50 bytes, mini sector 2).
 */
static GByteArray *
build(void)
{
	GByteArray *b = g_byte_array_new();
	uint8_t *h, *fat, *mf, *ms;

	g_byte_array_set_size(b, 16 * SS);
	memset(b->data, 0, b->len);
	h = b->data;
	memcpy(h, EMF_OLE_MAGIC, 8);
	put16(h + 0x18, 0x3E);
	put16(h + 0x1A, 3);
	put16(h + 0x1C, 0xFFFE);
	put16(h + 0x1E, 9);
	put16(h + 0x20, 6);
	put32(h + 0x2C, 1);
	put32(h + 0x30, 1);
	put32(h + 0x38, 4096);
	put32(h + 0x3C, 3);
	put32(h + 0x40, 1);
	put32(h + 0x44, END);
	for (int i = 0; i < 109; i++)
		put32(h + 0x4C + 4 * i, i == 0 ? 0 : FREE);
	fat = sec(b, 0);
	for (int i = 0; i < 128; i++)
		put32(fat + 4 * i, FREE);
	put32(fat + 0, 0xFFFFFFFDu);
	put32(fat + 4, 2);
	put32(fat + 8, END);
	put32(fat + 12, END);
	put32(fat + 16, END);
	for (int s = 5; s < 14; s++)
		put32(fat + 4 * s, (uint32_t)s + 1);
	put32(fat + 4 * 14, END);
	mf = sec(b, 3);
	for (int i = 0; i < 128; i++)
		put32(mf + 4 * i, FREE);
	put32(mf + 0, 1);
	put32(mf + 4, END);
	put32(mf + 8, END);
	ms = sec(b, 4);
	for (size_t i = 0; i < 100; i++)
		ms[i] = pat(i, 1);
	for (size_t i = 0; i < 50; i++)
		ms[128 + i] = pat(i, 2);
	for (size_t i = 0; i < 5000; i++)
		sec(b, 5)[i] = pat(i, 3);
	dirent(b, 0, "Root Entry", EMF_OLE_ROOT, FREE, FREE, 2, 4, 192);
	dirent(b, 1, "Small", EMF_OLE_STREAM, FREE, FREE, FREE, 0, 100);
	dirent(b, 2, "Big", EMF_OLE_STREAM, 1, 3, FREE, 5, 5000);
	dirent(b, 3, "Store", EMF_OLE_STORAGE, FREE, FREE, 4, 0, 0);
	dirent(b, 4, "Inner", EMF_OLE_STREAM, FREE, FREE, FREE, 2, 50);
	return b;
}

/* Read path; returns how, fills *len; checks the pattern if seed != 0. */
static enum emf_ole_read
read_path(struct emf_ole *ole, const char *path, size_t cap, size_t *len,
    uint8_t seed)
{
	long i = emf_ole_path(ole, path);
	uint8_t *d;
	enum emf_ole_read how;

	ck_assert_msg(i >= 0, "%s: not found", path);
	ck_assert_int_eq(emf_ole_read(ole, (size_t)i, cap, &d, len, &how),
	    EMF_OK);
	for (size_t k = 0; seed != 0 && k < *len; k++)
		ck_assert_msg(d[k] == pat(k, seed), "%s: byte %zu differs",
		    path, k);
	g_free(d);
	return how;
}

static struct emf_ole *
open_ok(GByteArray *b)
{
	struct emf_ole *ole;
	char *why = NULL;
	bool capped;

	if (emf_ole_open(b->data, b->len, 1000, &ole, &capped, &why) !=
	    EMF_OK)
		ck_abort_msg("open: %s", why);
	return ole;
}

START_TEST(reads_streams)
{
	GByteArray *b = build();
	struct emf_ole *ole = open_ok(b);
	size_t len;

	ck_assert_uint_eq(emf_ole_count(ole), 8);	/* 2 sectors x 4 */
	ck_assert_int_eq(read_path(ole, "Small", 1 << 20, &len, 1),
	    EMF_OLE_READ_OK);
	ck_assert_uint_eq(len, 100);
	ck_assert_int_eq(read_path(ole, "Big", 1 << 20, &len, 3),
	    EMF_OLE_READ_OK);
	ck_assert_uint_eq(len, 5000);
	ck_assert_int_eq(read_path(ole, "store/INNER", 1 << 20, &len, 2),
	    EMF_OLE_READ_OK);
	ck_assert_uint_eq(len, 50);
	ck_assert_int_eq(read_path(ole, "Big", 1000, &len, 3),
	    EMF_OLE_READ_CAPPED);
	ck_assert_uint_eq(len, 1000);
	ck_assert_int_lt(emf_ole_path(ole, "Inner"), 0);
	ck_assert_ptr_null(emf_ole_warning(ole));
	emf_ole_free(ole);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(fat_loop_ends_chain)
{
	GByteArray *b = build();
	struct emf_ole *ole;
	size_t len;

	put32(sec(b, 0) + 4 * 7, 5);	/* 5 -> 6 -> 7 -> 5 ... */
	ole = open_ok(b);
	ck_assert_int_eq(read_path(ole, "Big", 1 << 20, &len, 3),
	    EMF_OLE_READ_SHORT);
	ck_assert_msg(len == 3 * SS, "got %zu bytes, want %d", len, 3 * SS);
	ck_assert_ptr_nonnull(strstr(emf_ole_warning(ole), "loops"));
	emf_ole_free(ole);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(minifat_loop_ends_chain)
{
	GByteArray *b = build();
	struct emf_ole *ole;
	size_t len;

	put32(sec(b, 3) + 4, 0);	/* mini 0 -> 1 -> 0 */
	put32(sec(b, 1) + 128 + 0x78, 4000);	/* Small claims 4000 */
	ole = open_ok(b);
	ck_assert_int_eq(read_path(ole, "Small", 1 << 20, &len, 0),
	    EMF_OLE_READ_SHORT);
	ck_assert_uint_eq(len, 128);
	emf_ole_free(ole);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(directory_cycle)
{
	GByteArray *b = build();
	struct emf_ole *ole;
	size_t len;

	put32(sec(b, 1) + 3 * 128 + 0x48, 2);	/* Store.right = Big */
	put32(sec(b, 2) + 0 * 128 + 0x44, 0);	/* Inner.left = root */
	put32(sec(b, 2) + 0 * 128 + 0x4C, 3);	/* Inner.child = Store */
	ole = open_ok(b);
	ck_assert_int_eq(read_path(ole, "Store/Inner", 1 << 20, &len, 2),
	    EMF_OLE_READ_OK);
	ck_assert_ptr_nonnull(emf_ole_warning(ole));
	emf_ole_free(ole);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(truncated_file)
{
	GByteArray *b = build();
	struct emf_ole *ole;
	size_t len;

	g_byte_array_set_size(b, 7 * SS + 100);	/* Big: sectors 5, + 100 */
	ole = open_ok(b);
	ck_assert_int_eq(read_path(ole, "Big", 1 << 20, &len, 3),
	    EMF_OLE_READ_SHORT);
	ck_assert_msg(len == SS + 100, "got %zu, want %d", len, SS + 100);
	emf_ole_free(ole);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(entry_cap_and_bad_headers)
{
	GByteArray *b = build();
	struct emf_ole *ole;
	bool capped = false;
	char *why = NULL;

	ck_assert_int_eq(emf_ole_open(b->data, b->len, 2, &ole, &capped,
	    &why), EMF_OK);
	ck_assert_msg(capped && emf_ole_count(ole) == 2,
	    "cap 2: got %zu entries, capped %d", emf_ole_count(ole), capped);
	emf_ole_free(ole);
	ck_assert_int_eq(emf_ole_open(b->data, 100, 1000, &ole, &capped,
	    &why), EMF_ERR_FORMAT);
	g_free(why);
	b->data[0] = 0;
	ck_assert_int_eq(emf_ole_open(b->data, b->len, 1000, &ole, &capped,
	    &why), EMF_ERR_FORMAT);
	g_free(why);
	g_byte_array_free(b, TRUE);
}
END_TEST

/* Every byte of the header, FAT and directory set to 0xFF in turn. */
START_TEST(single_byte_damage)
{
	GByteArray *good = build();

	for (size_t i = 0; i < 4 * SS; i++) {
		GByteArray *b = g_byte_array_new();
		struct emf_ole *ole;
		bool capped;
		char *why = NULL;

		g_byte_array_append(b, good->data, good->len);
		b->data[i] ^= 0xFF;
		if (emf_ole_open(b->data, b->len, 1000, &ole, &capped, &why) ==
		    EMF_OK) {
			for (size_t k = 0; k < emf_ole_count(ole); k++) {
				uint8_t *d;
				size_t len;
				enum emf_ole_read how;

				if (emf_ole_read(ole, k, 1 << 20, &d, &len,
				    &how) == EMF_OK) {
					ck_assert(len <= good->len);
					g_free(d);
				}
			}
			emf_ole_free(ole);
		} else {
			g_free(why);
		}
		g_byte_array_free(b, TRUE);
	}
	g_byte_array_free(good, TRUE);
}
END_TEST

static Suite *
ole_suite(void)
{
	Suite *s = suite_create("ole");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, reads_streams);
	tcase_add_test(tc, fat_loop_ends_chain);
	tcase_add_test(tc, minifat_loop_ends_chain);
	tcase_add_test(tc, directory_cycle);
	tcase_add_test(tc, truncated_file);
	tcase_add_test(tc, entry_cap_and_bad_headers);
	tcase_add_test(tc, single_byte_damage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(ole_suite());
}
