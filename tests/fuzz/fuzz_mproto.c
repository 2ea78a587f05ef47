/*
 * fuzz_mproto.c - the milter protocol engine (src/milter/mproto.c) with
 * the input as the byte stream an MTA sends: packets of any length and
 * command, cut anywhere, macros, strings without their NUL, a body after
 * the end. The engine serves it over a socketpair (a thread drains its
 * answers) until the input ends or the engine closes; the callbacks read
 * every macro the milter reads and, at each end of message, make the
 * changes the milter makes (delete a header, add headers, quarantine,
 * a reply code).
 *
 * Contracts checked: every answer the engine writes is a whole packet
 * (length, then that many bytes) with a known reply command, and the
 * engine returns (it never waits for more than the input).
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../src/milter/mproto.h"

static sfsistat
f_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	*pf0 = f0;
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NR_CONN | SMFIP_NR_HELO |
	    SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH |
	    SMFIP_NR_BODY | SMFIP_SKIP);
	*pf2 = *pf3 = 0;
	(void)mp_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
	(void)mp_setsymlist(ctx, SMFIM_EOM, "i");
	return (f0 & 1) != 0 ? SMFIS_CONTINUE : SMFIS_ALL_OPTS;
}

static void
touch(const char *s)
{
	/* Read it all: a string the engine hands out must be terminated. */
	if (s != NULL)
		FUZZ_ASSERT(strlen(s) < MP_MAX_PACKET);
}

static sfsistat
f_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)sa;
	touch(host);
	touch(mp_getsymval(ctx, "{client_addr}"));
	return SMFIS_NOREPLY;
}

static sfsistat
f_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	touch(helo);
	return SMFIS_NOREPLY;
}

static sfsistat
f_args(SMFICTX *ctx, char **argv)
{
	for (int i = 0; argv[i] != NULL; i++)
		touch(argv[i]);
	touch(mp_getsymval(ctx, "i"));
	touch(mp_getsymval(ctx, "{auth_authen}"));
	return argv[0] != NULL && argv[0][0] == 'T' ? SMFIS_TEMPFAIL :
	    SMFIS_NOREPLY;
}

static sfsistat
f_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	touch(name);
	touch(value);
	return SMFIS_NOREPLY;
}

static sfsistat
f_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_NOREPLY;
}

static sfsistat
f_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	return n > 0 && p[0] == 'S' ? SMFIS_SKIP : SMFIS_NOREPLY;
}

static sfsistat
f_eom(SMFICTX *ctx)
{
	const char *q = mp_getsymval(ctx, "i");

	touch(q);
	(void)mp_chgheader(ctx, "X-Emofilter-Score", 1, NULL);
	(void)mp_addheader(ctx, "X-Emofilter-Score", " 0");
	if (q != NULL && q[0] == 'Q')
		(void)mp_quarantine(ctx, "held by the fuzzer");
	if (q != NULL && q[0] == 'R') {
		(void)mp_setreply(ctx, "550", "5.7.1", q);
		return SMFIS_REJECT;
	}
	return q != NULL && q[0] == 'T' ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
}

static sfsistat
f_simple(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
f_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx;
	touch(cmd);
	return SMFIS_CONTINUE;
}

static const struct smfiDesc desc = {
	.xxfi_name = "fuzz_mproto",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = f_connect,
	.xxfi_helo = f_helo,
	.xxfi_envfrom = f_args,
	.xxfi_envrcpt = f_args,
	.xxfi_header = f_header,
	.xxfi_eoh = f_eoh,
	.xxfi_body = f_body,
	.xxfi_eom = f_eom,
	.xxfi_abort = f_simple,
	.xxfi_close = f_simple,
	.xxfi_unknown = f_unknown,
	.xxfi_data = f_simple,
	.xxfi_negotiate = f_negotiate,
};

/* What the engine answers: read to the end, checked packet by packet. */
static void *
drain(void *arg)
{
	int fd = GPOINTER_TO_INT(arg);
	GByteArray *got = g_byte_array_new();
	char buf[8192];
	ssize_t r;
	size_t off = 0;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(got, (guint8 *)buf, (guint)r);
	while (off + 5 <= got->len) {
		uint32_t n;

		memcpy(&n, got->data + off, 4);
		n = ntohl(n);
		FUZZ_ASSERT(n >= 1 && off + 4 + n <= got->len);
		FUZZ_ASSERT(strchr("Oacdhmqrsty", got->data[off + 4]) != NULL);
		off += 4 + n;
	}
	FUZZ_ASSERT(off == got->len);
	g_byte_array_free(got, TRUE);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	pthread_t t;
	size_t off = 0;

	/* Beyond 64 KiB the socket buffer, not the engine, is exercised. */
	if (size > 65536)
		size = 65536;
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	FUZZ_ASSERT(pthread_create(&t, NULL, drain, GINT_TO_POINTER(sv[0])) ==
	    0);
	/* The input waits in the socket (its buffer holds 64 KiB), then
	 * the MTA's end of writing: the engine reads until then. */
	while (off < size) {
		ssize_t w = write(sv[0], data + off, size - off);

		FUZZ_ASSERT(w > 0);
		off += (size_t)w;
	}
	shutdown(sv[0], SHUT_WR);
	mp_serve(&desc, sv[1]);		/* closes sv[1]: the drain ends */
	pthread_join(t, NULL);
	close(sv[0]);
	return 0;
}
