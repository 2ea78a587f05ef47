/*
 * engine.h - long-lived, read-only state built from a configuration.
 *
 * Owns: the cfg, the limits and score table taken from it, and one slot
 * per module that needs compiled state (YARA rules, password patterns,
 * lure phrases, the Public Suffix List, recipient policies...). Built at start and on reload,
 * shared by every scan through a reference count; never changed once
 * built, so scans read it without locks.
 */
#ifndef EMF_ENGINE_H
#define EMF_ENGINE_H

#include <glib.h>

#include "emf.h"

/* Every size, count and time bound of a scan (section "limits"). */
struct emf_limits {
	size_t max_message_bytes;	/* larger: not scanned, LIMIT_EXCEEDED */
	unsigned mime_depth;		/* multipart / message nesting */
	unsigned mime_parts;		/* MIME parts per message */
	size_t header_field_bytes;	/* a message header field is cut */
	unsigned container_depth;	/* mail part -> zip -> doc -> ... */
	unsigned max_objects;		/* objects per message */
	size_t object_bytes;		/* bytes extracted for one object */
	size_t total_bytes;		/* bytes extracted per message */
	size_t text_bytes;		/* text kept per part for analysers */
	unsigned archive_entries;	/* entries per archive */
	unsigned archive_ratio;		/* compression ratio flagged */
	unsigned ole_dir_entries;	/* OLE2 directory entries */
	unsigned vba_modules;		/* VBA modules per project */
	size_t vba_module_bytes;	/* decompressed source per module */
	unsigned password_candidates;	/* candidates per message */
	unsigned password_length;	/* longest candidate kept */
	unsigned password_tries;	/* candidates tried per archive */
	long scan_timeout_ms;		/* wall-clock deadline per message */
};

/*
 * Modules with compiled state. Each slot is filled by the module's
 * init function at engine build and released by its free function
 * (table in engine.c).
 */
enum emf_module {
	EMF_MOD_PASSWORDS = 0,
	EMF_MOD_LURE,
	EMF_MOD_HEURISTICS,
	EMF_MOD_YARA,
	EMF_MOD_OFFICE,
	EMF_MOD_POLICY,
	EMF_MOD_MAX
};

struct emf_engine {
	gint refs;
	struct emf_cfg *cfg;
	struct emf_limits limits;
	GHashTable *scores;		/* symbol name -> double * */
	double score_default_yara;
	double thr_tag, thr_quarantine, thr_reject;
	void *mod[EMF_MOD_MAX];
};

/* The weight of a symbol (configured, else its built-in default). */
double emf_engine_score(const struct emf_engine *engine, const char *name);

#endif /* EMF_ENGINE_H */
