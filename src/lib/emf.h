/*
 * emf.h - public interface of the emofilter scanning library (libemf.a).
 *
 * The library takes a raw message (or a bare file), an envelope and an
 * engine (configuration plus compiled rules) and returns a report: symbols
 * with scores, the object tree, the total and the action. It knows nothing
 * of milters, never calls syslog() and keeps no mutable globals: an engine
 * is read-only once built and may be shared by any number of scans.
 *
 * Ownership: every emf_..._new() and emf_..._load() result is owned by the caller
 * and released with the matching _free() or _unref(); strings returned by
 * emf_report_json()/emf_report_text() are owned by the caller (emf_free()).
 * Accessors return borrowed pointers valid as long as their owner lives.
 */
#ifndef EMF_H
#define EMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes. Malformed input is never an error: it is a symbol. */
enum emf_rc {
	EMF_OK = 0,
	EMF_ERR_NOMEM,
	EMF_ERR_LIMIT,
	EMF_ERR_FORMAT,
	EMF_ERR_TIMEOUT,
	EMF_ERR_IO,
	EMF_ERR_CONFIG,
	EMF_ERR_INTERNAL
};

const char *emf_rc_str(enum emf_rc rc);

/* What to do with a message, in increasing severity. */
enum emf_action {
	EMF_ACTION_ACCEPT = 0,
	EMF_ACTION_TAG,
	EMF_ACTION_QUARANTINE,
	EMF_ACTION_REJECT
};

/* "accept", "tag", "quarantine", "reject". */
const char *emf_action_name(enum emf_action action);

/* A human-readable error: "file:line: what is wrong". */
struct emf_error {
	char msg[1024];
};

/*
 * The envelope as the MTA saw it. Every field may be NULL (local
 * submission, offline scan). sender "" is the null sender <>.
 */
struct emf_envelope {
	const char *queue_id;
	const char *client_ip;
	const char *client_name;
	const char *helo;
	const char *sender;
	const char *const *rcpts;
	size_t nrcpts;
	const char *auth_user;
};

/*
 * Process-wide initialisation of the libraries underneath (GMime, YARA).
 * Call once from main() before any other emf_ call, and
 * emf_library_shutdown() once at exit.
 */
enum emf_rc emf_library_init(void);
void emf_library_shutdown(void);

/* ---- configuration ---------------------------------------------------- */

struct emf_cfg;

/*
 * Load a libconfig file. Unknown keys, wrong types and out-of-range values
 * are rejected with "file:line: ..." in err. path NULL gives the built-in
 * defaults. On success *out is owned by the caller (emf_cfg_free()).
 */
enum emf_rc emf_cfg_load(const char *path, struct emf_cfg **out,
    struct emf_error *err);
void emf_cfg_free(struct emf_cfg *cfg);

/* The file the configuration came from, or NULL for built-in defaults. */
const char *emf_cfg_path(const struct emf_cfg *cfg);

/*
 * Typed access by key path ("limits.mime_depth", "milter.socket"). The key
 * must exist in the key table with that type: asking for anything else is
 * a programming error and aborts. Strings are borrowed.
 */
long long emf_cfg_int(const struct emf_cfg *cfg, const char *key);
double emf_cfg_double(const struct emf_cfg *cfg, const char *key);
bool emf_cfg_bool(const struct emf_cfg *cfg, const char *key);
const char *emf_cfg_str(const struct emf_cfg *cfg, const char *key);
/* NULL-terminated list; never NULL itself (an empty list is {NULL}). */
const char *const *emf_cfg_strlist(const struct emf_cfg *cfg,
    const char *key);

/* ---- engine: configuration + compiled rules, shared by scans ---------- */

struct emf_engine;

/*
 * Build an engine from a configuration (ownership of cfg passes to the
 * engine, also on failure). Compiles YARA rules and every pattern list.
 */
enum emf_rc emf_engine_new(struct emf_cfg *cfg, struct emf_engine **out,
    struct emf_error *err);
/* Reference counting, thread-safe. */
struct emf_engine *emf_engine_ref(struct emf_engine *engine);
void emf_engine_unref(struct emf_engine *engine);
const struct emf_cfg *emf_engine_cfg(const struct emf_engine *engine);

/* ---- scanning ---------------------------------------------------------- */

struct emf_report;

/*
 * Scan one raw RFC 5322 message (LF or CRLF line ends). env may be NULL.
 * Returns EMF_OK with *out set even for malformed or hostile input; an
 * error code only for our own failures (no memory). The report is owned by
 * the caller (emf_report_free()).
 */
enum emf_rc emf_scan_message(struct emf_engine *engine, const void *msg,
    size_t len, const struct emf_envelope *env, struct emf_report **out);

/*
 * Scan a bare file (a .doc, a .zip) as if it were the only attachment of a
 * mail, for analysts and rule writers. name may be NULL.
 */
enum emf_rc emf_scan_file(struct emf_engine *engine, const void *data,
    size_t len, const char *name, const struct emf_envelope *env,
    struct emf_report **out);

/*
 * Extra inputs to a scan; every member may be NULL.
 *   passwords        more password candidates (NULL-terminated), tried
 *                    before those the mail itself gives: the password a
 *                    later mail sent for a held one (store/state.h);
 *   password_source  where they came from, for the report;
 *   state_full       a limit name: should this mail be held for its
 *                    password, the correlation state is full (the scan
 *                    notes it as LIMIT_EXCEEDED);
 *   memory           the correspondence memory (store/state.h): what the
 *                    organisation sent, asked by the heuristics about a
 *                    reply (KNOWN_THREAD, REPLY_UNKNOWN_CORRESPONDENT).
 */
struct emf_memory_query {
	const char *party;	/* their From address, lower case */
	const char *refs;	/* In-Reply-To, then References, or NULL */
	const char *subject;	/* the subject as received, or NULL */
	const char *const *ours; /* our addresses: the recipients (NULL-ended) */
};

struct emf_memory_answer {
	bool known_party;	/* we sent mail to party */
	bool thread_ours;	/* refs name a Message-ID we sent */
	bool thread_to_party;	/* ... and it went to party */
	bool subject_to_party;	/* one of ours sent party this subject */
	char mid[128];		/* the Message-ID matched, or "" */
	long age_days;		/* how old the matched mail is */
};

/* lookup() returns false when the memory cannot be read (the answer is
 * then empty; the caller of the scan learns of it from its own handle). */
struct emf_memory {
	bool (*lookup)(void *ctx, const struct emf_memory_query *q,
	    struct emf_memory_answer *a);
	void *ctx;
};

struct emf_scan_opts {
	const char *const *passwords;
	const char *password_source;
	const char *state_full;
	const struct emf_memory *memory;
};

/* emf_scan_message() with extra inputs (opts may be NULL). */
enum emf_rc emf_scan_message_opts(struct emf_engine *engine,
    const void *msg, size_t len, const struct emf_envelope *env,
    const struct emf_scan_opts *opts, struct emf_report **out);

/* ---- reports ------------------------------------------------------------ */

void emf_report_free(struct emf_report *report);

/* Report ID: sortable by time, safe as a file name ("20261125T054100Z-1a2b3c4d"). */
const char *emf_report_id(const struct emf_report *report);
double emf_report_score(const struct emf_report *report);
enum emf_action emf_report_action(const struct emf_report *report);
/* The recipient policy that set the thresholds, or NULL for "actions". */
const char *emf_report_policy(const struct emf_report *report);
long emf_report_scan_ms(const struct emf_report *report);
bool emf_report_limits_hit(const struct emf_report *report);

/* Number of symbols, and the i-th symbol's name, score and first detail. */
size_t emf_report_nsymbols(const struct emf_report *report);
const char *emf_report_symbol_name(const struct emf_report *report,
    size_t i);
double emf_report_symbol_score(const struct emf_report *report, size_t i);
const char *emf_report_symbol_detail(const struct emf_report *report,
    size_t i);

/* Whether a symbol of that name was raised. */
bool emf_report_has_symbol(const struct emf_report *report,
    const char *name);

/*
 * "NAME(score) NAME(score) ..." sorted by score, for headers and log lines.
 * Caller frees.
 */
char *emf_report_symbols_summary(const struct emf_report *report);

/*
 * The report as one line of JSON (schema: docs/report.md), or as text for
 * a human. Caller frees. JSON holds passwords and the envelope: it is for
 * the quarantine and the analyst, not for syslog.
 */
char *emf_report_json(const struct emf_report *report, bool pretty);
char *emf_report_text(const struct emf_report *report);

/* Release memory returned by the library (strings above). */
void emf_free(void *p);

#endif /* EMF_H */
