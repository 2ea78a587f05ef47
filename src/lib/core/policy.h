/*
 * policy.h - which action thresholds apply to a message's recipients.
 *
 * The "policies" list of the configuration gives some recipients other
 * thresholds than "actions" (a stricter reject for the finance team, a
 * looser one for the abuse mailbox). A milter cannot split one message by
 * recipient, so a message gets the most severe action that any of its
 * recipients' thresholds give.
 */
#ifndef EMF_POLICY_H
#define EMF_POLICY_H

#include <glib.h>

#include "emf.h"

struct emf_engine;

/* Engine slot EMF_MOD_POLICY: the recipient lookup table. */
bool emf_policy_init(struct emf_engine *engine, void **state,
    struct emf_error *err);
void emf_policy_fini(void *state);

/*
 * The policy for one recipient address, or NULL for "actions". Looked up
 * as Postfix tables are: the whole address, then its domain, then each
 * parent domain as ".parent". Case does not matter.
 */
const char *emf_policy_for(const struct emf_engine *engine,
    const char *rcpt);

/*
 * The action for score given the recipients (NULL or empty: "actions").
 * *policy is set to the policy whose thresholds decided it, or NULL when
 * the "actions" thresholds give the same action.
 */
enum emf_action emf_policy_decide(const struct emf_engine *engine,
    double score, const GPtrArray *rcpts, const char **policy);

#endif /* EMF_POLICY_H */
