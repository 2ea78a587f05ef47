/*
 * log.h - the library's one logging path.
 *
 * The library rarely logs (errors are returned); when it does, lines go to
 * a sink the program installs: stderr by default (tools), syslog in the
 * daemon. Untrusted text goes through emf_log_safe() first.
 */
#ifndef EMF_LOG_H
#define EMF_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum emf_log_level { EMF_LOG_ERR = 3, EMF_LOG_WARNING = 4, EMF_LOG_NOTICE = 5,
	EMF_LOG_INFO = 6, EMF_LOG_DEBUG = 7 };

typedef void (*emf_log_sink)(int level, const char *line, void *arg);

/* Install a sink (NULL: stderr). Not thread-safe: call at start-up. */
void emf_log_set_sink(emf_log_sink sink, void *arg);
/* Lines above this level are dropped (default EMF_LOG_INFO). */
void emf_log_set_level(int level);

void emf_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void emf_logv(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Copy untrusted text into buf (size n), escaping control and non-UTF-8
 * bytes as \xHH and truncating with "..." so one log line stays one line.
 * Returns buf.
 */
char *emf_log_safe(char *buf, size_t n, const char *s);

#endif /* EMF_LOG_H */
