/*
 * milter.c - the milter callbacks (mproto.c calls them): collect the envelope and the message,
 * then hand both to a worker at end of message.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "milter.h"

static pthread_mutex_t mc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct emf_mconf *mc_live;	/* current settings */
static struct emf_pool *the_pool;
static const char *the_conf_path;

static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_zero = PTHREAD_COND_INITIALIZER;
static int inflight;			/* messages between MAIL and eom/abort */
static bool log_timing;			/* EMOFILTER_TIMING=1: a line per message */

/*
 * The MTA need not wait for our answer to any step before the end of the
 * message: each callback there only collects (SMFIP_NR_*, protocol 6).
 * Without this every header is a round trip between the MTA and us. Steps
 * we have no callback for are not sent at all (SMFIP_NODATA, NOUNKNOWN).
 */
#define EMF_NOREPLY (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define EMF_NOSEND (SMFIP_NODATA | SMFIP_NOUNKNOWN)

/*
 * The macros we read, per stage (mp_setsymlist); every other stage gets
 * none. Postfix's defaults send five or more names at connect, MAIL and
 * RCPT, each set one more packet the MTA builds and we parse for nothing.
 * Keep in step with the macro() calls below.
 */
static const struct { int stage; const char *names; } want_macros[] = {
	{ SMFIM_CONNECT, "{client_addr}" },
	{ SMFIM_HELO, "" },
	{ SMFIM_ENVFROM, "i {auth_authen}" },
	{ SMFIM_ENVRCPT, "" },
	{ SMFIM_DATA, "" },
	{ SMFIM_EOH, "" },
	{ SMFIM_EOM, "i" },
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * A collecting step went well: no reply if the MTA agreed to that (the
 * protocol engine acknowledges such steps at once, mproto.c).
 */
static sfsistat
step_ok(const struct emf_conn *c, unsigned long bit)
{
	if (c == NULL || (c->noreply & bit) == 0)
		return SMFIS_CONTINUE;
	return SMFIS_NOREPLY;
}

/*
 * A collecting step failed: tempfail now, or, when the MTA waits for no
 * reply here, at the end of the message.
 */
static sfsistat
step_fail(struct emf_conn *c, unsigned long bit)
{
	if (c != NULL && (c->noreply & bit) != 0) {
		c->broken = true;
		return step_ok(c, bit);
	}
	return SMFIS_TEMPFAIL;
}

const char *
emf_fail_name(enum emf_fail f)
{
	switch (f) {
	case EMF_FAIL_TIMEOUT: return "timeout";
	case EMF_FAIL_CRASH: return "crash";
	case EMF_FAIL_OVERLOAD: return "overload";
	case EMF_FAIL_SCAN_ERROR: return "scan_error";
	case EMF_FAIL_STORE: return "store";
	default: return "none";
	}
}

/*
 * milter.on_failure.CASE, or when that is "" the older coarse key:
 * on_scan_failure for what happens to a scan (timeout, crash, overload),
 * on_error for our own failures (scan error, spool or store).
 */
static enum emf_fail_action
fail_action(const struct emf_cfg *cfg, enum emf_fail f)
{
	char *key = g_strdup_printf("milter.on_failure.%s", emf_fail_name(f));
	const char *v = emf_cfg_str(cfg, key);

	g_free(key);
	if (v == NULL || v[0] == '\0')
		v = emf_cfg_str(cfg, f == EMF_FAIL_SCAN_ERROR ||
		    f == EMF_FAIL_STORE ? "milter.on_error" :
		    "milter.on_scan_failure");
	if (strcmp(v, "accept") == 0)
		return EMF_FAILACT_ACCEPT;
	if (strcmp(v, "reject") == 0)
		return EMF_FAILACT_REJECT;
	return EMF_FAILACT_TEMPFAIL;
}

int
emf_milter_inflight(void)
{
	int n;

	pthread_mutex_lock(&inflight_lock);
	n = inflight;
	pthread_mutex_unlock(&inflight_lock);
	return n;
}

struct emf_mconf *
emf_mconf_new(struct emf_cfg *cfg)
{
	struct emf_mconf *mc = g_new0(struct emf_mconf, 1);

	mc->refs = 1;
	mc->cfg = cfg;
	mc->scan_timeout_ms = (long)emf_cfg_int(cfg, "milter.scan_timeout_ms");
	for (int f = EMF_FAIL_NONE + 1; f < EMF_FAIL_N; f++)
		mc->on_fail[f] = fail_action(cfg, (enum emf_fail)f);
	mc->headers_on_accept = emf_cfg_bool(cfg, "milter.headers_on_accept");
	mc->quarantine_rejected = emf_cfg_bool(cfg,
	    "milter.quarantine_rejected");
	mc->qaction = emf_cfg_str(cfg, "milter.quarantine_action");
	mc->reject_text = emf_cfg_str(cfg, "milter.reject_text");
	mc->subject_prefix = emf_cfg_str(cfg, "milter.subject_prefix");
	mc->qdir = emf_cfg_str(cfg, "quarantine.dir");
	mc->spool_dir = emf_cfg_str(cfg, "milter.spool_dir");
	mc->on_oversize = emf_cfg_str(cfg, "milter.on_oversize");
	mc->spool_mem = (size_t)emf_cfg_int(cfg, "milter.spool_memory_bytes");
	/* One size limit: what the scanner would refuse is not spooled. */
	mc->max_bytes = (size_t)emf_cfg_int(cfg, "limits.max_message_bytes");
	return mc;
}

void
emf_mconf_unref(struct emf_mconf *mc)
{
	if (mc != NULL && g_atomic_int_dec_and_test(&mc->refs)) {
		emf_cfg_free(mc->cfg);
		g_free(mc);
	}
}

static struct emf_mconf *
mconf_get(void)
{
	struct emf_mconf *mc;

	pthread_mutex_lock(&mc_lock);
	mc = mc_live;
	g_atomic_int_inc(&mc->refs);
	pthread_mutex_unlock(&mc_lock);
	return mc;
}

static void
msg_free(struct emf_msg *m)
{
	if (m == NULL)
		return;
	g_free(m->qid);
	g_free(m->sender);
	g_free(m->auth_user);
	if (m->rcpts != NULL)
		g_ptr_array_free(m->rcpts, TRUE);
	emf_spool_free(m->spool);
	g_free(m->subject);
	g_free(m->msgid);
	if (m->hdr_count != NULL)
		g_hash_table_destroy(m->hdr_count);
	for (int i = 0; i < m->nstrip; i++)
		g_free(m->strip[i].name);
	g_free(m);
}

/* End a message's life: free it and leave the in-flight count. */
static void
msg_end(struct emf_conn *c)
{
	if (c->msg == NULL)
		return;
	msg_free(c->msg);
	c->msg = NULL;
	emf_mconf_unref(c->mc);
	c->mc = NULL;
	pthread_mutex_lock(&inflight_lock);
	if (--inflight == 0)
		pthread_cond_broadcast(&inflight_zero);
	pthread_mutex_unlock(&inflight_lock);
}

static char *
macro(SMFICTX *ctx, const char *name)
{
	const char *v = mp_getsymval(ctx, name);

	return v != NULL && v[0] != '\0' ? g_strdup(v) : NULL;
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct emf_mconf *mc = mconf_get();
	struct emf_conn *c = mp_getpriv(ctx);
	/* Without header changes a forged X-Emofilter-* header could not
	 * be removed, nor a verdict added; without quarantine no message
	 * could be held. Refused, the MTA applies its default action
	 * (milter_default_action = tempfail is what we recommend). */
	unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    (strcmp(mc->qaction, "hold") == 0 ? SMFIF_QUARANTINE : 0);

	emf_mconf_unref(mc);
	(void)f2;
	(void)f3;
	if ((f0 & need) != need) {
		emf_log(EMF_LOG_ERR, "milter negotiation refused: the MTA "
		    "offers actions 0x%lx, emofilter needs 0x%lx (add and "
		    "change headers%s)", f0, need,
		    need & SMFIF_QUARANTINE ? ", quarantine" : "");
		return SMFIS_REJECT;
	}
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST);
	/* Header values with their leading space: the message as sent. */
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | EMF_NOREPLY | EMF_NOSEND);
	*pf2 = *pf3 = 0;
	if ((*pf0 & SMFIF_SETSYMLIST) != 0)
		for (size_t i = 0; i < G_N_ELEMENTS(want_macros); i++)
			if (mp_setsymlist(ctx, want_macros[i].stage,
			    want_macros[i].names) != MI_SUCCESS)
				*pf0 &= ~(unsigned long)SMFIF_SETSYMLIST;
	/* The connection's state starts here: it holds what was agreed. */
	if (c == NULL) {
		c = g_new0(struct emf_conn, 1);
		mp_setpriv(ctx, c);
	}
	c->noreply = *pf1 & EMF_NOREPLY;
	return SMFIS_CONTINUE;
}

static char *
client_ip(const _SOCK_ADDR *sa)
{
	char buf[INET6_ADDRSTRLEN];

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
	    buf, sizeof(buf)) != NULL)
		return g_strdup(buf);
	if (sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
	    buf, sizeof(buf)) != NULL)
		return g_strdup(buf);
	return NULL;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct emf_conn *c = mp_getpriv(ctx);

	if (c == NULL) {
		c = g_new0(struct emf_conn, 1);
		mp_setpriv(ctx, c);
	}
	g_free(c->client_name);
	g_free(c->client_ip);
	c->client_name = g_strdup(host);
	/* Postfix sends no {client_addr} at connect by default: use sa. */
	c->client_ip = client_ip(sa);
	if (c->client_ip == NULL)
		c->client_ip = macro(ctx, "{client_addr}");
	return step_ok(c, SMFIP_NR_CONN);
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct emf_conn *c = mp_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	g_free(c->helo);
	c->helo = g_strdup(helo);
	return step_ok(c, SMFIP_NR_HELO);
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct emf_conn *c = mp_getpriv(ctx);
	struct emf_msg *m;
	const char *s = argv[0];
	size_t n;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	msg_end(c);
	c->broken = false;
	m = g_new0(struct emf_msg, 1);
	m->t_start = now_us();
	/* The address without its angle brackets; "" is the null sender. */
	if (s[0] == '<')
		s++;
	n = strlen(s);
	m->sender = g_strndup(s, n > 0 && s[n - 1] == '>' ? n - 1 : n);
	m->auth_user = macro(ctx, "{auth_authen}");
	m->qid = macro(ctx, "i");
	m->rcpts = g_ptr_array_new_with_free_func(g_free);
	m->hdr_count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	c->mc = mconf_get();
	m->spool = emf_spool_new(c->mc->spool_mem, c->mc->max_bytes,
	    c->mc->spool_dir);
	if (m->spool == NULL)
		m->spool_rc = EMF_ERR_NOMEM;
	c->msg = m;
	pthread_mutex_lock(&inflight_lock);
	inflight++;
	pthread_mutex_unlock(&inflight_lock);
	return step_ok(c, SMFIP_NR_MAIL);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct emf_conn *c = mp_getpriv(ctx);
	const char *s = argv[0];
	size_t n;

	if (c == NULL || c->msg == NULL)
		return step_fail(c, SMFIP_NR_RCPT);
	c->msg->nrcpts++;
	if (c->msg->rcpts->len < EMF_MAX_RCPTS) {
		if (s[0] == '<')
			s++;
		n = strlen(s);
		g_ptr_array_add(c->msg->rcpts,
		    g_strndup(s, n > 0 && s[n - 1] == '>' ? n - 1 : n));
	}
	return step_ok(c, SMFIP_NR_RCPT);
}

/* Remember a forged X-Emofilter-* header by its index among equals. */
static void
note_header(struct emf_msg *m, const char *name, const char *value)
{
	char *lc = g_ascii_strdown(name, -1);
	int k = GPOINTER_TO_INT(g_hash_table_lookup(m->hdr_count, lc)) + 1;

	g_hash_table_insert(m->hdr_count, lc, GINT_TO_POINTER(k));
	if (g_ascii_strncasecmp(name, "X-Emofilter-", 12) == 0) {
		if (m->nstrip < EMF_MAX_STRIP) {
			m->strip[m->nstrip].name = g_strdup(name);
			m->strip[m->nstrip].idx = k;
			m->nstrip++;
		} else {
			m->strip_overflow = true;
		}
	}
	if (k == 1 && g_ascii_strcasecmp(name, "Subject") == 0)
		m->subject = g_strdup(value);
	/* For the log line only (bounded there). */
	if (k == 1 && g_ascii_strcasecmp(name, "Message-ID") == 0)
		m->msgid = g_strndup(value, 1024);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct emf_conn *c = mp_getpriv(ctx);
	struct emf_msg *m = c != NULL ? c->msg : NULL;
	enum emf_rc rc;

	if (m == NULL)
		return step_fail(c, SMFIP_NR_HDR);
	note_header(m, name, value);
	if (m->spool_rc == EMF_OK &&
	    (rc = emf_spool_header(m->spool, name, value)) != EMF_OK)
		m->spool_rc = rc;
	return step_ok(c, SMFIP_NR_HDR);
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct emf_conn *c = mp_getpriv(ctx);
	enum emf_rc rc;

	if (c == NULL || c->msg == NULL)
		return step_fail(c, SMFIP_NR_EOH);
	if (c->msg->spool_rc == EMF_OK &&
	    (rc = emf_spool_append(c->msg->spool, "\r\n", 2)) != EMF_OK)
		c->msg->spool_rc = rc;
	return step_ok(c, SMFIP_NR_EOH);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
	struct emf_conn *c = mp_getpriv(ctx);
	enum emf_rc rc;

	if (c == NULL || c->msg == NULL)
		return step_fail(c, SMFIP_NR_BODY);
	if (c->msg->spool_rc == EMF_OK &&
	    (rc = emf_spool_append(c->msg->spool, p, len)) != EMF_OK)
		c->msg->spool_rc = rc;
	return step_ok(c, SMFIP_NR_BODY);
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct emf_conn *c = mp_getpriv(ctx);
	struct emf_msg *m = c != NULL ? c->msg : NULL;
	struct emf_verdict v;
	struct emf_envelope env;
	const uint8_t *data = NULL;
	size_t len = 0;
	enum emf_rc rc;
	sfsistat st;
	int fd = -1;
	char *qid;
	int64_t t_eom = now_us(), t_spooled, t_scanned;

	if (m == NULL || c->broken)
		return SMFIS_TEMPFAIL;
	if (m->qid == NULL && (qid = macro(ctx, "i")) != NULL)
		m->qid = qid;
	if (m->qid == NULL)
		m->qid = g_strdup("NOQUEUE");
	memset(&v, 0, sizeof(v));
	rc = m->spool_rc;
	if (rc == EMF_OK && !emf_spool_oversize(m->spool))
		/* A descriptor only for a spilled message: a small one
		 * goes to the worker in the request packet itself. */
		rc = emf_spool_finish(m->spool, &data, &len,
		    emf_spool_on_disk(m->spool) ? &fd : NULL);
	t_spooled = now_us();
	if (rc == EMF_OK && !emf_spool_oversize(m->spool)) {
		memset(&env, 0, sizeof(env));
		env.queue_id = m->qid;
		env.client_ip = c->client_ip;
		env.client_name = c->client_name;
		env.helo = c->helo;
		env.sender = m->sender;
		env.rcpts = (const char *const *)m->rcpts->pdata;
		env.nrcpts = m->rcpts->len;
		env.auth_user = m->auth_user;
		rc = emf_pool_scan(the_pool, m->qid, data, len, fd, &env,
		    c->mc->scan_timeout_ms, &v);
	} else if (rc != EMF_OK) {
		emf_log(EMF_LOG_ERR, "%s: spool: %s (%s)", m->qid,
		    emf_rc_str(rc), strerror(errno));
		v.fail = EMF_FAIL_STORE;
	}
	t_scanned = now_us();
	st = emf_actions_apply(ctx, c, rc, &v, data, len);
	if (log_timing) {
		int64_t t_end = now_us();

		/* Microseconds per stage; the MTA's reply follows at once. */
		emf_log(EMF_LOG_INFO, "%s: timing_us receive=%lld spool=%lld "
		    "queue=%lld dispatch=%lld scan=%lld return=%lld "
		    "verdict=%lld eom_to_reply=%lld", m->qid,
		    (long long)(t_eom - m->t_start),
		    (long long)(t_spooled - t_eom), (long long)v.us_queue,
		    (long long)v.us_dispatch, (long long)v.us_scan,
		    (long long)v.us_return, (long long)(t_end - t_scanned),
		    (long long)(t_end - t_eom));
	}
	emf_verdict_clear(&v);
	msg_end(c);
	return st;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct emf_conn *c = mp_getpriv(ctx);

	if (c != NULL)
		msg_end(c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct emf_conn *c = mp_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	msg_end(c);
	g_free(c->client_ip);
	g_free(c->client_name);
	g_free(c->helo);
	g_free(c);
	mp_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "emofilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

bool
emf_milter_setup(const char *sock, struct emf_error *err)
{
	char why[256];

	if (!mp_listen(&desc, sock, why, sizeof(why))) {
		snprintf(err->msg, sizeof(err->msg), "cannot listen on %s",
		    why);
		return false;
	}
	return true;
}

/* Reload thread: SIGUSR1 from the main process after a good reload. */
static void *
reloader(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		struct emf_cfg *cfg;
		struct emf_error err;
		struct emf_mconf *old;

		if (sigwait(&set, &sig) != 0)
			continue;
		if (emf_cfg_load(the_conf_path, &cfg, &err) != EMF_OK) {
			emf_log(EMF_LOG_ERR, "reload: %s (keeping the old "
			    "settings)", err.msg);
			continue;
		}
		pthread_mutex_lock(&mc_lock);
		old = mc_live;
		mc_live = emf_mconf_new(cfg);
		pthread_mutex_unlock(&mc_lock);
		emf_mconf_unref(old);
		emf_log(EMF_LOG_INFO, "milter settings reloaded");
	}
	return NULL;
}

int
emf_milter_run(const char *conf_path, struct emf_mconf *mc,
    struct emf_pool *pool)
{
	sigset_t set;
	pthread_t tid;
	struct timespec ts;
	long timeout_s;
	int r;

	the_conf_path = conf_path;
	the_pool = pool;
	log_timing = getenv("EMOFILTER_TIMING") != NULL &&
	    strcmp(getenv("EMOFILTER_TIMING"), "1") == 0;
	mc_live = mc;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (conf_path != NULL)
		pthread_create(&tid, NULL, reloader, NULL);
	r = mp_main();
	mc = mconf_get();
	timeout_s = mc->scan_timeout_ms / 1000 + 5;
	emf_mconf_unref(mc);
	/* Drain: let in-flight messages end (bounded by the scan timeout). */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_s;
	pthread_mutex_lock(&inflight_lock);
	if (inflight > 0)
		emf_log(EMF_LOG_INFO, "stopping: %d message(s) in flight",
		    inflight);
	while (inflight > 0 &&
	    pthread_cond_timedwait(&inflight_zero, &inflight_lock, &ts) == 0)
		;
	if (inflight > 0)
		emf_log(EMF_LOG_WARNING, "stopping with %d message(s) "
		    "unfinished: the MTA tempfails them", inflight);
	pthread_mutex_unlock(&inflight_lock);
	return r == 0 ? 0 : 1;
}
