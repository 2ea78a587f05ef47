/*
 * lure.c - "Enable Content" lures in the body and in document text.
 *
 * Emotet's documents open with a picture or a paragraph telling the reader
 * to press "Enable Editing" and then "Enable Content", in the victim's
 * language; the mail body often says the same. The phrases are the button
 * labels of Office in each language, so the list stays short.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "core/charset.h"
#include "core/cfg.h"
#include "core/engine.h"
#include "lure.h"
#include "core/scan.h"

/* Button labels and the usual instructions around them. */
static const char *const builtin_phrases[] = {
	/* English */
	"enable content", "enable editing", "enable macros", "enable macro",
	"enable the content", "enable the editing", "enable the macros",
	"enable active content", "enable all macros",
	/* Japanese */
	"コンテンツの有効化", "コンテンツを有効にする", "コンテンツを有効化",
	"編集を有効にする", "編集の有効化", "編集を有効化",
	"マクロを有効にする", "マクロの有効化", "マクロを有効化",
	/* German */
	"inhalt aktivieren", "bearbeitung aktivieren", "makros aktivieren",
	/* Italian */
	"abilita contenuto", "abilita modifica", "abilitare il contenuto",
	"abilitare la modifica", "abilita macro",
	/* Spanish, Portuguese */
	"habilitar contenido", "habilitar edición", "habilitar macros",
	"habilitar conteúdo", "habilitar edição",
	/* French */
	"activer le contenu", "activer la modification", "activer les macros",
	NULL
};

/*
 * Words that make a text a security warning rather than a lure. They are
 * specific on purpose: "virus" alone is in every "Virus-free" footer that
 * malspam copies from real mail.
 */
static const char *const builtin_warnings[] = {
	"emotet", "エモテット", "phishing", "フィッシング", "不審なメール",
	"不審メール", "注意喚起", "マルウェア", "malware", "なりすまし",
	"標的型", "ウイルス感染", "security awareness", "suspicious email",
	"suspicious e-mail", "suspicious attachment", "verdächtige",
	"mail sospette", "correo sospechoso", "courriel suspect",
	NULL
};

/* A negation as the last word before the phrase (after filler words). */
static const char *const negations[] = {
	"not", "never", "don't", "don’t", "dont", "doesn't", "won't",
	"shouldn't", "nicht", "niemals", "kein",
	"keine", "non", "mai", "no", "nunca", "jamais", "pas", "ne",
	NULL
};

/* Words skipped between a negation and the phrase. */
static const char *const fillers[] = {
	"to", "click", "press", "on", "the", "a", "button", "please", "auf",
	"klicken", "sie", "su", "il", "pulsante", "cliccare", "clic", "en",
	"el", "botón", "sur", "le", "bouton", "cliquez", "hacer", "haga",
	"button,", "option", "any",
	NULL
};

/* Japanese negations follow the phrase: 「…」をクリックしないでください. */
static const char *const negations_after[] = {
	"しないで", "ないで", "しないよう", "ないよう", "しては", "てはいけ",
	"禁止", "絶対", "ません",
	NULL
};

#define AFTER_CHARS 20

struct phrase {
	char *orig;	/* as configured, for the report */
	char *folded;
	bool latin_start, latin_end;	/* need word boundaries */
};

struct emf_lure {
	GPtrArray *phrases;	/* struct phrase * */
	GPtrArray *warnings;	/* char *, folded */
};

static bool
is_zero_width(gunichar c)
{
	return c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 ||
	    c == 0xFEFF || c == 0x00AD;
}

char *
emf_fold(const char *s, long len)
{
	char *valid, *nfkc, *f;

	if (s == NULL)
		return g_strdup("");
	valid = g_utf8_make_valid(s, len);
	nfkc = emf_utf8_nfkc(valid, strlen(valid));
	g_free(valid);
	if (nfkc == NULL)
		return g_strdup("");
	f = emf_fold_nfkc(nfkc, -1);
	g_free(nfkc);
	return f;
}

char *
emf_fold_nfkc(const char *nfkc, long len)
{
	char *cf = g_utf8_casefold(nfkc, len);
	GString *out;
	bool space = false;

	out = g_string_sized_new(strlen(cf));
	for (const char *p = cf; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (is_zero_width(c))
			continue;
		if (g_unichar_isspace(c)) {
			space = out->len > 0;
			continue;
		}
		if (space)
			g_string_append_c(out, ' ');
		space = false;
		g_string_append_unichar(out, c);
	}
	g_free(cf);
	return g_string_free(out, FALSE);
}

static bool
latin_letter(gunichar c)
{
	return c < 0x2E80 && g_unichar_isalnum(c);
}

static void
phrase_free(gpointer p)
{
	struct phrase *ph = p;

	g_free(ph->orig);
	g_free(ph->folded);
	g_free(ph);
}

static void
add_phrase(struct emf_lure *l, const char *s)
{
	struct phrase *ph;
	char *f = emf_fold(s, -1);
	const char *last;

	if (*f == '\0') {
		g_free(f);
		return;
	}
	ph = g_new0(struct phrase, 1);
	ph->orig = g_strdup(s);
	ph->folded = f;
	last = g_utf8_find_prev_char(f, f + strlen(f));
	ph->latin_start = latin_letter(g_utf8_get_char(f));
	ph->latin_end = last && latin_letter(g_utf8_get_char(last));
	g_ptr_array_add(l->phrases, ph);
}

static void
lure_free(struct emf_lure *l)
{
	if (l == NULL)
		return;
	g_ptr_array_free(l->phrases, TRUE);
	g_ptr_array_free(l->warnings, TRUE);
	g_free(l);
}

void
emf_lure_fini(void *state)
{
	lure_free(state);
}

bool
emf_lure_init(struct emf_engine *engine, void **state,
    struct emf_error *err)
{
	const struct emf_cfg *cfg = engine->cfg;
	struct emf_lure *l = g_new0(struct emf_lure, 1);
	const char *const *extra;

	(void)err;
	l->phrases = g_ptr_array_new_with_free_func(phrase_free);
	l->warnings = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; builtin_phrases[i] != NULL; i++)
		add_phrase(l, builtin_phrases[i]);
	for (extra = emf_cfg_strlist(cfg, "lure.phrases"); *extra; extra++)
		add_phrase(l, *extra);
	for (size_t i = 0; builtin_warnings[i] != NULL; i++)
		g_ptr_array_add(l->warnings, emf_fold(builtin_warnings[i], -1));
	for (extra = emf_cfg_strlist(cfg, "lure.warning_words"); *extra;
	    extra++) {
		char *f = emf_fold(*extra, -1);

		if (*f != '\0')
			g_ptr_array_add(l->warnings, f);
		else
			g_free(f);
	}
	*state = l;
	return true;
}

static bool
in_list(const char *const *list, const char *word, size_t n)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncmp(list[i], word, n) == 0)
			return true;
	return false;
}

/* Characters that separate words here (quotes and brackets included). */
static bool
separator(gunichar c)
{
	return g_unichar_isspace(c) || c == '"' || c == 0x201C ||
	    c == 0x201D || c == 0x2018 || c == 0x300C || c == 0x300D ||
	    c == 0x300E || c == 0x300F || c == 0xAB || c == 0xBB ||
	    c == '[' || c == ']' || c == '(' || c == ')' || c == ':' ||
	    c == ',' || c == '*';
}

static bool
sentence_end(gunichar c)
{
	return c == '.' || c == '!' || c == '?' || c == 0x3002 || c == ';';
}

/* Is the phrase at [start) preceded by a negation in the same sentence? */
static bool
negated_before(const char *text, const char *start)
{
	const char *p = start;
	unsigned words = 0;

	/* Walk back word by word: skip fillers, stop at the first word that
	 * is neither a filler nor a negation, or at a sentence end. */
	while (p > text && words < 6) {
		const char *end, *q;
		gunichar c;

		/* Skip separators backwards. */
		while (p > text) {
			q = g_utf8_find_prev_char(text, p);
			c = g_utf8_get_char(q);
			if (sentence_end(c))
				return false;
			if (!separator(c))
				break;
			p = q;
		}
		end = p;
		while (p > text) {
			q = g_utf8_find_prev_char(text, p);
			c = g_utf8_get_char(q);
			if (separator(c) || sentence_end(c))
				break;
			p = q;
		}
		if (p == end)
			return false;
		/* Quotes around a word are not part of it; "don't" keeps its
		 * apostrophe. */
		{
			const char *w = p, *we = end;

			while (w < we && *w == '\'')
				w++;
			while (we > w && we[-1] == '\'')
				we--;
			if (w == we)
				continue;
			if (in_list(negations, w, (size_t)(we - w)))
				return true;
			if (!in_list(fillers, w, (size_t)(we - w)))
				return false;
		}
		words++;
	}
	return false;
}

static bool
negated_after(const char *end)
{
	GString *win = g_string_new(NULL);
	const char *p = end;
	bool neg = false;

	for (int n = 0; *p != '\0' && n < AFTER_CHARS; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == ' ')
			continue;
		g_string_append_unichar(win, c);
		n++;
	}
	for (size_t i = 0; negations_after[i] != NULL && !neg; i++)
		neg = strstr(win->str, negations_after[i]) != NULL;
	g_string_free(win, TRUE);
	return neg;
}

static bool
boundary_ok(const char *text, const char *start, const char *end,
    const struct phrase *ph)
{
	if (ph->latin_start && start > text) {
		const char *q = g_utf8_find_prev_char(text, start);

		if (q && latin_letter(g_utf8_get_char(q)))
			return false;
	}
	if (ph->latin_end && *end != '\0' && latin_letter(g_utf8_get_char(end)))
		return false;
	return true;
}

/* The phrase found earliest in the text that is not negated. */
static const char *
match_folded(const struct emf_lure *l, const char *f, const char **why)
{
	const char *best = NULL, *best_at = NULL, *f_end = f + strlen(f);
	bool negated = false;

	for (guint i = 0; i < l->phrases->len; i++) {
		const struct phrase *ph = g_ptr_array_index(l->phrases, i);
		size_t n = strlen(ph->folded);

		if (n == 0)
			continue;

		/* memmem, bounded by the text's end: a negated phrase
		 * repeated all over a text restarts the search each time. */
		for (const char *s = memmem(f, (size_t)(f_end - f), ph->folded,
		    n); s != NULL && (best_at == NULL || s < best_at);
		    s = memmem(s + 1, (size_t)(f_end - s - 1), ph->folded, n)) {
			if (!boundary_ok(f, s, s + n, ph))
				continue;
			if (negated_before(f, s) || negated_after(s + n)) {
				negated = true;
				continue;
			}
			best = ph->orig;
			best_at = s;
			break;
		}
	}
	if (best != NULL) {
		for (guint w = 0; w < l->warnings->len; w++) {
			if (strstr(f, g_ptr_array_index(l->warnings, w)) !=
			    NULL) {
				if (why)
					*why = "security warning";
				return NULL;
			}
		}
		return best;
	}
	if (negated && why)
		*why = "negated";
	return NULL;
}

const char *
emf_lure_match(const struct emf_lure *l, const char *utf8, size_t len,
    const char **why)
{
	char *f = emf_fold(utf8, (long)len);
	const char *m;

	if (why)
		*why = NULL;
	m = match_folded(l, f, why);
	g_free(f);
	return m;
}

/* A scan's text: folded from its cached NFKC. */
static const char *
match_text(const struct emf_lure *l, struct emf_text *t)
{
	size_t n;
	const char *nfkc = emf_text_nfkc(t, &n);
	char *f = emf_fold_nfkc(nfkc, (long)n);
	const char *m = match_folded(l, f, NULL);

	g_free(f);
	return m;
}

void
emf_lure_run(struct emf_scan *scan)
{
	const struct emf_lure *l = scan->engine->mod[EMF_MOD_LURE];
	bool trusted;

	if (l == NULL || !emf_cfg_bool(scan->cfg, "lure.enabled"))
		return;
	/* A trusted sender's body is not judged; its documents still are. */
	trusted = emf_scan_has_symbol(scan, "TRUSTED_SENDER");
	for (guint i = 0; i < scan->texts->len; i++) {
		struct emf_text *t = g_ptr_array_index(scan->texts, i);
		const char *m;
		bool doc = t->kind == EMF_TEXT_DOCUMENT;

		if (!(doc || ((t->kind == EMF_TEXT_BODY ||
		    t->kind == EMF_TEXT_HTML) && !trusted)))
			continue;
		if (emf_scan_expired(scan))
			return;
		m = match_text(l, t);
		if (m == NULL)
			continue;
		if (t->obj != NULL)
			emf_strlist_add(&t->obj->lure, m);
		emf_symbol(scan, doc ? "LURE_ENABLE_CONTENT_DOC" :
		    "LURE_ENABLE_CONTENT_BODY", t->obj, "\"%s\"%s", m,
		    doc ? " in the document text" : " in the mail text");
	}
}
