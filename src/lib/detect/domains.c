/*
 * domains.c - registrable domains through the Public Suffix List (libpsl).
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <libpsl.h>

#include "domains.h"

struct emf_psl {
	psl_ctx_t *ctx;		/* NULL when we use the built-in list */
	const psl_ctx_t *use;
};

struct emf_psl *
emf_psl_new(void)
{
	struct emf_psl *p = g_new0(struct emf_psl, 1);

	/* The system list follows Debian's publicsuffix package updates;
	 * the built-in copy is as old as libpsl itself. */
	p->ctx = psl_latest(NULL);
	p->use = p->ctx != NULL ? p->ctx : psl_builtin();
	if (p->use == NULL) {
		g_free(p);
		return NULL;
	}
	return p;
}

void
emf_psl_free(struct emf_psl *psl)
{
	if (psl == NULL)
		return;
	if (psl->ctx != NULL)
		psl_free(psl->ctx);
	g_free(psl);
}

/* Host name characters (UTF-8 bytes >= 0x80 are let through for IDNs). */
static bool
host_char(unsigned char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
	    c >= 0x80;
}

/* The host part of s, lower-cased, without trailing dots; NULL if none. */
static char *
host_of(const char *s)
{
	const char *at, *p, *end;
	char *host, *low;

	if (s == NULL)
		return NULL;
	at = strrchr(s, '@');
	p = at != NULL ? at + 1 : s;
	while (*p == '[' || *p == '<' || *p == ' ')
		p++;
	end = p;
	while (*end != '\0' && host_char((unsigned char)*end))
		end++;
	while (end > p && end[-1] == '.')
		end--;
	while (p < end && *p == '.')
		p++;
	if (end == p || memchr(p, '.', (size_t)(end - p)) == NULL)
		return NULL;
	host = g_strndup(p, (gsize)(end - p));
	if (!g_utf8_validate(host, -1, NULL)) {
		g_free(host);
		return NULL;
	}
	low = g_utf8_strdown(host, -1);
	g_free(host);
	return low;
}

char *
emf_psl_registrable(const struct emf_psl *psl, const char *s)
{
	char *host = host_of(s);
	const char *reg;
	char *out;

	if (host == NULL)
		return NULL;
	reg = psl != NULL ? psl_registrable_domain(psl->use, host) : NULL;
	/* No registrable part: the host is a suffix itself, or unknown. */
	out = g_strdup(reg != NULL ? reg : host);
	g_free(host);
	return out;
}

bool
emf_psl_known_tld(const struct emf_psl *psl, const char *host)
{
	const char *dot;
	char *tld;
	bool known;

	if (psl == NULL || host == NULL)
		return false;
	dot = strrchr(host, '.');
	tld = g_ascii_strdown(dot ? dot + 1 : host, -1);
	if (*tld == '\0' || g_ascii_isdigit(*tld)) {
		g_free(tld);
		return false;
	}
	/* Without the "*" rule every label would count as a suffix. */
	known = psl_is_public_suffix2(psl->use, tld,
	    PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
	g_free(tld);
	return known;
}
