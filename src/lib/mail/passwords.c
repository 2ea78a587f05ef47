/*
 * passwords.c - harvest archive password candidates from the mail's texts
 * (see passwords.h for the passes and their order).
 */
#include "config.h"

#include <string.h>

#include "core/cfg.h"
#include "core/modules.h"
#include "core/charset.h"
#include "passwords.h"

/* Bare tokens kept per message, and neighbour names looked for. */
#define BARE_MAX 8
#define NAMES_MAX 16
/* Matches taken per pattern per text: a hostile body cannot flood us. */
#define MATCHES_MAX 64
/* Shortest candidate: "is", "a" and "be" are prose, not passwords. */
#define CAND_MIN 3
/* Lines of a notice looked at (emf_passwords_notice()). */
#define NOTICE_LINES_MAX 400

struct emf_pwrules {
	GPtrArray *re;		/* GRegex * */
	GRegex *digits;		/* labelled digit-only passwords */
	size_t bare_body_bytes;
};

/*
 * A digit-only password after an explicit label: "The password for the
 * file is: 345", "ZIP password - 1234", "password 2022", a table cell
 * "パスワードは" followed by "0235". The admin's patterns want a ":" or
 * "is" and a token; here the separator may be any run of blanks and
 * punctuation (a cell boundary is a line break) but the value must be 3
 * to 16 digits standing alone: not part of a date, a phone or an order
 * number or a host name ("2022/03/10", "03-5211-4830", "12.5",
 * "12345-A", "0000.PROD.OUTLOOK.COM" are refused by the look-ahead).
 * Over NFKC text, so full-width forms qualify. Digits that are not
 * labelled are never taken (pass_bare wants letters with digits).
 */
static const char DIGITS_RE[] =
    "(?i)(?:(?<![[:alpha:]])(?:zip[[:space:]]*)?"
    "(?:password|passwd|passcode|pass|pwd|pw)(?![[:alpha:]])"
    "(?:[[:space:]]+(?:for|to|of)[[:space:]][^:\\n]{0,60}?"
    "[[:space:]]is(?![[:alpha:]]))?"
    "|パスワード|暗証番号|解凍キー|解凍コード|解凍用キー)"
    "(?:[[:space:]]+is(?![[:alpha:]]))?"
    "(?:[[:space:]:=\\-–—→⇒|]|は|「|『|【|】|』|」|（|）"
    "|\\(|\\)|\\[|\\]){1,16}"
    "(?<![0-9])([0-9]{3,16})(?![0-9A-Za-z_]|[-/.:@][0-9A-Za-z])";

/* ---- compiled patterns --------------------------------------------------- */

void
emf_pwrules_free(struct emf_pwrules *r)
{
	if (r == NULL)
		return;
	g_ptr_array_free(r->re, TRUE);
	if (r->digits != NULL)
		g_regex_unref(r->digits);
	g_free(r);
}

struct emf_pwrules *
emf_pwrules_new(const char *const *patterns, size_t bare_body_bytes,
    struct emf_error *err)
{
	struct emf_pwrules *r = g_new0(struct emf_pwrules, 1);

	r->re = g_ptr_array_new_with_free_func((GDestroyNotify)g_regex_unref);
	r->bare_body_bytes = bare_body_bytes;
	r->digits = g_regex_new(DIGITS_RE, G_REGEX_OPTIMIZE, 0, NULL);
	if (r->digits == NULL)	/* cannot happen: a constant */
		g_error("passwords: the labelled-digits pattern does not compile");
	for (size_t i = 0; patterns != NULL && patterns[i] != NULL; i++) {
		GError *ge = NULL;
		GRegex *re = g_regex_new(patterns[i], G_REGEX_OPTIMIZE, 0,
		    &ge);

		if (re == NULL) {
			g_snprintf(err->msg, sizeof(err->msg),
			    "passwords.patterns: pattern %zu does not compile: "
			    "%s", i + 1, ge->message);
			g_error_free(ge);
			emf_pwrules_free(r);
			return NULL;
		}
		if (g_regex_get_capture_count(re) < 1) {
			g_snprintf(err->msg, sizeof(err->msg),
			    "passwords.patterns: pattern %zu has no capture "
			    "group (group 1 must hold the password)", i + 1);
			g_regex_unref(re);
			emf_pwrules_free(r);
			return NULL;
		}
		g_ptr_array_add(r->re, re);
	}
	return r;
}

bool
emf_passwords_init(struct emf_engine *engine, void **state,
    struct emf_error *err)
{
	const struct emf_cfg *cfg = engine->cfg;

	*state = emf_pwrules_new(emf_cfg_strlist(cfg, "passwords.patterns"),
	    (size_t)emf_cfg_int(cfg, "passwords.bare_token_body_bytes"), err);
	return *state != NULL;
}

void
emf_passwords_fini(void *state)
{
	emf_pwrules_free(state);
}

/* ---- cleaning ------------------------------------------------------------ */

static const char *const OPENERS[] = {
	"\"", "'", "`", "(", "[", "{", "<", "“", "‘", "「", "『", "【", "《",
	"〈", "（", NULL
};
static const char *const CLOSERS[] = {
	"\"", "'", "`", ")", "]", "}", ">", "”", "’", "」", "』", "】", "》",
	"〉", "）", ".", ",", ";", ":", "!", "?", "。", "、", "，", "．", "！",
	"？", NULL
};

/*
 * Words that follow "password is" or "パスワード:" in ordinary prose; taken
 * as candidates they only burn tries.
 */
static const char *const PROSE[] = {
	"below", "above", "following", "the", "same", "your", "not", "required",
	"sent", "attached", "separately", "included", "provided", "protected",
	"set", "invalid", "incorrect", "changed", "reset", "expired", "will",
	"has", "was", "and", "for", "you", "zip", "file", "here", "as",
	"see", "please", "pls", "http", "https", "mailto", NULL
};

static size_t
strip_prefix(const char *s, size_t len, const char *const *set)
{
	for (size_t i = 0; set[i] != NULL; i++) {
		size_t n = strlen(set[i]);

		if (n <= len && memcmp(s, set[i], n) == 0)
			return n;
	}
	return 0;
}

static size_t
strip_suffix(const char *s, size_t len, const char *const *set)
{
	for (size_t i = 0; set[i] != NULL; i++) {
		size_t n = strlen(set[i]);

		if (n <= len && memcmp(s + len - n, set[i], n) == 0)
			return n;
	}
	return 0;
}

/* Count of c in s[0..len). */
static size_t
count_char(const char *s, size_t len, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

/*
 * A closing bracket that has its opener inside the token is part of the
 * password ("ab(c)"), one without is prose around it ("(abc)" seen from
 * the inside, "abc)").
 */
static bool
closer_balanced(const char *s, size_t len, size_t n)
{
	static const char pairs[][2] = { { '(', ')' }, { '[', ']' },
		{ '{', '}' }, { '<', '>' } };

	if (n != 1)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++)
		if (s[len - 1] == pairs[i][1])
			return count_char(s, len, pairs[i][0]) >=
			    count_char(s, len, pairs[i][1]);
	return false;
}

char *
emf_password_clean(const char *raw, size_t len)
{
	const char *s = raw;
	size_t n;
	bool changed = true;
	char *out, *lower;

	while (changed) {
		changed = false;
		while (len > 0 && g_ascii_isspace(*s)) {
			s++;
			len--;
			changed = true;
		}
		while (len > 0 && g_ascii_isspace(s[len - 1])) {
			len--;
			changed = true;
		}
		if ((n = strip_prefix(s, len, OPENERS)) > 0) {
			s += n;
			len -= n;
			changed = true;
		}
		if ((n = strip_suffix(s, len, CLOSERS)) > 0 &&
		    !closer_balanced(s, len, n)) {
			len -= n;
			changed = true;
		}
	}
	if (len < CAND_MIN || !g_utf8_validate(s, (gssize)len, NULL))
		return NULL;
	out = g_strndup(s, len);
	if (strstr(out, "://") != NULL || g_str_has_prefix(out, "www.")) {
		g_free(out);
		return NULL;
	}
	lower = g_ascii_strdown(out, -1);
	for (size_t i = 0; PROSE[i] != NULL; i++) {
		if (strcmp(lower, PROSE[i]) == 0) {
			g_free(lower);
			g_free(out);
			return NULL;
		}
	}
	g_free(lower);
	return out;
}

bool
emf_password_like(const char *t)
{
	size_t len = strlen(t);
	bool lower = false, upper = false, digit = false, punct = false;

	if (len < 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x21 || c > 0x7e)
			return false;
		if (g_ascii_islower(c))
			lower = true;
		else if (g_ascii_isupper(c))
			upper = true;
		else if (g_ascii_isdigit(c))
			digit = true;
		else
			punct = true;
	}
	/* Mail addresses and host names are not passwords. */
	if (strchr(t, '@') != NULL && strchr(strchr(t, '@'), '.') != NULL)
		return false;
	/*
	 * Letters with digits ("L51ylaH", "pass2024"), or three classes: a
	 * capitalised word or a date ("2020/09/01") does not qualify.
	 */
	return ((lower || upper) && digit) ||
	    (lower + upper + digit + punct) >= 3;
}

/* ---- extraction ---------------------------------------------------------- */

void
emf_pwcand_free(gpointer p)
{
	struct emf_pwcand *c = p;

	if (c == NULL)
		return;
	g_free(c->value);
	g_free(c);
}

static bool
cand_present(const GPtrArray *out, const char *v)
{
	for (guint i = 0; i < out->len; i++) {
		const struct emf_pwcand *c = g_ptr_array_index(out, i);

		if (strcmp(c->value, v) == 0)
			return true;
	}
	return false;
}

/* Line number of offset off, counted on from *pos and *line. */
static unsigned
line_at(const char *s, size_t off, size_t *pos, unsigned *line)
{
	if (off < *pos) {
		*pos = 0;
		*line = 1;
	}
	for (; *pos < off; (*pos)++)
		if (s[*pos] == '\n')
			(*line)++;
	return *line;
}

static bool
take(GPtrArray *out, const char *raw, size_t len, unsigned line,
    enum emf_pwhow how, int pattern, size_t maxlen, bool need_like)
{
	char *v = emf_password_clean(raw, len);
	struct emf_pwcand *c;

	if (v == NULL || strlen(v) > maxlen || cand_present(out, v) ||
	    (need_like && !emf_password_like(v))) {
		g_free(v);
		return false;
	}
	c = g_new0(struct emf_pwcand, 1);
	c->value = v;
	c->line = line;
	c->how = how;
	c->pattern = pattern;
	g_ptr_array_add(out, c);
	return true;
}

static size_t
pass_labelled(const struct emf_pwrules *r, const char *s, size_t len,
    size_t maxlen, size_t max, GPtrArray *out)
{
	size_t added = 0;

	for (guint k = 0; k < r->re->len && added < max; k++) {
		GMatchInfo *mi = NULL;
		size_t pos = 0;
		unsigned line = 1, nmatch = 0;

		g_regex_match_full(g_ptr_array_index(r->re, k), s,
		    (gssize)len, 0, 0, &mi, NULL);
		while (g_match_info_matches(mi) && added < max &&
		    nmatch++ < MATCHES_MAX) {
			int a, b;

			if (g_match_info_fetch_pos(mi, 1, &a, &b) && a >= 0 &&
			    b > a && take(out, s + a, (size_t)(b - a),
			    line_at(s, (size_t)a, &pos, &line), EMF_PW_LABELLED,
			    (int)k, maxlen, false))
				added++;
			if (!g_match_info_next(mi, NULL))
				break;
		}
		g_match_info_free(mi);
	}
	return added;
}

/* Digit-only values after a label (DIGITS_RE), after the patterns'. */
static size_t
pass_digits(const struct emf_pwrules *r, const char *s, size_t len,
    size_t maxlen, size_t max, GPtrArray *out)
{
	GMatchInfo *mi = NULL;
	size_t added = 0, pos = 0;
	unsigned line = 1, nmatch = 0;

	g_regex_match_full(r->digits, s, (gssize)len, 0, 0, &mi, NULL);
	while (g_match_info_matches(mi) && added < max &&
	    nmatch++ < MATCHES_MAX) {
		int a, b;

		if (g_match_info_fetch_pos(mi, 1, &a, &b) && a >= 0 &&
		    b > a && take(out, s + a, (size_t)(b - a),
		    line_at(s, (size_t)a, &pos, &line),
		    EMF_PW_LABELLED_DIGITS, -1, maxlen, false))
			added++;
		if (!g_match_info_next(mi, NULL))
			break;
	}
	g_match_info_free(mi);
	return added;
}

/* Separators between a name and its password: "x.zip: pw", "x.zip → pw". */
static const char *const NEIGHBOUR_SEPS[] = {
	":", "=", "-", "→", "⇒", "の", "は", "|", NULL
};

static size_t
pass_neighbour(const char *s, size_t len, const char *const *names,
    size_t maxlen, size_t max, GPtrArray *out)
{
	size_t added = 0;

	for (size_t k = 0; names[k] != NULL && k < NAMES_MAX && added < max;
	    k++) {
		size_t nl = strlen(names[k]);
		const char *p = s, *end = s + len;
		unsigned hits = 0;

		if (nl < 3)
			continue;
		while (added < max && hits++ < 4 &&
		    (p = g_strstr_len(p, end - p, names[k])) != NULL) {
			const char *q = p + nl, *t;
			size_t n;

			p = q;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if ((n = strip_prefix(q, (size_t)(end - q),
			    NEIGHBOUR_SEPS)) == 0)
				continue;
			q += n;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			for (t = q; t < end && (unsigned char)*t > 0x20 &&
			    (unsigned char)*t < 0x7f; t++)
				;
			if (t > q) {
				size_t pos = 0;
				unsigned line = 1;

				if (take(out, q, (size_t)(t - q),
				    line_at(s, (size_t)(q - s), &pos, &line),
				    EMF_PW_NEIGHBOUR, -1, maxlen, true))
					added++;
			}
		}
	}
	return added;
}

/*
 * A token "PW:L51ylaH" or "pass=X" is a label glued to its value: the
 * value is the candidate (the labelled pass has it already, usually),
 * not the whole token. A URL scheme is no label.
 */
static const char *
after_glued_label(const char *t, size_t *n)
{
	size_t k = 0;

	while (k < *n && k <= 16 && g_ascii_isalpha(t[k]))
		k++;
	if (k == 0 || k > 16 || k + 1 >= *n || (t[k] != ':' && t[k] != '=') ||
	    t[k + 1] == '/')
		return t;
	*n -= k + 1;
	return t + k + 1;
}

static size_t
pass_bare(const char *s, size_t len, size_t maxlen, size_t max,
    GPtrArray *out)
{
	size_t added = 0, i = 0;
	unsigned line = 1;

	while (i < len && added < max) {
		const char *t;
		size_t j, n;

		if (s[i] == '\n')
			line++;
		if (g_ascii_isspace(s[i]) || (unsigned char)s[i] >= 0x80) {
			i++;
			continue;
		}
		/* An ASCII run between blanks or non-ASCII text. */
		for (j = i; j < len && !g_ascii_isspace(s[j]) &&
		    (unsigned char)s[j] < 0x80; j++)
			;
		n = j - i;
		t = after_glued_label(s + i, &n);
		if (take(out, t, n, line, EMF_PW_BARE, -1, maxlen, true))
			added++;
		i = j;
	}
	return added;
}

size_t
emf_passwords_extract(const struct emf_pwrules *r, const char *utf8,
    size_t len, const char *const *names, bool bare, size_t maxlen,
    size_t max, GPtrArray *out)
{
	char *s;
	size_t added;

	if (utf8 == NULL || len == 0)
		return 0;
	s = emf_utf8_nfkc(utf8, len);
	if (s == NULL)
		return 0;
	added = emf_passwords_extract_nfkc(r, s, strlen(s), names, bare,
	    maxlen, max, out);
	g_free(s);
	return added;
}

size_t
emf_passwords_extract_nfkc(const struct emf_pwrules *r, const char *s,
    size_t slen, const char *const *names, bool bare, size_t maxlen,
    size_t max, GPtrArray *out)
{
	size_t added = 0;

	added += pass_labelled(r, s, slen, maxlen, max, out);
	if (added < max)
		added += pass_digits(r, s, slen, maxlen, max - added, out);
	if (names != NULL && added < max)
		added += pass_neighbour(s, slen, names, maxlen, max - added,
		    out);
	if (bare && added < max && r->bare_body_bytes > 0 &&
	    slen <= r->bare_body_bytes)
		added += pass_bare(s, slen, maxlen,
		    MIN(max - added, (size_t)BARE_MAX), out);
	return added;
}

/* ---- the analyser ---------------------------------------------------------- */

static const char *
kind_name(enum emf_text_kind k)
{
	switch (k) {
	case EMF_TEXT_SUBJECT: return "subject";
	case EMF_TEXT_BODY: return "body";
	case EMF_TEXT_HTML: return "html body";
	default: return "text";
	}
}

static char *
source_of(const struct emf_text *t, const struct emf_pwcand *c)
{
	const char *how = c->how == EMF_PW_LABELLED ? "labelled" :
	    c->how == EMF_PW_LABELLED_DIGITS ? "labelled digits" :
	    c->how == EMF_PW_NEIGHBOUR ? "next to an attachment name" :
	    "bare token of a short body";
	GString *s = g_string_new(kind_name(t->kind));

	if (t->obj != NULL)
		g_string_append_printf(s, " %s", t->obj->path);
	if (t->kind != EMF_TEXT_SUBJECT)
		g_string_append_printf(s, " line %u", c->line);
	g_string_append_printf(s, " (%s", how);
	if (c->pattern >= 0)
		g_string_append_printf(s, ", pattern %d", c->pattern + 1);
	g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

/* The attachment names of the mail, NFKC-normalised, for the neighbours. */
static char **
attachment_names(const struct emf_scan *scan)
{
	GPtrArray *a = g_ptr_array_new();

	for (guint i = 0; i < scan->roots->len && a->len < NAMES_MAX; i++) {
		const struct emf_object *o = g_ptr_array_index(scan->roots, i);
		char *n;

		if (o->name == NULL || *o->name == '\0')
			continue;
		n = g_utf8_normalize(o->name, -1, G_NORMALIZE_NFKC);
		if (n != NULL)
			g_ptr_array_add(a, n);
	}
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

static bool
harvested_kind(enum emf_text_kind k)
{
	return k == EMF_TEXT_SUBJECT || k == EMF_TEXT_BODY ||
	    k == EMF_TEXT_HTML;
}

void
emf_passwords_harvest(struct emf_scan *scan)
{
	const struct emf_pwrules *r = scan->engine->mod[EMF_MOD_PASSWORDS];
	const struct emf_limits *l = scan->limits;
	char **names;

	if (r == NULL || l->password_candidates == 0)
		return;
	names = attachment_names(scan);
	/*
	 * One pass kind at a time over every text, so every labelled
	 * candidate is tried before any guess. The per-text bound is one
	 * more than the message's, so that emf_password_add() sees the
	 * overflow and records the limit.
	 */
	for (int pass = 0; pass < 3; pass++) {
		for (guint i = 0; i < scan->texts->len; i++) {
			struct emf_text *t = g_ptr_array_index(scan->texts, i);
			const char *s;
			size_t slen;
			GPtrArray *out;

			if (!harvested_kind(t->kind))
				continue;
			if (pass > 0 && t->kind == EMF_TEXT_SUBJECT)
				continue;
			out = g_ptr_array_new_with_free_func(emf_pwcand_free);
			s = emf_text_nfkc(t, &slen);
			if (pass == 0)
				emf_passwords_extract_nfkc(r, s, slen, NULL,
				    false, l->password_length,
				    l->password_candidates + 1, out);
			else
				emf_passwords_extract_nfkc(r, s, slen,
				    pass == 1 ? (const char *const *)names :
				    NULL, pass == 2, l->password_length,
				    l->password_candidates + 1, out);
			for (guint k = 0; k < out->len; k++) {
				const struct emf_pwcand *c =
				    g_ptr_array_index(out, k);
				char *src;

				/* Pass 1 and 2 repeat the labelled ones. */
				if ((pass == 1 && c->how != EMF_PW_NEIGHBOUR) ||
				    (pass == 2 && c->how != EMF_PW_BARE))
					continue;
				src = source_of(t, c);
				emf_password_add(scan, c->value, src);
				g_free(src);
			}
			g_ptr_array_free(out, TRUE);
		}
	}
	g_strfreev(names);
}

/* ---- gateway notices (a mail that follows a held one) ------------------- */

/*
 * Labels of a notice line, NFKC, ASCII in lower case. The longer forms
 * first: the first label found on a line is the one used.
 */
static const char *const NOTICE_LABELS[] = {
	"パスワード通知", "password for the attached file", "解凍パスワード",
	"パスワード", "暗証番号", "解凍キー", "password", "passwd", "pwd",
	"pw", NULL
};

/* Between a label and its value: "】", ":", "は"... */
static const char *const NOTICE_SEPS[] = {
	"】", "]", "」", "』", ")", ":", "=", "は", "→", "⇒", "-", "|", NULL
};

/* A printable-ASCII token, no blanks, of a sane length. */
static bool
notice_token_ok(const char *s, size_t len, size_t maxlen)
{
	if (len < CAND_MIN || len > maxlen)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/*
 * Take a token whole: only blanks and the brackets of the notice around
 * it go ("Sunrise4456!" keeps its "!", which emf_password_clean() cuts).
 */
static bool
take_whole(GPtrArray *out, const char *s, size_t len, unsigned line,
    enum emf_pwhow how, size_t maxlen)
{
	static const char *const open[] = { "「", "『", "【", "\"", "'", "<",
		"(", "[", NULL };
	static const char *const close[] = { "」", "』", "】", "\"", "'", ">",
		")", "]", NULL };
	struct emf_pwcand *c;
	size_t n;
	char *v;

	while (len > 0 && g_ascii_isspace(*s)) {
		s++;
		len--;
	}
	while (len > 0 && g_ascii_isspace(s[len - 1]))
		len--;
	if ((n = strip_prefix(s, len, open)) > 0) {
		s += n;
		len -= n;
		if ((n = strip_suffix(s, len, close)) > 0)
			len -= n;
	}
	if (!notice_token_ok(s, len, maxlen))
		return false;
	v = g_strndup(s, len);
	if (cand_present(out, v) || strstr(v, "://") != NULL) {
		g_free(v);
		return false;
	}
	c = g_new0(struct emf_pwcand, 1);
	c->value = v;
	c->line = line;
	c->how = how;
	c->pattern = -1;
	g_ptr_array_add(out, c);
	return true;
}

/* Where a notice label ends in line (lower-case copy), or NULL. */
static const char *
notice_label_end(const char *lower, const char *line)
{
	for (size_t i = 0; NOTICE_LABELS[i] != NULL; i++) {
		const char *p = strstr(lower, NOTICE_LABELS[i]);
		size_t n = strlen(NOTICE_LABELS[i]);

		/* An ASCII label is a word of its own ("pw", not "upward"). */
		while (p != NULL && g_ascii_isalpha(NOTICE_LABELS[i][0]) &&
		    ((p > lower && g_ascii_isalpha(p[-1])) ||
		    g_ascii_isalpha(p[n])))
			p = strstr(p + 1, NOTICE_LABELS[i]);
		if (p != NULL)
			return line + (p - lower) + n;
	}
	return NULL;
}

/* The next line after *pos that holds more than blanks. */
static bool
next_nonblank_line(const char *s, size_t len, size_t *pos, size_t *a,
    size_t *b, unsigned *line)
{
	while (*pos < len) {
		const char *nl = memchr(s + *pos, '\n', len - *pos);
		size_t end = nl ? (size_t)(nl - s) : len;
		size_t i = *pos, j = end;

		(*line)++;
		*pos = nl ? end + 1 : len;
		while (i < j && g_ascii_isspace(s[i]))
			i++;
		while (j > i && g_ascii_isspace(s[j - 1]))
			j--;
		if (j > i) {
			*a = i;
			*b = j;
			return true;
		}
	}
	return false;
}

/*
 * A token alone on its line that is a password, not a word of prose:
 * password-like also without its trailing punctuation ("Hello," and
 * "Thanks!" are not; "Sunrise4456!" is).
 */
static bool
bare_line_like(const char *t)
{
	size_t n = strlen(t);
	char *core;
	bool like;

	while (n > 0 && strchr(",.:;!?)", t[n - 1]) != NULL)
		n--;
	core = g_strndup(t, n);
	like = emf_password_like(core) && emf_password_like(t);
	g_free(core);
	return like;
}

size_t
emf_passwords_notice(const char *s, size_t len, size_t maxlen, size_t max,
    GPtrArray *out)
{
	size_t pos = 0, a, b, added = 0, bare = 0;
	unsigned line = 0, nlines = 0;

	while (added < max && nlines++ < NOTICE_LINES_MAX &&
	    next_nonblank_line(s, len, &pos, &a, &b, &line)) {
		char *l = g_strndup(s + a, b - a);
		char *lower = g_ascii_strdown(l, -1);
		const char *v = notice_label_end(lower, l), *end = l + (b - a);
		size_t n;

		if (v != NULL) {
			bool more = true;

			while (more) {
				more = false;
				while (v < end && (*v == ' ' || *v == '\t'))
					v++;
				if ((n = strip_prefix(v, (size_t)(end - v),
				    NOTICE_SEPS)) > 0) {
					v += n;
					more = true;
				}
			}
			if (v == end) {
				/* The label ends its line: the value is alone
				 * on the next one. */
				size_t save = pos, c, d;
				unsigned sl = line;

				if (next_nonblank_line(s, len, &pos, &c, &d,
				    &line) && memchr(s + c, ' ', d - c) ==
				    NULL && take_whole(out, s + c, d - c, line,
				    EMF_PW_LABELLED, maxlen))
					added++;
				pos = save;
				line = sl;
			} else {
				const char *t = v;

				while (t < end && *t != ' ' && *t != '\t')
					t++;
				if (take_whole(out, v, (size_t)(t - v), line,
				    EMF_PW_LABELLED, maxlen))
					added++;
			}
		} else if (bare < BARE_MAX && memchr(l, ' ', b - a) == NULL &&
		    memchr(l, '\t', b - a) == NULL &&
		    notice_token_ok(l, b - a, maxlen) && bare_line_like(l)) {
			/* A password-like token alone on its line. */
			if (take_whole(out, l, b - a, line, EMF_PW_BARE,
			    maxlen)) {
				added++;
				bare++;
			}
		}
		g_free(lower);
		g_free(l);
	}
	return added;
}
