/*
 * state_sqlite.c - the SQLite backend of the correlation state: one file,
 * WAL journal (readers never block the writer), a busy timeout (a worker
 * waits for another's write instead of failing), BEGIN IMMEDIATE for
 * writes (the caps are checked and enforced under one lock).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state_impl.h"

struct state_row {
	sqlite3_stmt *stmt;
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS emf_state_meta ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS emf_held ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" report_id TEXT NOT NULL, queue_id TEXT NOT NULL DEFAULT '',"
	" label TEXT NOT NULL DEFAULT '',"
	" sender_key TEXT NOT NULL, env_sender TEXT NOT NULL DEFAULT '',"
	" from_addr TEXT NOT NULL DEFAULT '',"
	" env_rcpts TEXT NOT NULL DEFAULT '', rcpts TEXT NOT NULL DEFAULT '',"
	" message_id TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '',"
	" attachments TEXT NOT NULL DEFAULT '', hashes TEXT NOT NULL DEFAULT '',"
	" received INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('waiting','resolved','expired')),"
	" outcome TEXT NOT NULL DEFAULT '', opened_by TEXT NOT NULL DEFAULT '',"
	" finished INTEGER NOT NULL DEFAULT 0,"
	" history TEXT NOT NULL DEFAULT '',"
	" release_token TEXT NOT NULL DEFAULT '',"
	" message BLOB NOT NULL);"
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
	"INSERT OR IGNORE INTO emf_state_meta VALUES ('schema', '"
	STATE_SCHEMA_VERSION "');"
	STATE_SENT_SCHEMA("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER");

static void
db_error(sqlite3 *db, const char *what, struct emf_error *err)
{
	if (err != NULL)
		g_snprintf(err->msg, sizeof(err->msg), "state (sqlite): %s: %s",
		    what, db ? sqlite3_errmsg(db) : "out of memory");
}

static enum emf_rc
sq_exec_plain(sqlite3 *db, const char *sql, const char *what,
    struct emf_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (err != NULL)
			g_snprintf(err->msg, sizeof(err->msg),
			    "state (sqlite): %s: %s", what,
			    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return EMF_ERR_IO;
	}
	return EMF_OK;
}

static enum emf_rc
sq_open(struct emf_state *st, struct emf_error *err)
{
	sqlite3 *db = NULL;
	int rc, fd;

	/* Created private: it holds mail. SQLite's own -wal and -shm files
	 * take this file's mode. */
	fd = open(st->opts.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		if (err != NULL)
			g_snprintf(err->msg, sizeof(err->msg),
			    "state (sqlite): cannot open %s: %s", st->opts.path,
			    g_strerror(errno));
		return EMF_ERR_IO;
	}
	close(fd);
	rc = sqlite3_open_v2(st->opts.path, &db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		if (err != NULL)
			g_snprintf(err->msg, sizeof(err->msg),
			    "state (sqlite): cannot open %s: %s", st->opts.path,
			    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return EMF_ERR_IO;
	}
	sqlite3_busy_timeout(db, (int)st->opts.busy_timeout_ms);
	sqlite3_extended_result_codes(db, 1);
	/* WAL: the worker processes read while one writes. NORMAL sync is
	 * durable across a process crash; an OS crash may lose the last
	 * transitions, never corrupt the file. */
	if (sq_exec_plain(db, "PRAGMA journal_mode=WAL;", "journal", err) !=
	    EMF_OK ||
	    sq_exec_plain(db, "PRAGMA synchronous=NORMAL;", "pragma", err) !=
	    EMF_OK ||
	    sq_exec_plain(db, "BEGIN IMMEDIATE;", "schema", err) != EMF_OK) {
		sqlite3_close(db);
		return EMF_ERR_IO;
	}
	if (sq_exec_plain(db, SCHEMA, "schema", err) != EMF_OK) {
		sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
		sqlite3_close(db);
		return EMF_ERR_IO;
	}
	if (sq_exec_plain(db, "COMMIT;", "schema", err) != EMF_OK) {
		sqlite3_close(db);
		return EMF_ERR_IO;
	}
	st->db = db;
	return EMF_OK;
}

static void
sq_close(struct emf_state *st)
{
	sqlite3_close(st->db);
	st->db = NULL;
}

static enum emf_rc
sq_begin(struct emf_state *st, struct emf_error *err)
{
	return sq_exec_plain(st->db, "BEGIN IMMEDIATE;", "begin", err);
}

static enum emf_rc
sq_commit(struct emf_state *st, struct emf_error *err)
{
	return sq_exec_plain(st->db, "COMMIT;", "commit", err);
}

static void
sq_rollback(struct emf_state *st)
{
	sqlite3_exec(st->db, "ROLLBACK;", NULL, NULL, NULL);
}

static enum emf_rc
sq_exec(struct emf_state *st, const char *sql, const struct state_param *p,
    int np, state_row_fn fn, void *ctx, long *changes, struct emf_error *err)
{
	sqlite3 *db = st->db;
	sqlite3_stmt *stmt = NULL;
	struct state_row row;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		db_error(db, "prepare", err);
		return EMF_ERR_IO;
	}
	for (int i = 0; i < np; i++) {
		if (p[i].is_data)
			rc = sqlite3_bind_blob64(stmt, i + 1,
			    p[i].data ? p[i].data : "", p[i].len,
			    SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_text(stmt, i + 1,
			    p[i].text ? p[i].text : "", -1, SQLITE_TRANSIENT);
		if (rc != SQLITE_OK) {
			db_error(db, "bind", err);
			sqlite3_finalize(stmt);
			return EMF_ERR_IO;
		}
	}
	row.stmt = stmt;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (fn != NULL && !fn(ctx, &row))
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_error(db, "step", err);
		sqlite3_finalize(stmt);
		return EMF_ERR_IO;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(db);
	sqlite3_finalize(stmt);
	return EMF_OK;
}

static const char *
sq_col_text(struct state_row *row, int i)
{
	const unsigned char *s = sqlite3_column_text(row->stmt, i);

	return s ? (const char *)s : "";
}

static GBytes *
sq_col_bytes(struct state_row *row, int i)
{
	const void *b = sqlite3_column_blob(row->stmt, i);
	int n = sqlite3_column_bytes(row->stmt, i);

	return g_bytes_new(b, b ? (gsize)n : 0);
}

const struct state_backend emf_state_sqlite = {
	"sqlite", sq_open, sq_close, sq_begin, sq_commit, sq_rollback,
	sq_exec, sq_col_text, sq_col_bytes
};
