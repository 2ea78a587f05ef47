/*
 * correlate.h - the correlation state in a scanner worker (state.enabled):
 * after its scan, a message is run against the state (store/state.h);
 * what it resolves is released (re-injected from the copy in the state)
 * or kept (a new quarantine entry with the opened report) right there, in
 * the worker, so the milter threads never wait on it.
 *
 * Each worker process holds its own connection, opened on first use and
 * dropped after an error (the next message reconnects). The timer's
 * expirer process opens its own and exits.
 */
#ifndef EMF_MCORRELATE_H
#define EMF_MCORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "emf.h"

/*
 * *r is the report of msg[0..len) (it may be replaced: see
 * emf_state_correlate()). *held is set when the message now waits for
 * its password (the milter then stores and holds it); *released when it
 * is a held mail a worker re-injected (a valid one-time token: its
 * X-Emofilter-* headers are ours). EMF_ERR_IO when the state cannot be
 * reached: the milter tempfails the message.
 */
/*
 * The scan of a worker: with the correspondence memory when
 * state.memory is on and the mail is inbound (not emf_state_outbound()),
 * else emf_scan_message(). EMF_ERR_IO (and *r NULL) when the memory
 * cannot be read: the milter tempfails (*store_failed says the store,
 * not the scan, was the cause: milter.on_failure.store).
 */
enum emf_rc emf_mscan(struct emf_engine *engine, const void *msg,
    size_t len, const struct emf_envelope *env, struct emf_report **r,
    bool *store_failed);

enum emf_rc emf_mcorrelate(struct emf_engine *engine, struct emf_report **r,
    const void *msg, size_t len, const struct emf_envelope *env,
    bool *held, bool *released);

/*
 * The timer (state.expire_interval): called by the daemon's supervisor
 * on its once-a-second tick. With no expirer running (running 0) and the
 * interval passed since *next was set, it forks one: a short-lived
 * process that opens the state, expires what waited longer than the
 * window (released tagged or kept, as state.expiry_action says, each
 * with its log line and history line), runs the memory's housekeeping
 * and exits. Returns the expirer's pid (the caller reaps it and passes 0
 * again), or running.
 */
pid_t emf_mexpire_tick(struct emf_engine *engine, pid_t running,
    time_t *next);

#endif /* EMF_MCORRELATE_H */
