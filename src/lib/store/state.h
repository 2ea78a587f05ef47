/*
 * state.h - the correlation state: mail held "waiting for password" until
 * a later mail of the same sender gives the password of its archive (PPAP
 * follow-up), behind one small interface with two backends.
 *
 * Backends (state { backend = ...; } in the configuration):
 *   sqlite      one file (state.path), WAL journal, busy timeout: safe for
 *               the milter's worker processes and for emofilter-scan runs
 *               on one host (state_sqlite.c);
 *   postgresql  a server (state.conninfo), for several gateways sharing
 *               one state (state_pg.c).
 * Both hold the same tables (schema version 2, created on first open; a
 * version 1 store gains emf_sent when opened): emf_held, one row per held
 * mail with its sender (envelope and From),
 * recipients, Message-ID, subject, attachment names, archive hashes,
 * arrival time, state (waiting, resolved, expired), outcome, a history of
 * transitions, and the raw message (so any gateway can rescan it; emptied
 * once the row is no longer waiting); emf_sent, the correspondence
 * memory (below).
 *
 * Transitions are claimed atomically (UPDATE ... WHERE state = 'waiting'),
 * so a held mail is resolved or expired exactly once even when two
 * processes or two gateways race for it.
 *
 * Bounds: at most max_per_sender waiting rows per sender and max_total in
 * all; holding one more expires the oldest first (the caller gets them
 * back to act on, and the new mail's scan notes the limit). Finished rows
 * are deleted STATE_KEEP_FINISHED seconds after they finish.
 *
 * Errors: every function returns EMF_OK or EMF_ERR_IO (store unreachable,
 * disk full, bad schema) with err set; the caller must then tempfail the
 * message, never accept it unscanned.
 *
 * Not thread-safe: one handle per thread or process.
 */
#ifndef EMF_STATE_H
#define EMF_STATE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emf.h"

/* Finished rows are kept this long for the history, then deleted. */
#define STATE_KEEP_FINISHED (7 * 86400)

enum emf_state_status {
	EMF_STATE_WAITING = 0,
	EMF_STATE_RESOLVED,
	EMF_STATE_EXPIRED
};

const char *emf_state_status_name(enum emf_state_status s);

/* One held mail. Strings owned by the record (emf_held_free()). */
struct emf_held {
	int64_t id;		/* row id, set by the store */
	char *report_id;	/* report ID of the scan that held it */
	char *queue_id;		/* MTA queue ID, or "" */
	char *label;		/* file name (offline) or queue ID, for humans */
	char *env_sender;	/* envelope sender as given, "" if none */
	char *from_addr;	/* From address, lower case, "" if none */
	char *env_rcpts;	/* envelope recipients as given, '\n'-joined */
	char *rcpts;		/* recipients to match: lower case, '\n'-joined */
	char *message_id;	/* without <>, "" if none */
	char *subject;
	char *attachments;	/* attachment names, '\n'-joined */
	char *hashes;		/* SHA-256 of the encrypted archives, '\n'-joined */
	int64_t received;	/* seconds since the epoch */
	enum emf_state_status status;
	char *outcome;		/* "release", "keep", "release_tagged"... or "" */
	char *opened_by;	/* label of the password mail, or "" */
	char *history;		/* "TIME EVENT DETAIL" lines */
	GBytes *message;	/* the raw message; may be empty once finished */
};

void emf_held_free(struct emf_held *h);

/* The settings of the state { } group. */
struct emf_state_opts {
	const char *backend;	/* "sqlite" or "postgresql" */
	const char *path;	/* SQLite file */
	const char *conninfo;	/* libpq connection string */
	long window;		/* seconds a mail waits for its password */
	long max_per_sender;
	long max_total;
	long busy_timeout_ms;	/* SQLite lock wait / PostgreSQL statement timeout */
	/* the correspondence memory (state.memory) */
	bool memory;		/* lookups on (recording works regardless) */
	long memory_max_entries;
	long memory_max_per_sender;
	long memory_max_age;	/* seconds */
};

/* The opts from a loaded configuration (strings borrowed from cfg). */
void emf_state_opts_from_cfg(const struct emf_cfg *cfg,
    struct emf_state_opts *o);

struct emf_state;

/*
 * Open (and create, with its schema) the store. path_override, when not
 * NULL, replaces state.path for SQLite (emofilter-scan --state DIR puts
 * the file in DIR). Returns EMF_ERR_IO with err when unreachable.
 */
enum emf_rc emf_state_open(const struct emf_state_opts *opts,
    struct emf_state **out, struct emf_error *err);
void emf_state_close(struct emf_state *st);
const struct emf_state_opts *emf_state_options(const struct emf_state *st);

/*
 * Which cap a new hold from these senders would pass, as a limit name
 * ("state.max_per_sender", "state.max_total"), or NULL. For the scan's
 * LIMIT_EXCEEDED note (emf_scan_opts.state_full).
 */
enum emf_rc emf_state_full(struct emf_state *st, const char *env_sender,
    const char *from_addr, const char **limit, struct emf_error *err);

/*
 * Hold h (its id is set). When a cap is reached the oldest waiting rows
 * (of that sender first) are expired to make room and appended to evicted
 * (struct emf_held *, with their message), for the caller's expiry
 * action.
 */
enum emf_rc emf_state_hold(struct emf_state *st, struct emf_held *h,
    int64_t now, GPtrArray *evicted, struct emf_error *err);

/*
 * The waiting rows, with their message, that a mail from any of senders
 * (NULL-terminated, lower case, "" entries ignored) may resolve: same
 * envelope sender or From address, received at or after since, oldest
 * first, at most max. Recipients are checked by the caller.
 */
enum emf_rc emf_state_waiting_from(struct emf_state *st,
    const char *const *senders, int64_t since, unsigned max,
    GPtrArray *out, struct emf_error *err);

/*
 * Claim a waiting row: status becomes to (resolved or expired) with the
 * outcome and opened_by, detail appended to its history, the message
 * dropped. *claimed is false when the row was no longer waiting (another
 * process got it first): then nothing changed.
 */
enum emf_rc emf_state_finish(struct emf_state *st, int64_t id,
    enum emf_state_status to, const char *outcome, const char *opened_by,
    const char *detail, int64_t now, bool *claimed, struct emf_error *err);

/* Append a history line to a row, whatever its status. */
enum emf_rc emf_state_note(struct emf_state *st, int64_t id,
    const char *detail, int64_t now, struct emf_error *err);

/*
 * Expire every row waiting since before now - window: each is claimed
 * (status expired, outcome the expiry action) and appended to out
 * (struct emf_held *, with its message). Also deletes rows finished
 * before now - STATE_KEEP_FINISHED. Runs at most once per second per
 * handle (a second call within the same second does nothing).
 */
enum emf_rc emf_state_expire(struct emf_state *st, int64_t now,
    const char *action, GPtrArray *out, struct emf_error *err);

/* One row by id (with its message and history), or *out NULL. */
enum emf_rc emf_state_get(struct emf_state *st, int64_t id,
    struct emf_held **out, struct emf_error *err);

/*
 * Release tokens: a mail the milter re-injects carries a random one-time
 * token (header EMF_STATE_TOKEN_HEADER), so that its second pass through
 * the MTA is not held again; an attacker cannot forge one. set records
 * the token on row id; consume takes it (once: *found is true the first
 * time only).
 */
#define EMF_STATE_TOKEN_HEADER "X-Emofilter-State-Token"
enum emf_rc emf_state_token_set(struct emf_state *st, int64_t id,
    const char *token, struct emf_error *err);
enum emf_rc emf_state_token_consume(struct emf_state *st, const char *token,
    bool *found, struct emf_error *err);

/* Rows by status (-1: all), for tests and the figures. */
enum emf_rc emf_state_count(struct emf_state *st, int status, long *n,
    struct emf_error *err);

/* ---- correspondence memory (table emf_sent, schema version 2) -------- */

/*
 * What the organisation sends: one row per (Message-ID, recipient) of an
 * outbound mail, with our sender, their address and the subject (folded,
 * without Re:/Fwd: prefixes). Asked about inbound replies by the
 * heuristics (emf_scan_opts.memory: KNOWN_THREAD,
 * REPLY_UNKNOWN_CORRESPONDENT).
 *
 * Bounds: at most memory_max_per_sender rows per sender of ours (checked
 * on every record) and memory_max_entries in all, each row at most
 * memory_max_age old (both checked at most every MEMORY_HOUSEKEEPING
 * seconds per handle, and by emf_state_memory_expire()); the oldest go
 * first. A mail of more than MEMORY_RCPTS recipients is recorded for the
 * first MEMORY_RCPTS.
 */
#define MEMORY_RCPTS 100
#define MEMORY_HOUSEKEEPING 10

/*
 * Whether the mail with envelope env is outbound for the memory: an SMTP
 * AUTH client (state.memory.outbound_authenticated) or a client address
 * in state.memory.outbound_networks.
 */
bool emf_state_outbound(const struct emf_cfg *cfg,
    const struct emf_envelope *env);

/*
 * Record the outbound mail behind r (its Message-ID, From or envelope
 * sender, envelope recipients else To): *n rows written (0 when it has
 * no sender or recipient). A Message-ID recorded again replaces its rows.
 */
enum emf_rc emf_state_memory_record(struct emf_state *st,
    const struct emf_report *r, int64_t now, unsigned *n,
    struct emf_error *err);

/* The Message-ID of the mail behind r (without <>), or NULL. */
const char *emf_state_message_id(const struct emf_report *r);

/* Drop rows older than memory_max_age and the oldest over
 * memory_max_entries; *removed counts them (may be NULL). */
enum emf_rc emf_state_memory_expire(struct emf_state *st, int64_t now,
    long *removed, struct emf_error *err);

/* Rows in the memory (all, or those sent by sender when not NULL). */
enum emf_rc emf_state_memory_count(struct emf_state *st, const char *sender,
    long *n, struct emf_error *err);

/*
 * The memory for emf_scan_opts.memory: NULL when state.memory is off.
 * Answers at time now (emf_state_memory_now(); 0: the clock).
 */
const struct emf_memory *emf_state_memory(struct emf_state *st);
void emf_state_memory_now(struct emf_state *st, int64_t now);

/*
 * Whether a lookup failed since the last call (the scan that asked is
 * then not to be trusted: the caller tempfails); err gets the reason.
 * Clears the flag.
 */
bool emf_state_memory_failed(struct emf_state *st, struct emf_error *err);

/* The subject as the memory compares it: Re:/Fwd:/AW:/返信: prefixes
 * off, case folded, white space collapsed; caller frees. */
char *emf_state_subject_key(const char *subject);

/* ---- correlation (state.c) -------------------------------------------- */

/*
 * A record for the mail behind report r (raw message msg[0..len)), if it
 * should be held: an encrypted archive member stayed unopened
 * (ARCHIVE_PASSWORD_UNKNOWN) and the verdict is below quarantine (a mail
 * quarantined or rejected anyway waits for nothing). NULL otherwise.
 * label names the input.
 */
struct emf_held *emf_held_from_report(const struct emf_report *r,
    const void *msg, size_t len, const char *label, int64_t now);

/*
 * The senders ("" for none) of the mail behind r: its envelope sender and
 * its From address, lower case; a NULL-terminated array (g_strfreev()).
 */
char **emf_state_senders(const struct emf_report *r);

/*
 * Whether the mail behind r may resolve h: a common sender (envelope or
 * From, never the null sender) and a common recipient, and not h itself.
 */
bool emf_state_may_resolve(const struct emf_held *h,
    const struct emf_report *r);

/*
 * How the mail behind r mentions h: a mask of EMF_MENTION_* bits (its
 * texts or thread headers name h's subject, an attachment or Message-ID).
 */
#define EMF_MENTION_SUBJECT 1u
#define EMF_MENTION_ATTACHMENT 2u
#define EMF_MENTION_MESSAGE_ID 4u
unsigned emf_state_mentions(const struct emf_held *h,
    const struct emf_report *r);

/*
 * The password candidates the mail behind r offers for h, best first: the
 * candidates its own scan harvested, the gateway-notice forms
 * (passwords.c emf_passwords_notice()), and the tokens next to h's
 * attachment names. A NULL-terminated array (g_strfreev()), at most
 * limits.password_candidates long.
 */
char **emf_state_candidates(const struct emf_held *h,
    const struct emf_report *r);

/* ---- the driver ---------------------------------------------------------- */

enum emf_state_event_kind {
	EMF_STATE_EV_HELD,	/* this mail now waits */
	EMF_STATE_EV_RESOLVED,	/* an earlier one opened: outcome */
	EMF_STATE_EV_EXPIRED,	/* an earlier one gave up: the expiry action */
	EMF_STATE_EV_REINJECTED	/* this mail is one we released (a valid
				 * release token): held is NULL */
};

struct emf_state_event {
	enum emf_state_event_kind kind;
	struct emf_held *held;	/* owned; with its message (to release) */
	const char *outcome;	/* "release", "keep", "expired"; NULL held */
	const char *reason;	/* expired: "window" or "evicted" */
	struct emf_report *rescan; /* resolved: the verdict with it open */
	unsigned mentions;	/* resolved: EMF_MENTION_* */
};

void emf_state_event_free(struct emf_state_event *e);

/*
 * One message against the state, after its scan (*r, with the raw
 * message msg[0..len) and its envelope env): expire what waited longer
 * than the window; if this mail is to be held while the store is full,
 * scan it again so its report notes the cap (*r is replaced); rescan
 * every held mail it may resolve (same sender, a common recipient, within
 * the window, mentioned ones first; at most 8) with its candidates; hold
 * it if its archive stayed shut. Appends struct emf_state_event * to events in that
 * order (free with emf_state_event_free). label names the message in the
 * history (a file or queue ID). A store error stops it: EMF_ERR_IO with
 * err, and the caller tempfails (events so far did happen).
 */
/*
 * A mail that carries a valid release token (it is a held mail we
 * released ourselves) is never held again: the token is consumed and the
 * one event is EMF_STATE_EV_REINJECTED.
 */
enum emf_rc emf_state_correlate(struct emf_state *st,
    struct emf_engine *engine, struct emf_report **r, const void *msg,
    size_t len, const struct emf_envelope *env, const char *label,
    const char *expiry_action, int64_t now, GPtrArray *events,
    struct emf_error *err);

#endif /* EMF_STATE_H */
