/*
 * filetype.c - content sniffing by magic bytes, and file-name checks.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <glib.h>

#include "filetype.h"

static const char *const names[EMF_FT_MAX] = {
	[EMF_FT_UNKNOWN] = "binary",
	[EMF_FT_EMPTY] = "empty",
	[EMF_FT_TEXT] = "text",
	[EMF_FT_HTML] = "html",
	[EMF_FT_XML] = "xml",
	[EMF_FT_ZIP] = "zip",
	[EMF_FT_OOXML] = "ooxml",
	[EMF_FT_OLE2] = "ole2",
	[EMF_FT_RTF] = "rtf",
	[EMF_FT_PDF] = "pdf",
	[EMF_FT_PE] = "pe",
	[EMF_FT_ELF] = "elf",
	[EMF_FT_MACHO] = "macho",
	[EMF_FT_LNK] = "lnk",
	[EMF_FT_ISO] = "iso9660",
	[EMF_FT_ONENOTE] = "onenote",
	[EMF_FT_RAR] = "rar",
	[EMF_FT_7Z] = "7z",
	[EMF_FT_GZIP] = "gzip",
	[EMF_FT_BZIP2] = "bzip2",
	[EMF_FT_XZ] = "xz",
	[EMF_FT_CAB] = "cab",
	[EMF_FT_SYLK] = "sylk",
	[EMF_FT_IMAGE] = "image",
	[EMF_FT_MESSAGE] = "message",
	[EMF_FT_VBA_SOURCE] = "vba-source",
};

const char *
emf_filetype_name(enum emf_ftype type)
{
	if ((unsigned)type >= EMF_FT_MAX || names[type] == NULL)
		return "binary";
	return names[type];
}

static bool
has(const uint8_t *d, size_t len, size_t off, const void *magic, size_t n)
{
	return len >= off + n && memcmp(d + off, magic, n) == 0;
}

static bool
is_pe(const uint8_t *d, size_t len)
{
	uint32_t off;

	if (!has(d, len, 0, "MZ", 2) || len < 0x40)
		return false;
	off = (uint32_t)d[0x3c] | (uint32_t)d[0x3d] << 8 |
	    (uint32_t)d[0x3e] << 16 | (uint32_t)d[0x3f] << 24;
	/* Some droppers carry a bare DOS header: still an executable. */
	if (off >= len || len - off < 4)
		return len >= 0x40;
	return memcmp(d + off, "PE\0\0", 4) == 0 || len >= 0x40;
}

/* Skip a UTF-8 BOM and white space; case-insensitive prefix test. */
static bool
starts_tag(const uint8_t *d, size_t len, const char *tag)
{
	size_t i = 0, n = strlen(tag);

	if (has(d, len, 0, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && i < 512 && g_ascii_isspace(d[i]))
		i++;
	return len - i >= n && g_ascii_strncasecmp((const char *)d + i, tag,
	    n) == 0;
}

/* Mostly printable text in the first 4 KiB (any ASCII-compatible charset). */
static bool
looks_text(const uint8_t *d, size_t len)
{
	size_t n = len < 4096 ? len : 4096, bad = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = d[i];

		if (c == 0)
			return false;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' &&
		    c != '\f' && c != 0x1b)
			bad++;
	}
	return bad * 50 < n + 1;
}

static bool
looks_html(const uint8_t *d, size_t len)
{
	static const char *const tags[] = { "<!doctype html", "<html",
		"<head", "<body", "<meta", "<script", "<iframe", "<div",
		"<table", "<!--", NULL };

	for (size_t i = 0; tags[i] != NULL; i++)
		if (starts_tag(d, len, tags[i]))
			return true;
	return false;
}

static bool
looks_message(const uint8_t *d, size_t len)
{
	static const char *const hdrs[] = { "Received:", "Return-Path:",
		"From:", "Message-ID:", "MIME-Version:", "Date:", "Subject:",
		"Delivered-To:", NULL };
	int hits = 0;
	size_t n = len < 4096 ? len : 4096, k = 0;

	/*
	 * A message starts with a header field ("Name:"), or an mbox "From "
	 * line. Text that merely quotes headers further down (a forwarded
	 * mail pasted into a body) is text.
	 */
	while (k < n && k < 78 && (g_ascii_isalnum(d[k]) || d[k] == '-' ||
	    d[k] == '_'))
		k++;
	if (!(k > 0 && k < n && d[k] == ':') &&
	    !(n >= 5 && memcmp(d, "From ", 5) == 0))
		return false;

	for (size_t i = 0; hdrs[i] != NULL; i++) {
		size_t hl = strlen(hdrs[i]);

		for (size_t j = 0; j + hl <= n; j++) {
			if ((j == 0 || d[j - 1] == '\n') &&
			    g_ascii_strncasecmp((const char *)d + j, hdrs[i],
			    hl) == 0) {
				hits++;
				break;
			}
		}
	}
	return hits >= 3;
}

enum emf_ftype
emf_filetype_sniff(const uint8_t *d, size_t len)
{
	if (len == 0)
		return EMF_FT_EMPTY;
	if (has(d, len, 0, "PK\3\4", 4) || has(d, len, 0, "PK\5\6", 4) ||
	    has(d, len, 0, "PK\7\x08PK\3\4", 8) || has(d, len, 0, "PK00PK\3\4", 8))
		return EMF_FT_ZIP;
	if (has(d, len, 0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))
		return EMF_FT_OLE2;
	if (has(d, len, 0, "{\\rt", 4))
		return EMF_FT_RTF;
	if (is_pe(d, len))
		return EMF_FT_PE;
	if (has(d, len, 0, "\x7f" "ELF", 4))
		return EMF_FT_ELF;
	if (has(d, len, 0, "\xcf\xfa\xed\xfe", 4) ||
	    has(d, len, 0, "\xce\xfa\xed\xfe", 4) ||
	    has(d, len, 0, "\xca\xfe\xba\xbe", 4))
		return EMF_FT_MACHO;
	if (has(d, len, 0, "L\0\0\0\x01\x14\x02\0", 8))
		return EMF_FT_LNK;
	if (has(d, len, 0, "\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d", 8))
		return EMF_FT_ONENOTE;
	if (has(d, len, 0, "Rar!\x1a\x07", 6))
		return EMF_FT_RAR;
	if (has(d, len, 0, "7z\xbc\xaf\x27\x1c", 6))
		return EMF_FT_7Z;
	if (has(d, len, 0, "\x1f\x8b", 2))
		return EMF_FT_GZIP;
	if (has(d, len, 0, "BZh", 3) && len > 3 && d[3] >= '1' && d[3] <= '9')
		return EMF_FT_BZIP2;
	if (has(d, len, 0, "\xfd" "7zXZ\0", 6))
		return EMF_FT_XZ;
	if (has(d, len, 0, "MSCF\0\0\0\0", 8))
		return EMF_FT_CAB;
	if (has(d, len, 0x8001, "CD001", 5) || has(d, len, 0x8801, "CD001", 5) ||
	    has(d, len, 0x9001, "CD001", 5))
		return EMF_FT_ISO;
	if (has(d, len, 0, "\x89PNG\r\n\x1a\n", 8) ||
	    has(d, len, 0, "\xff\xd8\xff", 3) || has(d, len, 0, "GIF8", 4) ||
	    (has(d, len, 0, "BM", 2) && len > 26 && d[14] >= 12 && d[15] == 0))
		return EMF_FT_IMAGE;
	{
		/* PDF readers accept the header anywhere in the first KiB. */
		size_t n = len < 1024 ? len : 1024;

		for (size_t i = 0; i + 5 <= n; i++)
			if (memcmp(d + i, "%PDF-", 5) == 0)
				return EMF_FT_PDF;
	}
	if (has(d, len, 0, "ID;P", 4) || has(d, len, 0, "ID;", 3))
		return EMF_FT_SYLK;
	if (!looks_text(d, len))
		return EMF_FT_UNKNOWN;
	if (starts_tag(d, len, "<?xml")) {
		size_t n = len < 2048 ? len : 2048;

		if (g_strstr_len((const char *)d, (gssize)n, "<html") ||
		    g_strstr_len((const char *)d, (gssize)n, "<HTML"))
			return EMF_FT_HTML;
		return EMF_FT_XML;
	}
	if (looks_html(d, len))
		return EMF_FT_HTML;
	if (looks_message(d, len))
		return EMF_FT_MESSAGE;
	return EMF_FT_TEXT;
}

static const char *
extension(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	const char *slash = name ? strrchr(name, '/') : NULL;

	if (dot == NULL || dot[1] == '\0' || (slash != NULL && slash > dot))
		return NULL;
	return dot + 1;
}

static bool
ext_in(const char *ext, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (g_ascii_strcasecmp(ext, list[i]) == 0)
			return true;
	return false;
}

/*
 * Internet shortcuts (.url) are left out on purpose: they are common in
 * real mail (a saved link) and run nothing themselves.
 */
bool
emf_filename_is_executable(const char *name)
{
	static const char *const exe[] = { "exe", "dll", "scr", "com", "pif",
		"cpl", "msi", "msp", "js", "jse", "vbs", "vbe", "wsf", "wsh",
		"hta", "lnk", "bat", "cmd", "ps1", "psm1", "iso", "img", "vhd",
		"vhdx", "one", "jar", "reg", "scf", "xll", "appx",
		"msix", "chm", "application", "gadget", "sct", "inf", NULL };
	const char *ext = extension(name);

	/* Trailing dots and spaces are dropped by Windows: "a.exe. " runs. */
	if (name != NULL && ext == NULL) {
		size_t n = strlen(name);

		if (n > 0 && (name[n - 1] == '.' || name[n - 1] == ' ')) {
			char *t = g_strdup(name);
			bool r;

			g_strchomp(t);
			while (*t && t[strlen(t) - 1] == '.')
				t[strlen(t) - 1] = '\0';
			r = *t && extension(t) && emf_filename_is_executable(t);
			g_free(t);
			return r;
		}
	}
	return ext != NULL && ext_in(ext, exe);
}

bool
emf_filename_mismatch(const char *name, enum emf_ftype type)
{
	static const char *const ooxml[] = { "docx", "docm", "dotx", "dotm",
		"xlsx", "xlsm", "xltx", "xltm", "xlam", "pptx", "pptm", "potx",
		"potm", "ppsx", "ppsm", "xlsb", "vsdx", "vsdm", NULL };
	static const char *const ole[] = { "doc", "dot", "xls", "xlt", "xla",
		"ppt", "pps", "pot", "msg", "vsd", "pub", "mpp", "wps", NULL };
	static const char *const docs[] = { "pdf", "txt", "rtf", "jpg",
		"jpeg", "png", "gif", "csv", "htm", "html", NULL };
	const char *ext = extension(name);

	if (ext == NULL)
		return false;
	switch (type) {
	case EMF_FT_OLE2:
		/* An OLE2 workbook named .xlsm opens fine in Excel. */
		return ext_in(ext, ooxml) || ext_in(ext, docs);
	case EMF_FT_OOXML:
		return ext_in(ext, ole) || ext_in(ext, docs);
	case EMF_FT_PE:
	case EMF_FT_ELF:
	case EMF_FT_LNK:
		return !emf_filename_is_executable(name);
	case EMF_FT_ZIP:
		return ext_in(ext, ooxml) || ext_in(ext, ole) ||
		    ext_in(ext, docs);
	case EMF_FT_PDF:
		return ext_in(ext, ooxml) || ext_in(ext, ole);
	default:
		return false;
	}
}
