/*
 * mproto.c - the milter protocol, server side (see mproto.h).
 *
 * A packet is a 4-byte length (network order, counting the command byte),
 * a command byte and its data. The MTA opens with OPTNEG; then, per SMTP
 * session, CONNECT, HELO, per message MAIL, RCPT..., HEADER..., EOH,
 * BODY..., BODYEOB (end of message) or ABORT; MACRO packets carry the
 * macros of the command after them; QUIT ends the connection (QUIT_NC: a
 * new session follows on it). Every command is answered except those the
 * negotiation exempted (SMFIP_NR_*), MACRO and ABORT.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "core/log.h"
#include "mproto.h"

/* Macro stages, in the order a lookup searches them (most recent first). */
enum { ST_EOM, ST_EOH, ST_DATA, ST_RCPT, ST_MAIL, ST_HELO, ST_CONN, ST_N };

struct smfi_str {
	int fd;
	bool tcp;
	void *priv;
	unsigned version;
	unsigned long actions, proto;	/* agreed at negotiation */
	bool negotiated;
	char *mac[ST_N];		/* name\0value\0... as received */
	size_t maclen[ST_N];
	char *symlist[SMFIM_LAST + 1];
	bool in_negotiate, in_eom;
	int gone;			/* -1 not checked, 0 alive, 1 closed */
	GByteArray *out;		/* replies not yet written */
	char *reply;			/* "550 5.7.1 text" for the next status */
	char *buf;			/* input: [off, len) not handled yet */
	size_t off, len, cap;
};

static struct smfiDesc the_desc;
static int listen_fd = -1;
static int stop_pipe[2] = { -1, -1 };
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned nconns;

/* Read and write timeouts of an MTA connection (libmilter: 7210 s read). */
#define MP_READ_TIMEOUT_S 7210
#define MP_WRITE_TIMEOUT_S 60
#define MP_MAX_ARGS 64

/* ---- the calls a callback makes --------------------------------------- */

void *
mp_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

void
mp_setpriv(SMFICTX *ctx, void *priv)
{
	ctx->priv = priv;
}

/* "{name}" and "name" compare equal. */
static bool
macro_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la >= 2 && a[0] == '{' && a[la - 1] == '}')
		a++, la -= 2;
	if (lb >= 2 && b[0] == '{' && b[lb - 1] == '}')
		b++, lb -= 2;
	return la == lb && memcmp(a, b, la) == 0;
}

const char *
mp_getsymval(SMFICTX *ctx, const char *name)
{
	for (int st = 0; st < ST_N; st++) {
		const char *p = ctx->mac[st], *end;

		if (p == NULL)
			continue;	/* (NULL + 0 is undefined) */
		end = p + ctx->maclen[st];
		while (p < end) {
			const char *n = p, *v = n + strlen(n) + 1;

			if (v >= end)
				break;
			if (macro_name_eq(n, name))
				return v;
			p = v + strlen(v) + 1;
		}
	}
	return NULL;
}

int
mp_setsymlist(SMFICTX *ctx, int stage, const char *names)
{
	if (!ctx->in_negotiate || stage < SMFIM_FIRST || stage > SMFIM_LAST ||
	    names == NULL || ctx->symlist[stage] != NULL)
		return MI_FAILURE;
	ctx->symlist[stage] = g_strdup(names);
	return MI_SUCCESS;
}

static void
put_u32(GByteArray *b, uint32_t v)
{
	uint32_t n = htonl(v);

	g_byte_array_append(b, (const guint8 *)&n, 4);
}

static void
put_str(GByteArray *b, const char *s)
{
	g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s) + 1);
}

/* Start a packet of command cmd in out; end_packet() fills its length. */
static size_t
begin_packet(GByteArray *b, char cmd)
{
	size_t at = b->len;

	put_u32(b, 0);
	g_byte_array_append(b, (const guint8 *)&cmd, 1);
	return at;
}

static void
end_packet(GByteArray *b, size_t at)
{
	uint32_t n = htonl((uint32_t)(b->len - at - 4));

	memcpy(b->data + at, &n, 4);
}

/*
 * A change may be queued: in end of message, agreed, the MTA still
 * there. The MTA closing early is seen once per message (one poll), so
 * that the caller can refuse to pass a message whose forged headers
 * could not be removed, as it could with libmilter's immediate writes.
 */
static bool
may_change(SMFICTX *ctx, unsigned long action)
{
	if (!ctx->in_eom || (ctx->actions & action) == 0)
		return false;
	if (ctx->gone < 0) {
		struct pollfd p = { .fd = ctx->fd, .events = POLLRDHUP };

		ctx->gone = poll(&p, 1, 0) > 0 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
	}
	return ctx->gone == 0;
}

static bool
header_ok(const char *name, const char *value)
{
	return name != NULL && name[0] != '\0' && strlen(name) < 1024 &&
	    strpbrk(name, ": \t\r\n") == NULL &&
	    (value == NULL || strlen(value) < MP_MAX_PACKET - 2048);
}

int
mp_addheader(SMFICTX *ctx, const char *name, const char *value)
{
	size_t at;

	if (value == NULL || !header_ok(name, value) ||
	    !may_change(ctx, SMFIF_ADDHDRS))
		return MI_FAILURE;
	at = begin_packet(ctx->out, SMFIR_ADDHEADER);
	put_str(ctx->out, name);
	put_str(ctx->out, value);
	end_packet(ctx->out, at);
	return MI_SUCCESS;
}

int
mp_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value)
{
	size_t at;

	if (idx < 0 || !header_ok(name, value) ||
	    !may_change(ctx, SMFIF_CHGHDRS))
		return MI_FAILURE;
	at = begin_packet(ctx->out, SMFIR_CHGHEADER);
	put_u32(ctx->out, (uint32_t)idx);
	put_str(ctx->out, name);
	put_str(ctx->out, value != NULL ? value : "");
	end_packet(ctx->out, at);
	return MI_SUCCESS;
}

int
mp_quarantine(SMFICTX *ctx, const char *reason)
{
	size_t at;

	if (reason == NULL || reason[0] == '\0' ||
	    strlen(reason) > 1024 || !may_change(ctx, SMFIF_QUARANTINE))
		return MI_FAILURE;
	at = begin_packet(ctx->out, SMFIR_QUARANTINE);
	put_str(ctx->out, reason);
	end_packet(ctx->out, at);
	return MI_SUCCESS;
}

int
mp_setreply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *text)
{
	if (rcode == NULL || strlen(rcode) != 3 ||
	    (rcode[0] != '4' && rcode[0] != '5') ||
	    !g_ascii_isdigit(rcode[1]) || !g_ascii_isdigit(rcode[2]) ||
	    (xcode != NULL && xcode[0] != rcode[0]) ||
	    (text != NULL && strpbrk(text, "\r\n") != NULL) ||
	    (text != NULL && strlen(text) > 4000))
		return MI_FAILURE;
	g_free(ctx->reply);
	ctx->reply = g_strdup_printf("%s%s%s%s%s", rcode,
	    xcode != NULL ? " " : "", xcode != NULL ? xcode : "",
	    text != NULL ? " " : "", text != NULL ? text : "");
	return MI_SUCCESS;
}

/* ---- one connection ----------------------------------------------------- */

static bool
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

/* Write what is queued; false if the MTA is gone. */
static bool
flush_out(SMFICTX *ctx)
{
	bool ok = ctx->out->len == 0 ||
	    write_all(ctx->fd, ctx->out->data, ctx->out->len);

	g_byte_array_set_size(ctx->out, 0);
	return ok;
}

static void
queue_simple(SMFICTX *ctx, char cmd)
{
	end_packet(ctx->out, begin_packet(ctx->out, cmd));
}

/*
 * Queue the answer to a callback's status. nr_bit: the SMFIP_NR_* bit of
 * the step (0: always answered). A reply text set by mp_setreply() goes
 * with a REJECT or TEMPFAIL of its class, and is spent either way.
 */
static void
queue_status(SMFICTX *ctx, sfsistat st, unsigned long nr_bit)
{
	size_t at;

	/* The MTA reads no answer to this step: one would be taken for the
	 * answer to a later one. (The callbacks defer a failure here to
	 * the end of the message.) */
	if (nr_bit != 0 && (ctx->proto & nr_bit) != 0) {
		g_free(ctx->reply);
		ctx->reply = NULL;
		return;
	}
	switch (st) {
	case SMFIS_NOREPLY:
		queue_simple(ctx, SMFIR_CONTINUE);
		break;
	case SMFIS_REJECT:
	case SMFIS_TEMPFAIL:
		if (ctx->reply != NULL &&
		    ctx->reply[0] == (st == SMFIS_REJECT ? '5' : '4')) {
			at = begin_packet(ctx->out, SMFIR_REPLYCODE);
			put_str(ctx->out, ctx->reply);
			end_packet(ctx->out, at);
		} else {
			queue_simple(ctx, st == SMFIS_REJECT ? SMFIR_REJECT :
			    SMFIR_TEMPFAIL);
		}
		break;
	case SMFIS_ACCEPT:
		queue_simple(ctx, SMFIR_ACCEPT);
		break;
	case SMFIS_DISCARD:
		queue_simple(ctx, SMFIR_DISCARD);
		break;
	case SMFIS_SKIP:
		queue_simple(ctx, (ctx->proto & SMFIP_SKIP) != 0 ?
		    SMFIR_SKIP : SMFIR_CONTINUE);
		break;
	case SMFIS_CONTINUE:
	default:
		queue_simple(ctx, SMFIR_CONTINUE);
		break;
	}
	g_free(ctx->reply);
	ctx->reply = NULL;
}

static void
clear_macros(SMFICTX *ctx, int from, int to)
{
	for (int st = from; st <= to; st++) {
		g_free(ctx->mac[st]);
		ctx->mac[st] = NULL;
		ctx->maclen[st] = 0;
	}
}

/* The macro stage of the command that follows a MACRO packet. */
static int
macro_stage(char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT: return ST_CONN;
	case SMFIC_HELO: return ST_HELO;
	case SMFIC_MAIL: return ST_MAIL;
	case SMFIC_RCPT: return ST_RCPT;
	case SMFIC_DATA: return ST_DATA;
	case SMFIC_EOH: return ST_EOH;
	case SMFIC_BODYEOB: return ST_EOM;
	default: return -1;
	}
}

/* Data that must end with a NUL (a list of strings). */
static bool
strings_ok(const char *d, size_t n)
{
	return n > 0 && d[n - 1] == '\0';
}

static uint32_t
get_u32(const char *d)
{
	uint32_t v;

	memcpy(&v, d, 4);
	return ntohl(v);
}

static bool
do_optneg(SMFICTX *ctx, const char *d, size_t n)
{
	unsigned long f0, f1, pf0, pf1, pf2 = 0, pf3 = 0;
	sfsistat st = SMFIS_ALL_OPTS;
	size_t at;

	if (n < 12 || ctx->negotiated)
		return false;
	ctx->version = get_u32(d);
	f0 = get_u32(d + 4);
	f1 = get_u32(d + 8);
	if (ctx->version < 2)
		return false;
	if (ctx->version > SMFI_PROT_VERSION)
		ctx->version = SMFI_PROT_VERSION;
	pf0 = f0 & the_desc.xxfi_flags;
	pf1 = 0;
	if (the_desc.xxfi_negotiate != NULL) {
		ctx->in_negotiate = true;
		st = the_desc.xxfi_negotiate(ctx, f0, f1, 0, 0, &pf0, &pf1,
		    &pf2, &pf3);
		ctx->in_negotiate = false;
	}
	if (st == SMFIS_REJECT)
		return false;
	if (st == SMFIS_ALL_OPTS) {
		pf0 = f0 & the_desc.xxfi_flags;
		pf1 = 0;
	}
	/* Nothing the MTA did not offer. */
	ctx->actions = pf0 & f0;
	ctx->proto = pf1 & f1;
	ctx->negotiated = true;
	at = begin_packet(ctx->out, SMFIC_OPTNEG);
	put_u32(ctx->out, ctx->version);
	put_u32(ctx->out, (uint32_t)ctx->actions);
	put_u32(ctx->out, (uint32_t)ctx->proto);
	if ((ctx->actions & SMFIF_SETSYMLIST) != 0)
		for (int s = SMFIM_FIRST; s <= SMFIM_LAST; s++) {
			if (ctx->symlist[s] == NULL)
				continue;
			put_u32(ctx->out, (uint32_t)s);
			put_str(ctx->out, ctx->symlist[s]);
		}
	end_packet(ctx->out, at);
	return true;
}

static bool
do_connect(SMFICTX *ctx, const char *d, size_t n)
{
	const char *host = d, *addr;
	size_t hl;
	char fam;
	uint16_t port = 0;
	struct sockaddr_storage ss;
	struct sockaddr *sa = NULL;
	sfsistat st;

	if (!strings_ok(d, n))
		return false;
	hl = strlen(host) + 1;
	if (hl >= n)
		return false;
	fam = d[hl];
	memset(&ss, 0, sizeof(ss));
	if ((fam == '4' || fam == '6') && n >= hl + 4) {
		memcpy(&port, d + hl + 1, 2);
		addr = d + hl + 3;
		if (strncmp(addr, "IPv6:", 5) == 0)
			addr += 5;
		if (fam == '4') {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = port;
			if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1)
				sa = (struct sockaddr *)&ss;
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = port;
			if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1)
				sa = (struct sockaddr *)&ss;
		}
	}
	st = the_desc.xxfi_connect != NULL ?
	    the_desc.xxfi_connect(ctx, (char *)host, sa) : SMFIS_CONTINUE;
	queue_status(ctx, st, SMFIP_NR_CONN);
	return true;
}

/* MAIL or RCPT: the address, then ESMTP arguments. */
static sfsistat
call_args(SMFICTX *ctx, sfsistat (*cb)(SMFICTX *, char **), char *d,
    size_t n)
{
	char *argv[MP_MAX_ARGS + 1];
	size_t i = 0, off = 0;

	while (off < n && i < MP_MAX_ARGS) {
		argv[i++] = d + off;
		off += strlen(d + off) + 1;
	}
	argv[i] = NULL;
	return cb != NULL ? cb(ctx, argv) : SMFIS_CONTINUE;
}

static bool
do_header(SMFICTX *ctx, char *d, size_t n)
{
	size_t nl;
	sfsistat st;

	if (!strings_ok(d, n) || (nl = strlen(d) + 1) >= n)
		return false;
	st = the_desc.xxfi_header != NULL ?
	    the_desc.xxfi_header(ctx, d, d + nl) : SMFIS_CONTINUE;
	queue_status(ctx, st, SMFIP_NR_HDR);
	return true;
}

/* End of message: its changes and its status in one write. */
static bool
do_eom(SMFICTX *ctx, char *d, size_t n)
{
	sfsistat st = SMFIS_CONTINUE;

	if (n > 0 && the_desc.xxfi_body != NULL)
		st = the_desc.xxfi_body(ctx, (unsigned char *)d, n);
	if (st == SMFIS_CONTINUE || st == SMFIS_NOREPLY || st == SMFIS_SKIP) {
		ctx->in_eom = true;
		ctx->gone = -1;
		st = the_desc.xxfi_eom != NULL ? the_desc.xxfi_eom(ctx) :
		    SMFIS_CONTINUE;
		ctx->in_eom = false;
	}
	queue_status(ctx, st, 0);
	clear_macros(ctx, ST_EOM, ST_MAIL);
	return true;
}

/*
 * One packet. False ends the connection: a protocol error, a QUIT, or a
 * negotiation we refuse.
 */
static bool
handle(SMFICTX *ctx, char cmd, char *d, size_t n, bool *quickack)
{
	sfsistat st;
	int s;

	if (!ctx->negotiated && cmd != SMFIC_OPTNEG)
		return false;
	switch (cmd) {
	case SMFIC_OPTNEG:
		return do_optneg(ctx, d, n);
	case SMFIC_MACRO:
		if (n < 1 || (s = macro_stage(d[0])) < 0)
			return true;	/* a stage we keep nothing of */
		clear_macros(ctx, s, s);
		if (n > 1 && strings_ok(d + 1, n - 1)) {
			ctx->mac[s] = g_memdup2(d + 1, n - 1);
			ctx->maclen[s] = n - 1;
		}
		return true;
	case SMFIC_CONNECT:
		*quickack = (ctx->proto & SMFIP_NR_CONN) != 0;
		return do_connect(ctx, d, n);
	case SMFIC_HELO:
		if (!strings_ok(d, n))
			return false;
		*quickack = (ctx->proto & SMFIP_NR_HELO) != 0;
		st = the_desc.xxfi_helo != NULL ? the_desc.xxfi_helo(ctx, d) :
		    SMFIS_CONTINUE;
		queue_status(ctx, st, SMFIP_NR_HELO);
		return true;
	case SMFIC_MAIL:
	case SMFIC_RCPT:
		if (!strings_ok(d, n))
			return false;
		*quickack = (ctx->proto & (cmd == SMFIC_MAIL ? SMFIP_NR_MAIL :
		    SMFIP_NR_RCPT)) != 0;
		st = call_args(ctx, cmd == SMFIC_MAIL ? the_desc.xxfi_envfrom :
		    the_desc.xxfi_envrcpt, d, n);
		queue_status(ctx, st, cmd == SMFIC_MAIL ? SMFIP_NR_MAIL :
		    SMFIP_NR_RCPT);
		return true;
	case SMFIC_DATA:
		st = the_desc.xxfi_data != NULL ? the_desc.xxfi_data(ctx) :
		    SMFIS_CONTINUE;
		queue_status(ctx, st, SMFIP_NR_DATA);
		return true;
	case SMFIC_HEADER:
		*quickack = (ctx->proto & SMFIP_NR_HDR) != 0;
		return do_header(ctx, d, n);
	case SMFIC_EOH:
		*quickack = (ctx->proto & SMFIP_NR_EOH) != 0;
		st = the_desc.xxfi_eoh != NULL ? the_desc.xxfi_eoh(ctx) :
		    SMFIS_CONTINUE;
		queue_status(ctx, st, SMFIP_NR_EOH);
		return true;
	case SMFIC_BODY:
		*quickack = (ctx->proto & SMFIP_NR_BODY) != 0;
		st = the_desc.xxfi_body != NULL ?
		    the_desc.xxfi_body(ctx, (unsigned char *)d, n) :
		    SMFIS_CONTINUE;
		queue_status(ctx, st, SMFIP_NR_BODY);
		return true;
	case SMFIC_BODYEOB:
		return do_eom(ctx, d, n);
	case SMFIC_ABORT:
		if (the_desc.xxfi_abort != NULL)
			(void)the_desc.xxfi_abort(ctx);
		clear_macros(ctx, ST_EOM, ST_MAIL);
		return true;
	case SMFIC_UNKNOWN:
		if (!strings_ok(d, n))
			return false;
		st = the_desc.xxfi_unknown != NULL ?
		    the_desc.xxfi_unknown(ctx, d) : SMFIS_CONTINUE;
		queue_status(ctx, st, SMFIP_NR_UNKN);
		return true;
	case SMFIC_QUIT_NC:
		/* A new SMTP session on the same connection. */
		if (the_desc.xxfi_close != NULL)
			(void)the_desc.xxfi_close(ctx);
		clear_macros(ctx, 0, ST_N - 1);
		return true;
	case SMFIC_QUIT:
	default:
		return false;
	}
}

/* Every whole packet in the buffer; false ends the connection. */
static bool
handle_buffered(SMFICTX *ctx)
{
	bool quickack = false;

	while (ctx->len - ctx->off >= 5) {
		uint32_t plen = get_u32(ctx->buf + ctx->off);

		if (plen == 0 || plen > MP_MAX_PACKET) {
			emf_log(EMF_LOG_WARNING, "milter: packet of %u bytes "
			    "from the MTA: closing the connection",
			    (unsigned)plen);
			return false;
		}
		if (ctx->len - ctx->off - 4 < plen)
			break;
		if (!handle(ctx, ctx->buf[ctx->off + 4],
		    ctx->buf + ctx->off + 5, plen - 1, &quickack))
			return false;
		ctx->off += 4 + (size_t)plen;
	}
	/*
	 * Without a reply to them, the MTA's next small packet would wait
	 * (Nagle) for our ACK of these, which TCP delays up to 40 ms.
	 */
	if (quickack && ctx->tcp && ctx->out->len == 0) {
		int one = 1;

		(void)setsockopt(ctx->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
	}
	return flush_out(ctx);
}

/* Room for the rest of the packet at the head of the buffer. */
static bool
make_room(SMFICTX *ctx)
{
	size_t want;

	if (ctx->off > 0) {
		memmove(ctx->buf, ctx->buf + ctx->off, ctx->len - ctx->off);
		ctx->len -= ctx->off;
		ctx->off = 0;
	}
	want = ctx->len >= 4 ? 4 + (size_t)get_u32(ctx->buf) : 0;
	if (ctx->len < ctx->cap && want <= ctx->cap)
		return true;
	if (want > MP_MAX_PACKET + 4)
		return false;
	ctx->cap = MAX(want, ctx->cap * 2);
	ctx->buf = g_realloc(ctx->buf, ctx->cap);
	return true;
}

static void
conn_free(SMFICTX *ctx)
{
	/* The callbacks' own state ends with the connection. */
	if (ctx->negotiated && the_desc.xxfi_close != NULL)
		(void)the_desc.xxfi_close(ctx);
	clear_macros(ctx, 0, ST_N - 1);
	for (int s = SMFIM_FIRST; s <= SMFIM_LAST; s++)
		g_free(ctx->symlist[s]);
	g_byte_array_free(ctx->out, TRUE);
	g_free(ctx->reply);
	g_free(ctx->buf);
	close(ctx->fd);
	g_free(ctx);
}

/* The state of a new MTA connection on fd, its socket options set. */
static SMFICTX *
conn_new(int fd)
{
	SMFICTX *ctx = g_new0(struct smfi_str, 1);
	struct timeval rt = { .tv_sec = MP_READ_TIMEOUT_S };
	struct timeval wt = { .tv_sec = MP_WRITE_TIMEOUT_S };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1;

	ctx->fd = fd;
	ctx->tcp = getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	ctx->out = g_byte_array_sized_new(256);
	ctx->cap = 16384;
	ctx->buf = g_malloc(ctx->cap);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
	if (ctx->tcp)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return ctx;
}

/* Read and handle until the connection ends; then free it. */
static void
conn_run(SMFICTX *ctx)
{
	for (;;) {
		ssize_t r;

		if (!make_room(ctx))
			break;
		r = read(ctx->fd, ctx->buf + ctx->len, ctx->cap - ctx->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ctx->len += (size_t)r;
		if (!handle_buffered(ctx))
			break;
	}
	conn_free(ctx);
}

static void *
conn_thread(void *arg)
{
	conn_run(arg);
	pthread_mutex_lock(&conns_lock);
	nconns--;
	pthread_mutex_unlock(&conns_lock);
	return NULL;
}

static void
start_conn(int fd)
{
	SMFICTX *ctx;
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	pthread_mutex_lock(&conns_lock);
	if (nconns >= MP_MAX_CONNS) {
		pthread_mutex_unlock(&conns_lock);
		emf_log(EMF_LOG_ERR, "milter: %u MTA connections open: "
		    "refusing one more", (unsigned)MP_MAX_CONNS);
		close(fd);
		return;
	}
	nconns++;
	pthread_mutex_unlock(&conns_lock);
	ctx = conn_new(fd);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, conn_thread, ctx);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		emf_log(EMF_LOG_ERR, "milter: thread for an MTA connection: %s",
		    strerror(rc));
		conn_free(ctx);
		pthread_mutex_lock(&conns_lock);
		nconns--;
		pthread_mutex_unlock(&conns_lock);
	}
}

void
mp_serve(const struct smfiDesc *desc, int fd)
{
	the_desc = *desc;
	conn_run(conn_new(fd));
}

/* ---- listening ------------------------------------------------------------ */

static int
listen_unix(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* Only a socket file is replaced (main.c has checked that no
	 * running process listens on it). */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
listen_inet(int family, const char *spec, char *why, size_t whylen)
{
	char port[16], host[256];
	const char *at = strchr(spec, '@');
	struct addrinfo hints, *ai = NULL;
	int fd = -1, on = 1, rc;

	if (at == NULL) {
		snprintf(port, sizeof(port), "%s", spec);
		host[0] = '\0';
	} else {
		snprintf(port, sizeof(port), "%.*s", (int)MIN((size_t)(at - spec), sizeof(port) - 1), spec);
		snprintf(host, sizeof(host), "%s", at + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (host[0] == '\0' ? AI_PASSIVE : 0);
	if ((rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints,
	    &ai)) != 0) {
		snprintf(why, whylen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		snprintf(why, whylen, "%s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

bool
mp_listen(const struct smfiDesc *desc, const char *sock, char *why,
    size_t whylen)
{
	the_desc = *desc;
	if (strncmp(sock, "inet:", 5) == 0)
		listen_fd = listen_inet(AF_INET, sock + 5, why, whylen);
	else if (strncmp(sock, "inet6:", 6) == 0)
		listen_fd = listen_inet(AF_INET6, sock + 6, why, whylen);
	else if (strncmp(sock, "unix:", 5) == 0)
		listen_fd = listen_unix(sock + 5, why, whylen);
	else if (strncmp(sock, "local:", 6) == 0)
		listen_fd = listen_unix(sock + 6, why, whylen);
	else if (sock[0] == '/')
		listen_fd = listen_unix(sock, why, whylen);
	else
		snprintf(why, whylen, "%s: not inet:PORT@HOST, inet6:PORT@HOST "
		    "or unix:PATH", sock);
	return listen_fd >= 0;
}

/* Stop on SIGTERM, SIGINT or SIGHUP: wake the accept loop. */
static void *
signal_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while (sigwait(&set, &sig) != 0)
		;
	(void)write(stop_pipe[1], "x", 1);
	return NULL;
}

int
mp_main(void)
{
	pthread_t tid;
	sigset_t set;

	if (listen_fd < 0 || pipe2(stop_pipe, O_CLOEXEC) != 0)
		return -1;
	/* Blocked here too, so that only the signal thread takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&tid, NULL, signal_thread, NULL) != 0)
		return -1;
	pthread_detach(tid);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = listen_fd, .events = POLLIN },
			{ .fd = stop_pipe[0], .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			emf_log(EMF_LOG_ERR, "milter: poll: %s", strerror(errno));
			return -1;
		}
		if (p[1].revents != 0)
			return 0;
		if ((p[0].revents & POLLIN) == 0)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			/* The MTA gave up on it, or descriptors ran out
			 * (logged; the loop goes on as libmilter's). */
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED)
				emf_log(EMF_LOG_ERR, "milter: accept: %s",
				    strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(100000);
			continue;
		}
		start_conn(fd);
	}
}
