/*
 * domains.h - registrable domains through the Public Suffix List
 * (libpsl's only user).
 *
 * Owns: one PSL context (the system's list, else libpsl's built-in copy)
 * and the reduction of an address or host name to its registrable domain
 * ("mail.example.co.jp" -> "example.co.jp"), so that sender comparisons do
 * not count a sub-domain as another sender.
 *
 * LIMITATIONS: host names are lower-cased (ASCII and UTF-8) but IDNs are
 * not converted between U-labels and A-labels, so "例え.jp" and its
 * "xn--" form compare as different. A host that is itself a public suffix
 * or has a single label is returned as it is.
 */
#ifndef EMF_DOMAINS_H
#define EMF_DOMAINS_H

#include <stdbool.h>

struct emf_psl;

/*
 * Load the Public Suffix List. Returns NULL when no list can be loaded
 * (neither the system file nor libpsl's built-in data). Owned by the
 * caller: emf_psl_free().
 */
struct emf_psl *emf_psl_new(void);
void emf_psl_free(struct emf_psl *psl);

/*
 * The registrable domain of an address ("a@mail.example.co.jp"), a host
 * name or an URL-ish "host:port". Returns a new lower-case string (g_free)
 * or NULL when s holds no plausible host name.
 */
char *emf_psl_registrable(const struct emf_psl *psl, const char *s);

/* True when the last label of host is a known top-level suffix. */
bool emf_psl_known_tld(const struct emf_psl *psl, const char *host);

#endif /* EMF_DOMAINS_H */
