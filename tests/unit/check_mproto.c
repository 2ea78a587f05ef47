/*
 * check_mproto.c - the milter protocol engine (src/milter/mproto.c)
 * against an MTA played by the test over a socketpair: negotiation and
 * macro lists, no reply to the steps agreed without one, macros looked up
 * with or without braces, the end of message's changes and status in one
 * write, reply codes, and a hostile MTA (oversized, truncated or
 * unexpected packets) ending the connection, never the process.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>

#include "../../src/milter/mproto.h"
#include "testutil.h"

/* What the callbacks saw, and what the end of message does. */
static struct {
	char sender[64], rcpt[64], helo[64], client[64], qid[32], auth[32];
	char hdrs[256];
	size_t body;
	int eom_mode;		/* 0 accept with changes, 1 reject, 2 tempfail,
				 * 3 wait for the MTA to hang up, then try */
	int gone_rc;		/* mode 3: mp_addheader's answer */
	int closes, aborts;
	int outside_eom_rc;	/* mp_addheader outside end of message */
} seen;

static sfsistat
t_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST);
	*pf1 = f1 & (SMFIP_NR_HDR | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
	    SMFIP_NR_BODY | SMFIP_NR_EOH);
	*pf2 = *pf3 = 0;
	ck_assert_int_eq(mp_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}"),
	    MI_SUCCESS);
	return SMFIS_CONTINUE;
}

static sfsistat
t_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	char ip[64] = "";

	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr,
		    ip, sizeof(ip));
	snprintf(seen.client, sizeof(seen.client), "%s[%s]", host, ip);
	seen.outside_eom_rc = mp_addheader(ctx, "X-Early", "no");
	return SMFIS_CONTINUE;
}

static sfsistat
t_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	snprintf(seen.helo, sizeof(seen.helo), "%s", helo);
	return SMFIS_CONTINUE;
}

static sfsistat
t_envfrom(SMFICTX *ctx, char **argv)
{
	const char *q = mp_getsymval(ctx, "{i}");
	const char *a = mp_getsymval(ctx, "auth_authen");

	snprintf(seen.sender, sizeof(seen.sender), "%s|%s", argv[0],
	    argv[1] != NULL ? argv[1] : "");
	snprintf(seen.qid, sizeof(seen.qid), "%s", q != NULL ? q : "");
	snprintf(seen.auth, sizeof(seen.auth), "%s", a != NULL ? a : "");
	return SMFIS_NOREPLY;
}

static sfsistat
t_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	snprintf(seen.rcpt, sizeof(seen.rcpt), "%s", argv[0]);
	/* A failure in a step agreed without reply must not be answered. */
	return SMFIS_TEMPFAIL;
}

static sfsistat
t_header(SMFICTX *ctx, char *name, char *value)
{
	size_t n = strlen(seen.hdrs);

	(void)ctx;
	snprintf(seen.hdrs + n, sizeof(seen.hdrs) - n, "%s=%s;", name, value);
	return SMFIS_NOREPLY;
}

static sfsistat
t_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_NOREPLY;
}

static sfsistat
t_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	(void)p;
	seen.body += n;
	return SMFIS_NOREPLY;
}

static gint hung_up;

static sfsistat
t_eom(SMFICTX *ctx)
{
	switch (seen.eom_mode) {
	case 3:
		for (int i = 0; i < 400 && !g_atomic_int_get(&hung_up); i++)
			g_usleep(5000);
		seen.gone_rc = mp_addheader(ctx, "X-Score", " 2");
		return SMFIS_ACCEPT;
	case 1:
		ck_assert_int_eq(mp_setreply(ctx, "550", "5.7.1", "no thanks"),
		    MI_SUCCESS);
		return SMFIS_REJECT;
	case 2:
		/* A 5xx text does not go with a tempfail. */
		ck_assert_int_eq(mp_setreply(ctx, "550", NULL, "x"),
		    MI_SUCCESS);
		return SMFIS_TEMPFAIL;
	default:
		ck_assert_int_eq(mp_chgheader(ctx, "X-Forged", 1, NULL),
		    MI_SUCCESS);
		ck_assert_int_eq(mp_addheader(ctx, "X-Score", " 2"),
		    MI_SUCCESS);
		/* Not agreed: refused. */
		ck_assert_int_eq(mp_quarantine(ctx, "held"), MI_FAILURE);
		ck_assert_int_eq(mp_addheader(ctx, "Bad: name", "v"),
		    MI_FAILURE);
		ck_assert_int_eq(mp_setreply(ctx, "250", NULL, "x"),
		    MI_FAILURE);
		return SMFIS_ACCEPT;
	}
}

static sfsistat
t_abort(SMFICTX *ctx)
{
	(void)ctx;
	seen.aborts++;
	return SMFIS_CONTINUE;
}

static sfsistat
t_close(SMFICTX *ctx)
{
	(void)ctx;
	seen.closes++;
	return SMFIS_CONTINUE;
}

static const struct smfiDesc desc = {
	.xxfi_name = "check_mproto",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = t_connect,
	.xxfi_helo = t_helo,
	.xxfi_envfrom = t_envfrom,
	.xxfi_envrcpt = t_envrcpt,
	.xxfi_header = t_header,
	.xxfi_eoh = t_eoh,
	.xxfi_body = t_body,
	.xxfi_eom = t_eom,
	.xxfi_abort = t_abort,
	.xxfi_close = t_close,
	.xxfi_negotiate = t_negotiate,
};

/* ---- the MTA side ------------------------------------------------------- */

static int mta = -1;
static pthread_t server;
static bool served;

static void *
serve_thread(void *arg)
{
	mp_serve(&desc, GPOINTER_TO_INT(arg));
	return NULL;
}

static void
start(void)
{
	int sv[2];

	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	mta = sv[0];
	ck_assert_int_eq(pthread_create(&server, NULL, serve_thread,
	    GINT_TO_POINTER(sv[1])), 0);
	served = true;
}

/* The engine has ended the connection: its thread returns. */
static void
finish(void)
{
	if (served)
		pthread_join(server, NULL);
	served = false;
	close(mta);
}

static void
send_raw(const void *p, size_t n)
{
	ck_assert_int_eq(write(mta, p, n), (ssize_t)n);
}

/* One packet: cmd and data of n bytes. */
static void
send_pkt(char cmd, const void *d, size_t n)
{
	uint32_t len = htonl((uint32_t)n + 1);
	char *b = g_malloc(n + 5);

	memcpy(b, &len, 4);
	b[4] = cmd;
	if (n > 0)
		memcpy(b + 5, d, n);
	send_raw(b, n + 5);
	g_free(b);
}

/* Everything the engine wrote within ms (its replies). */
static GByteArray *
recv_within(int ms)
{
	GByteArray *b = g_byte_array_new();
	struct pollfd p = { .fd = mta, .events = POLLIN };
	char chunk[4096];

	while (poll(&p, 1, ms) > 0) {
		ssize_t r = read(mta, chunk, sizeof(chunk));

		if (r <= 0)
			break;
		g_byte_array_append(b, (guint8 *)chunk, (guint)r);
		ms = 50;
	}
	return b;
}

/* The commands of the packets in b, as a string ("ca" ...). */
static char *
commands(const GByteArray *b)
{
	GString *s = g_string_new(NULL);
	size_t off = 0;

	while (off + 5 <= b->len) {
		uint32_t n;

		memcpy(&n, b->data + off, 4);
		n = ntohl(n);
		g_string_append_c(s, (char)b->data[off + 4]);
		off += 4 + n;
	}
	ck_assert_uint_eq(off, b->len);
	return g_string_free(s, FALSE);
}

/* The commands of b are want; b is freed. */
static void
assert_commands(GByteArray *b, const char *want)
{
	char *c = commands(b);

	ck_assert_str_eq(c, want);
	g_free(c);
	g_byte_array_free(b, TRUE);
}

static void
negotiate(void)
{
	uint32_t o[3] = { htonl(6), htonl(0x1ff), htonl(0x1fffff) };
	GByteArray *r;
	uint32_t v[3];

	send_pkt(SMFIC_OPTNEG, o, sizeof(o));
	r = recv_within(2000);
	ck_assert_uint_ge(r->len, 17);
	ck_assert_int_eq(r->data[4], SMFIC_OPTNEG);
	memcpy(v, r->data + 5, 12);
	ck_assert_uint_eq(ntohl(v[0]), 6);
	ck_assert_uint_eq(ntohl(v[1]), SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_SETSYMLIST);
	ck_assert_uint_eq(ntohl(v[2]), SMFIP_NR_HDR | SMFIP_NR_MAIL |
	    SMFIP_NR_RCPT | SMFIP_NR_BODY | SMFIP_NR_EOH);
	/* The macro list of MAIL follows: stage 2, then the names. */
	ck_assert_uint_eq(r->len, 4 + 13 + 4 + sizeof("i {auth_authen}"));
	ck_assert_mem_eq(r->data + 21, "i {auth_authen}",
	    sizeof("i {auth_authen}"));
	g_byte_array_free(r, TRUE);
}

static const char conn_data[] = "mx.example.org\0" "4\0\x19" "192.0.2.7";
static const char mac_mail[] = "M" "i\0" "ABC123\0" "{auth_authen}\0" "alice";

/* One message up to its end; returns the engine's reply to it. */
static GByteArray *
message(void)
{
	send_pkt(SMFIC_CONNECT, conn_data, sizeof(conn_data));
	assert_commands(recv_within(2000), "c");	/* connect is answered */
	send_pkt(SMFIC_HELO, "client.example", 15);
	assert_commands(recv_within(2000), "c");
	/* From here, one burst: nothing is answered before the end. */
	send_pkt(SMFIC_MACRO, mac_mail, sizeof(mac_mail));
	send_pkt(SMFIC_MAIL, "<a@example.org>\0SIZE=10", 24);
	send_pkt(SMFIC_RCPT, "<b@example.net>", 16);
	send_pkt(SMFIC_HEADER, "Subject\0 hi", 12);
	send_pkt(SMFIC_HEADER, "X-Forged\0 1", 12);
	send_pkt(SMFIC_EOH, NULL, 0);
	send_pkt(SMFIC_BODY, "hello\r\n", 7);
	send_pkt(SMFIC_BODYEOB, "bye\r\n", 5);
	return recv_within(2000);
}

START_TEST(a_message_end_to_end)
{
	GByteArray *r;
	char *c;

	start();
	negotiate();
	r = message();
	/* The changes and the status in one answer, in order; nothing for
	 * MAIL, RCPT (even its TEMPFAIL), headers, EOH or body. */
	c = commands(r);
	ck_assert_str_eq(c, "mha");
	g_free(c);
	ck_assert_str_eq(seen.client, "mx.example.org[192.0.2.7]");
	ck_assert_str_eq(seen.helo, "client.example");
	ck_assert_str_eq(seen.sender, "<a@example.org>|SIZE=10");
	ck_assert_str_eq(seen.rcpt, "<b@example.net>");
	ck_assert_str_eq(seen.qid, "ABC123");
	ck_assert_str_eq(seen.auth, "alice");
	ck_assert_str_eq(seen.hdrs, "Subject= hi;X-Forged= 1;");
	ck_assert_uint_eq(seen.body, 12);
	ck_assert_int_eq(seen.outside_eom_rc, MI_FAILURE);
	/* chgheader: index 1, the name, an empty value (delete). */
	ck_assert_mem_eq(r->data + 5, "\0\0\0\1X-Forged\0\0", 14);
	g_byte_array_free(r, TRUE);
	send_pkt(SMFIC_QUIT, NULL, 0);
	finish();
	ck_assert_int_eq(seen.closes, 1);
}
END_TEST

START_TEST(reply_codes_go_with_their_class)
{
	GByteArray *r;

	start();
	negotiate();
	seen.eom_mode = 1;
	r = message();
	ck_assert_int_eq(r->data[4], SMFIR_REPLYCODE);
	ck_assert_str_eq((char *)r->data + 5, "550 5.7.1 no thanks");
	g_byte_array_free(r, TRUE);
	/* QUIT_NC: a new session on the same connection. */
	send_pkt(SMFIC_QUIT_NC, NULL, 0);
	seen.eom_mode = 2;
	r = message();
	/* A 5xx text is not sent with a tempfail: a plain tempfail. */
	assert_commands(r, "t");
	send_pkt(SMFIC_ABORT, NULL, 0);
	send_pkt(SMFIC_QUIT, NULL, 0);
	finish();
	ck_assert_int_eq(seen.aborts, 1);
	ck_assert_int_eq(seen.closes, 2);
}
END_TEST

START_TEST(a_packet_split_anywhere_is_whole)
{
	uint32_t o[3] = { htonl(6), htonl(0x1ff), htonl(0x1fffff) };
	char pkt[5 + 12];
	uint32_t len = htonl(13);
	GByteArray *r;

	start();
	memcpy(pkt, &len, 4);
	pkt[4] = SMFIC_OPTNEG;
	memcpy(pkt + 5, o, 12);
	/* Byte by byte: no answer before the last byte. */
	for (size_t i = 0; i < sizeof(pkt); i++) {
		send_raw(pkt + i, 1);
		if (i + 1 < sizeof(pkt)) {
			r = recv_within(i < 3 ? 30 : 5);
			ck_assert_uint_eq(r->len, 0);
			g_byte_array_free(r, TRUE);
		}
	}
	r = recv_within(2000);
	ck_assert_uint_ge(r->len, 17);
	ck_assert_int_eq(r->data[4], SMFIC_OPTNEG);
	g_byte_array_free(r, TRUE);
	shutdown(mta, SHUT_WR);
	finish();
}
END_TEST

/* A hostile or broken MTA: each ends the connection, nothing else. */
static const struct {
	const char *label;
	bool negotiated;
	char cmd;
	const char *data;
	size_t n;
	uint32_t claimed;	/* a length field other than the real one */
} hostile[] = {
	{ "a command before negotiation", false, SMFIC_MAIL, "<a>", 4, 0 },
	{ "a packet of 16 MiB", true, SMFIC_BODY, "x", 1, 16u << 20 },
	{ "a length of zero", true, SMFIC_BODY, "", 0, 0xffffffff },
	{ "a header without its NUL", true, SMFIC_HEADER, "Subject\0 x", 10, 0 },
	{ "a header without a value", true, SMFIC_HEADER, "Subject", 8, 0 },
	{ "a connect without family", true, SMFIC_CONNECT, "h", 2, 0 },
	{ "a second negotiation", true, SMFIC_OPTNEG,
	    "\0\0\0\6\0\0\0\1\0\0\0\0", 12, 0 },
	{ "an unknown command", true, 'Z', "", 0, 0 },
	{ "a short negotiation", false, SMFIC_OPTNEG, "\0\0\0\6", 4, 0 },
};

START_TEST(a_hostile_mta_ends_its_connection)
{
	GByteArray *r;

	start();
	if (hostile[_i].negotiated)
		negotiate();
	if (hostile[_i].claimed != 0) {
		uint32_t len = hostile[_i].claimed == 0xffffffff ? 0 :
		    htonl(hostile[_i].claimed);
		char b[5];

		memcpy(b, &len, 4);
		b[4] = hostile[_i].cmd;
		send_raw(b, 5);
	} else {
		send_pkt(hostile[_i].cmd, hostile[_i].data, hostile[_i].n);
	}
	/* The engine closes: end of file, no answer. */
	r = recv_within(3000);
	ck_assert_msg(r->len == 0, "%s: %u bytes of answer",
	    hostile[_i].label, r->len);
	g_byte_array_free(r, TRUE);
	finish();
	ck_assert_int_le(seen.closes, 1);
}
END_TEST

START_TEST(changes_refused_once_the_mta_is_gone)
{
	GByteArray *r;

	start();
	negotiate();
	send_pkt(SMFIC_CONNECT, conn_data, sizeof(conn_data));
	r = recv_within(2000);
	g_byte_array_free(r, TRUE);
	send_pkt(SMFIC_MAIL, "<a@example.org>", 16);
	send_pkt(SMFIC_EOH, NULL, 0);
	/* The end of message, then the MTA hangs up before any answer:
	 * the end-of-message callback's changes are refused. */
	seen.eom_mode = 3;
	g_atomic_int_set(&hung_up, 0);
	send_pkt(SMFIC_BODYEOB, NULL, 0);
	shutdown(mta, SHUT_WR);
	g_atomic_int_set(&hung_up, 1);
	finish();
	ck_assert_int_eq(seen.gone_rc, MI_FAILURE);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mproto");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_message_end_to_end);
	tcase_add_test(tc, reply_codes_go_with_their_class);
	tcase_add_test(tc, a_packet_split_anywhere_is_whole);
	tcase_add_loop_test(tc, a_hostile_mta_ends_its_connection, 0,
	    G_N_ELEMENTS(hostile));
	tcase_add_test(tc, changes_refused_once_the_mta_is_gone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
