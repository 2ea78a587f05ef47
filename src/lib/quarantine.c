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
#include <unistd.h>

#include <glib.h>

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
 * Make directory path with mode 0700 if it does not exist. An existing
 * directory is left as it is (the review tool judges its mode); a symlink
 * or a non-directory is refused.
 */
static enum emf_rc
ensure_dir(const char *path, struct emf_error *err)
{
	struct stat st;

	if (mkdir(path, 0700) == 0) {
		if (chmod(path, 0700) != 0) {
			qerr(err, "%s: chmod: %s", path, g_strerror(errno));
			return EMF_ERR_IO;
		}
		return EMF_OK;
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
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			qerr(err, "%s: write: %s", path, g_strerror(errno));
			return EMF_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return EMF_OK;
}

/*
 * Write data to a fresh temporary file under tmpdir and publish it as
 * final (which must not exist). The temporary is removed on every path.
 */
static enum emf_rc
publish(const char *tmpdir, const char *final, const void *data,
    size_t len, struct emf_error *err)
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
	if (fchmod(fd, 0600) != 0) {
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

	if ((rc = ensure_dir(dir, err)) != EMF_OK ||
	    (rc = ensure_dir(tmpdir, err)) != EMF_OK ||
	    (rc = ensure_dir(daydir, err)) != EMF_OK)
		goto out;
	/* A new day directory must itself survive a crash. */
	if ((rc = fsync_dir(dir, err)) != EMF_OK)
		goto out;
	if ((rc = publish(tmpdir, eml, msg, len, err)) != EMF_OK)
		goto out;
	if ((rc = fsync_dir(daydir, err)) != EMF_OK) {
		unlink(eml);
		goto out;
	}
	rc = publish(tmpdir, json, report_json, strlen(report_json), err);
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
