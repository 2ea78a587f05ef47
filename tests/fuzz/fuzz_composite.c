/*
 * fuzz_composite.c - composite rules: the expression parser and
 * evaluator on the input's first line, then the shipped composites over
 * a set of symbols the rest of the input picks.
 *
 * Contracts checked: a refused expression comes with a reason; a parsed
 * one has 1 to EMF_CEXPR_MAX_TERMS distinct names of [A-Za-z0-9_], each
 * at most EMF_CEXPR_MAX_NAME bytes and each in the text; evaluation is
 * deterministic, "!(E)" evaluates to the opposite of E, and a name that
 * occurs only under ! can never turn E from false to true. In the scan:
 * the total is the sum of the symbols' scores, every composite raised has
 * a valid UTF-8 detail, and the report writers take it all.
 */
#include "config.h"

#include <string.h>

#include "core/composite.h"
#include "core/engine.h"
#include "core/report.h"
#include "core/scan.h"
#include "fuzz.h"

static struct emf_engine *engine;

/* Symbols the shipped composites name; the input picks a subset. */
static const char *const pick[] = {
	"OFFICE_MACRO", "XLM_MACRO", "MACRO_AUTOEXEC", "MACRO_SUSPICIOUS",
	"EXECUTABLE_ATTACHMENT", "ARCHIVE_ENCRYPTED",
	"ARCHIVE_PASSWORD_IN_BODY", "ARCHIVE_PASSWORD_UNKNOWN",
	"TRUSTED_SENDER", "DISPLAY_NAME_SPOOF", "SIGNATURE_DOMAIN_MISMATCH",
	"FROM_ENVELOPE_MISMATCH", "FAKE_ORIGINAL_MESSAGE",
	"REPLY_WITHOUT_THREAD", "LURE_ENABLE_CONTENT_DOC", "OFFICE_ENCRYPTED",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(NULL);
	return 0;
}

struct presence {
	const uint8_t *mask;
	size_t len;
	const char *extra;	/* a name forced present, or NULL */
};

/* Present or not by a hash of the name and the mask bytes. */
static bool
has(const char *name, void *arg)
{
	const struct presence *p = arg;
	guint h = g_str_hash(name);

	if (p->extra != NULL && strcmp(name, p->extra) == 0)
		return true;
	if (p->len == 0)
		return (h & 1) != 0;
	return ((h ^ p->mask[h % p->len]) & 1) != 0;
}

static void
check_names(const struct emf_cexpr *e, const char *text)
{
	size_t n = emf_cexpr_nnames(e);

	FUZZ_ASSERT(n >= 1 && n <= EMF_CEXPR_MAX_TERMS);
	FUZZ_ASSERT(emf_cexpr_name(e, n) == NULL);
	for (size_t i = 0; i < n; i++) {
		const char *s = emf_cexpr_name(e, i);
		size_t len = strlen(s);

		FUZZ_ASSERT(len >= 1 && len <= EMF_CEXPR_MAX_NAME);
		for (size_t k = 0; k < len; k++)
			FUZZ_ASSERT(g_ascii_isalnum(s[k]) || s[k] == '_');
		FUZZ_ASSERT(strstr(text, s) != NULL);
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(s, emf_cexpr_name(e, j)) != 0);
	}
}

static void
fuzz_expression(const char *text, const uint8_t *mask, size_t mlen)
{
	char why[256];
	struct emf_cexpr *e, *ne;
	struct presence p = { mask, mlen, NULL };
	char *neg;
	bool v;

	memset(why, 'x', sizeof(why));
	e = emf_cexpr_parse(text, why, sizeof(why));
	if (e == NULL) {
		FUZZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL);
		FUZZ_ASSERT(why[0] != '\0');
		return;
	}
	check_names(e, text);
	v = emf_cexpr_eval(e, has, &p);
	FUZZ_ASSERT(emf_cexpr_eval(e, has, &p) == v);
	/* Negation, when it still fits the bounds. */
	neg = g_strdup_printf("!(%s)", text);
	ne = emf_cexpr_parse(neg, NULL, 0);
	if (ne != NULL) {
		FUZZ_ASSERT(emf_cexpr_eval(ne, has, &p) == !v);
		emf_cexpr_free(ne);
	}
	g_free(neg);
	/* A name only under !: adding it never makes E hold. */
	if (!v) {
		for (size_t i = 0; i < emf_cexpr_nnames(e); i++) {
			const char *name = emf_cexpr_name(e, i);

			if (emf_cexpr_positive(e, name))
				continue;
			p.extra = name;
			FUZZ_ASSERT(!emf_cexpr_eval(e, has, &p));
			p.extra = NULL;
		}
	}
	emf_cexpr_free(e);
}

static void
fuzz_scan(const uint8_t *mask, size_t mlen)
{
	struct emf_scan *s = emf_scan_new(engine, NULL);
	struct emf_report *r;
	double sum = 0;
	guint bits = 0;

	for (size_t i = 0; i < mlen && i < 4; i++)
		bits |= (guint)mask[i] << (8 * i);
	for (size_t i = 0; i < G_N_ELEMENTS(pick); i++)
		if (bits & (1u << i))
			emf_symbol(s, pick[i], NULL, "picked");
	emf_composites_run(s);
	r = emf_report_from_scan(s);
	for (size_t i = 0; i < emf_report_nsymbols(r); i++) {
		const char *d = emf_report_symbol_detail(r, i);

		sum += emf_report_symbol_score(r, i);
		FUZZ_ASSERT(d != NULL && g_utf8_validate(d, -1, NULL));
	}
	FUZZ_ASSERT(emf_report_score(r) > sum - 0.01 &&
	    emf_report_score(r) < sum + 0.01);
	fuzz_report(r);		/* frees r */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t elen = nl ? (size_t)(nl - data) : size;
	const uint8_t *mask = nl ? nl + 1 : data;
	size_t mlen = nl ? size - elen - 1 : size;
	char *text = g_strndup((const char *)data, elen);

	/* A NUL ends the expression early: the parser sees a C string. */
	fuzz_expression(text, mask, mlen);
	g_free(text);
	fuzz_scan(mask, mlen);
	return 0;
}
