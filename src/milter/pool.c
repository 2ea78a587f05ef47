/*
 * pool.c - scanner workers: forking and reaping (main process), the
 * request/reply exchange with a deadline (milter threads), and the worker
 * loop itself.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fdio.h"
#include "core/log.h"
#include "correlate.h"
#include "pool.h"

#define WMAGIC 0x456d6657u	/* "EmfW" */
#define WPKT_MAX 65536		/* largest request packet */
#define REPLY_MAX (64u << 20)	/* largest reply (the report) we accept */
#define BIG_MESSAGE (1u << 20)	/* after a scan this large, malloc_trim */
#define HOOK_MARK "emf-test-sleep"
/*
 * A worker's own timer kills it this long after the request's deadline:
 * the waiting milter thread gives up first, at the deadline, and so
 * reports a timeout, not the crash it would see if the worker died first.
 */
#define KILL_GRACE_MS 100

enum wtype { W_REQ = 1, W_REPLY = 3 };

struct wmsg {
	uint32_t magic, type;
	uint64_t seq;
	int64_t deadline_ms;	/* CLOCK_MONOTONIC, shared by the host */
	int64_t scan_ms;
	double score;
	int32_t pid, rc, action, limits_hit, status;
	uint32_t paylen;
	int32_t held;		/* REPLY: 1 waits for its password, 2 one we
				 * released (state) */
	int32_t store_failed;	/* REPLY: the scan was done, the state store
				 * failed (on_failure.store, not scan_error) */
	uint32_t msglen;	/* REQ: the message's bytes at the end of the
				 * payload (no descriptor); REPLY: the blob
				 * that follows the header (= paylen) */
	int64_t t_took, t_done;	/* REPLY: CLOCK_MONOTONIC us when the worker
				 * took the request and when it replied */
};

/*
 * What each worker is doing, in memory shared by the main process, the
 * milter process and the workers (mapped before any fork), one record a
 * worker. The worker writes it when it starts waiting and when it takes
 * a request, instead of a packet that would wake the waiting milter
 * thread once more per message; a milter thread reads it only when its
 * deadline passes or its worker dies: to name the worker in the log, and
 * to find a worker that hangs while requests wait (idle since before the
 * request was queued).
 */
enum wstate_kind { WS_NONE = 0, WS_IDLE, WS_BUSY, WS_DEAD };

struct wstate {
	uint64_t seq;		/* WS_BUSY: the request being scanned */
	int64_t since_ms;	/* CLOCK_MONOTONIC: entered this state */
	int32_t pid;
	int32_t kind;		/* enum wstate_kind, written last */
};

struct emf_pool {
	unsigned n;
	int qm, qw;		/* the request queue: milter end, worker end */
	pid_t *pids;		/* main process: live worker, 0 if none */
	struct wstate *ws;	/* n records, MAP_SHARED */
	unsigned queue_max;	/* requests that may wait beyond n */
	unsigned inflight;	/* requests sent and not yet answered */
	uint64_t seq;
};

static bool test_hooks;
static volatile sig_atomic_t worker_stop;

void
emf_pool_set_test_hooks(bool on)
{
	test_hooks = on;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
now_ms(void)
{
	return now_us() / 1000;
}

unsigned
emf_pool_auto_workers(long configured)
{
	long n;

	if (configured > 0)
		return (unsigned)configured;
	/* One scan per CPU: more only adds context switches and memory. */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > 64 ? 64 : (unsigned)n;
}

unsigned
emf_pool_auto_queue(long configured, unsigned workers)
{
	if (configured > 0)
		return (unsigned)configured;
	/* Well above Postfix's default smtpd process limit (100). */
	return workers * 32 > 128 ? workers * 32 : 128;
}

static void
ws_set(struct wstate *w, enum wstate_kind kind, uint64_t seq)
{
	__atomic_store_n(&w->seq, seq, __ATOMIC_RELAXED);
	__atomic_store_n(&w->since_ms, now_ms(), __ATOMIC_RELAXED);
	__atomic_store_n(&w->kind, (int32_t)kind, __ATOMIC_RELEASE);
}

/* ---- packets ------------------------------------------------------------ */

/*
 * Send one packet (pay, then pay2) with up to two descriptors (-1: none):
 * for a request the reply channel and the message, for a reply the blob.
 */
static ssize_t
send_pkt(int s, const struct wmsg *m, const void *pay, size_t paylen,
    const void *pay2, size_t paylen2, const int fds[2], int flags)
{
	struct iovec iov[3];
	struct msghdr mh;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct wmsg hdr = *m;
	int nfd = 0, fdv[2];
	ssize_t n;

	hdr.magic = WMAGIC;
	hdr.paylen = (uint32_t)(paylen + paylen2);
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)pay;
	iov[1].iov_len = paylen;
	iov[2].iov_base = (void *)pay2;
	iov[2].iov_len = paylen2;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = paylen2 > 0 ? 3 : paylen > 0 ? 2 : 1;
	for (int i = 0; fds != NULL && i < 2; i++)
		if (fds[i] >= 0)
			fdv[nfd++] = fds[i];
	if (nfd > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fdv, nfd * sizeof(int));
	}
	do
		n = sendmsg(s, &mh, MSG_NOSIGNAL | flags);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && n != (ssize_t)(sizeof(hdr) + paylen + paylen2)) {
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

enum { PKT_EOF = -2, PKT_ERR = -1, PKT_BAD = 0, PKT_OK = 1 };

/*
 * Receive one packet into m and pay (WPKT_MAX bytes). PKT_OK on a
 * well-formed packet, PKT_BAD on a malformed one (dropped), PKT_EOF when
 * the peer has gone, PKT_ERR on error (errno). fds[0], fds[1] get the
 * descriptors received, in order, or -1; any more are closed.
 */
static int
recv_pkt(int s, struct wmsg *m, char *pay, int fds[2], int flags)
{
	struct iovec iov[2];
	struct msghdr mh;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	ssize_t n;
	int got = 0;

	fds[0] = fds[1] = -1;
	iov[0].iov_base = m;
	iov[0].iov_len = sizeof(*m);
	iov[1].iov_base = pay;
	iov[1].iov_len = WPKT_MAX;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC | flags);
	if (n < 0)
		return PKT_ERR;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
	    c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < nfd; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < 2)
				fds[got++] = f;
			else
				close(f);
		}
	}
	if (n == 0 && got == 0)
		return PKT_EOF;
	if ((size_t)n < sizeof(*m) || m->magic != WMAGIC ||
	    m->paylen != (size_t)n - sizeof(*m) || (mh.msg_flags & MSG_TRUNC)) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		fds[0] = fds[1] = -1;
		return PKT_BAD;
	}
	return PKT_OK;
}

/* ---- main process ---------------------------------------------------- */

struct emf_pool *
emf_pool_new(unsigned n, unsigned queue_max)
{
	struct emf_pool *pool = calloc(1, sizeof(*pool));
	int sv[2];

	if (pool == NULL)
		return NULL;
	pool->n = n;
	pool->queue_max = queue_max;
	pool->qm = pool->qw = -1;
	pool->pids = calloc(n, sizeof(pid_t));
	pool->ws = mmap(NULL, n * sizeof(struct wstate), PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pool->pids == NULL || pool->ws == MAP_FAILED) {
		if (pool->ws != MAP_FAILED)
			munmap(pool->ws, n * sizeof(struct wstate));
		free(pool->pids);
		free(pool);
		return NULL;
	}
	/*
	 * One queue for all workers: a worker takes the next request the
	 * moment it is free, whichever milter thread sent it. Sequenced
	 * packets: many writers and many readers, each packet whole to one
	 * reader. The main process keeps both ends, so the queue outlives
	 * every worker and milter process.
	 */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		emf_pool_free(pool);
		return NULL;
	}
	pool->qm = sv[0];
	pool->qw = sv[1];
	return pool;
}

void
emf_pool_free(struct emf_pool *pool)
{
	if (pool == NULL)
		return;
	if (pool->qm >= 0)
		close(pool->qm);
	if (pool->qw >= 0)
		close(pool->qw);
	munmap(pool->ws, pool->n * sizeof(struct wstate));
	free(pool->pids);
	free(pool);
}

unsigned
emf_pool_size(const struct emf_pool *pool)
{
	return pool->n;
}

unsigned
emf_pool_live(const struct emf_pool *pool)
{
	unsigned k = 0;

	for (unsigned i = 0; i < pool->n; i++)
		k += pool->pids[i] > 0;
	return k;
}

static void worker_main(int q, struct wstate *ws,
    struct emf_engine *engine) __attribute__((noreturn));

void
emf_pool_fill(struct emf_pool *pool, struct emf_engine *engine)
{
	for (unsigned i = 0; i < pool->n; i++) {
		pid_t pid;

		if (pool->pids[i] > 0)
			continue;
		pid = fork();
		if (pid < 0) {
			emf_log(EMF_LOG_ERR, "worker %u: fork: %s", i,
			    strerror(errno));
			continue;
		}
		if (pid == 0) {
			/* A worker holds the queue's worker end only. */
			close(pool->qm);
			worker_main(pool->qw, &pool->ws[i], engine);
		}
		pool->pids[i] = pid;
		/* Its record names it from now on, before it runs: a
		 * worker that hangs before its first wait is still found. */
		__atomic_store_n(&pool->ws[i].pid, (int32_t)pid,
		    __ATOMIC_RELAXED);
		ws_set(&pool->ws[i], WS_IDLE, 0);
		emf_log(EMF_LOG_INFO, "worker %u started, pid %ld", i,
		    (long)pid);
	}
}

bool
emf_pool_reaped(struct emf_pool *pool, pid_t pid, int status)
{
	for (unsigned i = 0; i < pool->n; i++) {
		if (pool->pids[i] != pid)
			continue;
		pool->pids[i] = 0;
		/* Never signalled again: its pid may be reused now. The seq
		 * stays, so the milter thread it failed can name it. */
		__atomic_store_n(&pool->ws[i].kind, (int32_t)WS_DEAD,
		    __ATOMIC_RELEASE);
		if (WIFSIGNALED(status))
			emf_log(EMF_LOG_WARNING,
			    "worker %u (pid %ld) killed by signal %d", i,
			    (long)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			emf_log(EMF_LOG_WARNING,
			    "worker %u (pid %ld) exited with status %d", i,
			    (long)pid, WEXITSTATUS(status));
		return true;
	}
	return false;
}

void
emf_pool_retire(struct emf_pool *pool)
{
	for (unsigned i = 0; i < pool->n; i++)
		if (pool->pids[i] > 0)
			kill(pool->pids[i], SIGTERM);
}

void
emf_pool_client_init(struct emf_pool *pool)
{
	close(pool->qw);
	pool->qw = -1;
	for (unsigned i = 0; i < pool->n; i++)
		pool->pids[i] = 0;
}

/* ---- milter process: one scan ------------------------------------------ */

void
emf_verdict_clear(struct emf_verdict *v)
{
	free(v->id);
	free(v->summary);
	free(v->policy);
	free(v->json);
	memset(v, 0, sizeof(*v));
}

/* Append one optional string as '-' (NULL) or '+' value '\0'. */
static bool
put_str(char *buf, size_t *off, const char *s)
{
	size_t n = s != NULL ? strlen(s) + 2 : 2;

	if (n > WPKT_MAX - *off)
		return false;
	buf[(*off)++] = s != NULL ? '+' : '-';
	if (s != NULL) {
		memcpy(buf + *off, s, n - 2);
		*off += n - 2;
	}
	buf[(*off)++] = '\0';
	return true;
}

/* The envelope as the REQ payload. Returns its length. */
static size_t
pack_env(char *buf, const struct emf_envelope *env, const char *qid)
{
	size_t off = 0;
	const char *f[7] = { qid, env->client_ip, env->client_name, env->helo,
		env->sender, env->auth_user, NULL };

	for (int i = 0; i < 6; i++)
		if (!put_str(buf, &off, f[i]))
			return 0;
	for (size_t i = 0; i < env->nrcpts; i++) {
		size_t save = off;

		if (!put_str(buf, &off, env->rcpts[i])) {
			off = save;
			break;
		}
	}
	return off;
}

/* The next NUL-terminated field of a blob, or NULL if it runs off the end. */
static char *
blob_field(const char *p, size_t n, size_t *off)
{
	size_t a;

	if (*off >= n)
		return NULL;
	a = strnlen(p + *off, n - *off);
	if (*off + a >= n)
		return NULL;
	*off += a + 1;
	return strndup(p + *off - a - 1, a);
}

/* Split the reply blob "id\0summary\0policy\0json" into v. */
static bool
parse_blob(const char *p, size_t n, struct emf_verdict *v)
{
	size_t off = 0;

	v->id = blob_field(p, n, &off);
	v->summary = v->id != NULL ? blob_field(p, n, &off) : NULL;
	v->policy = v->summary != NULL ? blob_field(p, n, &off) : NULL;
	if (v->policy != NULL)
		v->json = strndup(p + off, n - off);
	return v->json != NULL;
}

/* The worker scanning request seq, 0 if none is (any more). */
static pid_t
scanning(const struct emf_pool *pool, uint64_t seq)
{
	for (unsigned i = 0; i < pool->n; i++) {
		const struct wstate *w = &pool->ws[i];

		if (__atomic_load_n(&w->kind, __ATOMIC_ACQUIRE) != WS_DEAD &&
		    __atomic_load_n(&w->seq, __ATOMIC_RELAXED) == seq)
			return (pid_t)__atomic_load_n(&w->pid,
			    __ATOMIC_RELAXED);
	}
	return 0;
}

/* Any worker's record naming seq, dead or alive (for the log). */
static pid_t
last_scanner(const struct emf_pool *pool, uint64_t seq)
{
	for (unsigned i = 0; i < pool->n; i++)
		if (__atomic_load_n(&pool->ws[i].seq, __ATOMIC_ACQUIRE) == seq)
			return (pid_t)__atomic_load_n(&pool->ws[i].pid,
			    __ATOMIC_RELAXED);
	return 0;
}

/*
 * Our request waited its whole time in the queue: kill each worker that
 * has been idle since before it was queued. A live idle worker takes a
 * queued request within microseconds, so one idle that long is hung
 * (stopped, stuck) and would leave every request to the others; the main
 * process starts another. Busy workers are left to their own deadlines.
 * Returns how many were killed, naming the first in *first.
 */
static unsigned
kill_hung(const struct emf_pool *pool, int64_t queued_ms, pid_t *first)
{
	unsigned k = 0;

	*first = 0;
	for (unsigned i = 0; i < pool->n; i++) {
		const struct wstate *w = &pool->ws[i];
		pid_t pid;

		if (__atomic_load_n(&w->kind, __ATOMIC_ACQUIRE) != WS_IDLE ||
		    __atomic_load_n(&w->since_ms, __ATOMIC_RELAXED) >=
		    queued_ms ||
		    (pid = (pid_t)__atomic_load_n(&w->pid,
		    __ATOMIC_RELAXED)) <= 0)
			continue;
		kill(pid, SIGKILL);
		if (k++ == 0)
			*first = pid;
	}
	return k;
}

/* Queue one request, waiting for room until the deadline. */
static bool
queue_request(struct emf_pool *pool, const struct wmsg *m, const char *pay,
    size_t len, const uint8_t *data, size_t data_len, const int fds[2],
    int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { pool->qm, POLLOUT, 0 };
		int64_t left;

		if (send_pkt(pool->qm, m, pay, len, data, data_len, fds,
		    MSG_DONTWAIT) >= 0)
			return true;
		if (errno != EAGAIN && errno != ENOBUFS)
			return false;
		if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return false;
		}
		(void)poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	}
}

/* The verdict from a reply header and its blob. */
static enum emf_rc
take_reply(const char *qid, const struct wmsg *m, const char *blob,
    struct emf_verdict *out)
{
	bool got = m->rc == EMF_OK && m->msglen > 0 &&
	    parse_blob(blob, m->msglen, out);

	if (!got) {
		emf_log(EMF_LOG_ERR, "%s: scanner error: %s", qid,
		    emf_rc_str((enum emf_rc)m->rc));
		emf_verdict_clear(out);
		out->fail = m->store_failed ? EMF_FAIL_STORE :
		    EMF_FAIL_SCAN_ERROR;
		return m->rc != EMF_OK ? (enum emf_rc)m->rc : EMF_ERR_INTERNAL;
	}
	out->score = m->score;
	out->action = (enum emf_action)m->action;
	out->scan_ms = (long)m->scan_ms;
	out->limits_hit = m->limits_hit != 0;
	out->held = m->held == 1;
	out->released = m->held == 2;
	out->pid = m->pid;
	out->fail = EMF_FAIL_NONE;
	return EMF_OK;
}

/* The deadline passed without a reply: say why, and clear the way. */
static enum emf_rc
missed_deadline(struct emf_pool *pool, const char *qid, uint64_t seq,
    int64_t queued_ms, long timeout_ms, struct emf_verdict *out)
{
	pid_t pid = scanning(pool, seq);
	unsigned hung;

	out->fail = EMF_FAIL_TIMEOUT;
	if (pid > 0) {
		/* Its own timer kills it KILL_GRACE_MS from now. */
		emf_log(EMF_LOG_WARNING, "%s: scan exceeded %ld ms: killing "
		    "scanner pid %ld (its deadline timer)", qid, timeout_ms,
		    (long)pid);
	} else if ((hung = kill_hung(pool, queued_ms, &pid)) > 0) {
		emf_log(EMF_LOG_WARNING, "%s: no scanner took the message "
		    "within %ld ms: killing hung scanner pid %ld%s", qid,
		    timeout_ms, (long)pid, hung > 1 ? " and others" : "");
	} else {
		/* Every worker was busy the whole time. */
		emf_log(EMF_LOG_WARNING, "%s: overload: no scanner free within "
		    "%ld ms", qid, timeout_ms);
		out->fail = EMF_FAIL_OVERLOAD;
	}
	return EMF_ERR_TIMEOUT;
}

/*
 * Read n bytes from the reply channel before the deadline: 1 done, 0 the
 * channel closed first (the worker is gone), -1 an error, -2 the
 * deadline. The timeout of the wait is only the deadline.
 */
static int
read_reply(int fd, void *buf, size_t n, int64_t deadline)
{
	char *p = buf;

	while (n > 0) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			return -2;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		r = read(fd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return r == 0 ? 0 : -1;
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

/* Wait on our reply channel until the reply, the worker's end, or the
 * deadline. */
static enum emf_rc
await_reply(struct emf_pool *pool, const char *qid, int rfd, uint64_t seq,
    int64_t deadline, int64_t t_sent, long timeout_ms, char *pay,
    struct emf_verdict *out)
{
	struct wmsg m;
	char *blob = pay;
	enum emf_rc rc;
	int r = read_reply(rfd, &m, sizeof(m), deadline);

	if (r == 1 && (m.magic != WMAGIC || m.type != W_REPLY ||
	    m.seq != seq || m.msglen != m.paylen || m.paylen > REPLY_MAX)) {
		emf_log(EMF_LOG_ERR, "%s: scanner pid %ld: malformed reply",
		    qid, (long)last_scanner(pool, seq));
		out->fail = EMF_FAIL_CRASH;
		return EMF_ERR_INTERNAL;
	}
	if (r == 1 && m.paylen > WPKT_MAX && (blob = malloc(m.paylen)) ==
	    NULL) {
		out->fail = EMF_FAIL_SCAN_ERROR;
		return EMF_ERR_NOMEM;
	}
	if (r == 1)
		r = read_reply(rfd, blob, m.paylen, deadline);
	if (r == 1) {
		rc = take_reply(qid, &m, blob, out);
		/* One clock for all processes: the worker's times. */
		out->us_dispatch = m.t_took - t_sent;
		out->us_scan = m.t_done - m.t_took;
		out->us_return = now_us() - m.t_done;
	} else if (r == -2 || (r == 0 && now_ms() >= deadline)) {
		rc = missed_deadline(pool, qid, seq, t_sent / 1000, timeout_ms,
		    out);
	} else {
		if (r == 0)
			emf_log(EMF_LOG_WARNING, "%s: scanner pid %ld died",
			    qid, (long)last_scanner(pool, seq));
		else
			emf_log(EMF_LOG_ERR, "%s: reply channel: %s", qid,
			    strerror(errno));
		out->fail = EMF_FAIL_CRASH;
		rc = EMF_ERR_INTERNAL;
	}
	if (blob != pay)
		free(blob);
	return rc;
}

enum emf_rc
emf_pool_scan(struct emf_pool *pool, const char *qid, const uint8_t *data,
    size_t data_len, int msg_fd, const struct emf_envelope *env,
    long timeout_ms, struct emf_verdict *out)
{
	int64_t t0 = now_us(), t_sent;
	int64_t deadline = t0 / 1000 + timeout_ms;
	char *pay = malloc(WPKT_MAX);
	struct wmsg m;
	enum emf_rc rc;
	size_t len;
	int own_fd = -1, ch[2], fds[2];
	unsigned waiting;

	memset(out, 0, sizeof(*out));
	out->fail = EMF_FAIL_SCAN_ERROR;
	if (pay == NULL)
		return EMF_ERR_NOMEM;
	memset(&m, 0, sizeof(m));
	m.type = W_REQ;
	m.deadline_ms = deadline;
	len = pack_env(pay, env, qid);
	/*
	 * A message that fits in the packet goes in it: one copy through
	 * the socket, no descriptor to make, map and close on either side.
	 * A larger one goes as its descriptor (the spool file, or a memfd
	 * made here).
	 */
	if (data != NULL && data_len <= WPKT_MAX - len) {
		m.msglen = (uint32_t)data_len;
		msg_fd = -1;
	} else {
		if (msg_fd < 0 && (msg_fd = own_fd = emf_memfd_of("emf-msg", data,
		    data_len)) < 0) {
			emf_log(EMF_LOG_ERR, "%s: memfd: %s", qid,
			    strerror(errno));
			free(pay);
			out->fail = EMF_FAIL_STORE;
			return EMF_ERR_IO;
		}
		data_len = 0;
	}
	waiting = __atomic_add_fetch(&pool->inflight, 1, __ATOMIC_RELAXED);
	if (waiting > pool->n + pool->queue_max) {
		/* A backlog that could not be scanned in time anyway is
		 * turned away now rather than held until its deadline. */
		emf_log(EMF_LOG_WARNING, "%s: overload: %u messages already "
		    "wait for a scanner (milter.queue)", qid, pool->queue_max);
		out->fail = EMF_FAIL_OVERLOAD;
		rc = EMF_ERR_TIMEOUT;
		goto out;
	}
	/*
	 * The reply comes on a channel of this request's own, a pipe whose
	 * write end travels with the request: the worker that takes it
	 * holds that end only, so its death closes the channel and wakes us
	 * at once, and a late reply can only ever reach a channel nobody
	 * reads. A pipe, not a socketpair: while a unix socket is in flight
	 * in a queue, the kernel garbage-collects in-flight descriptors on
	 * every close of any unix socket (Postfix's included).
	 */
	if (pipe2(ch, O_CLOEXEC) != 0) {
		emf_log(EMF_LOG_ERR, "%s: reply channel: %s", qid,
		    strerror(errno));
		out->fail = EMF_FAIL_CRASH;
		rc = EMF_ERR_INTERNAL;
		goto out;
	}
	m.seq = __atomic_add_fetch(&pool->seq, 1, __ATOMIC_RELAXED);
	fds[0] = ch[1];
	fds[1] = msg_fd;
	if (!queue_request(pool, &m, pay, len, data, data_len, fds,
	    deadline)) {
		int e = errno;

		close(ch[0]);
		close(ch[1]);
		if (e == ETIMEDOUT) {
			emf_log(EMF_LOG_WARNING, "%s: overload: no scanner "
			    "free within %ld ms", qid, timeout_ms);
			out->fail = EMF_FAIL_OVERLOAD;
			rc = EMF_ERR_TIMEOUT;
		} else {
			emf_log(EMF_LOG_ERR, "%s: worker queue: send: %s", qid,
			    strerror(e));
			out->fail = EMF_FAIL_CRASH;
			rc = EMF_ERR_INTERNAL;
		}
		goto out;
	}
	t_sent = now_us();
	close(ch[1]);
	out->us_queue = t_sent - t0;
	rc = await_reply(pool, qid, ch[0], m.seq, deadline, t_sent,
	    timeout_ms, pay, out);
	close(ch[0]);
out:
	__atomic_sub_fetch(&pool->inflight, 1, __ATOMIC_RELAXED);
	if (own_fd >= 0)
		close(own_fd);
	free(pay);
	return rc;
}

/* ---- worker ---------------------------------------------------------- */

static void
on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/* Unpack the REQ payload into env (pointers into pay). */
static void
unpack_env(char *pay, size_t len, struct emf_envelope *env,
    const char **rcpts, size_t maxr)
{
	const char *f[6] = { NULL };
	size_t off = 0;
	int i = 0;

	memset(env, 0, sizeof(*env));
	while (off < len) {
		char *s = pay + off;
		size_t n = strnlen(s, len - off);
		const char *v = s[0] == '+' ? s + 1 : NULL;

		if (n == len - off)
			break;	/* unterminated: ignore the rest */
		if (i < 6)
			f[i++] = v;
		else if (env->nrcpts < maxr && v != NULL)
			rcpts[env->nrcpts++] = v;
		off += n + 1;
	}
	env->queue_id = f[0];
	env->client_ip = f[1];
	env->client_name = f[2];
	env->helo = f[3];
	env->sender = f[4];
	env->auth_user = f[5];
	env->rcpts = rcpts;
}

/*
 * The reply blob "id\0summary\0policy\0json" (malloc'ed, *n bytes), or
 * NULL.
 */
static char *
make_blob(const struct emf_report *r, bool with_json, size_t *n)
{
	char *sum = emf_report_symbols_summary(r);
	char *json = with_json ? emf_report_json(r, false) : NULL;
	const char *id = emf_report_id(r);
	const char *policy = emf_report_policy(r) ? emf_report_policy(r) : "";
	char *b = NULL;

	if (sum != NULL && (json != NULL || !with_json)) {
		size_t li = strlen(id) + 1, ls = strlen(sum) + 1,
		    lp = strlen(policy) + 1, lj = json != NULL ? strlen(json) : 0;

		*n = li + ls + lp + lj;
		if ((b = malloc(*n)) != NULL) {
			memcpy(b, id, li);
			memcpy(b + li, sum, ls);
			memcpy(b + li + ls, policy, lp);
			if (lj > 0)
				memcpy(b + li + ls + lp, json, lj);
		}
	}
	emf_free(sum);
	emf_free(json);
	return b;
}


/*
 * Arm the worker's deadline timer for at_ms (CLOCK_MONOTONIC), or disarm
 * it (0). It sends SIGKILL: a scan that overruns its deadline ends even
 * when the worker is stopped or spinning, with no other process having
 * to pick the right pid at the right moment.
 */
static void
arm(timer_t t, int64_t at_ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (at_ms > 0) {
		its.it_value.tv_sec = (time_t)(at_ms / 1000);
		its.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000;
	}
	(void)timer_settime(t, TIMER_ABSTIME, &its, NULL);
}

/*
 * Scan one request and reply on its channel rfd; fd is the message's
 * descriptor or -1 (in the packet).
 */
static void
serve(int rfd, struct wstate *ws, timer_t deadline_timer,
    struct emf_engine *engine, struct wmsg *m, char *pay, int fd)
{
	const char *rcpts[1024];
	struct emf_envelope env;
	struct emf_report *r = NULL;
	struct wmsg rep;
	struct stat st;
	const void *msg = NULL;
	size_t len = 0, envlen, bloblen = 0;
	bool mapped = false;
	char *blob = NULL;

	if (rfd < 0 || now_ms() >= m->deadline_ms)
		return;	/* nobody waits for this one any more */
	ws_set(ws, WS_BUSY, m->seq);
	arm(deadline_timer, m->deadline_ms + KILL_GRACE_MS);
	memset(&rep, 0, sizeof(rep));
	rep.type = W_REPLY;
	rep.seq = m->seq;
	rep.pid = (int32_t)getpid();
	rep.rc = EMF_ERR_IO;
	rep.t_took = now_us();
	envlen = m->msglen <= m->paylen ? m->paylen - m->msglen : 0;
	unpack_env(pay, envlen, &env, rcpts, 1024);
	if (fd < 0 && m->msglen <= m->paylen) {
		/* In the packet, after the envelope. */
		msg = pay + envlen;
		len = m->msglen;
	} else if (fd >= 0 && fstat(fd, &st) == 0) {
		len = (size_t)st.st_size;
		msg = len > 0 ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) :
		    (void *)"";
		if (msg == MAP_FAILED)
			msg = NULL;
		mapped = msg != NULL && len > 0;
	}
	if (msg != NULL) {
		if (test_hooks && memmem(msg, len < 8192 ? len : 8192,
		    HOOK_MARK, strlen(HOOK_MARK)) != NULL) {
			sigset_t none, old;

			emf_log(EMF_LOG_NOTICE,
			    "test hook: scanner pid %ld sleeping", (long)getpid());
			/* SIGTERM still ends the sleep, as it would a wait. */
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, &old);
			sleep(3600);
			sigprocmask(SIG_SETMASK, &old, NULL);
		}
		bool store_failed = false;

		rep.rc = emf_mscan(engine, msg, len, &env, &r, &store_failed);
		rep.store_failed = store_failed;
		if (rep.rc == EMF_OK && emf_cfg_bool(emf_engine_cfg(engine),
		    "state.enabled")) {
			bool held = false, released = false;

			rep.rc = emf_mcorrelate(engine, &r, msg, len, &env,
			    &held, &released);
			rep.held = held ? 1 : released ? 2 : 0;
			rep.store_failed = rep.rc != EMF_OK;
		}
	}
	if (rep.rc == EMF_OK && r != NULL) {
		rep.score = emf_report_score(r);
		rep.action = emf_report_action(r);
		rep.scan_ms = emf_report_scan_ms(r);
		rep.limits_hit = emf_report_limits_hit(r);
		/*
		 * The full report is for the quarantine store only: a mail
		 * that is quarantined, rejected (milter.quarantine_rejected)
		 * or held for its password. Building it for every clean
		 * mail cost more than the rest of the reply.
		 */
		if ((blob = make_blob(r, rep.action >= EMF_ACTION_QUARANTINE ||
		    rep.held == 1, &bloblen)) == NULL)
			rep.rc = EMF_ERR_NOMEM;
	}
	if (blob != NULL && bloblen > REPLY_MAX) {
		free(blob);
		blob = NULL;
		rep.rc = EMF_ERR_LIMIT;
	}
	rep.magic = WMAGIC;
	rep.msglen = rep.paylen = blob != NULL ? (uint32_t)bloblen : 0;
	rep.t_done = now_us();
	/* The header, then the blob: a stream on the request's pipe (a
	 * writer gone, the reader sees the end). SIGPIPE is ignored. */
	if (emf_write_all(rfd, &rep, sizeof(rep)) && rep.msglen > 0)
		(void)emf_write_all(rfd, blob, rep.msglen);
	arm(deadline_timer, 0);
	free(blob);
	emf_report_free(r);
	if (mapped)
		munmap((void *)msg, len);
	/* Give a large message's memory back, so an idle worker is small. */
	if (len >= BIG_MESSAGE)
		malloc_trim(0);
}


static void
worker_main(int q, struct wstate *ws, struct emf_engine *engine)
{
	struct sigaction sa;
	struct sigevent sev;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	sigset_t waitmask;
	timer_t deadline_timer;
	char *pay = malloc(WPKT_MAX);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the daemon */
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGKILL;
	/*
	 * Idle workers wait on the one queue; EPOLLEXCLUSIVE wakes one of
	 * them per request, not all (poll() would: a wasted wake-up per
	 * idle worker per message).
	 */
	if (pay == NULL || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev) != 0 ||
	    timer_create(CLOCK_MONOTONIC, &sev, &deadline_timer) != 0) {
		emf_log(EMF_LOG_ERR, "worker: set-up: %s", strerror(errno));
		_exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: wake the wait */
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);	/* ^C in -f mode: the parent drains */
	sigaction(SIGPIPE, &sa, NULL);
	/*
	 * SIGTERM is blocked except inside epoll_pwait(), so it either
	 * arrives while we wait (EINTR) or is seen at the next wait: an
	 * idle worker sleeps until a request or SIGTERM, no timeout.
	 */
	sigemptyset(&waitmask);
	{
		sigset_t term;

		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_SETMASK, &term, NULL);
	}
	__atomic_store_n(&ws->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
	while (!worker_stop) {
		struct epoll_event got;
		struct wmsg m;
		int fds[2], r;

		ws_set(ws, WS_IDLE, 0);
		if (epoll_pwait(ep, &got, 1, -1, &waitmask) <= 0)
			continue;
		/* Another worker may have taken it: never block here. */
		r = recv_pkt(q, &m, pay, fds, MSG_DONTWAIT);
		if (r == PKT_ERR && errno != EINTR && errno != EAGAIN)
			break;
		if (r == PKT_OK && m.type == W_REQ)
			serve(fds[0], ws, deadline_timer, engine, &m, pay,
			    fds[1]);
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	_exit(0);
}
