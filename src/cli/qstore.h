/*
 * qstore.h - emofilter-quarantine's view of the quarantine store: an entry
 * loaded (its report and release record), the times and ages the tool
 * takes and prints, the list/ioc filters, and selecting the entries that
 * match them. The files themselves are read and written by the library
 * (src/lib/store/quarantine.h); this is the tool's reading of them.
 *
 * Errors are returned, not printed: a failing call gives a message in
 * *why (the caller prints it after the program name, and frees it with
 * g_free()) and one of the exit statuses below, so that a command can
 * pass a failed load straight out as its own status.
 */
#ifndef EMF_QSTORE_H
#define EMF_QSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <json-glib/json-glib.h>

/* Exit statuses of emofilter-quarantine (emofilter-quarantine(8)). */
#define EX_DONE 0
#define EX_NOTFOUND 1		/* not found or refused */
#define EX_USAGEERR 2		/* usage or configuration error */
#define EX_STORE 3		/* store missing, too open, entry unreadable */
#define EX_DELIVERY 4		/* release delivery failed */

/* One entry. Both objects are references the entry owns. */
struct qentry {
	char *id;
	JsonObject *root;	/* the report */
	JsonObject *released;	/* the release record, or NULL: pending */
	char *history;		/* ID.history (lines), or NULL */
};

/*
 * Load entry id of the store: its report, and its release record if there
 * is one (an unreadable record still counts as released, with time and
 * user "?", so that nothing is sent twice by accident). Returns EX_DONE,
 * EX_NOTFOUND (not an entry ID, or no such entry) or EX_STORE (unreadable,
 * or the report is another entry's), with *why set. On failure *e holds
 * nothing to clear.
 */
int qentry_load(const char *store, const char *id, struct qentry *e,
    char **why);
void qentry_clear(struct qentry *e);
/* qentry_clear() and g_free() of a struct qentry * (a GDestroyNotify). */
void qentry_free(gpointer e);

/*
 * The raw message of entry e, whole (at most 1 GiB), NUL-terminated; the
 * caller frees *msg (g_free()). EX_DONE, or EX_STORE with *why set.
 */
int qentry_read_message(const char *store, const struct qentry *e,
    char **msg, size_t *len, char **why);

/* The envelope sender, else the header From address; caller frees. */
char *qentry_sender(const struct qentry *e);
/* The first envelope recipient, or NULL. */
const char *qentry_first_rcpt(const struct qentry *e);

/* ---- addresses in report strings ---- */

/* The address inside "Name <addr>", or the whole text if it holds an '@'
 * (trimmed), else NULL; caller frees. */
char *addr_of(const char *from);
/* The domain of addr, lower-case, or NULL; caller frees. */
char *domain_of(const char *addr);

/* ---- times ---- */

/* Seconds since the epoch of an entry ID (UTC); -1 if malformed. */
gint64 id_time(const char *id);
/* t as "YYYY-MM-DDTHH:MM:SSZ" (UTC), "?" if out of range; caller frees. */
char *iso_time(gint64 t);
/* "30d", "12h", "45m", "90s", "2w" -> seconds; -1 if malformed. */
gint64 parse_age(const char *s);
/* A date (2026-11-25), an ISO 8601 UTC time or an age ago, as seconds
 * since the epoch; -1 if malformed. */
gint64 parse_when(const char *s);

/* ---- filters and selection (list, ioc) ---- */

struct qfilter {
	gint64 since, until;	/* by the time in the ID; until -1: none */
	double min_score;
	bool has_min;
	const char *symbol, *from, *rcpt;	/* borrowed from argv */
	int released;		/* -1 any, 0 pending, 1 released */
	const char *action;	/* exact, any case: "reject", "hold" */
	const char *queue_id;	/* the Postfix queue ID, exact */
	const char *message_id;	/* with or without its angle brackets */
	const char *id;		/* an entry ID, or its first characters */
};

/* The getopt_long options qfilter_option() takes. */
#define QFILTER_LONGOPTS \
	{ "since", required_argument, NULL, 'S' }, \
	{ "until", required_argument, NULL, 'U' }, \
	{ "min-score", required_argument, NULL, 'M' }, \
	{ "symbol", required_argument, NULL, 'Y' }, \
	{ "from", required_argument, NULL, 'F' }, \
	{ "rcpt", required_argument, NULL, 'R' }, \
	{ "released", no_argument, NULL, 'r' }, \
	{ "pending", no_argument, NULL, 'p' }, \
	{ "sender", required_argument, NULL, 'F' }, \
	{ "recipient", required_argument, NULL, 'R' }, \
	{ "action", required_argument, NULL, QFILTER_ACTION }, \
	{ "queue-id", required_argument, NULL, QFILTER_QUEUE_ID }, \
	{ "message-id", required_argument, NULL, QFILTER_MESSAGE_ID }, \
	{ "id", required_argument, NULL, QFILTER_ID }

/* Option codes of the long-only filters (beyond any short option). */
#define QFILTER_ACTION 0x100
#define QFILTER_QUEUE_ID 0x101
#define QFILTER_MESSAGE_ID 0x102
#define QFILTER_ID 0x103

enum qfilter_opt {
	QFILTER_NOT_MINE,	/* opt is not a filter option */
	QFILTER_TAKEN,
	QFILTER_BAD_VALUE	/* a time or number that does not parse */
};

/* A filter that lets every entry through. */
void qfilter_init(struct qfilter *f);
/* Apply option opt (from QFILTER_LONGOPTS) with its argument arg. */
enum qfilter_opt qfilter_option(struct qfilter *f, int opt, const char *arg);

/* Whether entry ID id passes the filters that need only the ID (time,
 * --id), and whether the loaded e passes the others. */
bool qfilter_match_id(const struct qfilter *f, const char *id);
bool qfilter_match(const struct qfilter *f, const struct qentry *e);

/*
 * The entries of the store that match f, newest first, loaded (struct
 * qentry *, owned by the array). An entry that cannot be loaded is
 * skipped, and why appended to skipped (char *, for the caller to print);
 * *unreadable is set when one was unreadable, not merely removed in the
 * meantime. NULL when the store cannot be listed, with *why set.
 */
GPtrArray *qstore_select(const char *store, const struct qfilter *f,
    GPtrArray *skipped, bool *unreadable, char **why);

#endif /* EMF_QSTORE_H */
