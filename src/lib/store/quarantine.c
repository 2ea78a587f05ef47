/*
 * quarantine.c - the quarantine store on disk (layout: quarantine.h).
 *
 * Writers (milter workers, emofilter-scan --quarantine) may run
 * concurrently: every file is created O_EXCL|O_NOFOLLOW under a unique
 * temporary name in STORE/tmp, fsynced, then linked into the day
 * directory (link() fails on an existing name, so two writers can never
 * replace each other's entry), and the directory is fsynced. The report
 * (.json) is published last: an entry exists iff its .json exists.
 * Modes are set with fchmod()/chmod() after creation so the process umask
 * cannot widen or narrow them.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "core/fdio.h"
#include "quarantine.h"

static void qerr(struct emf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
qerr(struct emf_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

bool
emf_quarantine_id_valid(const char *id)
{
	/* "YYYYMMDDTHHMMSSZ-xxxxxxxx": 25 characters, nothing else. */
	static const char shape[] = "DDDDDDDDTDDDDDDZ-XXXXXXXX";

	if (id == NULL || strlen(id) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i] != '\0'; i++) {
		char c = id[i];

		switch (shape[i]) {
		case 'D':
			if (c < '0' || c > '9')
				return false;
			break;
		case 'X':
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return false;
			break;
		default:
			if (c != shape[i])
				return false;
		}
	}
	return true;
}

char *
emf_quarantine_path(const char *dir, const char *id, const char *ext)
{
	char day[9];

	if (dir == NULL || !emf_quarantine_id_valid(id) || ext == NULL ||
	    strchr(ext, '/') != NULL)
		return NULL;
	memcpy(day, id, 8);
	day[8] = '\0';
	return g_strdup_printf("%s/%s/%s.%s", dir, day, id, ext);
}

/*
 * The mode of a directory below the store: the store's own, less anything
 * beyond 02750 (so a 2750 store with its CSIRT group gives 2750 day
 * directories, a private 0700 store 0700 ones).
 */
static mode_t
sub_mode(const struct stat *top)
{
	return top == NULL ? 0700 : (top->st_mode & 02750) | 0700;
}

/*
 * Hand path (a file or directory we just made, open as fd) to the store's
 * owner and group: as root always (the review tool under sudo must not
 * leave files the daemon or the analysts cannot read), as anyone else
 * only the group, when we are a member of it (best effort: a directory
 * with the setgid bit gives it anyway).
 */
static enum emf_rc
give_to_store(int fd, const char *path, const struct stat *top,
    struct emf_error *err)
{
	struct stat st;

	if (top == NULL || fstat(fd, &st) != 0)
		return EMF_OK;
	if (geteuid() == 0) {
		if ((st.st_uid != top->st_uid || st.st_gid != top->st_gid) &&
		    fchown(fd, top->st_uid, top->st_gid) != 0) {
			qerr(err, "%s: chown to the store owner: %s", path,
			    g_strerror(errno));
			return EMF_ERR_IO;
		}
	} else if (st.st_gid != top->st_gid) {
		(void)fchown(fd, (uid_t)-1, top->st_gid);
	}
	return EMF_OK;
}

/*
 * Make directory path (mode sub_mode(top), owner and group the store's)
 * if it does not exist. An existing directory is left as it is (the
 * review tool judges its mode); a symlink or a non-directory is refused.
 * top is the store's stat, NULL when path is the store itself.
 */
static enum emf_rc
ensure_dir(const char *path, const struct stat *top, struct emf_error *err)
{
	mode_t want = sub_mode(top);
	struct stat st;
	int fd;
	enum emf_rc rc;

	mode_t um;
	int made;

	/*
	 * The umask is out of the way for this mkdir alone (the mode is
	 * explicit): fixing the mode afterwards with chmod would drop the
	 * setgid bit the directory inherits from the store whenever we are
	 * not in the store's group (the daemon drops its supplementary
	 * groups), and the files made in it would not get the CSIRT group.
	 */
	um = umask(0);
	made = mkdir(path, want & 0777);
	umask(um);
	if (made == 0) {
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd < 0) {
			qerr(err, "%s: open: %s", path, g_strerror(errno));
			return EMF_ERR_IO;
		}
		rc = give_to_store(fd, path, top, err);
		/* Only when needed (root's chown may clear the setgid
		 * bit; a store without it gives none). */
		if (rc == EMF_OK && fstat(fd, &st) == 0 &&
		    (st.st_mode & 07777) != want && fchmod(fd, want) != 0) {
			qerr(err, "%s: chmod: %s", path, g_strerror(errno));
			rc = EMF_ERR_IO;
		}
		close(fd);
		return rc;
	}
	if (errno != EEXIST) {
		qerr(err, "%s: mkdir: %s", path, g_strerror(errno));
		return EMF_ERR_IO;
	}
	if (lstat(path, &st) != 0) {
		qerr(err, "%s: %s", path, g_strerror(errno));
		return EMF_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		qerr(err, "%s: not a directory", path);
		return EMF_ERR_IO;
	}
	return EMF_OK;
}

/* The store's own stat (after ensure_dir() of it). */
static enum emf_rc
store_stat(const char *dir, struct stat *st, struct emf_error *err)
{
	if (lstat(dir, st) != 0) {
		qerr(err, "%s: %s", dir, g_strerror(errno));
		return EMF_ERR_IO;
	}
	return EMF_OK;
}

static enum emf_rc
fsync_dir(const char *path, struct emf_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		qerr(err, "%s: open: %s", path, g_strerror(errno));
		return EMF_ERR_IO;
	}
	if (fsync(fd) != 0 && errno != EINVAL) {
		qerr(err, "%s: fsync: %s", path, g_strerror(errno));
		close(fd);
		return EMF_ERR_IO;
	}
	close(fd);
	return EMF_OK;
}

static enum emf_rc
write_all(int fd, const char *path, const void *data, size_t len,
    struct emf_error *err)
{
	if (!emf_write_all(fd, data, len)) {
		qerr(err, "%s: write: %s", path, g_strerror(errno));
		return EMF_ERR_IO;
	}
	return EMF_OK;
}

/*
 * Write data to a fresh temporary file under tmpdir and publish it as
 * final (which must not exist). The temporary is removed on every path.
 */
static enum emf_rc
publish(const char *tmpdir, const char *final, const void *data,
    size_t len, bool replace, const struct stat *top, struct emf_error *err)
{
	char *tmp = NULL;
	int fd = -1;
	enum emf_rc rc = EMF_ERR_IO;
	char *base = g_path_get_basename(final);

	/* A name unique across processes and threads of this host. */
	for (int tries = 0; tries < 16 && fd < 0; tries++) {
		g_free(tmp);
		tmp = g_strdup_printf("%s/%s.%ld.%08x", tmpdir, base,
		    (long)getpid(), g_random_int());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		qerr(err, "%s: create: %s", tmp, g_strerror(errno));
		g_free(tmp);
		g_free(base);
		return EMF_ERR_IO;
	}
	if (give_to_store(fd, tmp, top, err) != EMF_OK)
		goto out;
	if (fchmod(fd, EMF_QUARANTINE_FILE_MODE) != 0) {
		qerr(err, "%s: fchmod: %s", tmp, g_strerror(errno));
		goto out;
	}
	if (write_all(fd, tmp, data, len, err) != EMF_OK)
		goto out;
	if (fsync(fd) != 0) {
		qerr(err, "%s: fsync: %s", tmp, g_strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		qerr(err, "%s: close: %s", tmp, g_strerror(errno));
		goto out;
	}
	fd = -1;
	if (replace) {
		if (rename(tmp, final) != 0) {
			qerr(err, "%s: rename: %s", final, g_strerror(errno));
			goto out;
		}
		g_free(tmp);
		tmp = NULL;
		rc = EMF_OK;
		goto out;
	}
	if (link(tmp, final) != 0) {
		int e = errno;

		if (e == EEXIST) {
			qerr(err, "%s: entry already exists", final);
			goto out;
		}
		/* File systems without hard links: rename, after a check. */
		if ((e == EPERM || e == ENOTSUP || e == EOPNOTSUPP) &&
		    access(final, F_OK) != 0 && rename(tmp, final) == 0) {
			g_free(tmp);
			tmp = NULL;
			rc = EMF_OK;
			goto out;
		}
		qerr(err, "%s: %s", final, g_strerror(e));
		goto out;
	}
	rc = EMF_OK;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	g_free(tmp);
	g_free(base);
	return rc;
}

enum emf_rc
emf_quarantine_store(const char *dir, const char *id, const void *msg,
    size_t len, const char *report_json, struct emf_error *err)
{
	char *tmpdir = NULL, *daydir = NULL, *eml = NULL, *json = NULL;
	char day[9];
	struct stat top;
	enum emf_rc rc;

	if (err != NULL)
		err->msg[0] = '\0';
	if (dir == NULL || *dir == '\0') {
		qerr(err, "quarantine: no store directory configured");
		return EMF_ERR_IO;
	}
	if (!emf_quarantine_id_valid(id)) {
		qerr(err, "quarantine: invalid entry ID");
		return EMF_ERR_INTERNAL;
	}
	if ((msg == NULL && len > 0) || report_json == NULL) {
		qerr(err, "quarantine: no message or report");
		return EMF_ERR_INTERNAL;
	}
	memcpy(day, id, 8);
	day[8] = '\0';
	tmpdir = g_strdup_printf("%s/tmp", dir);
	daydir = g_strdup_printf("%s/%s", dir, day);
	eml = emf_quarantine_path(dir, id, "eml");
	json = emf_quarantine_path(dir, id, "json");

	if ((rc = ensure_dir(dir, NULL, err)) != EMF_OK ||
	    (rc = store_stat(dir, &top, err)) != EMF_OK ||
	    (rc = ensure_dir(tmpdir, &top, err)) != EMF_OK ||
	    (rc = ensure_dir(daydir, &top, err)) != EMF_OK)
		goto out;
	/* A new day directory must itself survive a crash. */
	if ((rc = fsync_dir(dir, err)) != EMF_OK)
		goto out;
	if ((rc = publish(tmpdir, eml, msg, len, false, &top, err)) != EMF_OK)
		goto out;
	if ((rc = fsync_dir(daydir, err)) != EMF_OK) {
		unlink(eml);
		goto out;
	}
	rc = publish(tmpdir, json, report_json, strlen(report_json), false,
	    &top, err);
	if (rc == EMF_OK && (rc = fsync_dir(daydir, err)) != EMF_OK)
		unlink(json);
	/* No report, no entry: do not leave an orphan message. */
	if (rc != EMF_OK)
		unlink(eml);
out:
	g_free(tmpdir);
	g_free(daydir);
	g_free(eml);
	g_free(json);
	return rc;
}

/* ---- reading and maintenance ----------------------------------------- */

/* Whether we are in group gid (effective or supplementary). */
static bool
in_group(gid_t gid)
{
	gid_t groups[256];
	int n;

	if (getegid() == gid)
		return true;
	n = getgroups((int)G_N_ELEMENTS(groups), groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

enum emf_rc
emf_quarantine_check_access(const char *dir, bool write,
    struct emf_error *err)
{
	struct stat st;
	uid_t me = geteuid();

	if (err != NULL)
		err->msg[0] = '\0';
	if (dir == NULL || *dir == '\0') {
		qerr(err, "no quarantine store configured");
		return EMF_ERR_IO;
	}
	if (lstat(dir, &st) != 0) {
		qerr(err, "%s: quarantine store: %s", dir, g_strerror(errno));
		return EMF_ERR_IO;
	}
	if (S_ISLNK(st.st_mode)) {
		qerr(err, "%s: quarantine store is a symbolic link; give the "
		    "real path", dir);
		return EMF_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		qerr(err, "%s: quarantine store is not a directory", dir);
		return EMF_ERR_IO;
	}
	if ((st.st_mode & 0027) != 0) {
		qerr(err, "%s: quarantine store permissions %04o are too open "
		    "(want 2750, owner the daemon user, group the CSIRT group, "
		    "or 0700; never group-writable or open to others: it "
		    "holds malware and private mail)", dir,
		    (unsigned)(st.st_mode & 07777));
		return EMF_ERR_IO;
	}
	if (st.st_uid == me || me == 0)
		return EMF_OK;
	if (!write && (st.st_mode & 0050) == 0050 && in_group(st.st_gid))
		return EMF_OK;
	if (!write && (st.st_mode & 0050) == 0050)
		qerr(err, "%s: quarantine store belongs to uid %lu and gid "
		    "%lu; we (uid %lu) are in neither (join the CSIRT group, "
		    "or run as the store owner: sudo -u OWNER)", dir,
		    (unsigned long)st.st_uid, (unsigned long)st.st_gid,
		    (unsigned long)me);
	else if (!write)
		qerr(err, "%s: quarantine store belongs to uid %lu, not to us "
		    "(uid %lu)", dir, (unsigned long)st.st_uid,
		    (unsigned long)me);
	else
		qerr(err, "%s: quarantine store belongs to uid %lu, not to us "
		    "(uid %lu): changes (release, delete, purge, export, ioc, "
		    "sync) are made as the store owner or root (sudo -u OWNER "
		    "or sudo; see emofilter-quarantine(8))", dir,
		    (unsigned long)st.st_uid, (unsigned long)me);
	return EMF_ERR_IO;
}

enum emf_rc
emf_quarantine_check(const char *dir, struct emf_error *err)
{
	return emf_quarantine_check_access(dir, true, err);
}

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[n] == '\0';
}

static gint
cmp_desc(gconstpointer a, gconstpointer b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

static enum emf_rc list_ext(const char *dir, const char *ext, char ***ids,
    size_t *n, struct emf_error *err);

enum emf_rc
emf_quarantine_list(const char *dir, char ***ids, size_t *n,
    struct emf_error *err)
{
	return list_ext(dir, ".json", ids, n, err);
}

enum emf_rc
emf_quarantine_list_notes(const char *dir, const char *ext, char ***ids,
    size_t *n, struct emf_error *err)
{
	char *dot = g_strdup_printf(".%s", ext);
	enum emf_rc rc = list_ext(dir, dot, ids, n, err);

	g_free(dot);
	return rc;
}

/* The IDs of the files ID.EXT (dotext: ".EXT") of the day directories. */
static enum emf_rc
list_ext(const char *dir, const char *dotext, char ***ids, size_t *n,
    struct emf_error *err)
{
	size_t el = strlen(dotext);
	GPtrArray *out = g_ptr_array_new();
	GError *gerr = NULL;
	GDir *top, *day;
	const char *name, *f;

	*ids = NULL;
	*n = 0;
	top = g_dir_open(dir, 0, &gerr);
	if (top == NULL) {
		qerr(err, "%s", gerr->message);
		g_error_free(gerr);
		g_ptr_array_free(out, TRUE);
		return EMF_ERR_IO;
	}
	while ((name = g_dir_read_name(top)) != NULL) {
		char *path;
		struct stat st;

		if (strlen(name) != 8 || !all_digits(name, 8))
			continue;
		path = g_build_filename(dir, name, NULL);
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			g_free(path);
			continue;
		}
		day = g_dir_open(path, 0, NULL);
		g_free(path);
		if (day == NULL)
			continue;
		while ((f = g_dir_read_name(day)) != NULL) {
			size_t len = strlen(f);
			char *id;

			if (len <= el || strcmp(f + len - el, dotext) != 0)
				continue;
			id = g_strndup(f, len - el);
			/* The file must sit in the day directory of its ID. */
			if (!emf_quarantine_id_valid(id) ||
			    strncmp(id, name, 8) != 0) {
				g_free(id);
				continue;
			}
			g_ptr_array_add(out, id);
		}
		g_dir_close(day);
	}
	g_dir_close(top);
	g_ptr_array_sort(out, cmp_desc);
	*n = out->len;
	g_ptr_array_add(out, NULL);
	*ids = (char **)g_ptr_array_free(out, FALSE);
	return EMF_OK;
}

void
emf_quarantine_ids_free(char **ids)
{
	g_strfreev(ids);
}

bool
emf_quarantine_exists(const char *dir, const char *id)
{
	char *path = emf_quarantine_path(dir, id, "json");
	struct stat st;
	bool ok;

	if (path == NULL)
		return false;
	ok = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	g_free(path);
	return ok;
}

enum emf_rc
emf_quarantine_read(const char *dir, const char *id, const char *ext,
    size_t max, char **data, size_t *len, struct emf_error *err)
{
	char *path = emf_quarantine_path(dir, id, ext);
	enum emf_rc rc = EMF_ERR_IO;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	*data = NULL;
	if (len != NULL)
		*len = 0;
	if (path == NULL) {
		qerr(err, "invalid entry ID");
		return EMF_ERR_FORMAT;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		qerr(err, "%s: %s", path, g_strerror(errno));
		rc = errno == ENOENT ? EMF_ERR_FORMAT : EMF_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		qerr(err, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 0027) != 0) {
		qerr(err, "%s: mode %04o is group-writable or open to others: "
		    "refused (entry files are 0640; chmod 0640 it if it is "
		    "really ours)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((uint64_t)st.st_size > (uint64_t)max) {
		qerr(err, "%s: %lld bytes, more than the %zu allowed", path,
		    (long long)st.st_size, max);
		rc = EMF_ERR_LIMIT;
		goto out;
	}
	buf = g_malloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			qerr(err, "%s: read: %s", path, g_strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*data = buf;
	buf = NULL;
	if (len != NULL)
		*len = got;
	rc = EMF_OK;
out:
	if (fd >= 0)
		close(fd);
	g_free(buf);
	g_free(path);
	return rc;
}

static enum emf_rc put_file(const char *dir, const char *id, const char *ext,
    const void *data, size_t len, struct emf_error *err);

enum emf_rc
emf_quarantine_put(const char *dir, const char *id, const char *ext,
    const void *data, size_t len, struct emf_error *err)
{
	if (!emf_quarantine_exists(dir, id)) {
		qerr(err, "%s: no such entry", id ? id : "(null)");
		return EMF_ERR_FORMAT;
	}
	return put_file(dir, id, ext, data, len, err);
}

enum emf_rc
emf_quarantine_put_note(const char *dir, const char *id, const char *ext,
    const void *data, size_t len, struct emf_error *err)
{
	if (ext == NULL || strcmp(ext, "json") == 0 || strcmp(ext, "eml") == 0 ||
	    strcmp(ext, "released") == 0) {
		qerr(err, "a note may not be an entry file");
		return EMF_ERR_INTERNAL;
	}
	return put_file(dir, id, ext, data, len, err);
}

/* Write DIR/DAY/ID.EXT atomically (the day directory made if missing). */
static enum emf_rc
put_file(const char *dir, const char *id, const char *ext, const void *data,
    size_t len, struct emf_error *err)
{
	char *path, *tmpdir, *daydir;
	struct stat top;
	enum emf_rc rc;

	path = emf_quarantine_path(dir, id, ext);
	if (path == NULL) {
		qerr(err, "invalid file name");
		return EMF_ERR_INTERNAL;
	}
	tmpdir = g_strdup_printf("%s/tmp", dir);
	daydir = g_path_get_dirname(path);
	rc = store_stat(dir, &top, err);
	if (rc == EMF_OK)
		rc = ensure_dir(tmpdir, &top, err);
	if (rc == EMF_OK)
		rc = ensure_dir(daydir, &top, err);
	if (rc == EMF_OK)
		rc = publish(tmpdir, path, data, len, true, &top, err);
	if (rc == EMF_OK)
		rc = fsync_dir(daydir, err);
	g_free(path);
	g_free(tmpdir);
	g_free(daydir);
	return rc;
}

enum emf_rc
emf_quarantine_remove(const char *dir, const char *id,
    struct emf_error *err)
{
	static const char *const exts[] = { "json", "released", "history",
		"eml" };
	enum emf_rc rc = EMF_OK;
	char *daydir = NULL;

	if (!emf_quarantine_exists(dir, id)) {
		qerr(err, "%s: no such entry", id ? id : "(null)");
		return EMF_ERR_FORMAT;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(exts); i++) {
		char *path = emf_quarantine_path(dir, id, exts[i]);

		if (daydir == NULL)
			daydir = g_path_get_dirname(path);
		if (unlink(path) != 0 && errno != ENOENT && rc == EMF_OK) {
			qerr(err, "%s: unlink: %s", path, g_strerror(errno));
			rc = EMF_ERR_IO;
		}
		g_free(path);
	}
	if (rc == EMF_OK)
		rc = fsync_dir(daydir, err);
	/* An emptied day directory goes too (fails harmlessly if not empty). */
	(void)rmdir(daydir);
	g_free(daydir);
	return rc;
}

enum emf_rc
emf_quarantine_remove_note(const char *dir, const char *id, const char *ext,
    struct emf_error *err)
{
	char *path = emf_quarantine_path(dir, id, ext);
	char *daydir;
	enum emf_rc rc = EMF_OK;

	if (path == NULL) {
		qerr(err, "invalid entry ID");
		return EMF_ERR_FORMAT;
	}
	if (unlink(path) != 0) {
		qerr(err, "%s: unlink: %s", path, g_strerror(errno));
		rc = errno == ENOENT ? EMF_ERR_FORMAT : EMF_ERR_IO;
	}
	daydir = g_path_get_dirname(path);
	if (rc == EMF_OK && !emf_quarantine_exists(dir, id))
		(void)rmdir(daydir);	/* fails harmlessly if not empty */
	g_free(daydir);
	g_free(path);
	return rc;
}

/*
 * Append text (whole lines) to the store file path with one write() of an
 * O_APPEND file, fsynced, so concurrent writers never interleave; the
 * file is a regular file (a symlink is not followed) with the store's
 * owner, group and mode (0640). cap > 0: refused ("WHAT full") if the
 * file would grow past cap bytes.
 */
static enum emf_rc
append_line(const char *path, const char *text, const struct stat *top,
    off_t cap, const char *what, struct emf_error *err)
{
	size_t len = strlen(text);
	enum emf_rc rc = EMF_ERR_IO;
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		qerr(err, "%s: %s", path, g_strerror(errno));
		return EMF_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		qerr(err, "%s: not a regular file", path);
		goto out;
	}
	if (give_to_store(fd, path, top, err) != EMF_OK)
		goto out;
	if ((st.st_mode & 07777) != EMF_QUARANTINE_FILE_MODE &&
	    fchmod(fd, EMF_QUARANTINE_FILE_MODE) != 0) {
		qerr(err, "%s: fchmod: %s", path, g_strerror(errno));
		goto out;
	}
	if (cap > 0 && st.st_size + (off_t)len > cap) {
		qerr(err, "%s: %s full", path, what);
		goto out;
	}
	if (write_all(fd, path, text, len, err) != EMF_OK)
		goto out;
	if (fsync(fd) != 0) {
		qerr(err, "%s: fsync: %s", path, g_strerror(errno));
		goto out;
	}
	rc = EMF_OK;
out:
	close(fd);
	return rc;
}

enum emf_rc
emf_quarantine_audit(const char *dir, const char *line,
    struct emf_error *err)
{
	char *path = g_strdup_printf("%s/audit.log", dir);
	char *text = g_strdup_printf("%s\n", line);
	struct stat top;
	enum emf_rc rc;

	rc = store_stat(dir, &top, err);
	if (rc == EMF_OK)	/* the audit trail has no cap */
		rc = append_line(path, text, &top, 0, "audit log", err);
	g_free(path);
	g_free(text);
	return rc;
}

enum emf_rc
emf_quarantine_history(const char *dir, const char *id, const char *line,
    struct emf_error *err)
{
	char *path, *daydir, *text;
	struct stat top;
	enum emf_rc rc;

	if ((path = emf_quarantine_path(dir, id, "history")) == NULL) {
		qerr(err, "%s: not an entry ID", id ? id : "(null)");
		return EMF_ERR_INTERNAL;
	}
	daydir = g_path_get_dirname(path);
	text = g_strdup_printf("%s\n", line);
	for (char *p = text; p[1] != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	rc = ensure_dir(dir, NULL, err);
	if (rc == EMF_OK)
		rc = store_stat(dir, &top, err);
	if (rc == EMF_OK)
		rc = ensure_dir(daydir, &top, err);
	/* Bounded: a history is a few lines; past the cap it stops. */
	if (rc == EMF_OK)
		rc = append_line(path, text, &top, EMF_QUARANTINE_HISTORY_MAX,
		    "history", err);
	g_free(text);
	g_free(daydir);
	g_free(path);
	return rc;
}

enum emf_rc
emf_quarantine_clean_tmp(const char *dir, long max_age, unsigned *removed,
    struct emf_error *err)
{
	char *tmpdir = g_strdup_printf("%s/tmp", dir);
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	time_t now = time(NULL);
	const char *name;

	*removed = 0;
	if (d == NULL) {
		g_free(tmpdir);
		return EMF_OK;	/* no tmp/ yet: nothing to clean */
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(tmpdir, name, NULL);
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > max_age) {
			if (unlink(path) == 0)
				(*removed)++;
			else
				qerr(err, "%s: unlink: %s", path,
				    g_strerror(errno));
		}
		g_free(path);
	}
	g_dir_close(d);
	g_free(tmpdir);
	return EMF_OK;
}
