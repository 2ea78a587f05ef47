/*
 * fuzz_passwords.c - password harvesting: emf_passwords_extract() with
 * the default rules (the engine's EMF_MOD_PASSWORDS slot, as
 * emf_passwords_harvest() uses it) over the input made valid UTF-8 (as
 * scan.c stores every text), in the three ways the harvester calls it:
 * labelled forms only; with attachment names for the neighbour pass; with
 * the bare-token pass. Then the cleaner on the raw bytes.
 *
 * Contracts checked: every candidate is valid UTF-8, printable ASCII (the
 * default patterns and the other passes take ASCII only), 3 bytes at least
 * and within the length asked for, unique, on a line of the text, and
 * from a pattern exactly when labelled (labelled digits: built in, no
 * pattern); the count appended is the count
 * returned and within the cap asked for. A cleaned token is NULL or valid
 * UTF-8 of 3 bytes at least and no URL.
 */
#include "config.h"

#include <string.h>

#include "core/engine.h"
#include "fuzz.h"
#include "mail/passwords.h"

#define CAND_MIN 3

static struct emf_engine *engine;
static const struct emf_pwrules *rules;
static size_t npatterns;

/* Attachment names for the neighbour pass (one too short to be used). */
static const char *const names[] = {
	"請求書.zip", "invoice.zip", "scan_0412.7z", "ab", NULL
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *const *p;

	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(NULL);
	rules = engine->mod[EMF_MOD_PASSWORDS];
	FUZZ_ASSERT(rules != NULL);
	p = emf_cfg_strlist(engine->cfg, "passwords.patterns");
	while (p[npatterns] != NULL)
		npatterns++;
	FUZZ_ASSERT(npatterns > 0);
	return 0;
}

static void
cands_checked(const char *text, size_t len, const GPtrArray *out,
    size_t from, size_t maxlen)
{
	unsigned lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	for (guint i = (guint)from; i < out->len; i++) {
		const struct emf_pwcand *c = g_ptr_array_index(out, i);
		size_t n;

		FUZZ_ASSERT(c != NULL && c->value != NULL);
		n = strlen(c->value);
		FUZZ_ASSERT(g_utf8_validate(c->value, -1, NULL));
		FUZZ_ASSERT(n >= CAND_MIN && n <= maxlen);
		for (size_t k = 0; k < n; k++)
			FUZZ_ASSERT(c->value[k] >= '!' && c->value[k] <= '~');
		FUZZ_ASSERT(c->line >= 1 && c->line <= lines);
		FUZZ_ASSERT(c->how == EMF_PW_LABELLED ||
		    c->how == EMF_PW_LABELLED_DIGITS ||
		    c->how == EMF_PW_NEIGHBOUR || c->how == EMF_PW_BARE);
		if (c->how == EMF_PW_LABELLED)
			FUZZ_ASSERT(c->pattern >= 0 &&
			    (size_t)c->pattern < npatterns);
		else
			FUZZ_ASSERT(c->pattern == -1);
		for (guint k = 0; k < i; k++) {
			const struct emf_pwcand *o = g_ptr_array_index(out, k);

			FUZZ_ASSERT(strcmp(c->value, o->value) != 0);
		}
	}
}

/* One extract call appending to out; checks what it appended. */
static void
extract_checked(const char *text, size_t len, const char *const *nm,
    bool bare, size_t maxlen, size_t max, GPtrArray *out)
{
	size_t before = out->len, n;

	n = emf_passwords_extract(rules, text, len, nm, bare, maxlen, max,
	    out);
	FUZZ_ASSERT(n <= max);
	FUZZ_ASSERT(out->len == before + n);
	cands_checked(text, len, out, before, maxlen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct emf_limits *l = &engine->limits;
	char *text = g_utf8_make_valid((const char *)data, (gssize)size);
	size_t len = strlen(text);
	GPtrArray *out;
	char *clean;

	/* As emf_passwords_harvest() calls it, pass by pass. */
	out = g_ptr_array_new_with_free_func(emf_pwcand_free);
	extract_checked(text, len, NULL, false, l->password_length,
	    l->password_candidates + 1, out);
	g_ptr_array_free(out, TRUE);
	out = g_ptr_array_new_with_free_func(emf_pwcand_free);
	extract_checked(text, len, names, false, l->password_length,
	    l->password_candidates + 1, out);
	g_ptr_array_free(out, TRUE);
	out = g_ptr_array_new_with_free_func(emf_pwcand_free);
	extract_checked(text, len, NULL, true, l->password_length,
	    l->password_candidates + 1, out);
	/*
	 * Appended to what is there, with a small cap and a short length:
	 * the bounds are the caller's, whatever the array holds already.
	 */
	extract_checked(text, len, names, true, 8, 2, out);
	g_ptr_array_free(out, TRUE);
	g_free(text);

	clean = emf_password_clean((const char *)data, size);
	if (clean != NULL) {
		FUZZ_ASSERT(g_utf8_validate(clean, -1, NULL));
		FUZZ_ASSERT(strlen(clean) >= CAND_MIN);
		FUZZ_ASSERT(strstr(clean, "://") == NULL);
		(void)emf_password_like(clean);
	}
	g_free(clean);
	return 0;
}
