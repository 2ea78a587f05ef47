/*
 * hdrtext.h - header text the milter writes: RFC 2047 encoded words for
 * text that is not ASCII, the prefixed Subject, folding.
 *
 * Values start with their own leading space (SMFIP_HDR_LEADSPC) and fold
 * with "\n " (Postfix and Sendmail write each line of a value as a header
 * line). Text that is not valid UTF-8 is made valid first; control
 * characters are dropped, so a value never breaks the header.
 */
#ifndef EMF_HDRTEXT_H
#define EMF_HDRTEXT_H

/*
 * The value for a header named name: text as it is when it is printable
 * ASCII, else as encoded words (UTF-8, Q encoding) of at most 75 characters,
 * folded to keep lines within 76 columns. Caller frees (g_free).
 */
char *emf_hdr_value(const char *name, const char *text);

/*
 * The new Subject value: prefix in front of the original value (as
 * received, NULL when the message has none), which is kept byte for byte.
 * A prefix that is not ASCII becomes encoded words; before an encoded
 * word of the original, the separating space is encoded with it (a
 * decoder drops white space between two encoded words). Caller frees.
 */
char *emf_hdr_subject(const char *prefix, const char *orig);

#endif /* EMF_HDRTEXT_H */
