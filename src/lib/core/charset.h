/*
 * charset.h - decoding mail text to UTF-8.
 */
#ifndef EMF_CHARSET_H
#define EMF_CHARSET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode d[0..len) to UTF-8 (NUL-terminated, g_free). declared is the
 * label from the mail (may be NULL or wrong). *used is set to the charset
 * actually used (a static string). Never fails: bytes that do not decode
 * become U+FFFD.
 */
char *emf_charset_to_utf8(const uint8_t *d, size_t len, const char *declared,
    const char **used);

/*
 * NFKC of valid UTF-8 d[0..len) (g_free), in linear time: use it instead
 * of g_utf8_normalize() on anything longer than a line. NULL if d is not
 * valid UTF-8.
 */
char *emf_utf8_nfkc(const char *d, size_t len);

#endif /* EMF_CHARSET_H */
