/*
 * spool.c - the per-message spool: memory first, then a private temp file.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fdio.h"
#include "spool.h"

struct emf_spool {
	size_t mem_cap, max_bytes;
	char *tmpdir;
	uint8_t *buf;		/* memory part, while fd < 0 */
	size_t len, cap;	/* bytes kept */
	uint64_t offered;	/* bytes offered, kept or not */
	int fd;			/* temp file or memfd, -1 if none */
	bool on_disk;
	void *map;		/* mapping of the spill file after finish */
	size_t map_len;
	bool finished;		/* no append after emf_spool_finish() */
};

struct emf_spool *
emf_spool_new(size_t mem_cap, size_t max_bytes, const char *tmpdir)
{
	struct emf_spool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL)
		return NULL;
	sp->mem_cap = mem_cap < max_bytes ? mem_cap : max_bytes;
	sp->max_bytes = max_bytes;
	sp->fd = -1;
	if ((sp->tmpdir = strdup(tmpdir != NULL ? tmpdir : "/tmp")) == NULL) {
		free(sp);
		return NULL;
	}
	return sp;
}

void
emf_spool_free(struct emf_spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->map != NULL)
		munmap(sp->map, sp->map_len);
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->buf);
	free(sp->tmpdir);
	free(sp);
}

/*
 * Move the memory part to an unlinked temp file. O_TMPFILE where the file
 * system has it; otherwise mkstemp + unlink, so no name survives us.
 */
static enum emf_rc
spill(struct emf_spool *sp)
{
	int fd = open(sp->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		size_t n = strlen(sp->tmpdir) + sizeof("/emf-spool-XXXXXX");
		char *path = malloc(n);

		if (path == NULL)
			return EMF_ERR_NOMEM;
		snprintf(path, n, "%s/emf-spool-XXXXXX", sp->tmpdir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
		free(path);
		if (fd < 0)
			return EMF_ERR_IO;
	}
	if (!emf_write_all(fd, sp->buf, sp->len)) {
		close(fd);
		return EMF_ERR_IO;
	}
	free(sp->buf);
	sp->buf = NULL;
	sp->cap = 0;
	sp->fd = fd;
	sp->on_disk = true;
	return EMF_OK;
}

enum emf_rc
emf_spool_append(struct emf_spool *sp, const void *p, size_t len)
{
	enum emf_rc rc;

	sp->offered += len;
	if (sp->finished)
		return EMF_ERR_INTERNAL;	/* appended after finish */
	if (sp->offered > sp->max_bytes)
		return EMF_OK;	/* counted, not kept: the caller checks */
	if (!sp->on_disk && sp->len + len > sp->mem_cap &&
	    (rc = spill(sp)) != EMF_OK)
		return rc;
	if (sp->on_disk) {
		if (!emf_write_all(sp->fd, p, len))
			return EMF_ERR_IO;
		sp->len += len;
		return EMF_OK;
	}
	if (sp->len + len > sp->cap) {
		/* len <= mem_cap - sp->len here, so no overflow. */
		size_t ncap = sp->cap ? sp->cap : 4096;
		uint8_t *nb;

		while (ncap < sp->len + len)
			ncap = ncap > sp->mem_cap / 2 ? sp->mem_cap : ncap * 2;
		if ((nb = realloc(sp->buf, ncap)) == NULL)
			return EMF_ERR_NOMEM;
		sp->buf = nb;
		sp->cap = ncap;
	}
	memcpy(sp->buf + sp->len, p, len);
	sp->len += len;
	return EMF_OK;
}

enum emf_rc
emf_spool_header(struct emf_spool *sp, const char *name, const char *value)
{
	enum emf_rc rc;
	const char *v, *nl;

	if ((rc = emf_spool_append(sp, name, strlen(name))) != EMF_OK ||
	    (rc = emf_spool_append(sp, ":", 1)) != EMF_OK)
		return rc;
	/* Folded values arrive with bare LF (Postfix) or CRLF: write CRLF. */
	for (v = value; (nl = strchr(v, '\n')) != NULL; v = nl + 1) {
		size_t n = (size_t)(nl - v);

		if (n > 0 && v[n - 1] == '\r')
			n--;
		if ((rc = emf_spool_append(sp, v, n)) != EMF_OK ||
		    (rc = emf_spool_append(sp, "\r\n", 2)) != EMF_OK)
			return rc;
	}
	if ((rc = emf_spool_append(sp, v, strlen(v))) != EMF_OK)
		return rc;
	return emf_spool_append(sp, "\r\n", 2);
}

uint64_t
emf_spool_size(const struct emf_spool *sp)
{
	return sp->offered;
}

bool
emf_spool_oversize(const struct emf_spool *sp)
{
	return sp->offered > sp->max_bytes;
}

bool
emf_spool_on_disk(const struct emf_spool *sp)
{
	return sp->on_disk;
}

enum emf_rc
emf_spool_finish(struct emf_spool *sp, const uint8_t **data, size_t *len,
    int *fd)
{
	static const uint8_t empty[1];

	/* A spilled spool: its file, mapped read-only once. */
	if (sp->on_disk && sp->map == NULL && sp->len > 0) {
		sp->map = mmap(NULL, sp->len, PROT_READ, MAP_SHARED, sp->fd, 0);
		if (sp->map == MAP_FAILED) {
			sp->map = NULL;
			return EMF_ERR_IO;
		}
		sp->map_len = sp->len;
	}
	/*
	 * A memory spool stays where it is; a descriptor of it (a memfd)
	 * is made only when one is asked for, and the bytes are kept, so
	 * *data needs no mapping.
	 */
	if (fd != NULL && sp->fd < 0) {
		int mfd = emf_memfd_of("emf-spool", sp->buf, sp->len);

		if (mfd < 0)
			return EMF_ERR_IO;
		sp->fd = mfd;
	}
	sp->finished = true;
	*data = sp->map != NULL ? sp->map : sp->buf != NULL ? sp->buf : empty;
	*len = sp->len;
	if (fd != NULL)
		*fd = sp->fd;
	return EMF_OK;
}
