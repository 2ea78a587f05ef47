/*
 * state_pg.c - the PostgreSQL backend of the correlation state (libpq),
 * for several gateways sharing one state. The same table as SQLite;
 * writers serialise on one transaction-level advisory lock, so the caps
 * hold across gateways and a transition is claimed once.
 *
 * Parameters go as text (bytes as binary), results come as text; bytea
 * is unescaped with PQunescapeBytea(). A statement_timeout
 * (state.busy_timeout_ms) bounds every statement: a stuck server becomes
 * an error, and the caller tempfails.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "state_impl.h"

/* The advisory lock key of the writers ("emfS"). */
#define PG_LOCK_KEY "1701668435"

struct state_row {
	PGresult *res;
	int row;
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS emf_state_meta ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS emf_held ("
	" id BIGSERIAL PRIMARY KEY,"
	" report_id TEXT NOT NULL, queue_id TEXT NOT NULL DEFAULT '',"
	" label TEXT NOT NULL DEFAULT '',"
	" sender_key TEXT NOT NULL, env_sender TEXT NOT NULL DEFAULT '',"
	" from_addr TEXT NOT NULL DEFAULT '',"
	" env_rcpts TEXT NOT NULL DEFAULT '', rcpts TEXT NOT NULL DEFAULT '',"
	" message_id TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '',"
	" attachments TEXT NOT NULL DEFAULT '', hashes TEXT NOT NULL DEFAULT '',"
	" received BIGINT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('waiting','resolved','expired')),"
	" outcome TEXT NOT NULL DEFAULT '', opened_by TEXT NOT NULL DEFAULT '',"
	" finished BIGINT NOT NULL DEFAULT 0,"
	" history TEXT NOT NULL DEFAULT '',"
	" release_token TEXT NOT NULL DEFAULT '',"
	" message BYTEA NOT NULL);"
	"CREATE INDEX IF NOT EXISTS emf_held_sender ON emf_held"
	" (status, sender_key, received);"
	"CREATE INDEX IF NOT EXISTS emf_held_env ON emf_held"
	" (status, env_sender, received);"
	"CREATE INDEX IF NOT EXISTS emf_held_from ON emf_held"
	" (status, from_addr, received);"
	"CREATE INDEX IF NOT EXISTS emf_held_time ON emf_held"
	" (status, received);"
	"CREATE INDEX IF NOT EXISTS emf_held_finished ON emf_held"
	" (status, finished);"
	"INSERT INTO emf_state_meta VALUES ('schema', '" STATE_SCHEMA_VERSION
	"') ON CONFLICT DO NOTHING;"
	STATE_SENT_SCHEMA("BIGSERIAL PRIMARY KEY", "BIGINT");

static void
pg_error(PGconn *c, const char *what, struct emf_error *err)
{
	char *m;

	if (err == NULL)
		return;
	m = g_strdup(c ? PQerrorMessage(c) : "out of memory");
	g_strchomp(m);
	g_snprintf(err->msg, sizeof(err->msg), "state (postgresql): %s: %s",
	    what, m);
	g_free(m);
}

/* A statement without parameters or rows (BEGIN, the schema...). */
static enum emf_rc
pg_plain(PGconn *c, const char *sql, const char *what, struct emf_error *err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		pg_error(c, what, err);
		PQclear(r);
		return EMF_ERR_IO;
	}
	PQclear(r);
	return EMF_OK;
}

static void
pg_notice(void *arg, const char *message)
{
	/* "relation already exists, skipping": the library prints nothing. */
	(void)arg;
	(void)message;
}

static enum emf_rc
pg_open(struct emf_state *st, struct emf_error *err)
{
	PGconn *c = PQconnectdb(st->opts.conninfo);
	char sql[128];

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		pg_error(c, "cannot connect", err);
		PQfinish(c);
		return EMF_ERR_IO;
	}
	PQsetNoticeProcessor(c, pg_notice, NULL);
	g_snprintf(sql, sizeof(sql), "SET statement_timeout = %ld;",
	    st->opts.busy_timeout_ms);
	if (pg_plain(c, sql, "settings", err) != EMF_OK ||
	    pg_plain(c, "SET client_min_messages = warning;", "settings",
	    err) != EMF_OK ||
	    pg_plain(c, "BEGIN; SELECT pg_advisory_xact_lock(" PG_LOCK_KEY
	    ");", "schema", err) != EMF_OK) {
		PQfinish(c);
		return EMF_ERR_IO;
	}
	if (pg_plain(c, SCHEMA, "schema", err) != EMF_OK ||
	    pg_plain(c, "COMMIT;", "schema", err) != EMF_OK) {
		PQfinish(c);
		return EMF_ERR_IO;
	}
	st->db = c;
	return EMF_OK;
}

static void
pg_close(struct emf_state *st)
{
	PQfinish(st->db);
	st->db = NULL;
}

static enum emf_rc
pg_begin(struct emf_state *st, struct emf_error *err)
{
	return pg_plain(st->db, "BEGIN; SELECT pg_advisory_xact_lock("
	    PG_LOCK_KEY ");", "begin", err);
}

static enum emf_rc
pg_commit(struct emf_state *st, struct emf_error *err)
{
	return pg_plain(st->db, "COMMIT;", "commit", err);
}

static void
pg_rollback(struct emf_state *st)
{
	PQclear(PQexec(st->db, "ROLLBACK;"));
}

/* "?1" -> "$1": the SQL of state.c is written for SQLite. */
static char *
pg_sql(const char *sql)
{
	char *s = g_strdup(sql);

	for (char *p = s; *p != '\0'; p++)
		if (*p == '?' && g_ascii_isdigit(p[1]))
			*p = '$';
	return s;
}

static enum emf_rc
pg_exec(struct emf_state *st, const char *sql, const struct state_param *p,
    int np, state_row_fn fn, void *ctx, long *changes, struct emf_error *err)
{
	PGconn *c = st->db;
	const char **values = g_new0(const char *, np > 0 ? np : 1);
	int *lengths = g_new0(int, np > 0 ? np : 1);
	int *formats = g_new0(int, np > 0 ? np : 1);
	char *q = pg_sql(sql);
	PGresult *r;
	ExecStatusType s;
	enum emf_rc rc = EMF_OK;

	for (int i = 0; i < np; i++) {
		if (p[i].is_data) {
			values[i] = p[i].data ? p[i].data : "";
			lengths[i] = (int)p[i].len;
			formats[i] = 1;
		} else {
			values[i] = p[i].text ? p[i].text : "";
		}
	}
	r = PQexecParams(c, q, np, NULL, values, lengths, formats, 0);
	s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK) {
		struct state_row row = { r, 0 };
		int n = PQntuples(r);

		for (row.row = 0; row.row < n; row.row++)
			if (fn != NULL && !fn(ctx, &row))
				break;
	} else if (s != PGRES_COMMAND_OK) {
		pg_error(c, "query", err);
		rc = EMF_ERR_IO;
	}
	if (rc == EMF_OK && changes != NULL) {
		const char *t = PQcmdTuples(r);

		*changes = t && *t ? strtol(t, NULL, 10) : 0;
	}
	PQclear(r);
	g_free(q);
	g_free(values);
	g_free(lengths);
	g_free(formats);
	return rc;
}

static const char *
pg_col_text(struct state_row *row, int i)
{
	if (PQgetisnull(row->res, row->row, i))
		return "";
	return PQgetvalue(row->res, row->row, i);
}

static GBytes *
pg_col_bytes(struct state_row *row, int i)
{
	size_t n = 0;
	unsigned char *b;
	GBytes *out;

	if (PQgetisnull(row->res, row->row, i))
		return g_bytes_new(NULL, 0);
	b = PQunescapeBytea((const unsigned char *)PQgetvalue(row->res,
	    row->row, i), &n);
	if (b == NULL)
		return g_bytes_new(NULL, 0);
	out = g_bytes_new(b, n);
	PQfreemem(b);
	return out;
}

const struct state_backend emf_state_pg = {
	"postgresql", pg_open, pg_close, pg_begin, pg_commit, pg_rollback,
	pg_exec, pg_col_text, pg_col_bytes
};
