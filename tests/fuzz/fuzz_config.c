/*
 * fuzz_config.c - configuration loading: the bytes are written to a file
 * in a private directory and loaded with emf_cfg_load(); a configuration
 * that loads is built into an engine. A refused file must come with a
 * "file:line: ..." message. (Configuration is trusted input, but a typo
 * must give an error, never a crash: emofilter -t runs it.)
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char *dir, *path;

static void
cleanup(void)
{
	if (path != NULL)
		g_unlink(path);
	if (dir != NULL)
		g_rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	dir = g_dir_make_tmp("emf-fuzz-cfg-XXXXXX", NULL);
	FUZZ_ASSERT(dir != NULL);
	path = g_build_filename(dir, "emofilter.conf", NULL);
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_cfg *cfg = NULL;
	struct emf_engine *e = NULL;
	struct emf_error err;

	FUZZ_ASSERT(g_file_set_contents(path, (const char *)data,
	    (gssize)size, NULL));
	memset(&err, 0, sizeof(err));
	if (emf_cfg_load(path, &cfg, &err) != EMF_OK) {
		FUZZ_ASSERT(err.msg[0] != '\0');
		FUZZ_ASSERT(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		return 0;
	}
	FUZZ_ASSERT(cfg != NULL);
	memset(&err, 0, sizeof(err));
	if (emf_engine_new(cfg, &e, &err) == EMF_OK)
		emf_engine_unref(e);
	else
		FUZZ_ASSERT(err.msg[0] != '\0');
	return 0;
}
