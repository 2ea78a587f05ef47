/*
 * state_impl.h - what state.c needs from a backend (state_sqlite.c,
 * state_pg.c): run one SQL statement with parameters and walk its rows.
 *
 * SQL is written once, in state.c, with "?1", "?2"... placeholders; the
 * PostgreSQL backend turns them into "$1", "$2". Parameters are text, or
 * bytes when data is set; results are read per column as text ("" for
 * NULL) or bytes.
 */
#ifndef EMF_STATE_IMPL_H
#define EMF_STATE_IMPL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "emf.h"
#include "state.h"

struct state_param {
	const char *text;	/* a text value, or */
	const void *data;	/* bytes (data may be "" with len 0) */
	size_t len;
	bool is_data;
};

struct state_row;

/* Called per result row; return false to stop. */
typedef bool (*state_row_fn)(void *ctx, struct state_row *row);

struct state_backend {
	const char *name;
	/* Connect, create the schema if missing. */
	enum emf_rc (*open)(struct emf_state *st, struct emf_error *err);
	void (*close)(struct emf_state *st);
	/* BEGIN a write transaction that excludes other writers. */
	enum emf_rc (*begin)(struct emf_state *st, struct emf_error *err);
	enum emf_rc (*commit)(struct emf_state *st, struct emf_error *err);
	void (*rollback)(struct emf_state *st);
	/* Run sql; rows go to fn (may be NULL); *changes rows changed. */
	enum emf_rc (*exec)(struct emf_state *st, const char *sql,
	    const struct state_param *p, int np, state_row_fn fn, void *ctx,
	    long *changes, struct emf_error *err);
	const char *(*col_text)(struct state_row *row, int i);
	GBytes *(*col_bytes)(struct state_row *row, int i);
};

struct emf_state {
	struct emf_state_opts opts;	/* strings owned (copies) */
	const struct state_backend *be;
	void *db;			/* sqlite3 * or PGconn * */
	int64_t last_expire;		/* emf_state_expire() ran this second */
};

extern const struct state_backend emf_state_sqlite;
extern const struct state_backend emf_state_pg;

/* The schema, per backend (the same columns; types differ in name). */
#define STATE_SCHEMA_VERSION "1"

#endif /* EMF_STATE_IMPL_H */
