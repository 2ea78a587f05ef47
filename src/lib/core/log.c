/*
 * log.c - the log sink. Library code rarely logs; programs choose where
 * lines go (stderr for tools, syslog for the daemon).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static emf_log_sink log_sink;
static void *log_arg;
static int log_level = EMF_LOG_INFO;

void
emf_log_set_sink(emf_log_sink sink, void *arg)
{
	log_sink = sink;
	log_arg = arg;
}

void
emf_log_set_level(int level)
{
	log_level = level;
}

void
emf_logv(int level, const char *fmt, va_list ap)
{
	char line[2048];

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_sink != NULL)
		log_sink(level, line, log_arg);
	else
		fprintf(stderr, "%s\n", line);
}

void
emf_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emf_logv(level, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (0 if invalid). */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* The code point of the valid k-byte UTF-8 sequence at p. */
static unsigned long
utf8_cp(const unsigned char *p, size_t k)
{
	unsigned long c = k == 2 ? p[0] & 0x1f : k == 3 ? p[0] & 0x0f :
	    p[0] & 0x07;

	for (size_t i = 1; i < k; i++)
		c = (c << 6) | (p[i] & 0x3f);
	return c;
}

/* Whether c is a format character that reorders or hides text: C1,
 * zero-width, bidi, line/paragraph separator. */
static int
hidden_format(unsigned long c)
{
	return (c >= 0x80 && c < 0xa0) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0xfeff;
}

char *
emf_log_safe(char *buf, size_t n, const char *s)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)(s ? s : "(null)");

	if (n == 0)
		return buf;
	while (*p != '\0') {
		size_t k = utf8_seq(p);
		char tmp[8];
		size_t tl;

		if (k == 1 && (*p < 0x20 || *p == 0x7f || *p == '\\')) {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			k = 1;
		} else if (k == 0) {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			k = 1;
		} else if (k > 1 && hidden_format(utf8_cp(p, k))) {
			/* C1, bidi and zero-width: would reorder or hide
			 * the rest of the line in a log viewer. */
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04lx",
			    utf8_cp(p, k));
		} else {
			memcpy(tmp, p, k);
			tl = k;
		}
		if (o + tl + 4 > n) {
			if (n >= 4) {
				o = o < n - 4 ? o : n - 4;
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
		p += k;
	}
	buf[o < n ? o : n - 1] = '\0';
	return buf;
}
