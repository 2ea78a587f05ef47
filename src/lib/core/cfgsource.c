/*
 * cfgsource.c - read a configuration file with its @includes expanded.
 *
 * A line "@include "NAME"" (leading blanks allowed, as libconfig's lexer
 * has it) is replaced by the named file's lines. A relative NAME is taken
 * from the directory of the file that holds the line. Every file must be a
 * regular file; depth, count and total size are bounded, so a file that
 * includes another a thousand times, ten deep, is an error and not an
 * hour of work.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cfgsource.h"

#define INCLUDE_DEPTH_MAX 10
#define INCLUDES_MAX 1000
#define SOURCE_BYTES_MAX (4u << 20)	/* expanded text */

struct line_origin {
	guint file;		/* index into files */
	guint line;		/* 1-based, in that file */
};

struct emf_cfg_source {
	GString *text;
	GPtrArray *files;	/* char *: [0] is the main file */
	GArray *origins;	/* struct line_origin, one per text line */
	guint includes;
};

static void
fail(struct emf_error *err, const char *file, guint line, const char *fmt,
    ...) G_GNUC_PRINTF(4, 5);

static void
fail(struct emf_error *err, const char *file, guint line, const char *fmt,
    ...)
{
	va_list ap;
	int n;

	if (err == NULL)
		return;
	n = line > 0 ?
	    snprintf(err->msg, sizeof(err->msg), "%s:%u: ", file, line) :
	    snprintf(err->msg, sizeof(err->msg), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool expand(struct emf_cfg_source *src, const char *path, int depth,
    struct emf_error *err);

/*
 * The line [p, end) of file `path` starts with "@include": expand it.
 * *is_include is false when no quoted name follows (the line is kept and
 * libconfig reports the syntax error).
 */
static bool
expand_include(struct emf_cfg_source *src, const char *path, guint line,
    const char *p, const char *end, int depth, bool *is_include,
    struct emf_error *err)
{
	const char *q, *name_end;
	char *name, *dir, *target;
	GStatBuf st;
	bool ok = false;

	*is_include = false;
	for (q = p + strlen("@include"); q < end && (*q == ' ' || *q == '\t');
	    q++)
		;
	if (q == end || *q != '"' ||
	    (name_end = memchr(q + 1, '"', (size_t)(end - q - 1))) == NULL)
		return true;
	*is_include = true;
	name = g_strndup(q + 1, (gsize)(name_end - q - 1));
	dir = g_path_get_dirname(path);
	target = g_path_is_absolute(name) ? g_strdup(name) :
	    g_build_filename(dir, name, NULL);
	if (strchr(name, '\\') != NULL)
		fail(err, path, line, "@include \"%s\": escapes are not "
		    "supported in include paths", name);
	else if (depth >= INCLUDE_DEPTH_MAX)
		fail(err, path, line, "@include \"%s\": includes nested more "
		    "than %d deep", name, INCLUDE_DEPTH_MAX);
	else if (++src->includes > INCLUDES_MAX)
		fail(err, path, line, "@include \"%s\": more than %d includes",
		    name, INCLUDES_MAX);
	else if (g_stat(target, &st) != 0 || !S_ISREG(st.st_mode))
		fail(err, path, line, "@include \"%s\": not a regular file",
		    name);
	else
		ok = expand(src, target, depth + 1, err);
	g_free(target);
	g_free(dir);
	g_free(name);
	return ok;
}

/* Append one line of file index f to the text, newline-terminated. */
static void
append_line(struct emf_cfg_source *src, guint f, guint line, const char *p,
    size_t n)
{
	struct line_origin o = { f, line };

	g_string_append_len(src->text, p, (gssize)n);
	g_string_append_c(src->text, '\n');
	g_array_append_val(src->origins, o);
}

static bool
expand(struct emf_cfg_source *src, const char *path, int depth,
    struct emf_error *err)
{
	char *text = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	const char *p, *end;
	guint f = src->files->len, line = 1;
	bool ok = true;

	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		fail(err, path, 0, "cannot read: %s", gerr->message);
		g_error_free(gerr);
		return false;
	}
	g_ptr_array_add(src->files, g_strdup(path));
	for (p = text, end = text + len; ok && p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p;
		bool inc = false;

		if (eol == NULL)
			eol = end;
		/* libconfig's lexer leaks its token buffer on a NUL
		 * (found by fuzz_config); a NUL is never valid anyway. */
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL) {
			fail(err, path, line, "NUL byte in the configuration");
			ok = false;
			break;
		}
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(eol - q) >= strlen("@include") &&
		    memcmp(q, "@include", strlen("@include")) == 0)
			ok = expand_include(src, path, line, q, eol, depth,
			    &inc, err);
		if (ok && !inc)
			append_line(src, f, line, p, (size_t)(eol - p));
		if (ok && src->text->len > SOURCE_BYTES_MAX) {
			fail(err, path, line, "configuration larger than "
			    "%u MiB with its includes", SOURCE_BYTES_MAX >> 20);
			ok = false;
		}
		p = eol + 1;
	}
	g_free(text);
	return ok;
}

enum emf_rc
emf_cfg_source_read(const char *path, struct emf_cfg_source **out,
    struct emf_error *err)
{
	struct emf_cfg_source *src = g_new0(struct emf_cfg_source, 1);
	GStatBuf st;

	*out = NULL;
	src->text = g_string_new(NULL);
	src->files = g_ptr_array_new_with_free_func(g_free);
	src->origins = g_array_new(FALSE, FALSE, sizeof(struct line_origin));
	/* The main file's own trouble is an I/O error, said plainly. */
	if (g_stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		const char *why = g_stat(path, &st) != 0 ? g_strerror(errno) :
		    "not a regular file";

		fail(err, path, 0, "cannot read: %s", why);
		emf_cfg_source_free(src);
		return EMF_ERR_IO;
	}
	if (!expand(src, path, 0, err)) {
		bool io = src->files->len == 0;

		emf_cfg_source_free(src);
		return io ? EMF_ERR_IO : EMF_ERR_CONFIG;
	}
	*out = src;
	return EMF_OK;
}

void
emf_cfg_source_free(struct emf_cfg_source *src)
{
	if (src == NULL)
		return;
	g_string_free(src->text, TRUE);
	g_ptr_array_free(src->files, TRUE);
	g_array_free(src->origins, TRUE);
	g_free(src);
}

const char *
emf_cfg_source_text(const struct emf_cfg_source *src)
{
	return src->text->str;
}

const char *
emf_cfg_source_path(const struct emf_cfg_source *src)
{
	return g_ptr_array_index(src->files, 0);
}

const char *
emf_cfg_source_where(const struct emf_cfg_source *src, int line,
    int *file_line)
{
	const struct line_origin *o;

	if (line < 1 || (guint)line > src->origins->len) {
		*file_line = 0;
		return emf_cfg_source_path(src);
	}
	o = &g_array_index(src->origins, struct line_origin, line - 1);
	*file_line = (int)o->line;
	return g_ptr_array_index(src->files, o->file);
}
