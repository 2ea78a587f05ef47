/*
 * fdio.c - whole writes and memfds (see fdio.h).
 */
#include "config.h"

#include <sys/mman.h>
#include <errno.h>
#include <unistd.h>

#include "fdio.h"

bool
emf_write_all(int fd, const void *p, size_t len)
{
	const char *b = p;

	while (len > 0) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		b += n;
		len -= (size_t)n;
	}
	return true;
}

int
emf_memfd_of(const char *name, const void *p, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && !emf_write_all(fd, p, len)) {
		int e = errno;

		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}
