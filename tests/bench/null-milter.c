/*
 * null-milter.c - the floor of the milter benchmark: a libmilter milter
 * that negotiates what emofilter negotiates (protocol 6, no reply before
 * the end of the message, no DATA/unknown events, leading header space),
 * takes every event and accepts every message, adding N header fields
 * (as emofilter's headers_on_accept adds three). What Postfix costs with
 * it beside Postfix alone is what any milter costs on the rig; emofilter
 * beside it is what emofilter itself costs. Not a test, not installed.
 *
 * Its sockets are tuned as emofilter's (TCP_NODELAY on the listener, an
 * immediate ACK after each step the MTA waits no reply for): without
 * that, Nagle and delayed ACKs cost 40 ms a message and the floor would
 * be far below emofilter.
 *
 * usage: null-milter SOCKET [HEADERS]   (SOCKET as smfi_setconn: inet:PORT@HOST)
 * Environment: NM_NOMACROS=1 asks the MTA for no macro at any stage
 * (smfi_setsymlist), NM_NOHELO=1 skips the HELO event: what those save
 * Postfix.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <libmilter/mfapi.h>

static int add_headers;
static bool no_macros, no_helo;

#define NOREPLY (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    (no_macros ? SMFIF_SETSYMLIST : 0));
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | NOREPLY | SMFIP_NODATA |
	    SMFIP_NOUNKNOWN | (no_helo ? SMFIP_NOHELO : 0));
	*pf2 = 0;
	*pf3 = 0;
	if (no_macros && (f0 & SMFIF_SETSYMLIST) != 0)
		for (int st = SMFIM_CONNECT; st <= SMFIM_EOH; st++)
			(void)smfi_setsymlist(ctx, st, "");
	return SMFIS_CONTINUE;
}

/* As emofilter's step_ok(): libmilter's context starts {pthread_t; int sd}. */
static sfsistat
noreply(SMFICTX *ctx)
{
	const struct { pthread_t id; int sd; } *head = (const void *)ctx;
	int one = 1;

	(void)setsockopt(head->sd, IPPROTO_TCP, TCP_QUICKACK, &one,
	    sizeof(one));
	return SMFIS_NOREPLY;
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return noreply(ctx);
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return noreply(ctx);
}

static sfsistat
nm_args(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return noreply(ctx);
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return noreply(ctx);
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	return noreply(ctx);
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)p;
	(void)n;
	return noreply(ctx);
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	char name[32];

	for (int i = 0; i < add_headers; i++) {
		snprintf(name, sizeof(name), "X-Null-Milter-%d", i);
		if (smfi_addheader(ctx, name, " ok") != MI_SUCCESS)
			return SMFIS_TEMPFAIL;
	}
	return SMFIS_ACCEPT;
}

static struct smfiDesc desc = {
	.xxfi_name = "null-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_helo,
	.xxfi_envfrom = nm_args,
	.xxfi_envrcpt = nm_args,
	.xxfi_header = nm_header,
	.xxfi_eoh = nm_eoh,
	.xxfi_body = nm_body,
	.xxfi_eom = nm_eom,
	.xxfi_negotiate = nm_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: null-milter SOCKET [HEADERS]\n");
		return 2;
	}
	add_headers = argc == 3 ? atoi(argv[2]) : 0;
	no_macros = getenv("NM_NOMACROS") != NULL &&
	    strcmp(getenv("NM_NOMACROS"), "1") == 0;
	no_helo = getenv("NM_NOHELO") != NULL &&
	    strcmp(getenv("NM_NOHELO"), "1") == 0;
	if (smfi_register(desc) == MI_FAILURE ||
	    smfi_setconn(argv[1]) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null-milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	/* The listener is the only socket open: Linux passes TCP_NODELAY
	 * on to the accepted connections. */
	for (int fd = 3; fd < 64; fd++) {
		int on = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
