/*
 * pool.h - the scanner worker pool: scans run in separate processes.
 *
 * Owns: N slots, each a SOCK_SEQPACKET socketpair between the milter
 * process (milter end) and one worker process (worker end). The main
 * process, single-threaded, keeps both ends, forks the workers (so fork()
 * never happens in the threaded milter process), reaps them and forks a
 * replacement on the same slot. Because it keeps the worker end open, a
 * slot survives its worker: the milter end never sees EOF; the main
 * process posts a DIED packet instead, so a waiting milter thread learns
 * of a crash at once.
 *
 * Protocol (one packet each, never split): REQ {seq, deadline} + envelope
 * strings + the message itself when it fits in the packet (64 KiB), else
 * as a descriptor (SCM_RIGHTS: a memfd, or the spool file); REPLY {seq,
 * pid, score, action, ...} +
 * "id\0summary\0policy\0json" in the packet, or as a memfd when larger;
 * DIED {pid, status} and STARTED {pid} from the main process. A worker
 * taking a request says so in memory shared by all (seq, pid per slot),
 * not by a packet: the milter thread wakes once per message, for the
 * reply, and reads the record only on a deadline or a death. Every wait is on a socket or
 * a condition variable with the message's deadline as its only timeout.
 * Stale packets (a killed worker's late reply, a crash notice for another
 * worker) are recognised by seq and pid and dropped.
 *
 * LIMITATIONS: a late worker is killed by pid (SIGKILL) from the milter
 * process; pid reuse between its death and the kill is theoretically
 * possible (same user only). The envelope packet is capped at 60 KiB:
 * recipients beyond that are not passed to the scanner (counted).
 */
#ifndef EMF_POOL_H
#define EMF_POOL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emf.h"

struct emf_pool;

/* ---- main process side ------------------------------------------------ */

/*
 * n slots with their socketpairs; no worker yet. At most queue_max
 * milter threads wait for a free slot; more are turned away at once
 * (overload). NULL on failure.
 */
struct emf_pool *emf_pool_new(unsigned n, unsigned queue_max);
/* milter.workers as configured, 0 = one per online CPU (at most 64). */
unsigned emf_pool_auto_workers(long configured);
/* milter.queue as configured, 0 = 32 per worker, at least 128. */
unsigned emf_pool_auto_queue(long configured, unsigned workers);
void emf_pool_free(struct emf_pool *pool);
unsigned emf_pool_size(const struct emf_pool *pool);

/* Fork workers for every slot that has none. The engine is borrowed. */
void emf_pool_fill(struct emf_pool *pool, struct emf_engine *engine);
/*
 * Reap dead children (WNOHANG). Returns true if pid was one of ours,
 * after posting DIED on its slot. Workers are not refilled here.
 */
bool emf_pool_reaped(struct emf_pool *pool, pid_t pid, int status);
/* Ask every worker to exit after its current scan (SIGTERM). */
void emf_pool_retire(struct emf_pool *pool);
/* Number of live workers. */
unsigned emf_pool_live(const struct emf_pool *pool);

/*
 * In a child that is not a worker (the milter process): close the worker
 * ends so only the main process and workers hold them.
 */
void emf_pool_client_init(struct emf_pool *pool);

/* ---- milter process side (thread-safe) -------------------------------- */

/* What a worker returns; strings owned (emf_verdict_clear()). */
/* Why a message has no verdict: the on_failure case that applies. */
enum emf_fail {
	EMF_FAIL_NONE = 0,
	EMF_FAIL_TIMEOUT,	/* the scan passed milter.scan_timeout_ms */
	EMF_FAIL_CRASH,		/* the worker died or its socket failed */
	EMF_FAIL_OVERLOAD,	/* no worker free before the deadline */
	EMF_FAIL_SCAN_ERROR,	/* the worker replied with an error */
	EMF_FAIL_STORE,		/* spool or quarantine store failed */
	EMF_FAIL_N
};

struct emf_verdict {
	char *id;
	char *summary;		/* "NAME(score) ..." */
	char *policy;		/* recipient policy that decided, "" if none */
	char *json;		/* full report; "" unless the verdict is
				 * quarantine or reject, or held (what the
				 * quarantine store needs) */
	double score;
	enum emf_action action;
	long scan_ms;
	bool limits_hit;
	bool held;		/* waits for its password (correlate.h) */
	bool released;		/* a held mail a worker re-injected */
	pid_t pid;		/* worker that did it */
	enum emf_fail fail;	/* set when emf_pool_scan() fails */
	/* Where the time went, microseconds (EMOFILTER_TIMING=1 logs it):
	 * waiting for a free worker, request sent until the worker took it,
	 * in the worker (scan and report), and the rest of the exchange. */
	int64_t us_queue, us_dispatch, us_scan, us_return;
};

void emf_verdict_clear(struct emf_verdict *v);

/*
 * Scan the message (data, len bytes; or, when data is NULL, the one
 * behind msg_fd) in a worker, waiting at most timeout_ms (including the
 * wait for a free worker). A message that fits in one packet with its
 * envelope is sent in it; a larger one as msg_fd, or, when msg_fd is -1,
 * as a memfd made from data. EMF_OK with *out filled;
 * EMF_ERR_TIMEOUT when the deadline passed (the worker, if any, was
 * killed); EMF_ERR_INTERNAL when the worker died or the scan failed
 * inside; errno-style detail is logged, prefixed with qid. On failure
 * out->fail says which case it was (timeout, crash, overload, error).
 */
enum emf_rc emf_pool_scan(struct emf_pool *pool, const char *qid,
    const uint8_t *data, size_t len, int msg_fd,
    const struct emf_envelope *env, long timeout_ms, struct emf_verdict *out);

/* ---- worker ------------------------------------------------------------ */

/*
 * Test hook, off unless EMOFILTER_TEST_HOOKS=1 is in the environment at
 * start (never set by the shipped unit): a worker that sees the marker
 * "emf-test-sleep" in a message's first 8 KiB logs its pid and sleeps, so
 * the end-to-end tests can kill it or let it time out.
 */
void emf_pool_set_test_hooks(bool on);

#endif /* EMF_POOL_H */
