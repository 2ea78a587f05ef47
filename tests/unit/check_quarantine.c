/*
 * check_quarantine.c - the quarantine store: layout and modes whatever the
 * umask, strict IDs, no overwrite, no half entry on failure, concurrent
 * writers in several processes.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "store/quarantine.h"
#include "testutil.h"

#define ID1 "20261125T054100Z-1a2b3c4d"
#define MSG1 "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
#define REP1 "{\"id\":\"" ID1 "\",\"score\":12.5}"

static char *
new_store_root(void)
{
	char *d = g_dir_make_tmp("emf-quar-XXXXXX", NULL);

	ck_assert_ptr_nonnull(d);
	return d;
}

static void
rm_rf(const char *path)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", path);

	ck_assert_int_eq(system(cmd), 0);
	g_free(cmd);
}

static unsigned
mode_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		ck_abort_msg("%s: %s", path, g_strerror(errno));
	return st.st_mode & 07777;
}

/* Number of directory entries (files) in path. */
static int
count_entries(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	int n = 0;

	if (d == NULL)
		return -1;
	while (g_dir_read_name(d) != NULL)
		n++;
	g_dir_close(d);
	return n;
}

static char *
slurp(const char *path, size_t *len)
{
	char *s = NULL;
	gsize n = 0;

	if (!g_file_get_contents(path, &s, &n, NULL))
		return NULL;
	if (len)
		*len = n;
	return s;
}

START_TEST(id_shape)
{
	static const struct {
		const char *id;
		bool want;
	} cases[] = {
		{ ID1, true },
		{ "20990101T000000Z-00000000", true },
		{ "20261125T054100Z-1a2b3c4", false },
		{ "20261125T054100Z-1a2b3c4de", false },
		{ "20261125T054100Z-1A2B3C4D", false },
		{ "20261125t054100Z-1a2b3c4d", false },
		{ "20261125T054100Z_1a2b3c4d", false },
		{ "../../../etc/passwd", false },
		{ "20261125/../T054100Z-1a2b", false },
		{ "2026112 T054100Z-1a2b3c4d", false },
		{ "20261125T054100Z-1a2b3c4/", false },
		{ "", false },
		{ NULL, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		bool got = emf_quarantine_id_valid(cases[i].id);

		ck_assert_msg(got == cases[i].want,
		    "id \"%s\": got %d, want %d",
		    cases[i].id ? cases[i].id : "(null)", got, cases[i].want);
	}
}
END_TEST

START_TEST(path_of_entry)
{
	char *p = emf_quarantine_path("/q", ID1, "json");

	ck_assert_str_eq(p, "/q/20261125/" ID1 ".json");
	g_free(p);
	ck_assert_ptr_null(emf_quarantine_path("/q", "../x", "json"));
	ck_assert_ptr_null(emf_quarantine_path("/q", ID1, "a/b"));
}
END_TEST

/* Layout and modes whatever the umask (0 would give 0777 if not forced). */
START_TEST(store_layout_and_modes)
{
	static const mode_t umasks[] = { 0, 022, 077, 0277 };
	mode_t um = umasks[_i];
	char *root = new_store_root();
	char *dir = g_build_filename(root, "store", NULL);
	char *day = g_build_filename(dir, "20261125", NULL);
	char *tmp = g_build_filename(dir, "tmp", NULL);
	char *eml = emf_quarantine_path(dir, ID1, "eml");
	char *json = emf_quarantine_path(dir, ID1, "json");
	struct emf_error err;
	mode_t old = umask(um);
	enum emf_rc rc;
	char *got;
	size_t len;

	rc = emf_quarantine_store(dir, ID1, MSG1, strlen(MSG1), REP1, &err);
	umask(old);
	ck_assert_msg(rc == EMF_OK, "umask %03o: got rc %d (%s), want OK",
	    (unsigned)um, rc, err.msg);
	ck_assert_uint_eq(mode_of(dir), 0700);
	ck_assert_uint_eq(mode_of(day), 0700);
	ck_assert_uint_eq(mode_of(tmp), 0700);
	ck_assert_uint_eq(mode_of(eml), 0640);
	ck_assert_uint_eq(mode_of(json), 0640);
	got = slurp(eml, &len);
	ck_assert_uint_eq(len, strlen(MSG1));
	ck_assert_mem_eq(got, MSG1, len);
	g_free(got);
	got = slurp(json, NULL);
	ck_assert_str_eq(got, REP1);
	g_free(got);
	/* Only the two entry files; nothing left in tmp/. */
	ck_assert_int_eq(count_entries(day), 2);
	ck_assert_int_eq(count_entries(tmp), 0);
	rm_rf(root);
	g_free(root);
	g_free(dir);
	g_free(day);
	g_free(tmp);
	g_free(eml);
	g_free(json);
}
END_TEST

/* Binary message bytes (NUL, 8-bit, bare CR) are stored unchanged. */
START_TEST(store_binary_bytes)
{
	static const unsigned char msg[] = { 'A', 0, 0xff, '\r', 0x1b, '$',
		'B', '\n', 0x80 };
	char *root = new_store_root();
	char *eml = emf_quarantine_path(root, ID1, "eml");
	struct emf_error err;
	char *got;
	size_t len;

	ck_assert_int_eq(emf_quarantine_store(root, ID1, msg, sizeof(msg),
	    "{}", &err), EMF_OK);
	got = slurp(eml, &len);
	ck_assert_uint_eq(len, sizeof(msg));
	ck_assert_mem_eq(got, msg, sizeof(msg));
	g_free(got);
	g_free(eml);
	rm_rf(root);
	g_free(root);
}
END_TEST

/* A second entry with the same ID is refused and the first is intact. */
START_TEST(no_overwrite)
{
	char *root = new_store_root();
	char *eml = emf_quarantine_path(root, ID1, "eml");
	char *json = emf_quarantine_path(root, ID1, "json");
	struct emf_error err;
	char *got;

	ck_assert_int_eq(emf_quarantine_store(root, ID1, MSG1, strlen(MSG1),
	    REP1, &err), EMF_OK);
	ck_assert_int_eq(emf_quarantine_store(root, ID1, "other", 5, "{}",
	    &err), EMF_ERR_IO);
	ck_assert_msg(strstr(err.msg, "exists") != NULL,
	    "got error \"%s\", want it to say the entry exists", err.msg);
	got = slurp(eml, NULL);
	ck_assert_str_eq(got, MSG1);
	g_free(got);
	got = slurp(json, NULL);
	ck_assert_str_eq(got, REP1);
	g_free(got);
	g_free(eml);
	g_free(json);
	rm_rf(root);
	g_free(root);
}
END_TEST

START_TEST(invalid_id_refused)
{
	char *root = new_store_root();
	struct emf_error err;

	ck_assert_int_ne(emf_quarantine_store(root, "../../x", MSG1,
	    strlen(MSG1), REP1, &err), EMF_OK);
	ck_assert_int_ne(emf_quarantine_store(root, NULL, MSG1,
	    strlen(MSG1), REP1, &err), EMF_OK);
	/* Nothing was created. */
	ck_assert_int_eq(count_entries(root), 0);
	rm_rf(root);
	g_free(root);
}
END_TEST

/* A symlink where the day directory should be is not followed. */
START_TEST(symlinked_day_dir_refused)
{
	char *root = new_store_root();
	char *elsewhere = new_store_root();
	char *day = g_build_filename(root, "20261125", NULL);
	struct emf_error err;

	ck_assert_int_eq(symlink(elsewhere, day), 0);
	ck_assert_int_eq(emf_quarantine_store(root, ID1, MSG1, strlen(MSG1),
	    REP1, &err), EMF_ERR_IO);
	ck_assert_msg(strstr(err.msg, "20261125") != NULL,
	    "got error \"%s\", want it to name the day directory", err.msg);
	ck_assert_int_eq(count_entries(elsewhere), 0);
	rm_rf(root);
	rm_rf(elsewhere);
	g_free(root);
	g_free(elsewhere);
	g_free(day);
}
END_TEST

/* The store path is under a regular file: EMF_ERR_IO with a message. */
START_TEST(unusable_dir)
{
	char *file = tu_tempfile("x");
	char *dir = g_build_filename(file, "store", NULL);
	struct emf_error err;

	err.msg[0] = '\0';
	ck_assert_int_eq(emf_quarantine_store(dir, ID1, MSG1, strlen(MSG1),
	    REP1, &err), EMF_ERR_IO);
	ck_assert_msg(strstr(err.msg, dir) != NULL,
	    "got error \"%s\", want it to name %s", err.msg, dir);
	unlink(file);
	g_free(file);
	g_free(dir);
}
END_TEST

/*
 * A write that fails half way (here: the file size limit, as a stand-in
 * for a full disk) gives EMF_ERR_IO and leaves neither the message, nor
 * the report, nor a temporary file. Run in a child so the limit stays
 * there.
 */
START_TEST(failed_write_leaves_nothing)
{
	char *root = new_store_root();
	char *day = g_build_filename(root, "20261125", NULL);
	char *tmp = g_build_filename(root, "tmp", NULL);
	size_t big = 1 << 20;
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		char *msg = g_malloc0(big);
		struct emf_error err;
		enum emf_rc rc;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(3);
		rc = emf_quarantine_store(root, ID1, msg, big, REP1, &err);
		if (rc != EMF_ERR_IO)
			_exit(1);
		if (strstr(err.msg, "write") == NULL)
			_exit(2);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %d: want EMF_ERR_IO naming the write", status);
	ck_assert_int_eq(count_entries(day), 0);
	ck_assert_int_eq(count_entries(tmp), 0);
	/* A big report after a fitting message: the message is removed too. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		char *rep = g_malloc(big);
		struct emf_error err;

		memset(rep, ' ', big - 1);
		rep[big - 1] = '\0';
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(3);
		_exit(emf_quarantine_store(root, ID1, MSG1, strlen(MSG1), rep,
		    &err) == EMF_ERR_IO ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(count_entries(day), 0);
	ck_assert_int_eq(count_entries(tmp), 0);
	rm_rf(root);
	g_free(root);
	g_free(day);
	g_free(tmp);
}
END_TEST

/*
 * Several processes write entries into one fresh store at once (they race
 * to create the directories too); every entry is complete.
 */
START_TEST(concurrent_writers)
{
	enum { NPROC = 6, NEACH = 20 };
	char *root = new_store_root();
	char *dir = g_build_filename(root, "store", NULL);
	char *day = g_build_filename(dir, "20261125", NULL);
	char *tmp = g_build_filename(dir, "tmp", NULL);
	pid_t pids[NPROC];

	for (int p = 0; p < NPROC; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			for (int i = 0; i < NEACH; i++) {
				char id[32], body[64];
				struct emf_error err;

				snprintf(id, sizeof(id),
				    "20261125T054100Z-%04x%04x", p, i);
				snprintf(body, sizeof(body), "msg %d %d\n", p, i);
				if (emf_quarantine_store(dir, id, body,
				    strlen(body), id, &err) != EMF_OK)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < NPROC; p++) {
		int status;

		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "writer %d failed (status %d)", p, status);
	}
	ck_assert_int_eq(count_entries(day), 2 * NPROC * NEACH);
	ck_assert_int_eq(count_entries(tmp), 0);
	for (int p = 0; p < NPROC; p++)
		for (int i = 0; i < NEACH; i++) {
			char id[32], want[64];
			char *path, *got;

			snprintf(id, sizeof(id), "20261125T054100Z-%04x%04x",
			    p, i);
			snprintf(want, sizeof(want), "msg %d %d\n", p, i);
			path = emf_quarantine_path(dir, id, "eml");
			got = slurp(path, NULL);
			ck_assert_msg(got && strcmp(got, want) == 0,
			    "%s: got \"%s\", want \"%s\"", id, got, want);
			g_free(got);
			g_free(path);
		}
	rm_rf(root);
	g_free(root);
	g_free(dir);
	g_free(day);
	g_free(tmp);
}
END_TEST

/* list: newest first, only entries (a .json in the day of its ID). */
START_TEST(list_and_read)
{
	static const char *const ids[] = {
		"20261124T235959Z-00000001", "20261125T054100Z-1a2b3c4d",
		"20261125T054100Z-0a2b3c4d", "20250101T000000Z-ffffffff",
	};
	static const char *const want[] = {
		"20261125T054100Z-1a2b3c4d", "20261125T054100Z-0a2b3c4d",
		"20261124T235959Z-00000001", "20250101T000000Z-ffffffff",
	};
	char *root = new_store_root();
	struct emf_error err;
	char **got, *data, *p;
	size_t n, len;

	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
		ck_assert_int_eq(emf_quarantine_store(root, ids[i], "m", 1,
		    ids[i], &err), EMF_OK);
	/* Junk the list must ignore: a stray file, a misplaced entry, an
	 * orphan message, a bad name. */
	p = g_build_filename(root, "20261125", "notes.json", NULL);
	ck_assert(g_file_set_contents(p, "{}", -1, NULL));
	g_free(p);
	p = g_build_filename(root, "20261125", "20261111T000000Z-00000000.json",
	    NULL);
	ck_assert(g_file_set_contents(p, "{}", -1, NULL));
	g_free(p);
	p = g_build_filename(root, "20261125", "20261125T000000Z-00000000.eml",
	    NULL);
	ck_assert(g_file_set_contents(p, "x", -1, NULL));
	g_free(p);

	ck_assert_int_eq(emf_quarantine_list(root, &got, &n, &err), EMF_OK);
	ck_assert_uint_eq(n, G_N_ELEMENTS(want));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(got[i], want[i]) == 0,
		    "list[%zu]: got %s, want %s", i, got[i], want[i]);
	ck_assert_ptr_null(got[n]);
	emf_quarantine_ids_free(got);

	ck_assert_int_eq(emf_quarantine_read(root, ids[1], "json", 1000, &data,
	    &len, &err), EMF_OK);
	ck_assert_str_eq(data, ids[1]);
	g_free(data);
	ck_assert_int_eq(emf_quarantine_read(root, ids[1], "json", 4, &data,
	    &len, &err), EMF_ERR_LIMIT);
	ck_assert_int_eq(emf_quarantine_read(root, ids[1], "released", 1000,
	    &data, &len, &err), EMF_ERR_FORMAT);
	ck_assert_int_eq(emf_quarantine_read(root, "../../etc/passwd", "json",
	    1000, &data, &len, &err), EMF_ERR_FORMAT);
	ck_assert(emf_quarantine_exists(root, ids[0]));
	ck_assert(!emf_quarantine_exists(root, "20261125T000000Z-00000000"));

	/* put replaces; remove takes every file of the entry. */
	ck_assert_int_eq(emf_quarantine_put(root, ids[1], "released", "a", 1,
	    &err), EMF_OK);
	ck_assert_int_eq(emf_quarantine_put(root, ids[1], "released", "bb", 2,
	    &err), EMF_OK);
	ck_assert_int_eq(emf_quarantine_read(root, ids[1], "released", 100,
	    &data, &len, &err), EMF_OK);
	ck_assert_str_eq(data, "bb");
	g_free(data);
	ck_assert_int_eq(emf_quarantine_put(root, "20261125T000000Z-00000000",
	    "released", "a", 1, &err), EMF_ERR_FORMAT);
	ck_assert_int_eq(emf_quarantine_remove(root, ids[1], &err), EMF_OK);
	ck_assert(!emf_quarantine_exists(root, ids[1]));
	ck_assert_int_eq(emf_quarantine_read(root, ids[1], "eml", 100, &data,
	    &len, &err), EMF_ERR_FORMAT);
	ck_assert_int_eq(emf_quarantine_remove(root, ids[1], &err),
	    EMF_ERR_FORMAT);
	rm_rf(root);
	g_free(root);
}
END_TEST

START_TEST(check_permissions)
{
	char *root = new_store_root();
	char *link = g_strdup_printf("%s.lnk", root);
	struct emf_error err;

	ck_assert_int_eq(chmod(root, 0700), 0);
	ck_assert_int_eq(emf_quarantine_check(root, &err), EMF_OK);
	/* The CSIRT model: group may read, never write. */
	ck_assert_int_eq(chmod(root, 02750), 0);
	ck_assert_int_eq(emf_quarantine_check(root, &err), EMF_OK);
	ck_assert_int_eq(chmod(root, 0750), 0);
	ck_assert_int_eq(emf_quarantine_check(root, &err), EMF_OK);
	ck_assert_int_eq(chmod(root, 02770), 0);
	ck_assert_int_eq(emf_quarantine_check(root, &err), EMF_ERR_IO);
	ck_assert_msg(strstr(err.msg, "too open") != NULL, "got \"%s\"",
	    err.msg);
	ck_assert_int_eq(chmod(root, 0754), 0);
	ck_assert_int_eq(emf_quarantine_check_access(root, false, &err),
	    EMF_ERR_IO);
	ck_assert_int_eq(chmod(root, 0701), 0);
	ck_assert_int_eq(emf_quarantine_check(root, &err), EMF_ERR_IO);
	ck_assert_int_eq(chmod(root, 0700), 0);
	ck_assert_int_eq(symlink(root, link), 0);
	ck_assert_int_eq(emf_quarantine_check(link, &err), EMF_ERR_IO);
	unlink(link);
	ck_assert_int_eq(emf_quarantine_check("/nonexistent/emf-store", &err),
	    EMF_ERR_IO);
	ck_assert_msg(strstr(err.msg, "No such file") != NULL, "got \"%s\"",
	    err.msg);
	rm_rf(root);
	g_free(root);
	g_free(link);
}
END_TEST

/*
 * A 2750 store (the CSIRT model): day and tmp directories 2750, files
 * 0640, whatever the umask; group-writable or world-readable entry files
 * are refused when read.
 */
START_TEST(csirt_store_modes)
{
	static const mode_t umasks[] = { 022, 077 };
	mode_t um = umasks[_i];
	char *root = new_store_root();
	char *day = g_build_filename(root, "20261125", NULL);
	char *tmp = g_build_filename(root, "tmp", NULL);
	char *eml = emf_quarantine_path(root, ID1, "eml");
	char *json = emf_quarantine_path(root, ID1, "json");
	struct emf_error err;
	mode_t old;
	enum emf_rc rc;
	char *got = NULL;

	ck_assert_int_eq(chmod(root, 02750), 0);
	old = umask(um);
	rc = emf_quarantine_store(root, ID1, MSG1, strlen(MSG1), REP1, &err);
	umask(old);
	ck_assert_msg(rc == EMF_OK, "store: %s", err.msg);
	ck_assert_uint_eq(mode_of(day) & 07777, 02750);
	ck_assert_uint_eq(mode_of(tmp) & 07777, 02750);
	ck_assert_uint_eq(mode_of(eml), 0640);
	ck_assert_uint_eq(mode_of(json), 0640);
	ck_assert_int_eq(emf_quarantine_read(root, ID1, "json", 1 << 20,
	    &got, NULL, &err), EMF_OK);
	g_free(got);
	ck_assert_int_eq(chmod(json, 0660), 0);
	ck_assert_int_eq(emf_quarantine_read(root, ID1, "json", 1 << 20,
	    &got, NULL, &err), EMF_ERR_IO);
	ck_assert_msg(strstr(err.msg, "group-writable or open to others") !=
	    NULL, "got \"%s\"", err.msg);
	ck_assert_int_eq(chmod(json, 0644), 0);
	ck_assert_int_eq(emf_quarantine_read(root, ID1, "json", 1 << 20,
	    &got, NULL, &err), EMF_ERR_IO);
	ck_assert_ptr_null(got);
	rm_rf(root);
	g_free(root);
	g_free(day);
	g_free(tmp);
	g_free(eml);
	g_free(json);
}
END_TEST

enum { NPROC = 4, NEACH = 50 };

/*
 * NPROC processes each append NEACH lines of 299 times its own letter,
 * to the audit log of root, or to entry ID1's history if history.
 */
static void
concurrent_lines(const char *root, bool history)
{
	pid_t pids[NPROC];

	for (int p = 0; p < NPROC; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			char line[300];
			struct emf_error err;

			memset(line, 'a' + p, sizeof(line) - 1);
			line[sizeof(line) - 1] = '\0';
			for (int i = 0; i < NEACH; i++)
				if ((history ? emf_quarantine_history(root,
				    ID1, line, &err) : emf_quarantine_audit(
				    root, line, &err)) != EMF_OK)
					_exit(1);
			_exit(0);
		}
	}
	for (int p = 0; p < NPROC; p++) {
		int status;

		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* Audit lines from concurrent processes are whole lines. */
START_TEST(audit_appends_whole_lines)
{
	char *root = new_store_root();
	char *path = g_build_filename(root, "audit.log", NULL);
	char *text, **lines;
	guint nlines;

	concurrent_lines(root, false);
	ck_assert_uint_eq(mode_of(path), 0640);
	text = slurp(path, NULL);
	lines = g_strsplit(text, "\n", -1);
	nlines = g_strv_length(lines);
	ck_assert_uint_eq(nlines, NPROC * NEACH + 1);	/* last is "" */
	for (guint i = 0; i + 1 < nlines; i++) {
		ck_assert_uint_eq(strlen(lines[i]), 299);
		ck_assert_msg(strspn(lines[i], (char[]){ lines[i][0], 0 }) ==
		    299, "line %u is mixed", i);
	}
	g_strfreev(lines);
	g_free(text);
	rm_rf(root);
	g_free(root);
	g_free(path);
}
END_TEST

/*
 * An entry's history: whole lines from concurrent processes, 0640 like
 * the entry, control characters made '?', its day directory made before
 * the entry exists, a symlink refused, and nothing past the 1 MiB cap.
 */
START_TEST(history_appends_bounded_lines)
{
	char *root = new_store_root();
	char *path = emf_quarantine_path(root, ID1, "history");
	char *other = emf_quarantine_path(root, ID1, "elsewhere");
	char *text, **lines, *big;
	struct emf_error err;
	guint nlines;
	size_t len;

	ck_assert_int_eq(emf_quarantine_history(root, "../x", "l", &err),
	    EMF_ERR_INTERNAL);
	concurrent_lines(root, true);
	ck_assert_uint_eq(mode_of(path), 0640);
	ck_assert_int_eq(emf_quarantine_history(root, ID1, "x\ty\rz\x7f",
	    &err), EMF_OK);
	text = slurp(path, &len);
	ck_assert_uint_eq(len, NPROC * NEACH * 300 + 7);
	ck_assert_str_eq(text + len - 7, "x?y?z?\n");
	lines = g_strsplit(text, "\n", -1);
	nlines = g_strv_length(lines);
	ck_assert_uint_eq(nlines, NPROC * NEACH + 2);	/* last is "" */
	for (guint i = 0; i + 2 < nlines; i++) {
		ck_assert_uint_eq(strlen(lines[i]), 299);
		ck_assert_msg(strspn(lines[i], (char[]){ lines[i][0], 0 }) ==
		    299, "line %u is mixed", i);
	}
	g_strfreev(lines);
	g_free(text);
	/* up to the cap, then "history full" and the file unchanged */
	big = g_malloc(EMF_QUARANTINE_HISTORY_MAX);
	memset(big, 'h', EMF_QUARANTINE_HISTORY_MAX - len - 3);
	big[EMF_QUARANTINE_HISTORY_MAX - len - 3] = '\0';
	ck_assert_msg(emf_quarantine_history(root, ID1, big, &err) == EMF_OK,
	    "%s", err.msg);
	ck_assert_int_eq(emf_quarantine_history(root, ID1, "y", &err),
	    EMF_OK);
	ck_assert_int_eq(emf_quarantine_history(root, ID1, "z", &err),
	    EMF_ERR_IO);
	ck_assert_msg(strstr(err.msg, "history full") != NULL, "%s", err.msg);
	text = slurp(path, &len);
	ck_assert_uint_eq(len, EMF_QUARANTINE_HISTORY_MAX);
	ck_assert_str_eq(text + len - 2, "y\n");
	g_free(text);
	g_free(big);
	/* a symlink in its place is not followed */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(other, path), 0);
	ck_assert_int_eq(emf_quarantine_history(root, ID1, "l", &err),
	    EMF_ERR_IO);
	ck_assert_int_eq(access(other, F_OK), -1);
	rm_rf(root);
	g_free(root);
	g_free(path);
	g_free(other);
}
END_TEST

static Suite *
quarantine_suite(void)
{
	Suite *s = suite_create("quarantine");
	TCase *tc = tcase_create("store");

	tcase_add_test(tc, id_shape);
	tcase_add_test(tc, path_of_entry);
	tcase_add_loop_test(tc, store_layout_and_modes, 0, 4);
	tcase_add_test(tc, store_binary_bytes);
	tcase_add_test(tc, no_overwrite);
	tcase_add_test(tc, invalid_id_refused);
	tcase_add_test(tc, symlinked_day_dir_refused);
	tcase_add_test(tc, unusable_dir);
	tcase_add_test(tc, failed_write_leaves_nothing);
	tcase_add_test(tc, concurrent_writers);
	tcase_add_test(tc, list_and_read);
	tcase_add_test(tc, check_permissions);
	tcase_add_loop_test(tc, csirt_store_modes, 0, 2);
	tcase_add_test(tc, audit_appends_whole_lines);
	tcase_add_test(tc, history_appends_bounded_lines);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(quarantine_suite());
}
