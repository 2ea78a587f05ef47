/*
 * milter.h - the milter process: the milter callbacks and their state.
 *
 * Owns: the per-connection and per-message context (envelope, spool,
 * the X-Emofilter-* headers to strip, the Subject), the live settings
 * (struct emf_mconf, replaced on reload), and the drain on SIGTERM.
 * Callbacks only collect; at end of message the spool goes to a worker
 * (pool.h) and the verdict to actions.c.
 *
 * LIMITATIONS: at most EMF_MAX_RCPTS recipients are kept for the scanner
 * and the report (all are counted); at most EMF_MAX_STRIP forged
 * X-Emofilter-* headers are removed per message (more: the message is
 * tempfailed rather than passed on with a forged verdict).
 */
#ifndef EMF_MILTER_H
#define EMF_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include "mproto.h"

#include "emf.h"
#include "pool.h"
#include "spool.h"

#define EMF_MAX_RCPTS 1000
#define EMF_MAX_STRIP 64

/* What a message without a verdict gets (milter.on_failure.*). */
enum emf_fail_action {
	EMF_FAILACT_TEMPFAIL = 0,
	EMF_FAILACT_ACCEPT,	/* tagged X-Emofilter-Action: unscanned */
	EMF_FAILACT_REJECT
};

/* Settings the milter process reads per message; immutable, refcounted. */
struct emf_mconf {
	gint refs;
	struct emf_cfg *cfg;
	long scan_timeout_ms;
	/* per enum emf_fail case; EMF_FAIL_NONE unused */
	enum emf_fail_action on_fail[EMF_FAIL_N];
	bool headers_on_accept;
	bool quarantine_rejected;
	const char *qaction;		/* hold|discard|reject */
	const char *reject_text, *subject_prefix, *qdir, *spool_dir;
	const char *on_oversize;
	size_t spool_mem, max_bytes;
};

/* One forged header to delete: its name and 1-based index among equals. */
struct emf_strip {
	char *name;
	int idx;
};

struct emf_msg {
	char *qid;
	char *sender;
	char *auth_user;
	GPtrArray *rcpts;		/* char *, at most EMF_MAX_RCPTS */
	size_t nrcpts;			/* all of them */
	struct emf_spool *spool;
	enum emf_rc spool_rc;		/* first spool failure */
	char *subject;			/* first Subject value, as received */
	char *msgid;			/* first Message-ID value, for the log */
	GHashTable *hdr_count;		/* lower-case name -> count */
	struct emf_strip strip[EMF_MAX_STRIP];
	int nstrip;
	bool strip_overflow;
	int64_t t_start;		/* MAIL FROM, CLOCK_MONOTONIC us */
};

struct emf_conn {
	char *client_ip, *client_name, *helo;
	/* SMFIP_NR_* bits the MTA agreed to: those callbacks send no
	 * reply (SMFIS_NOREPLY), so the MTA does not wait for one. */
	unsigned long noreply;
	bool broken;			/* a no-reply callback failed: the
					 * message is tempfailed at its end */
	struct emf_msg *msg;
	struct emf_mconf *mc;		/* taken at MAIL FROM */
};

/* Build settings from a config (cfg owned by the result). */
struct emf_mconf *emf_mconf_new(struct emf_cfg *cfg);
void emf_mconf_unref(struct emf_mconf *mc);

/*
 * Register the callbacks and open the listening socket (before dropping
 * privileges). Returns false with err set.
 */
bool emf_milter_setup(const char *sock, struct emf_error *err);

/*
 * The milter process: serve until SIGTERM, then drain (in-flight
 * messages get up to the scan timeout), and return an exit status.
 * conf_path is re-read on SIGUSR1 (sent by the main process after a
 * successful reload).
 */
int emf_milter_run(const char *conf_path, struct emf_mconf *mc,
    struct emf_pool *pool);

/* The on_failure key name of a case: "timeout", "crash", ... */
const char *emf_fail_name(enum emf_fail f);

/* Messages now between MAIL FROM and end of message (for the metrics). */
int emf_milter_inflight(void);

/* actions.c: apply a verdict; returns the sfsistat for eom. */
sfsistat emf_actions_apply(SMFICTX *ctx, struct emf_conn *c,
    enum emf_rc rc, struct emf_verdict *v, const uint8_t *data, size_t len);

#endif /* EMF_MILTER_H */
