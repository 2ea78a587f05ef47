/*
 * check_spool.c - the milter's message spool: memory and disk, the exact
 * bytes back, header rebuilding, the size cap.
 */
#include "config.h"

#include <sys/stat.h>

#include "../../src/milter/spool.h"
#include "testutil.h"

/* Feed text in chunks of n bytes; return the spool. */
static struct emf_spool *
feed(const char *text, size_t chunk, size_t mem_cap, size_t max)
{
	struct emf_spool *sp = emf_spool_new(mem_cap, max, g_get_tmp_dir());
	size_t len = strlen(text);

	ck_assert_ptr_nonnull(sp);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		ck_assert_int_eq(emf_spool_append(sp, text + off, n), EMF_OK);
	}
	return sp;
}

static const struct {
	const char *label;
	size_t chunk, mem_cap;
	bool want_disk;
} modes[] = {
	{ "all in memory", 7, 1 << 20, false },
	{ "spills mid-way", 5, 64, true },
	{ "spills at once", 1000, 1, true },
	{ "byte by byte, spilling", 1, 10, true },
};

START_TEST(bytes_come_back_exactly)
{
	GString *text = g_string_new(NULL);
	struct emf_spool *sp;
	const uint8_t *data;
	size_t len;
	int fd;
	struct stat st;

	for (int i = 0; i < 200; i++)
		g_string_append_printf(text, "line %d\r\n", i);
	sp = feed(text->str, modes[_i].chunk, modes[_i].mem_cap, 1 << 20);
	ck_assert_int_eq(emf_spool_finish(sp, &data, &len, &fd), EMF_OK);
	ck_assert_msg(emf_spool_on_disk(sp) == modes[_i].want_disk,
	    "%s: got on_disk %d, want %d", modes[_i].label,
	    emf_spool_on_disk(sp), modes[_i].want_disk);
	ck_assert_msg(len == text->len, "%s: got %zu bytes, want %zu",
	    modes[_i].label, len, text->len);
	ck_assert_msg(memcmp(data, text->str, len) == 0, "%s: bytes differ",
	    modes[_i].label);
	/* The descriptor holds the same message (what the worker reads). */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq((size_t)st.st_size, text->len);
	/* A second finish returns the same thing. */
	ck_assert_int_eq(emf_spool_finish(sp, &data, &len, &fd), EMF_OK);
	ck_assert_int_eq(len, text->len);
	emf_spool_free(sp);
	g_string_free(text, TRUE);
}
END_TEST

static const struct {
	const char *name, *value, *want;
} hdrs[] = {
	{ "Subject", " hello", "Subject: hello\r\n" },
	{ "X-Empty", "", "X-Empty:\r\n" },
	{ "Received", " from a\n\tby b", "Received: from a\r\n\tby b\r\n" },
	{ "Received", " from a\r\n\tby b", "Received: from a\r\n\tby b\r\n" },
	{ "To", " a@example.org,\n b@example.org\n", "To: a@example.org,\r\n b@example.org\r\n\r\n" },
};

START_TEST(headers_rebuilt_with_crlf)
{
	struct emf_spool *sp = emf_spool_new(1024, 4096, g_get_tmp_dir());
	const uint8_t *data;
	size_t len;

	ck_assert_int_eq(emf_spool_header(sp, hdrs[_i].name, hdrs[_i].value),
	    EMF_OK);
	ck_assert_int_eq(emf_spool_finish(sp, &data, &len, NULL), EMF_OK);
	ck_assert_msg(len == strlen(hdrs[_i].want) &&
	    memcmp(data, hdrs[_i].want, len) == 0, "%s: got \"%.*s\", want \"%s\"",
	    hdrs[_i].name, (int)len, (const char *)data, hdrs[_i].want);
	emf_spool_free(sp);
}
END_TEST

START_TEST(oversize_is_counted_not_kept)
{
	struct emf_spool *sp = feed("0123456789abcdefghij", 3, 4, 10);
	const uint8_t *data;
	size_t len;

	ck_assert(emf_spool_oversize(sp));
	ck_assert_int_eq(emf_spool_size(sp), 20);
	ck_assert_int_eq(emf_spool_finish(sp, &data, &len, NULL), EMF_OK);
	ck_assert_msg(len <= 10, "got %zu bytes kept, want at most 10", len);
	emf_spool_free(sp);

	sp = feed("0123456789", 3, 4, 10);
	ck_assert(!emf_spool_oversize(sp));
	emf_spool_free(sp);
}
END_TEST

START_TEST(empty_message)
{
	struct emf_spool *sp = emf_spool_new(16, 16, g_get_tmp_dir());
	const uint8_t *data;
	size_t len = 99;
	int fd = -1;

	ck_assert_int_eq(emf_spool_finish(sp, &data, &len, &fd), EMF_OK);
	ck_assert_int_eq(len, 0);
	ck_assert_int_ge(fd, 0);
	emf_spool_free(sp);
	emf_spool_free(NULL);
}
END_TEST

START_TEST(unwritable_spill_dir_is_io_error)
{
	struct emf_spool *sp = emf_spool_new(4, 1024, "/nonexistent/dir");

	ck_assert_int_eq(emf_spool_append(sp, "abc", 3), EMF_OK);
	ck_assert_int_eq(emf_spool_append(sp, "defgh", 5), EMF_ERR_IO);
	emf_spool_free(sp);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("spool");

	tcase_add_loop_test(tc, bytes_come_back_exactly, 0,
	    sizeof(modes) / sizeof(modes[0]));
	tcase_add_loop_test(tc, headers_rebuilt_with_crlf, 0,
	    sizeof(hdrs) / sizeof(hdrs[0]));
	tcase_add_test(tc, oversize_is_counted_not_kept);
	tcase_add_test(tc, empty_message);
	tcase_add_test(tc, unwritable_spill_dir_is_io_error);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
