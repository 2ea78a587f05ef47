/*
 * heuristics.c - sender domains, forged replies, signatures, trust, and
 * the VBA allowlist.
 *
 * Emotet's reply-chain mails are sent from whatever account the botnet
 * holds, with the display name, subject and quoted history of a thread it
 * stole. What gives them away is that the pieces disagree: the display
 * name or the signature names one company and the address another, the
 * subject says "Re:" but the message answers nothing (no In-Reply-To, no
 * References), the quoted history is pasted text. Each sign alone is
 * common enough in real mail (mailing lists, bulk senders, forwards) to
 * weigh little; the weights in symbols.c make the combinations count.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <glib.h>

#include "core/cfg.h"
#include "core/charset.h"
#include "domains.h"
#include "core/engine.h"
#include "heuristics.h"
#include "lure.h"
#include "core/scan.h"

struct net {
	int family;
	uint8_t addr[16];
	unsigned bits;
};

struct emf_heur {
	struct emf_psl *psl;
	GHashTable *trusted_domains;	/* registrable domain -> itself */
	GArray *nets;			/* struct net */
	GHashTable *vba_allow;		/* lower-case hex -> itself */
	GRegex *re_separator;		/* "-----Original Message-----" */
	GRegex *re_label;		/* quoted-header field labels */
	GRegex *re_sig_label;		/* "Mail: a@b" */
	GRegex *re_bare_addr;		/* a line holding only an address */
	GRegex *re_addr;		/* any address */
	GRegex *re_host;		/* a domain-like token */
	GRegex *re_reply;		/* "Re:" and kin at the start */
	GRegex *re_forward;		/* "Fwd:" and kin at the start */
	GRegex *re_robot;		/* list and robot local parts */
};

/* Lines of the author's part searched for a bare signature address. */
#define SIG_TAIL_LINES 8
/* A quoted-header block: From plus two of Date/To/Subject in this many
 * lines. */
#define BLOCK_LINES 8

#define ADDR "([\\p{L}\\p{N}._%+=\\-]+@[\\p{L}\\p{N}\\-]+(?:\\.[\\p{L}\\p{N}\\-]+)+)"

enum { F_FROM = 1, F_DATE = 2, F_TO = 4, F_SUBJECT = 8 };

static const struct {
	const char *label;
	int kind;
} header_labels[] = {
	{ "from", F_FROM }, { "差出人", F_FROM }, { "送信者", F_FROM },
	{ "von", F_FROM }, { "da", F_FROM }, { "de", F_FROM },
	{ "sent", F_DATE }, { "date", F_DATE }, { "日時", F_DATE },
	{ "送信日時", F_DATE }, { "日付", F_DATE }, { "gesendet", F_DATE },
	{ "datum", F_DATE }, { "inviato", F_DATE }, { "data", F_DATE },
	{ "enviado", F_DATE }, { "fecha", F_DATE }, { "envoyé", F_DATE },
	{ "to", F_TO }, { "宛先", F_TO }, { "an", F_TO }, { "a", F_TO },
	{ "para", F_TO }, { "à", F_TO }, { "cc", 0 },
	{ "subject", F_SUBJECT }, { "件名", F_SUBJECT },
	{ "betreff", F_SUBJECT }, { "oggetto", F_SUBJECT },
	{ "asunto", F_SUBJECT }, { "objet", F_SUBJECT },
	{ "assunto", F_SUBJECT },
};

static GRegex *
re(const char *pattern)
{
	GError *e = NULL;
	GRegex *r = g_regex_new(pattern, G_REGEX_OPTIMIZE, 0, &e);

	/* Our own patterns: a failure is a programming error. */
	if (r == NULL)
		g_error("heuristics: bad pattern %s: %s", pattern, e->message);
	return r;
}

static bool
parse_net(const char *s, struct net *n)
{
	char *copy = g_strdup(s), *slash = strchr(copy, '/');
	unsigned max;
	bool ok = false;

	memset(n, 0, sizeof(*n));
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, copy, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, copy, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		goto out;
	}
	n->bits = max;
	if (slash != NULL) {
		char *end;
		unsigned long b = strtoul(slash, &end, 10);

		if (*slash == '\0' || *end != '\0' || b > max)
			goto out;
		n->bits = (unsigned)b;
	}
	ok = true;
out:
	g_free(copy);
	return ok;
}

static bool
net_contains(const struct net *n, const char *ip)
{
	uint8_t a[16] = { 0 };
	unsigned full, rest;

	if (inet_pton(n->family, ip, a) != 1)
		return false;
	full = n->bits / 8;
	rest = n->bits % 8;
	if (memcmp(a, n->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ n->addr[full]) & (0xFF << (8 - rest))) == 0;
}

static void
heur_free(struct emf_heur *h)
{
	if (h == NULL)
		return;
	emf_psl_free(h->psl);
	if (h->trusted_domains)
		g_hash_table_destroy(h->trusted_domains);
	if (h->nets)
		g_array_free(h->nets, TRUE);
	if (h->vba_allow)
		g_hash_table_destroy(h->vba_allow);
	g_clear_pointer(&h->re_separator, g_regex_unref);
	g_clear_pointer(&h->re_label, g_regex_unref);
	g_clear_pointer(&h->re_sig_label, g_regex_unref);
	g_clear_pointer(&h->re_bare_addr, g_regex_unref);
	g_clear_pointer(&h->re_addr, g_regex_unref);
	g_clear_pointer(&h->re_host, g_regex_unref);
	g_clear_pointer(&h->re_reply, g_regex_unref);
	g_clear_pointer(&h->re_forward, g_regex_unref);
	g_clear_pointer(&h->re_robot, g_regex_unref);
	g_free(h);
}

void
emf_heuristics_fini(void *state)
{
	heur_free(state);
}

static bool
fail(struct emf_error *err, const struct emf_cfg *cfg, const char *key,
    const char *value, const char *what)
{
	const char *file = emf_cfg_path(cfg);

	g_snprintf(err->msg, sizeof(err->msg), "%s%s%s: \"%s\" %s",
	    file ? file : "", file ? ": " : "", key, value, what);
	return false;
}

bool
emf_heuristics_init(struct emf_engine *engine, void **state,
    struct emf_error *err)
{
	const struct emf_cfg *cfg = engine->cfg;
	struct emf_heur *h = g_new0(struct emf_heur, 1);
	const char *const *l;

	h->psl = emf_psl_new();
	if (h->psl == NULL) {
		g_strlcpy(err->msg, "heuristics: the Public Suffix List cannot "
		    "be loaded (Debian package publicsuffix / libpsl5)",
		    sizeof(err->msg));
		heur_free(h);
		return false;
	}
	h->trusted_domains = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	for (l = emf_cfg_strlist(cfg, "heuristics.trusted_domains"); *l; l++) {
		char *d = emf_psl_registrable(h->psl, *l);

		if (d == NULL) {
			heur_free(h);
			return fail(err, cfg, "heuristics.trusted_domains", *l,
			    "is not a domain name");
		}
		g_hash_table_add(h->trusted_domains, d);
	}
	h->nets = g_array_new(FALSE, TRUE, sizeof(struct net));
	for (l = emf_cfg_strlist(cfg, "heuristics.trusted_networks"); *l;
	    l++) {
		struct net n;

		if (!parse_net(*l, &n)) {
			heur_free(h);
			return fail(err, cfg, "heuristics.trusted_networks", *l,
			    "is not an address or address/prefix");
		}
		g_array_append_val(h->nets, n);
	}
	h->vba_allow = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	for (l = emf_cfg_strlist(cfg, "heuristics.vba_allowlist"); *l; l++) {
		size_t n = strlen(*l);

		for (size_t i = 0; i < n; i++)
			if (!g_ascii_isxdigit((*l)[i]))
				n = 0;
		if (n != 64) {
			heur_free(h);
			return fail(err, cfg, "heuristics.vba_allowlist", *l,
			    "is not a SHA-256 in hex (64 digits)");
		}
		g_hash_table_add(h->vba_allow, g_ascii_strdown(*l, -1));
	}
	/* Patterns run on folded lines: NFKC (full-width colons are ':'),
	 * case-folded, one space for any white space run. */
	h->re_separator = re("^-{2,} ?(original message|forwarded message|"
	    "転送メッセージ|元のメッセージ|ursprüngliche nachricht|"
	    "weitergeleitete nachricht|messaggio originale|"
	    "messaggio inoltrato|mensaje original|mensaje reenviado|"
	    "message d'origine|message transféré|mensagem original|"
	    "mensagem encaminhada) ?-{2,}$");
	h->re_label = re("^([\\p{L}]+) ?:");
	h->re_sig_label = re("(?:^|[^\\p{L}\\p{N}])(?:e-?mail|mail|"
	    "メール(?:アドレス)?|e-?mail address|mail address) ?: ?"
	    "(?:mailto:)?<?" ADDR);
	h->re_bare_addr = re("^(?:mailto:)?[<(]?" ADDR "[>)]?$");
	h->re_addr = re(ADDR);
	h->re_host = re("(?:^|[^\\p{L}\\p{N}.@\\-])((?:[a-z0-9](?:[a-z0-9\\-]*"
	    "[a-z0-9])?\\.)+[a-z]{2,})(?![\\p{L}\\p{N}\\-])");
	h->re_reply = re("^(?:\\[[^\\]]*\\] ?)*(?:re|fw|fwd|aw|sv|wg|tr|rv|vs|"
	    "antw|返信|転送|回复|转发)(?: ?\\[\\d+\\]| ?\\(\\d+\\))? ?:");
	h->re_forward = re("^(?:\\[[^\\]]*\\] ?)*(?:fw|fwd|wg|tr|rv|転送|转发)"
	    "(?: ?\\[\\d+\\]| ?\\(\\d+\\))? ?:");
	h->re_robot = re("^(?:.*(?:subscribe|-request|-owner|listserv|"
	    "majordomo|no-?reply|donotreply|bounce)|owner-|mailer-daemon|"
	    "postmaster).*@|@(?:lists?|listserv|mailman|groups|egroups)\\.");
	*state = h;
	return true;
}

char *
emf_heur_domain(const struct emf_heur *h, const char *addr)
{
	if (addr == NULL || strchr(addr, '@') == NULL)
		return NULL;
	return emf_psl_registrable(h->psl, addr);
}

static bool
robot_address(const struct emf_heur *h, const char *addr)
{
	return g_regex_match(h->re_robot, addr, 0, NULL);
}

/* ---- body lines ------------------------------------------------------- */

struct line {
	char *text;		/* folded, quote marks removed */
	unsigned quote;		/* '>' levels */
};

static void
lines_free(GArray *a)
{
	for (guint i = 0; i < a->len; i++)
		g_free(g_array_index(a, struct line, i).text);
	g_array_free(a, TRUE);
}

/* Lines of a text already in NFKC, so "＞" quotes like ">". */
static GArray *
split_lines(const char *utf8)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct line));
	const char *p = utf8;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		struct line l = { NULL, 0 };
		const char *q = p, *end = p + n;

		while (q < end && (*q == '>' || *q == ' ' || *q == '\t' ||
		    *q == '|')) {
			if (*q == '>' || *q == '|')
				l.quote++;
			q++;
		}
		l.text = emf_fold_nfkc(q, (long)(end - q));
		g_array_append_val(a, l);
		p = nl ? nl + 1 : end;
	}
	return a;
}

static int
label_kind(const struct emf_heur *h, const char *text)
{
	GMatchInfo *mi;
	int kind = -1;

	if (g_regex_match(h->re_label, text, 0, &mi)) {
		char *w = g_match_info_fetch(mi, 1);

		for (size_t i = 0; i < G_N_ELEMENTS(header_labels); i++)
			if (strcmp(w, header_labels[i].label) == 0)
				kind = header_labels[i].kind;
		g_free(w);
	}
	g_match_info_free(mi);
	return kind;
}

#define FORWARD_SEPARATOR "a \"Forwarded message\" separator"

static bool
forward_separator(const char *t)
{
	static const char *const fwd[] = { "forward", "転送", "weitergeleitet",
		"inoltrato", "reenviado", "transféré", "encaminhada", NULL };

	for (size_t i = 0; fwd[i] != NULL; i++)
		if (strstr(t, fwd[i]) != NULL)
			return true;
	return false;
}

/*
 * Index of the first line of a quoted-header block or separator at or
 * after start, or -1. *what says which.
 */
static int
find_quoted_header(const struct emf_heur *h, GArray *lines, guint start,
    const char **what)
{
	for (guint i = start; i < lines->len; i++) {
		const struct line *l = &g_array_index(lines, struct line, i);
		int kinds = 0;

		if (g_regex_match(h->re_separator, l->text, 0, NULL)) {
			*what = forward_separator(l->text) ?
			    FORWARD_SEPARATOR : "an \"Original Message\" separator";
			return (int)i;
		}
		if (label_kind(h, l->text) != F_FROM)
			continue;
		for (guint j = i; j < lines->len && j < i + BLOCK_LINES; j++) {
			int k = label_kind(h,
			    g_array_index(lines, struct line, j).text);

			if (k > 0)
				kinds |= k;
		}
		if ((kinds & F_FROM) && __builtin_popcount((unsigned)kinds) >= 3) {
			*what = "a quoted From/Date/To/Subject block";
			/* "--- begin forwarded text", "Forwarded by ..." just
			 * above the block: a forward. */
			for (guint j = i, seen = 0; j > 0 && seen < 3; j--) {
				const char *t = g_array_index(lines,
				    struct line, j - 1).text;

				if (*t == '\0')
					continue;
				seen++;
				if (forward_separator(t))
					*what = FORWARD_SEPARATOR;
			}
			return (int)i;
		}
	}
	return -1;
}

/* The first line that is not the author's own: quoted history or a
 * separator (long underscore rules end Outlook replies and list footers). */
static guint
author_end(const struct emf_heur *h, GArray *lines)
{
	const char *what;
	int q = find_quoted_header(h, lines, 0, &what);
	guint end = q >= 0 ? (guint)q : lines->len;

	for (guint i = 0; i < end; i++) {
		const struct line *l = &g_array_index(lines, struct line, i);

		if (l->quote > 0 || g_str_has_prefix(l->text,
		    "____________________"))
			return i;
	}
	return end;
}

/* An address's domain differs from from_domain (robots excluded). */
static char *
foreign_address(const struct emf_heur *h, const char *addr,
    const char *from_domain)
{
	char *d;

	if (robot_address(h, addr))
		return NULL;
	d = emf_heur_domain(h, addr);
	if (d != NULL && strcmp(d, from_domain) != 0) {
		g_free(d);
		return g_strdup(addr);
	}
	g_free(d);
	return NULL;
}

static char *
signature_mismatch(const struct emf_heur *h, GArray *lines,
    const char *from_domain)
{
	guint end = author_end(h, lines);
	unsigned tail = 0;
	char *found = NULL;

	/* Labelled addresses anywhere in the author's part. */
	for (guint i = 0; i < end && found == NULL; i++) {
		const char *t = g_array_index(lines, struct line, i).text;
		GMatchInfo *mi;

		g_regex_match(h->re_sig_label, t, 0, &mi);
		while (found == NULL && g_match_info_matches(mi)) {
			char *a = g_match_info_fetch(mi, 1);

			found = foreign_address(h, a, from_domain);
			g_free(a);
			g_match_info_next(mi, NULL);
		}
		g_match_info_free(mi);
	}
	/* A bare address on a line of its own near the end. */
	for (guint i = end; i > 0 && found == NULL && tail < SIG_TAIL_LINES;
	    i--) {
		const char *t = g_array_index(lines, struct line, i - 1).text;
		GMatchInfo *mi;

		if (*t == '\0')
			continue;
		tail++;
		if (g_regex_match(h->re_bare_addr, t, 0, &mi)) {
			char *a = g_match_info_fetch(mi, 1);

			found = foreign_address(h, a, from_domain);
			g_free(a);
		}
		g_match_info_free(mi);
	}
	return found;
}

/* Lines of any UTF-8 text (the analyser uses the scan's cached NFKC). */
static GArray *
split_raw_lines(const char *utf8)
{
	char *nfkc = emf_utf8_nfkc(utf8, strlen(utf8));
	GArray *lines = split_lines(nfkc != NULL ? nfkc : "");

	g_free(nfkc);
	return lines;
}

bool
emf_heur_quoted_header(const struct emf_heur *h, const char *utf8,
    const char **what)
{
	GArray *lines = split_raw_lines(utf8);
	const char *w = NULL;
	bool found = find_quoted_header(h, lines, 0, &w) >= 0;

	if (what)
		*what = w;
	lines_free(lines);
	return found;
}

char *
emf_heur_signature_mismatch(const struct emf_heur *h, const char *utf8,
    const char *from_domain)
{
	GArray *lines = split_raw_lines(utf8);
	char *r = signature_mismatch(h, lines, from_domain);

	lines_free(lines);
	return r;
}

/* ---- the checks --------------------------------------------------------- */

bool
emf_heur_reply_subject(const struct emf_heur *h, const char *subject)
{
	char *f = emf_fold(subject, -1);
	bool m = g_regex_match(h->re_reply, f, 0, NULL);

	g_free(f);
	return m;
}

static const char *
trusted(const struct emf_heur *h, struct emf_scan *scan,
    const char *from_domain, char *why, size_t n)
{
	const char *ip = scan->env.client_ip;

	if (scan->env.auth_user != NULL && *scan->env.auth_user != '\0' &&
	    emf_cfg_bool(scan->cfg, "heuristics.trust_authenticated")) {
		g_snprintf(why, n, "authenticated as %s", scan->env.auth_user);
		return why;
	}
	for (guint i = 0; ip != NULL && i < h->nets->len; i++) {
		if (net_contains(&g_array_index(h->nets, struct net, i), ip)) {
			g_snprintf(why, n, "client %s in a trusted network", ip);
			return why;
		}
	}
	if (from_domain != NULL &&
	    g_hash_table_contains(h->trusted_domains, from_domain)) {
		g_snprintf(why, n, "From domain %s is trusted", from_domain);
		return why;
	}
	return NULL;
}

/* The envelope sender: MAIL FROM when known, else Return-Path. */
static const char *
envelope_sender(const struct emf_scan *scan)
{
	if (scan->env.sender != NULL)
		return scan->env.sender;
	return scan->msg.return_path;
}

/*
 * Delivery reports quote the failed message's headers and end with the
 * failed address: they would read as forged replies with a foreign
 * signature. Emotet sends none, so they are left out of those checks.
 */
static bool
bounce(const struct emf_scan *scan)
{
	static const char *const robots[] = { "mailer-daemon@", "postmaster@",
		"mail-daemon@", "mailerdaemon@", NULL };
	static const char *const names[] = { "mail delivery", "mailer-daemon",
		"postmaster", "content-filter", NULL };
	static const char *const subjects[] = { "undeliver", "delivery status",
		"returned mail", "failure notice", "delivery failure",
		"delivery failed", "delivery has failed", "non-delivery",
		"nondeliver", "not delivered", "delivery notification",
		"could not be delivered", "mail delivery", "配信不能",
		"配送エラー", "配信エラー", "不達", NULL };
	const char *s = envelope_sender(scan);
	const struct emf_msginfo *m = &scan->msg;
	bool b = s != NULL && *s == '\0';
	char *f;

	for (size_t i = 0; !b && m->from_addr && robots[i]; i++)
		b = g_ascii_strncasecmp(m->from_addr, robots[i],
		    strlen(robots[i])) == 0;
	if (!b && m->from_name != NULL) {
		f = emf_fold(m->from_name, -1);
		for (size_t i = 0; !b && names[i]; i++)
			b = strstr(f, names[i]) != NULL;
		g_free(f);
	}
	if (!b && m->subject != NULL) {
		f = emf_fold(m->subject, -1);
		for (size_t i = 0; !b && subjects[i]; i++)
			b = strstr(f, subjects[i]) != NULL;
		g_free(f);
	}
	return b;
}

/*
 * Bare domains in a display name are taken only under country codes and
 * the classic generic TLDs: with hundreds of new gTLDs, "Craig R.Hughes"
 * would otherwise name the domain r.hughes.
 */
static bool
common_tld(const char *host)
{
	static const char *const gtld[] = { "com", "net", "org", "info", "biz",
		"edu", "gov", "mil", "int", NULL };
	const char *dot = strrchr(host, '.');
	const char *tld = dot ? dot + 1 : host;

	if (strlen(tld) == 2)
		return true;
	for (size_t i = 0; gtld[i] != NULL; i++)
		if (strcmp(tld, gtld[i]) == 0)
			return true;
	return false;
}

static void
check_display_name(const struct emf_heur *h, struct emf_scan *scan,
    const char *from_domain)
{
	char *name;
	GMatchInfo *mi;
	bool done = false;

	if (scan->msg.from_name == NULL)
		return;
	name = emf_fold(scan->msg.from_name, -1);
	/* An address in the name ("tanaka@abc.co.jp" <x@host.example>). */
	g_regex_match(h->re_addr, name, 0, &mi);
	while (!done && g_match_info_matches(mi)) {
		char *a = g_match_info_fetch(mi, 1);
		char *d = emf_heur_domain(h, a);

		if (d != NULL && strcmp(d, from_domain) != 0) {
			emf_symbol(scan, "DISPLAY_NAME_SPOOF", NULL,
			    "display name holds %s, From is @%s", a,
			    from_domain);
			done = true;
		}
		g_free(d);
		g_free(a);
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	if (done || strchr(name, '@') != NULL) {
		g_free(name);
		return;
	}
	/* A domain in the name ("abc.co.jp 営業部" <x@host.example>). */
	g_regex_match(h->re_host, name, 0, &mi);
	while (!done && g_match_info_matches(mi)) {
		char *host = g_match_info_fetch(mi, 1);

		if (common_tld(host) && emf_psl_known_tld(h->psl, host)) {
			char *d = emf_psl_registrable(h->psl, host);

			if (d != NULL && strcmp(d, from_domain) != 0 &&
			    strchr(d, '.') != NULL) {
				emf_symbol(scan, "DISPLAY_NAME_SPOOF", NULL,
				    "display name names %s, From is @%s", host,
				    from_domain);
				done = true;
			}
			g_free(d);
		}
		g_free(host);
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	g_free(name);
}

/* Body texts of the mail itself, not of attached messages. */
static bool
own_body(const struct emf_text *t)
{
	return (t->kind == EMF_TEXT_BODY || t->kind == EMF_TEXT_HTML) &&
	    t->obj != NULL && t->obj->parent == NULL && t->obj->depth == 0;
}

static void
check_bodies(const struct emf_heur *h, struct emf_scan *scan,
    const char *from_domain, bool known_thread)
{
	const char *subj = scan->msg.subject;
	char *fsubj = subj ? emf_fold(subj, -1) : NULL;
	/* A forward quotes headers and has no thread headers by nature
	 * (Outlook sets none); the forged history of Emotet poses as a
	 * reply. Forwards are left to REPLY_WITHOUT_THREAD. */
	bool forward = fsubj != NULL &&
	    g_regex_match(h->re_forward, fsubj, 0, NULL);
	bool is_bounce = bounce(scan);
	bool fake = scan->msg.has_thread_headers ||
	    scan->msg.has_thread_index || is_bounce || forward ||
	    known_thread;
	bool sig = from_domain == NULL || is_bounce;

	for (guint i = 0; i < scan->texts->len && !(fake && sig); i++) {
		struct emf_text *t = g_ptr_array_index(scan->texts, i);
		GArray *lines;
		const char *what = NULL;
		size_t n;

		if (!own_body(t))
			continue;
		lines = split_lines(emf_text_nfkc(t, &n));
		if (!fake && find_quoted_header(h, lines, 0, &what) >= 0 &&
		    strcmp(what, FORWARD_SEPARATOR) != 0) {
			emf_symbol(scan, "FAKE_ORIGINAL_MESSAGE", t->obj,
			    "the body carries %s but the mail has no "
			    "In-Reply-To/References", what);
			fake = true;
		}
		if (!sig) {
			char *a = signature_mismatch(h, lines, from_domain);

			if (a != NULL) {
				emf_symbol(scan, "SIGNATURE_DOMAIN_MISMATCH",
				    t->obj, "signature address %s, From is @%s",
				    a, from_domain);
				sig = true;
				g_free(a);
			}
		}
		lines_free(lines);
	}
	g_free(fsubj);
}

/*
 * The correspondence memory (emf_scan_opts.memory), asked about a reply
 * or a mail with thread headers only: whether we wrote to its sender, and
 * whether its thread or subject is one of ours.
 */
static bool
ask_memory(struct emf_scan *scan, bool reply, struct emf_memory_answer *a)
{
	const struct emf_msginfo *m = &scan->msg;
	struct emf_memory_query q = { 0 };
	GPtrArray *ours;
	char *refs, *party;
	bool ok;

	memset(a, 0, sizeof(*a));
	if (scan->memory == NULL || m->from_addr == NULL ||
	    (!reply && !m->has_thread_headers))
		return false;
	party = g_ascii_strdown(m->from_addr, -1);
	refs = g_strjoin(" ", m->in_reply_to ? m->in_reply_to : "",
	    m->references ? m->references : "", NULL);
	ours = g_ptr_array_new();
	for (guint i = 0; i < scan->env.rcpts->len; i++)
		g_ptr_array_add(ours, g_ptr_array_index(scan->env.rcpts, i));
	g_ptr_array_add(ours, NULL);
	q.party = party;
	q.refs = refs;
	q.subject = m->subject;
	q.ours = (const char *const *)ours->pdata;
	ok = scan->memory->lookup(scan->memory->ctx, &q, a);
	g_ptr_array_free(ours, TRUE);
	g_free(refs);
	g_free(party);
	return ok;
}

/* A genuine thread: its references name a mail we sent its sender, or
 * (no thread headers) we sent its sender this subject; never when the
 * envelope sender is of another domain (a forged From). */
static bool
thread_known(struct emf_scan *scan, const struct emf_memory_answer *a)
{
	if (!a->thread_to_party && !(a->subject_to_party &&
	    !scan->msg.has_thread_headers))
		return false;
	if (emf_scan_has_symbol(scan, "FROM_ENVELOPE_MISMATCH"))
		return false;
	if (a->thread_to_party)
		emf_symbol(scan, "KNOWN_THREAD", NULL,
		    "it answers <%s>, which we sent %s %ld day(s) ago", a->mid,
		    scan->msg.from_addr, a->age_days);
	else
		emf_symbol(scan, "KNOWN_THREAD", NULL,
		    "we sent %s mail with this subject %ld day(s) ago",
		    scan->msg.from_addr, a->age_days);
	return true;
}

void
emf_heuristics_run(struct emf_scan *scan)
{
	const struct emf_heur *h = scan->engine->mod[EMF_MOD_HEURISTICS];
	const struct emf_msginfo *m = &scan->msg;
	struct emf_memory_answer ma;
	char *from_domain, *d;
	char why[256];
	const char *env;
	bool reply, asked, known, clears;

	if (h == NULL || !emf_cfg_bool(scan->cfg, "heuristics.enabled"))
		return;
	from_domain = emf_heur_domain(h, m->from_addr);
	if (trusted(h, scan, from_domain, why, sizeof(why)) != NULL) {
		emf_symbol(scan, "TRUSTED_SENDER", NULL, "%s", why);
		g_free(from_domain);
		return;
	}
	env = envelope_sender(scan);
	if (from_domain != NULL && env != NULL && *env != '\0' &&
	    (d = emf_heur_domain(h, env)) != NULL) {
		if (strcmp(d, from_domain) != 0)
			emf_symbol(scan, "FROM_ENVELOPE_MISMATCH", NULL,
			    "From @%s, envelope sender @%s", from_domain, d);
		g_free(d);
	}
	if (from_domain != NULL && m->reply_to_addr != NULL &&
	    (d = emf_heur_domain(h, m->reply_to_addr)) != NULL) {
		if (strcmp(d, from_domain) != 0)
			emf_symbol(scan, "REPLY_TO_MISMATCH", NULL,
			    "From @%s, Reply-To @%s", from_domain, d);
		g_free(d);
	}
	if (from_domain != NULL)
		check_display_name(h, scan, from_domain);
	reply = m->subject != NULL && emf_heur_reply_subject(h, m->subject);
	asked = ask_memory(scan, reply, &ma);
	known = asked && thread_known(scan, &ma);
	clears = known &&
	    emf_cfg_bool(scan->cfg, "state.memory.known_thread_clears");
	if (!m->has_thread_headers && !m->has_thread_index && reply &&
	    !clears)
		emf_symbol(scan, "REPLY_WITHOUT_THREAD", NULL,
		    "subject \"%s\" but no In-Reply-To/References",
		    m->subject);
	check_bodies(h, scan, from_domain, clears);
	if (asked && reply && !ma.known_party &&
	    emf_scan_has_symbol(scan, "FAKE_ORIGINAL_MESSAGE"))
		emf_symbol(scan, "REPLY_UNKNOWN_CORRESPONDENT", NULL,
		    "a reply with a forged quoted block from %s, to whom we "
		    "never wrote", m->from_addr ? m->from_addr : "?");
	g_free(from_domain);
}

/* ---- VBA allowlist -------------------------------------------------------- */

static const char *const macro_symbols[] = {
	"OFFICE_MACRO", "MACRO_AUTOEXEC", "MACRO_SUSPICIOUS", "MACRO_URL",
	NULL
};

static void
drop_for_object(struct emf_scan *scan, const struct emf_object *o)
{
	GPtrArray *yara = g_ptr_array_new_with_free_func(g_free);
	unsigned n = 0;

	for (size_t i = 0; macro_symbols[i] != NULL; i++)
		n += emf_symbol_drop(scan, macro_symbols[i], o->path);
	/* Copy the names first: dropping may remove symbols. */
	for (guint i = 0; i < scan->symbols->len; i++) {
		const struct emf_symbol *s = g_ptr_array_index(scan->symbols, i);

		if (g_str_has_prefix(s->name, "YARA_"))
			g_ptr_array_add(yara, g_strdup(s->name));
	}
	for (guint i = 0; i < yara->len; i++)
		n += emf_symbol_drop(scan, g_ptr_array_index(yara, i), o->path);
	g_ptr_array_free(yara, TRUE);
	emf_symbol(scan, "MACRO_ALLOWLISTED", o,
	    "VBA project %s is allowlisted (%u macro finding%s dropped)",
	    o->vba_sha256, n, n == 1 ? "" : "s");
}

void
emf_heuristics_vba_allowlist(struct emf_scan *scan)
{
	const struct emf_heur *h = scan->engine->mod[EMF_MOD_HEURISTICS];
	GPtrArray *stack;

	if (h == NULL || g_hash_table_size(h->vba_allow) == 0)
		return;
	/* Iterative walk: object trees are as deep as the limits allow. */
	stack = g_ptr_array_new();
	for (guint i = 0; i < scan->roots->len; i++)
		g_ptr_array_add(stack, g_ptr_array_index(scan->roots, i));
	while (stack->len > 0) {
		struct emf_object *o = g_ptr_array_steal_index(stack,
		    stack->len - 1);

		if (o->vba_sha256 != NULL) {
			char *low = g_ascii_strdown(o->vba_sha256, -1);

			if (g_hash_table_contains(h->vba_allow, low))
				drop_for_object(scan, o);
			g_free(low);
		}
		for (guint i = 0; o->children && i < o->children->len; i++)
			g_ptr_array_add(stack, g_ptr_array_index(o->children,
			    i));
	}
	g_ptr_array_free(stack, TRUE);
}
