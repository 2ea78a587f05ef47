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
	int64_t last_memory_house;	/* memory housekeeping ran then */
	int64_t memory_now;		/* the memory's clock, 0: time() */
	struct emf_memory memory;	/* lookup = state.c, ctx = this */
	bool memory_failed;		/* a lookup failed (emf_state_memory_failed) */
	char memory_err[256];
};

extern const struct state_backend emf_state_sqlite;
extern const struct state_backend emf_state_pg;

/* The schema, per backend (the same columns; types differ in name). */
/* Version 2 added emf_sent (the correspondence memory); a version 1
 * store is migrated on open (the table is created, the version set). */
#define STATE_SCHEMA_VERSION "2"

/* The memory's table (version 2), the same text for both backends but
 * for the row id's and the time's type; then the migration of a
 * version 1 store. */
#define STATE_SENT_SCHEMA(idtype, inttype) \
	"CREATE TABLE IF NOT EXISTS emf_sent (" \
	" id " idtype "," \
	" message_id TEXT NOT NULL, sender TEXT NOT NULL," \
	" rcpt TEXT NOT NULL, subject TEXT NOT NULL DEFAULT ''," \
	" sent " inttype " NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS emf_sent_mid ON emf_sent (message_id);" \
	"CREATE INDEX IF NOT EXISTS emf_sent_rcpt ON emf_sent" \
	" (rcpt, subject);" \
	"CREATE INDEX IF NOT EXISTS emf_sent_sender ON emf_sent" \
	" (sender, sent);" \
	"CREATE INDEX IF NOT EXISTS emf_sent_time ON emf_sent (sent);" \
	"UPDATE emf_state_meta SET value = '" STATE_SCHEMA_VERSION "'" \
	" WHERE key = 'schema' AND value = '1';"

#endif /* EMF_STATE_IMPL_H */
