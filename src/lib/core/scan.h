/*
 * scan.h - the per-message scan context shared by the scanner's modules.
 *
 * Owns: the object tree, the work queue and the dispatcher (the only place
 * where nested content re-enters the scanner), the budget (depth, object
 * count, bytes extracted, deadline), the symbols raised, the decoded texts
 * and the password candidates.
 *
 * A scan runs in phases (scan.c, emf_scan_run()):
 *   1. MIME walk (mime.c): headers into msginfo, every text part decoded to
 *      UTF-8 into texts, every leaf part queued as a top-level object;
 *   2. pre-queue analysers (password harvesting) over texts and msginfo;
 *   3. the queue: each object is sniffed, hashed, shown to the per-object
 *      analysers (YARA), then handed to its type's handler, which may add
 *      children with emf_object_child() (queued, never scanned inline);
 *   4. post-queue analysers (mail heuristics, YARA over texts);
 *   5. scoring (score.c) into the report.
 *
 * Not thread-safe: one scan belongs to one thread. The engine it reads is
 * shared and read-only.
 *
 * GLib is the library's utility layer (arrays, strings, regex, checksums,
 * Unicode); GMime is used by mime.c only, libzip by zipscan.c only.
 */
#ifndef EMF_SCAN_H
#define EMF_SCAN_H

#include <glib.h>
#include <stdarg.h>

#include "emf.h"
#include "engine.h"
#include "filetype.h"

struct emf_macro {
	char *module;		/* VBA module or XLM sheet name */
	char *sha256;		/* of the module source text */
	GPtrArray *autoexec;	/* char *: trigger names found */
	GPtrArray *suspicious;	/* char *: keywords found */
	GPtrArray *urls;	/* char *: URLs / download targets */
};

struct emf_object {
	unsigned id;		/* 1, 2, ... in creation order */
	char *path;		/* "2/請求書.zip/請求書.doc" (UTF-8) */
	char *name;		/* file name as given, UTF-8, or NULL */
	char *mime_type;	/* declared Content-Type, or NULL */
	enum emf_ftype type;	/* sniffed from content */
	unsigned depth;		/* container depth: 0 for a mail part */
	size_t size;		/* bytes we hold (may be a leading part) */
	uint64_t declared_size;	/* size the container claims, 0 unknown */
	bool truncated;		/* only a leading part was extracted */
	char sha256[65];	/* of the bytes we hold */

	/* Owned by the object until its handler has run, then freed. */
	uint8_t *data;
	size_t len;

	bool encrypted;
	char *encryption;	/* "ZipCrypto", "AES-256", "RC4 CryptoAPI"... */
	char *password;		/* the candidate that opened it */
	char *password_source;	/* where that candidate was found */
	char *format;		/* "OLE2 Word", "OOXML xlsm", ... */
	char *error;		/* malformed-content detail */
	char *vba_sha256;	/* identity of the whole VBA project source */

	GPtrArray *macros;	/* struct emf_macro * */
	GPtrArray *xlm_sheets;	/* char * */
	GPtrArray *external_links; /* char * */
	GPtrArray *urls;	/* char *: indicators found in this object */
	GPtrArray *lure;	/* char *: lure phrases matched */
	GPtrArray *yara;	/* char *: YARA rules matched */

	struct emf_object *parent;
	GPtrArray *children;	/* struct emf_object * (owned) */
};

enum emf_text_kind {
	EMF_TEXT_SUBJECT,
	EMF_TEXT_BODY,		/* text/plain body part */
	EMF_TEXT_HTML,		/* text/html body part reduced to text */
	EMF_TEXT_DOCUMENT,	/* text dug out of a document */
	EMF_TEXT_MACRO		/* VBA / XLM source */
};

struct emf_text {
	enum emf_text_kind kind;
	struct emf_object *obj;	/* borrowed; NULL for the subject */
	char *utf8;		/* owned, valid UTF-8, NUL-terminated */
	size_t len;
	char *nfkc;		/* owned: NFKC of utf8, see emf_text_nfkc() */
	size_t nfkc_len;
};

struct emf_password {
	char *value;		/* NFKC-normalised candidate */
	char *source;		/* "body 1/", "subject", ... */
	bool used;		/* opened at least one member */
};

/* What the analysers need from the top-level header (all UTF-8). */
struct emf_msginfo {
	char *from;		/* From header, decoded */
	char *from_name;	/* display name of the first From mailbox */
	char *from_addr;	/* address of the first From mailbox */
	char *to;
	char *reply_to_addr;
	char *return_path;	/* address from Return-Path */
	char *subject;
	char *message_id;
	char *date;
	char *in_reply_to;
	char *references;
	bool has_thread_headers; /* In-Reply-To or References present */
	bool has_thread_index;	/* Outlook's Thread-Index present */
};

struct emf_symbol_hit {
	char *detail;
	char *object;		/* object path or NULL */
};

struct emf_symbol {
	char *name;
	double score;
	GPtrArray *hits;	/* struct emf_symbol_hit *, capped */
	unsigned nhits;		/* all hits, also those not kept */
};

struct emf_envelope_copy {
	char *queue_id, *client_ip, *client_name, *helo, *sender, *auth_user;
	GPtrArray *rcpts;	/* char * */
};

struct emf_scan {
	struct emf_engine *engine;	/* a reference is held */
	const struct emf_cfg *cfg;
	const struct emf_limits *limits;

	char id[40];
	gint64 time;		/* wall clock, seconds since the epoch */
	gint64 start_us;	/* monotonic */
	gint64 deadline_us;	/* monotonic */

	struct emf_envelope_copy env;
	struct emf_msginfo msg;

	GPtrArray *roots;	/* struct emf_object *, owned */
	GQueue queue;		/* struct emf_object *, borrowed */
	unsigned nobjects;
	size_t bytes_extracted;
	unsigned mime_parts;

	GPtrArray *texts;	/* struct emf_text *, owned */
	GPtrArray *passwords;	/* struct emf_password *, owned */

	GPtrArray *symbols;	/* struct emf_symbol *, owned */
	GHashTable *symbol_index; /* name -> struct emf_symbol * */
	GPtrArray *limits_hit;	/* char *: limit names, unique */
	bool expired;

	enum emf_rc error;	/* our own failure (ENOMEM), else EMF_OK */
	const char *state_full;	/* emf_scan_opts.state_full (borrowed) */
	const char *extra_source; /* emf_scan_opts.password_source (borrowed) */
	const struct emf_memory *memory; /* emf_scan_opts.memory (borrowed) */
};

/* ---- symbols ------------------------------------------------------------ */

/*
 * Raise a symbol with its configured weight. name must be a known symbol
 * (symbols.c); obj may be NULL. A symbol counts once in the total however
 * often it is raised; each raise adds a detail line (capped).
 */
void emf_symbol(struct emf_scan *scan, const char *name,
    const struct emf_object *obj, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* The same with an explicit score (YARA_<RULE> from the rule's meta). */
void emf_symbol_scored(struct emf_scan *scan, const char *name, double score,
    const struct emf_object *obj, const char *fmt, ...) G_GNUC_PRINTF(5, 6);

bool emf_scan_has_symbol(const struct emf_scan *scan, const char *name);

/*
 * Remove the hits of symbol name whose object is path or lies under it
 * (the VBA allowlist uses this). The symbol goes when no hit is left.
 * Returns the number of hits removed.
 */
unsigned emf_symbol_drop(struct emf_scan *scan, const char *name,
    const char *path);

/* ---- limits and budget -------------------------------------------------- */

/*
 * Record that a limit stopped part of the scan: adds LIMIT_EXCEEDED with
 * the detail and the limit's name to limits_hit (once per name).
 */
void emf_limit_hit(struct emf_scan *scan, const char *limit,
    const struct emf_object *obj, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* True once the deadline has passed (records the "time" limit once). */
bool emf_scan_expired(struct emf_scan *scan);

/* Milliseconds left before the deadline (0 when expired). */
long emf_scan_remaining_ms(const struct emf_scan *scan);

/*
 * Charge n bytes of extracted (decompressed) output to the message budget.
 * Returns false, and records the "total_bytes" limit, when the total would
 * pass limits.total_bytes; nothing is charged then.
 */
bool emf_budget_bytes(struct emf_scan *scan, size_t n);

/* The most bytes one more child may hold: min(object_bytes, what is left). */
size_t emf_budget_child_cap(const struct emf_scan *scan);

/* ---- objects ------------------------------------------------------------ */

/*
 * Add a child of parent (NULL: a part of the mail) holding data[0..len).
 * Takes ownership of data (g_malloc'ed, may be NULL when len is 0). The
 * child is queued, never scanned inline. Returns NULL, after freeing data
 * and recording the limit, when the object count or container depth is
 * exhausted. The child's depth is parent's + 1 (0 for mail parts).
 */
struct emf_object *emf_object_child(struct emf_scan *scan,
    struct emf_object *parent, const char *name, const char *mime_type,
    uint8_t *data, size_t len);

/* Append a copy of s to *arr (created on demand) unless present; capped. */
void emf_strlist_add(GPtrArray **arr, const char *s);

struct emf_macro *emf_macro_new(const char *module);
void emf_macro_free(struct emf_macro *m);

/* ---- texts and passwords ------------------------------------------------ */

/*
 * Keep a decoded text for the analysers. utf8 is copied, made valid UTF-8
 * and capped at limits.text_bytes. obj may be NULL (the subject).
 */
void emf_text_add(struct emf_scan *scan, enum emf_text_kind kind,
    struct emf_object *obj, const char *utf8, size_t len);

/*
 * The text in NFKC (full-width letters and colons made ASCII), computed on
 * first use and kept: passwords, lure and heuristics all read it, and
 * normalising is the dearest step on long Japanese text. Never NULL.
 */
const char *emf_text_nfkc(struct emf_text *text, size_t *len);

/* Add a password candidate unless present; capped by the limits. */
void emf_password_add(struct emf_scan *scan, const char *value,
    const char *source);

/* ---- the run ------------------------------------------------------------ */

/* Scan the queued objects until the queue is empty or the deadline passes. */
void emf_scan_run_queue(struct emf_scan *scan);

/*
 * A fresh scan context with nothing queued, for unit tests that drive one
 * analyser by hand (objects, texts, symbols). Free with emf_scan_free().
 */
struct emf_scan *emf_scan_new(struct emf_engine *engine,
    const struct emf_envelope *env);

/* Release a scan and everything it owns (reports call this). */
void emf_scan_free(struct emf_scan *scan);

#endif /* EMF_SCAN_H */
