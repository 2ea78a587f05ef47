/*
 * charset.c - any mail text to UTF-8, the way mail clients read it.
 *
 * Labels lie or are missing, so the declared charset is a hint: the bytes
 * decide when they clearly say otherwise (ISO-2022-JP escapes in a part
 * labelled us-ascii, Shift_JIS in a part labelled UTF-8). Conversion never
 * fails: invalid bytes become U+FFFD and decoding goes on.
 *
 * ISO-2022-JP is decoded as Japanese mail clients do (Microsoft's CP50221):
 * JIS X 0208 pairs are mapped to Shift_JIS and read as CP932, so the NEC
 * and IBM extension characters (①, ㈱, 髙) that glibc's ISO-2022-JP
 * refuses come out right. [RFC 1468]
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "charset.h"

/* Map a label to the converter mail clients actually use for it. */
static const char *
canonical(const char *label)
{
	static const struct { const char *alias, *iconv; } map[] = {
		{ "shift_jis", "CP932" }, { "shift-jis", "CP932" },
		{ "sjis", "CP932" }, { "x-sjis", "CP932" },
		{ "ms_kanji", "CP932" }, { "csshiftjis", "CP932" },
		{ "windows-31j", "CP932" }, { "cp932", "CP932" },
		{ "x-ms-cp932", "CP932" }, { "ms932", "CP932" },
		{ "iso-2022-jp", "ISO-2022-JP" }, { "csiso2022jp", "ISO-2022-JP" },
		{ "iso-2022-jp-1", "ISO-2022-JP" }, { "iso-2022-jp-ms", "ISO-2022-JP" },
		{ "cp50220", "ISO-2022-JP" }, { "cp50221", "ISO-2022-JP" },
		{ "euc-jp", "EUC-JP-MS" }, { "x-euc-jp", "EUC-JP-MS" },
		{ "eucjp", "EUC-JP-MS" }, { "cseucpkdfmtjapanese", "EUC-JP-MS" },
		{ "us-ascii", "WINDOWS-1252" }, { "ascii", "WINDOWS-1252" },
		{ "iso-8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
		{ "iso_8859-1", "WINDOWS-1252" }, { "utf8", "UTF-8" },
		{ "ks_c_5601-1987", "CP949" }, { "euc-kr", "CP949" },
		{ "gb2312", "GB18030" }, { "gbk", "GB18030" },
		{ "x-gbk", "GB18030" }, { "big5", "BIG5-HKSCS" },
		{ "unicode-1-1-utf-7", "UTF-7" }, { "x-unknown", NULL },
		{ "unknown-8bit", NULL }, { "8bit", NULL }, { "default", NULL },
	};

	if (label == NULL || *label == '\0')
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (g_ascii_strcasecmp(label, map[i].alias) == 0)
			return map[i].iconv;
	return label;
}

static bool
has_jis_escape(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (d[i] == 0x1b && ((d[i + 1] == '$' &&
		    (d[i + 2] == 'B' || d[i + 2] == '@' || d[i + 2] == '(')) ||
		    (d[i + 1] == '(' && (d[i + 2] == 'J' || d[i + 2] == 'I'))))
			return true;
	return false;
}

static bool
is_ascii(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (d[i] >= 0x80)
			return false;
	return true;
}

/* Convert through iconv; invalid input becomes U+FFFD. */
static char *
convert_lossy(const uint8_t *d, size_t len, const char *from,
    size_t *errors)
{
	GIConv cd = g_iconv_open("UTF-8", from);
	GString *out;
	gchar *in = (gchar *)d;
	gsize inleft = len;
	char buf[4096];

	*errors = 0;
	if (cd == (GIConv)-1)
		return NULL;
	out = g_string_sized_new(len + len / 2 + 16);
	while (inleft > 0) {
		gchar *o = buf;
		gsize oleft = sizeof(buf);
		gsize r = g_iconv(cd, &in, &inleft, &o, &oleft);

		g_string_append_len(out, buf, (gssize)(sizeof(buf) - oleft));
		if (r != (gsize)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated tail): skip one byte. */
		g_string_append(out, "\xef\xbf\xbd");
		(*errors)++;
		in++;
		inleft--;
		g_iconv(cd, NULL, NULL, NULL, NULL);
	}
	{
		/* Flush any shift state. */
		gchar *o = buf;
		gsize oleft = sizeof(buf);

		g_iconv(cd, NULL, NULL, &o, &oleft);
		g_string_append_len(out, buf, (gssize)(sizeof(buf) - oleft));
	}
	g_iconv_close(cd);
	return g_string_free(out, FALSE);
}

/* JIS X 0208 row/cell pair to Shift_JIS bytes. */
static void
jis_to_sjis(uint8_t j1, uint8_t j2, uint8_t *s1, uint8_t *s2)
{
	*s1 = (uint8_t)(((j1 + 1) >> 1) + (j1 <= 0x5e ? 0x70 : 0xb0));
	if (j1 & 1)
		*s2 = (uint8_t)(j2 + (j2 <= 0x5f ? 0x1f : 0x20));
	else
		*s2 = (uint8_t)(j2 + 0x7e);
}

/*
 * ISO-2022-JP (with the CP50221 extensions: half-width katakana by
 * ESC ( I or SO/SI) to CP932 bytes. Unknown escapes are dropped; JIS X
 * 0212 characters become '?' (CP932 has no room for them).
 */
static GByteArray *
iso2022jp_to_sjis(const uint8_t *d, size_t len)
{
	enum { ASCII, KANJI, KANA, X0212 } mode = ASCII, saved = ASCII;
	GByteArray *out = g_byte_array_sized_new((guint)len);

	for (size_t i = 0; i < len; i++) {
		uint8_t c = d[i];

		if (c == 0x1b) {
			const uint8_t *e = d + i + 1;
			size_t left = len - i - 1;

			if (left >= 2 && e[0] == '$' && (e[1] == 'B' || e[1] == '@')) {
				mode = KANJI;
				i += 2;
			} else if (left >= 3 && e[0] == '$' && e[1] == '(' &&
			    (e[2] == 'D')) {
				mode = X0212;
				i += 3;
			} else if (left >= 3 && e[0] == '$' && e[1] == '(' &&
			    (e[2] == 'Q' || e[2] == 'O')) {
				mode = KANJI;	/* JIS X 0213 plane 1 ~ 0208 */
				i += 3;
			} else if (left >= 2 && e[0] == '(' && e[1] == 'I') {
				mode = KANA;
				i += 2;
			} else if (left >= 2 && e[0] == '(' &&
			    (e[1] == 'B' || e[1] == 'J' || e[1] == 'H')) {
				mode = ASCII;
				i += 2;
			}
			else {
				/*
				 * Unknown: drop the whole ISO 2022 sequence
				 * (intermediates 0x20-0x2f, then one final
				 * byte), not just the ESC.
				 */
				while (i + 1 < len && d[i + 1] >= 0x20 &&
				    d[i + 1] <= 0x2f)
					i++;
				if (i + 1 < len && d[i + 1] >= 0x30 &&
				    d[i + 1] <= 0x7e)
					i++;
			}
			continue;
		}
		if (c == 0x0e) {	/* SO: katakana until SI */
			saved = mode;
			mode = KANA;
			continue;
		}
		if (c == 0x0f) {
			mode = saved == KANA ? ASCII : saved;
			continue;
		}
		if (c == '\r' || c == '\n') {
			/* RFC 1468: lines end in ASCII; broken mail forgets. */
			mode = ASCII;
			g_byte_array_append(out, &c, 1);
			continue;
		}
		if ((mode == KANJI || mode == X0212) && c >= 0x21 && c <= 0x7e &&
		    i + 1 < len && d[i + 1] >= 0x21 && d[i + 1] <= 0x7e) {
			uint8_t s[2];

			if (mode == KANJI) {
				jis_to_sjis(c, d[i + 1], &s[0], &s[1]);
				g_byte_array_append(out, s, 2);
			} else {
				g_byte_array_append(out, (const uint8_t *)"?", 1);
			}
			i++;
			continue;
		}
		if (mode == KANA && c >= 0x21 && c <= 0x5f) {
			uint8_t k = (uint8_t)(c + 0x80);

			g_byte_array_append(out, &k, 1);
			continue;
		}
		/* 8-bit bytes in ISO-2022-JP: often raw CP932 mixed in. */
		g_byte_array_append(out, &c, 1);
	}
	return out;
}

static char *
decode_iso2022jp(const uint8_t *d, size_t len, size_t *errors)
{
	GByteArray *sj = iso2022jp_to_sjis(d, len);
	char *s = convert_lossy(sj->data, sj->len, "CP932", errors);

	g_byte_array_free(sj, TRUE);
	return s;
}

/* How Japanese a decoding looks: kana and kanji up, half-width kana down. */
static long
japanese_score(const char *s)
{
	long score = 0;

	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c >= 0x3040 && c <= 0x30ff)
			score += 2;
		else if (c >= 0x4e00 && c <= 0x9fff)
			score += 1;
		else if (c >= 0xff61 && c <= 0xff9f)
			score -= 2;
		else if (c == 0xfffd)
			score -= 10;
	}
	return score;
}

char *
emf_charset_to_utf8(const uint8_t *d, size_t len, const char *declared,
    const char **used)
{
	const char *cs = canonical(declared);
	size_t err = 0;
	char *s = NULL;

	if (d == NULL)
		len = 0;
	if (len == 0) {
		*used = "UTF-8";
		return g_strdup("");
	}
	/* Escapes are a strong sign whatever the label (7-bit JIS). */
	if (has_jis_escape(d, len) && (cs == NULL ||
	    g_ascii_strcasecmp(cs, "ISO-2022-JP") == 0 ||
	    g_ascii_strcasecmp(cs, "WINDOWS-1252") == 0 ||
	    g_ascii_strcasecmp(cs, "UTF-8") == 0)) {
		*used = "ISO-2022-JP";
		return decode_iso2022jp(d, len, &err);
	}
	if (is_ascii(d, len)) {
		*used = cs ? cs : "US-ASCII";
		if (cs != NULL && g_ascii_strcasecmp(cs, "UTF-7") == 0 &&
		    (s = convert_lossy(d, len, "UTF-7", &err)) != NULL)
			return s;
		*used = "US-ASCII";
		return g_strndup((const char *)d, len);
	}
	if (cs != NULL && g_ascii_strcasecmp(cs, "ISO-2022-JP") == 0) {
		*used = "ISO-2022-JP";
		return decode_iso2022jp(d, len, &err);
	}
	/* 8-bit data: valid UTF-8 is UTF-8, whatever the label says. */
	if (g_utf8_validate((const char *)d, (gssize)len, NULL) &&
	    memchr(d, 0, len) == NULL) {
		*used = "UTF-8";
		return g_strndup((const char *)d, len);
	}
	if (cs != NULL && g_ascii_strcasecmp(cs, "UTF-8") != 0 &&
	    g_ascii_strcasecmp(cs, "WINDOWS-1252") != 0) {
		s = convert_lossy(d, len, cs, &err);
		if (s != NULL && err * 100 <= len) {
			*used = cs;
			return s;
		}
		g_free(s);
		s = NULL;
	}
	/*
	 * Unlabelled, mislabelled or wrong: try the Japanese encodings and
	 * keep the one that reads most like Japanese; else Windows-1252,
	 * which is what a Western client would show.
	 */
	{
		static const char *const jp[] = { "CP932", "EUC-JP-MS" };
		long best = 0;

		for (size_t i = 0; i < G_N_ELEMENTS(jp); i++) {
			char *t = convert_lossy(d, len, jp[i], &err);
			long sc;

			if (t == NULL)
				continue;
			sc = japanese_score(t);
			if (err * 50 <= len && sc > best) {
				g_free(s);
				s = t;
				best = sc;
				*used = jp[i];
			} else {
				g_free(t);
			}
		}
		if (s != NULL)
			return s;
	}
	*used = "WINDOWS-1252";
	s = convert_lossy(d, len, "WINDOWS-1252", &err);
	return s ? s : g_utf8_make_valid((const char *)d, (gssize)len);
}

/*
 * NFKC in pieces of at most NFKC_CHUNK bytes: GLib's g_utf8_normalize()
 * moves the rest of its buffer for every pair it composes, so its cost
 * grows with the square of the piece. A piece ends before an ASCII byte
 * or after a blank, where NFKC has a boundary (ASCII has combining class
 * 0 and never composes with what precedes it; a blank never composes
 * with what follows), so cutting there changes nothing. Pieces are small
 * because the cost within one is quadratic: over a 1 MB text of
 * Shift_JIS mislabelled as UTF-8, 16 KiB pieces took 1.5 s natively and
 * 20 s under ASan (whose memmove is bytewise) and hit the hostile suite's
 * deadline. A piece with no such place in its second half is cut at a
 * character boundary (hostile input only). ASCII is its own NFKC form,
 * so an all-ASCII piece is copied as it is.
 */
#define NFKC_CHUNK 2048

char *
emf_utf8_nfkc(const char *utf8, size_t len)
{
	GString *out = g_string_sized_new(len + 16);
	size_t i = 0;

	while (i < len) {
		size_t n = len - i, k;
		char *piece;

		if (n > NFKC_CHUNK) {
			n = NFKC_CHUNK;
			for (k = n; k > NFKC_CHUNK / 2; k--)
				if ((unsigned char)utf8[i + k] < 0x80 ||
				    g_ascii_isspace(utf8[i + k - 1]))
					break;
			if (k > NFKC_CHUNK / 2)
				n = k;
			else
				while (n > 0 && ((unsigned char)utf8[i + n] &
				    0xc0) == 0x80)
					n--;
			if (n == 0)
				n = NFKC_CHUNK;
		}
		if (is_ascii((const uint8_t *)utf8 + i, n)) {
			g_string_append_len(out, utf8 + i, (gssize)n);
			i += n;
			continue;
		}
		piece = g_utf8_normalize(utf8 + i, (gssize)n,
		    G_NORMALIZE_NFKC);
		if (piece == NULL) {
			g_string_free(out, TRUE);
			return NULL;
		}
		g_string_append(out, piece);
		g_free(piece);
		i += n;
	}
	return g_string_free(out, FALSE);
}
