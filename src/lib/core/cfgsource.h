/*
 * cfgsource.h - a configuration file read with its @include lines
 * expanded, and the way back from a line of the expanded text to the file
 * and line it came from.
 *
 * libconfig 1.5 cannot be trusted with includes: it prefixes its include
 * directory to absolute names too (so @include "/etc/x.conf" never
 * opened), its scanner calls exit(2) on a directory, and nothing bounds a
 * file included over and over. So cfg.c hands libconfig one expanded
 * text and maps the line numbers of its errors back.
 */
#ifndef EMF_CFGSOURCE_H
#define EMF_CFGSOURCE_H

#include "emf.h"

struct emf_cfg_source;

/*
 * Read path and every file it includes. EMF_ERR_IO when path itself
 * cannot be read, EMF_ERR_CONFIG for a bad include or a NUL byte (err
 * says file:line). On success *out is the caller's (emf_cfg_source_free()).
 */
enum emf_rc emf_cfg_source_read(const char *path,
    struct emf_cfg_source **out, struct emf_error *err);
void emf_cfg_source_free(struct emf_cfg_source *src);

/* The expanded text (NUL-terminated) and the main file's name. */
const char *emf_cfg_source_text(const struct emf_cfg_source *src);
const char *emf_cfg_source_path(const struct emf_cfg_source *src);

/*
 * The file holding line `line` (1-based) of the expanded text, and its
 * line number there in *file_line. Lines out of range map to the main
 * file with *file_line 0.
 */
const char *emf_cfg_source_where(const struct emf_cfg_source *src,
    int line, int *file_line);

#endif /* EMF_CFGSOURCE_H */
