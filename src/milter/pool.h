/*
 * pool.h - the scanner worker pool: scans run in separate processes.
 *
 * Owns: one request queue, a SOCK_SEQPACKET socketpair whose milter end
 * every milter thread writes and whose worker end every worker reads, and
 * a record per worker in shared memory (what it is doing). The main
 * process, single-threaded, keeps both ends, forks the workers (so fork()
 * never happens in the threaded milter process), reaps them and forks a
 * replacement; the queue outlives them all. A worker takes the next
 * request as soon as it is free, whichever thread sent it; idle workers
 * wait with EPOLLEXCLUSIVE, so a request wakes one of them.
 *
 * Protocol: a request is one packet, never split: REQ {seq, deadline} +
 * envelope strings + the message itself when it fits in the packet
 * (64 KiB), with descriptors (SCM_RIGHTS): the request's own reply
 * channel (the write end of a pipe the milter thread made for it) and,
 * for a larger message, the message (a memfd, or the spool file). The
 * reply is a stream on that pipe: REPLY {seq, pid, score, action, times,
 * ...} then the blob "id\0summary\0policy\0json" (at most 64 MiB). A
 * pipe, not a socketpair: a unix socket in flight makes the kernel run
 * its in-flight garbage collector on every close of any unix socket. The
 * worker that took a request holds the only write end: if it dies, the
 * pipe closes and the waiting thread learns of it at once; a late reply
 * can only reach a pipe nobody reads. Every wait is on a descriptor, with
 * the message's deadline as its only timeout.
 *
 * Deadlines: a worker arms a timer (SIGKILL) for the request's deadline
 * plus 100 ms when it takes one, so an overrunning scan ends even when
 * the worker is stopped or spinning, and no other process has to pick a
 * pid to kill at the right moment. A request that waited its whole time
 * in the queue while a worker sat idle since before it was queued finds
 * that worker hung (stopped, stuck): the milter thread kills it (SIGKILL)
 * and the main process starts another. If every worker was busy, it is an
 * overload.
 *
 * LIMITATIONS: a hung idle worker is killed by pid from the milter
 * process; between its reaping and the main process marking its record
 * dead the pid could in theory be reused (same user only). The envelope
 * packet is capped at 60 KiB: recipients beyond that are not passed to
 * the scanner (counted).
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
 * The queue and n worker records; no worker yet. At most n + queue_max
 * requests are queued or being scanned at once; more are turned away at
 * once (overload). NULL on failure.
 */
struct emf_pool *emf_pool_new(unsigned n, unsigned queue_max);
/* milter.workers as configured, 0 = one per online CPU (at most 64). */
unsigned emf_pool_auto_workers(long configured);
/* milter.queue as configured, 0 = 32 per worker, at least 128. */
unsigned emf_pool_auto_queue(long configured, unsigned workers);
void emf_pool_free(struct emf_pool *pool);
unsigned emf_pool_size(const struct emf_pool *pool);

/* Fork a worker for every record that has none. The engine is borrowed. */
void emf_pool_fill(struct emf_pool *pool, struct emf_engine *engine);
/*
 * A reaped child: returns true if pid was one of our workers (its record
 * is marked dead). Workers are not refilled here.
 */
bool emf_pool_reaped(struct emf_pool *pool, pid_t pid, int status);
/* Ask every worker to exit after its current scan (SIGTERM). */
void emf_pool_retire(struct emf_pool *pool);
/* Number of live workers. */
unsigned emf_pool_live(const struct emf_pool *pool);

/*
 * In a child that is not a worker (the milter process): close the
 * queue's worker end, so only the main process and workers hold it.
 */
void emf_pool_client_init(struct emf_pool *pool);

/* ---- milter process side (thread-safe) -------------------------------- */

/* What a worker returns; strings owned (emf_verdict_clear()). */
/* Why a message has no verdict: the on_failure case that applies. */
enum emf_fail {
	EMF_FAIL_NONE = 0,
	EMF_FAIL_TIMEOUT,	/* the scan passed milter.scan_timeout_ms */
	EMF_FAIL_CRASH,		/* the worker died or its socket failed */
	EMF_FAIL_OVERLOAD,	/* no worker free before the deadline, or the
				 * queue full (milter.queue) */
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
	 * until the request was in the queue, queued until a worker took
	 * it, in the worker (scan and report), and the rest of the
	 * exchange. */
	int64_t us_queue, us_dispatch, us_scan, us_return;
};

void emf_verdict_clear(struct emf_verdict *v);

/*
 * Scan the message (data, len bytes; or, when data is NULL, the one
 * behind msg_fd) in a worker, waiting at most timeout_ms (including the
 * wait for a free worker). A message that fits in one packet with its
 * envelope is sent in it; a larger one as msg_fd, or, when msg_fd is -1,
 * as a memfd made from data. EMF_OK with *out filled;
 * EMF_ERR_TIMEOUT when the deadline passed (the worker, if any, is
 * killed by its timer); EMF_ERR_INTERNAL when the worker died or the scan failed
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
