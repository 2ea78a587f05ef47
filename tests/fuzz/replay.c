/*
 * replay.c - run a harness over saved inputs without libFuzzer.
 *
 *   fuzz_NAME_replay [FILE|DIR...]
 *
 * Without arguments: $top_srcdir/tests/fuzz/regress/NAME (make check),
 * which must hold at least one input. Each file (each regular file of a
 * directory, not recursive) is given to LLVMFuzzerTestOneInput() once.
 * Exit 0 when all ran; a crash is the sanitizers' or the harness's abort.
 * Every fuzz_NAME_replay is a make check test (Makefile.am), so every
 * input that once crashed stays a regression test.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	gchar *data;
	gsize len;
	GError *e = NULL;

	if (!g_file_get_contents(path, &data, &len, &e)) {
		fprintf(stderr, "%s\n", e->message);
		g_error_free(e);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	g_free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int bad = 0, n = 0;
	char *defdir = NULL;
	char *def[2];

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		const char *top = getenv("top_srcdir");

		defdir = g_build_filename(top ? top : ".", "tests", "fuzz",
		    "regress", FUZZ_NAME, NULL);
		def[0] = argv[0];
		def[1] = defdir;
		argc = 2;
		argv = def;
	}
	for (int i = 1; i < argc; i++) {
		GDir *d;
		const char *name;

		if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
			bad |= run_file(argv[i]);
			n++;
			continue;
		}
		if ((d = g_dir_open(argv[i], 0, NULL)) == NULL) {
			fprintf(stderr, "%s: cannot open\n", argv[i]);
			bad = 1;
			continue;
		}
		while ((name = g_dir_read_name(d)) != NULL) {
			char *p = g_build_filename(argv[i], name, NULL);

			if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
				bad |= run_file(p);
				n++;
			}
			g_free(p);
		}
		g_dir_close(d);
	}
	printf("%s: %d inputs replayed\n", argv[0], n);
	if (n == 0) {
		fprintf(stderr, "no inputs to replay\n");
		bad = 1;
	}
	g_free(defdir);
	return bad;
}
