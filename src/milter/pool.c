/*
 * pool.c - scanner workers: forking and reaping (main process), the
 * request/reply exchange with a deadline (milter threads), and the worker
 * loop itself.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
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
#define WPKT_MAX 65536		/* largest packet we send or accept */
#define BIG_MESSAGE (1u << 20)	/* after a scan this large, malloc_trim */
#define HOOK_MARK "emf-test-sleep"

/* W_STARTED and W_DIED come from the main process (on the worker's end
 * of the slot), the others between the milter process and the worker. */
enum wtype { W_REQ = 1, W_REPLY = 3, W_DIED, W_STARTED };

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
				 * is the payload (no descriptor) */
	int64_t t_took, t_done;	/* REPLY: CLOCK_MONOTONIC us when the worker
				 * took the request and when it replied */
};

/*
 * Which request a slot's worker has taken, in memory shared by the main
 * process, the milter process and the workers (mapped before any fork).
 * The worker writes it when it starts a scan, instead of a packet that
 * would wake the waiting milter thread once more per message; the milter
 * reads it only when the scan ends badly (deadline, a death), to know
 * whether its own request was the one in progress and whom to kill.
 */
struct taken {
	uint64_t seq;		/* the request's seq; pid written first */
	int32_t pid;
};

struct slot {
	int mfd, wfd;		/* milter end, worker end */
	pid_t pid;		/* main process: live worker, 0 if none */
	bool busy;		/* milter process: in use by a thread */
	pid_t wpid;		/* milter process: the slot's worker as last
				 * announced (W_STARTED), 0 if none */
	struct taken *taken;	/* shared: see struct taken */
};

struct emf_pool {
	unsigned n;
	struct slot *slots;
	struct taken *taken;	/* n records, MAP_SHARED */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	uint64_t seq;
	unsigned queue_max;	/* threads that may wait for a slot */
	unsigned waiting;	/* threads waiting for a slot now */
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

/* ---- packets ------------------------------------------------------------ */

/* Send one packet (pay, then pay2), with an optional descriptor. */
static bool
send_pkt2(int s, const struct wmsg *m, const void *pay, size_t paylen,
    const void *pay2, size_t paylen2, int fd)
{
	struct iovec iov[3];
	struct msghdr mh;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct wmsg hdr = *m;
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
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	}
	do
		n = sendmsg(s, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(hdr) + paylen + paylen2);
}

static bool
send_pkt(int s, const struct wmsg *m, const void *pay, size_t paylen, int fd)
{
	return send_pkt2(s, m, pay, paylen, NULL, 0, fd);
}

/*
 * Receive one packet into m and pay (WPKT_MAX bytes). Returns 1 on a
 * well-formed packet, 0 on a malformed one (dropped), -1 on error (errno).
 * *fd gets a received descriptor or -1; any extra is closed.
 */
static int
recv_pkt(int s, struct wmsg *m, char *pay, int *fd)
{
	struct iovec iov[2];
	struct msghdr mh;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	ssize_t n;

	*fd = -1;
	iov[0].iov_base = m;
	iov[0].iov_len = sizeof(*m);
	iov[1].iov_base = pay;
	iov[1].iov_len = WPKT_MAX;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
	    c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < nfd; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = f;
			else
				close(f);
		}
	}
	if ((size_t)n < sizeof(*m) || m->magic != WMAGIC ||
	    m->paylen != (size_t)n - sizeof(*m) || (mh.msg_flags & MSG_TRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return 0;
	}
	return 1;
}

/* ---- main process ---------------------------------------------------- */

struct emf_pool *
emf_pool_new(unsigned n, unsigned queue_max)
{
	struct emf_pool *pool = calloc(1, sizeof(*pool));

	if (pool == NULL || (pool->slots = calloc(n, sizeof(struct slot))) ==
	    NULL) {
		free(pool);
		return NULL;
	}
	pool->n = n;
	pool->queue_max = queue_max;
	pool->taken = mmap(NULL, n * sizeof(struct taken), PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pool->taken == MAP_FAILED) {
		free(pool->slots);
		free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	{
		pthread_condattr_t ca;

		/* Deadlines are CLOCK_MONOTONIC (wall clock steps). */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&pool->freed, &ca);
		pthread_condattr_destroy(&ca);
	}
	for (unsigned i = 0; i < n; i++) {
		int sv[2];

		pool->slots[i].mfd = pool->slots[i].wfd = -1;
		pool->slots[i].taken = &pool->taken[i];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sv) != 0) {
			emf_pool_free(pool);
			return NULL;
		}
		pool->slots[i].mfd = sv[0];
		pool->slots[i].wfd = sv[1];
	}
	return pool;
}

void
emf_pool_free(struct emf_pool *pool)
{
	if (pool == NULL)
		return;
	for (unsigned i = 0; i < pool->n; i++) {
		if (pool->slots[i].mfd >= 0)
			close(pool->slots[i].mfd);
		if (pool->slots[i].wfd >= 0)
			close(pool->slots[i].wfd);
	}
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->freed);
	munmap(pool->taken, pool->n * sizeof(struct taken));
	free(pool->slots);
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
		k += pool->slots[i].pid > 0;
	return k;
}

static void worker_main(int s, struct taken *taken,
    struct emf_engine *engine) __attribute__((noreturn));

/* A notice from the main process to the milter process on slot sl. */
static void
notify(const struct slot *sl, enum wtype type, pid_t pid, int status)
{
	struct wmsg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&m, 0, sizeof(m));
	m.magic = WMAGIC;
	m.type = type;
	m.pid = (int32_t)pid;
	m.status = status;
	/* Non-blocking: a full slot must not stall the main loop. */
	(void)sendmsg(sl->wfd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
emf_pool_fill(struct emf_pool *pool, struct emf_engine *engine)
{
	for (unsigned i = 0; i < pool->n; i++) {
		struct slot *sl = &pool->slots[i];
		pid_t pid;

		if (sl->pid > 0)
			continue;
		pid = fork();
		if (pid < 0) {
			emf_log(EMF_LOG_ERR, "worker %u: fork: %s", i,
			    strerror(errno));
			continue;
		}
		if (pid == 0) {
			int s = sl->wfd;

			/* A worker holds its own end only. */
			for (unsigned j = 0; j < pool->n; j++) {
				close(pool->slots[j].mfd);
				if (pool->slots[j].wfd != s)
					close(pool->slots[j].wfd);
			}
			worker_main(s, sl->taken, engine);
		}
		sl->pid = pid;
		/* So that the milter process can kill a worker that hangs
		 * before it takes a message (it never sends its pid). */
		notify(sl, W_STARTED, pid, 0);
		emf_log(EMF_LOG_INFO, "worker %u started, pid %ld", i,
		    (long)pid);
	}
}

bool
emf_pool_reaped(struct emf_pool *pool, pid_t pid, int status)
{
	for (unsigned i = 0; i < pool->n; i++) {
		struct slot *sl = &pool->slots[i];

		if (sl->pid != pid)
			continue;
		sl->pid = 0;
		if (WIFSIGNALED(status))
			emf_log(EMF_LOG_WARNING,
			    "worker %u (pid %ld) killed by signal %d", i,
			    (long)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			emf_log(EMF_LOG_WARNING,
			    "worker %u (pid %ld) exited with status %d", i,
			    (long)pid, WEXITSTATUS(status));
		notify(sl, W_DIED, pid, status);
		return true;
	}
	return false;
}

void
emf_pool_retire(struct emf_pool *pool)
{
	for (unsigned i = 0; i < pool->n; i++)
		if (pool->slots[i].pid > 0)
			kill(pool->slots[i].pid, SIGTERM);
}

void
emf_pool_client_init(struct emf_pool *pool)
{
	for (unsigned i = 0; i < pool->n; i++) {
		close(pool->slots[i].wfd);
		pool->slots[i].wfd = -1;
		pool->slots[i].pid = 0;
	}
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

/* The reply blob from a descriptor (a report larger than a packet). */
static bool
read_blob(int fd, struct emf_verdict *v)
{
	struct stat st;
	char *p;
	size_t n;
	bool ok;

	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > (uint64_t)SIZE_MAX / 2)
		return false;
	n = (size_t)st.st_size;
	p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return false;
	ok = parse_blob(p, n, v);
	munmap(p, n);
	return ok;
}

/*
 * A free slot, waiting (woken by give_slot(), no polling) until the
 * deadline; -1 when none came, or at once when queue_max threads are
 * already waiting (*full set): a backlog that could not be scanned in
 * time anyway is turned away now rather than held until its deadline.
 */
static int
take_slot(struct emf_pool *pool, int64_t deadline, bool *full)
{
	int idx = -1;
	bool waited = false;
	struct timespec ts = { (time_t)(deadline / 1000),
		(long)(deadline % 1000) * 1000000 };

	*full = false;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		for (unsigned i = 0; i < pool->n; i++)
			if (!pool->slots[i].busy) {
				idx = (int)i;
				break;
			}
		if (idx >= 0 || now_ms() >= deadline)
			break;
		if (!waited) {
			if (pool->waiting >= pool->queue_max) {
				*full = true;
				break;
			}
			pool->waiting++;
			waited = true;
		}
		pthread_cond_timedwait(&pool->freed, &pool->lock, &ts);
	}
	if (waited)
		pool->waiting--;
	if (idx >= 0)
		pool->slots[idx].busy = true;
	pthread_mutex_unlock(&pool->lock);
	return idx;
}

/* The worker that took request seq on slot sl, 0 if none has. */
static pid_t
taken_by(const struct slot *sl, uint64_t seq)
{
	uint64_t s = __atomic_load_n(&sl->taken->seq, __ATOMIC_ACQUIRE);

	return s == seq ? (pid_t)__atomic_load_n(&sl->taken->pid,
	    __ATOMIC_RELAXED) : 0;
}

static void
give_slot(struct emf_pool *pool, int idx)
{
	pthread_mutex_lock(&pool->lock);
	pool->slots[idx].busy = false;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}

enum emf_rc
emf_pool_scan(struct emf_pool *pool, const char *qid, const uint8_t *data,
    size_t data_len, int msg_fd, const struct emf_envelope *env,
    long timeout_ms, struct emf_verdict *out)
{
	int64_t t0 = now_us(), t_sent = 0;
	int64_t deadline = t0 / 1000 + timeout_ms;
	char *pay = malloc(WPKT_MAX);
	struct wmsg m;
	pid_t worker = 0;
	enum emf_rc rc = EMF_ERR_TIMEOUT;
	uint64_t seq;
	int idx, s;
	size_t len;
	bool full;
	int own_fd = -1;

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
	 * made here, before a worker is taken).
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
	if ((idx = take_slot(pool, deadline, &full)) < 0) {
		if (full)
			emf_log(EMF_LOG_WARNING, "%s: overload: %u messages "
			    "already wait for a scanner (milter.queue)", qid,
			    pool->queue_max);
		else
			emf_log(EMF_LOG_WARNING, "%s: overload: no scanner "
			    "free within %ld ms", qid, timeout_ms);
		if (own_fd >= 0)
			close(own_fd);
		free(pay);
		out->fail = EMF_FAIL_OVERLOAD;
		return EMF_ERR_TIMEOUT;
	}
	out->us_queue = now_us() - t0;
	s = pool->slots[idx].mfd;
	pthread_mutex_lock(&pool->lock);
	seq = ++pool->seq;
	pthread_mutex_unlock(&pool->lock);
	m.seq = seq;
	if (!send_pkt2(s, &m, pay, len, data, data_len, msg_fd)) {
		emf_log(EMF_LOG_ERR, "%s: worker slot %d: send: %s", qid, idx,
		    strerror(errno));
		rc = EMF_ERR_INTERNAL;
		out->fail = EMF_FAIL_CRASH;
		goto out;
	}
	t_sent = now_us();
	for (;;) {
		struct pollfd pfd = { s, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		int fd, r;

		if (left <= 0)
			break;
		/* Woken by the worker's packets or the main process's
		 * notice of its death; the timeout is only the deadline. */
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		r = recv_pkt(s, &m, pay, &fd);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = EMF_ERR_INTERNAL;
			out->fail = EMF_FAIL_CRASH;
			goto out;
		}
		if (r == 0)
			continue;
		if (m.type == W_STARTED)
			pool->slots[idx].wpid = m.pid;
		else if (m.type == W_DIED && m.pid == pool->slots[idx].wpid)
			pool->slots[idx].wpid = 0;
		if (m.type == W_DIED && (worker = taken_by(&pool->slots[idx],
		    seq)) != 0 && m.pid == worker) {
			emf_log(EMF_LOG_WARNING,
			    "%s: scanner pid %ld died (status %d)", qid,
			    (long)worker, m.status);
			rc = EMF_ERR_INTERNAL;
			out->fail = EMF_FAIL_CRASH;
			goto out;
		} else if (m.type == W_REPLY && m.seq == seq) {
			bool got;

			if (m.rc != EMF_OK)
				got = false;
			else if (fd >= 0)
				got = read_blob(fd, out);
			else
				got = m.msglen > 0 && m.msglen == m.paylen &&
				    parse_blob(pay, m.paylen, out);
			if (!got) {
				emf_log(EMF_LOG_ERR, "%s: scanner error: %s",
				    qid, emf_rc_str((enum emf_rc)m.rc));
				rc = m.rc != EMF_OK ? (enum emf_rc)m.rc :
				    EMF_ERR_INTERNAL;
				emf_verdict_clear(out);
				out->fail = m.store_failed ? EMF_FAIL_STORE :
				    EMF_FAIL_SCAN_ERROR;
			} else {
				out->score = m.score;
				out->action = (enum emf_action)m.action;
				out->scan_ms = (long)m.scan_ms;
				out->limits_hit = m.limits_hit != 0;
				out->held = m.held == 1;
				out->released = m.held == 2;
				out->pid = m.pid;
				out->fail = EMF_FAIL_NONE;
				/* One clock for all processes: the
				 * worker's own times. */
				out->us_dispatch = m.t_took - t_sent;
				out->us_scan = m.t_done - m.t_took;
				out->us_return = now_us() - m.t_done;
				rc = EMF_OK;
			}
			if (fd >= 0)
				close(fd);
			goto out;
		}
		/* Anything else is stale: an old reply or notice. */
		if (fd >= 0)
			close(fd);
	}
	out->fail = EMF_FAIL_TIMEOUT;
	if ((worker = taken_by(&pool->slots[idx], seq)) != 0) {
		emf_log(EMF_LOG_WARNING,
		    "%s: scan exceeded %ld ms: killing scanner pid %ld", qid,
		    timeout_ms, (long)worker);
		kill(worker, SIGKILL);
	} else if (pool->slots[idx].wpid > 0) {
		/* Hung outside a scan (stopped, stuck): it would fail every
		 * message given to this slot. Killed, the main process
		 * starts another. */
		emf_log(EMF_LOG_WARNING,
		    "%s: no scanner took the message within %ld ms: killing "
		    "hung scanner pid %ld", qid, timeout_ms,
		    (long)pool->slots[idx].wpid);
		kill(pool->slots[idx].wpid, SIGKILL);
		pool->slots[idx].wpid = 0;
	} else {
		emf_log(EMF_LOG_WARNING,
		    "%s: no scanner took the message within %ld ms", qid,
		    timeout_ms);
	}
out:
	give_slot(pool, idx);
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

static void
serve(int s, struct taken *taken, struct emf_engine *engine,
    struct wmsg *m, char *pay, int fd)
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
	int blobfd = -1;

	if (now_ms() >= m->deadline_ms)
		return;	/* nobody waits for this one any more */
	/* Taken: the pid first, then the seq that makes it valid. */
	__atomic_store_n(&taken->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&taken->seq, m->seq, __ATOMIC_RELEASE);
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
	/* A report that fits goes in the packet, a larger one in a memfd. */
	if (blob != NULL && bloblen > WPKT_MAX) {
		if ((blobfd = emf_memfd_of("emf-msg", blob, bloblen)) < 0)
			rep.rc = EMF_ERR_NOMEM;
		bloblen = 0;
	}
	rep.msglen = blob != NULL && blobfd < 0 ? (uint32_t)bloblen : 0;
	rep.t_done = now_us();
	send_pkt(s, &rep, blobfd < 0 ? blob : NULL, rep.msglen, blobfd);
	if (blobfd >= 0)
		close(blobfd);
	free(blob);
	emf_report_free(r);
	if (mapped)
		munmap((void *)msg, len);
	/* Give a large message's memory back, so an idle worker is small. */
	if (len >= BIG_MESSAGE)
		malloc_trim(0);
}

static void
worker_main(int s, struct taken *taken, struct emf_engine *engine)
{
	struct sigaction sa;
	sigset_t waitmask;
	char *pay = malloc(WPKT_MAX);

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the daemon */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: wake the poll */
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);	/* ^C in -f mode: the parent drains */
	sigaction(SIGPIPE, &sa, NULL);
	/*
	 * SIGTERM is blocked except inside ppoll(), so it either arrives
	 * while we wait (ppoll returns EINTR) or is seen at the next wait:
	 * an idle worker sleeps until a request or SIGTERM, no timeout.
	 */
	sigemptyset(&waitmask);
	{
		sigset_t term;

		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_SETMASK, &term, NULL);
	}
	while (pay != NULL && !worker_stop) {
		struct pollfd pfd = { s, POLLIN, 0 };
		struct wmsg m;
		int fd, r;

		if (ppoll(&pfd, 1, NULL, &waitmask) <= 0)
			continue;
		r = recv_pkt(s, &m, pay, &fd);
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			break;
		if (r == 1 && m.type == W_REQ)
			serve(s, taken, engine, &m, pay, fd);
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}
