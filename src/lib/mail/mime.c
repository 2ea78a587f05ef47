/*
 * mime.c - the MIME walk (GMime's only user).
 *
 * Parses a message from memory, fills the header facts the heuristics
 * need, decodes every text part to UTF-8 (HTML reduced to text), and turns
 * every leaf part into an object. The tree is walked with an explicit,
 * capped stack (limits.mime_depth, limits.mime_parts), never by recursion,
 * so hostile nesting cannot exhaust the C stack. Parser warnings that mean
 * a broken or evasive structure become MIME_MALFORMED. [RFC 2045-2049]
 *
 * LIMITATIONS: uuencoded blocks inside a text/plain body are decoded only
 * when the block is introduced by a "begin NNN name" line.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "core/charset.h"
#include "html.h"
#include "core/modules.h"

void
emf_mime_init(void)
{
	g_mime_init();
}

void
emf_mime_shutdown(void)
{
	g_mime_shutdown();
}

struct walk {
	struct emf_scan *scan;
	struct emf_object *parent;
	unsigned warned;	/* bitmask of warnings already reported */
};

static void
on_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
    gpointer arg)
{
	struct walk *w = arg;
	const char *what;

	switch (code) {
	case GMIME_WARN_MALFORMED_MULTIPART:
		what = "multipart without parts";
		break;
	case GMIME_WARN_TRUNCATED_MESSAGE:
		what = "truncated message";
		break;
	case GMIME_WARN_MALFORMED_MESSAGE:
		what = "malformed message";
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
		what = "invalid header name";
		break;
	case GMIME_CRIT_CONFLICTING_HEADER:
		what = "conflicting headers";
		break;
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		what = "conflicting header parameters";
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		what = "multipart without boundary";
		break;
	case GMIME_CRIT_NESTING_OVERFLOW:
		emf_limit_hit(w->scan, "mime_depth", w->parent,
		    "the MIME parser's own nesting limit was reached");
		return;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		what = "part without headers or content";
		break;
	default:
		/* Duplicated headers, raw 8-bit headers, bad RFC 2047: all
		 * common in real mail, not worth a symbol. */
		return;
	}
	if (code < 32 && (w->warned & (1U << code)))
		return;
	if (code < 32)
		w->warned |= 1U << code;
	emf_symbol(w->scan, "MIME_MALFORMED", w->parent, "%s at offset %"
	    G_GINT64_FORMAT "%s%s", what, offset, item ? ": " : "",
	    item ? item : "");
}

/* ---- header facts -------------------------------------------------------- */

static InternetAddressMailbox *
first_mailbox(InternetAddressList *list)
{
	int n = list ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressMailbox *m = first_mailbox(
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)));

			if (m != NULL)
				return m;
		}
	}
	return NULL;
}

static char *
utf8_or_null(const char *s)
{
	return s ? g_utf8_make_valid(s, -1) : NULL;
}

/* "<a@b>" or "a@b (comment)" -> "a@b". */
static char *
bare_address(const char *v)
{
	const char *lt, *gt;

	if (v == NULL)
		return NULL;
	lt = strchr(v, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt != NULL && gt != NULL)
		return g_strstrip(g_strndup(lt + 1, (gsize)(gt - lt - 1)));
	return g_strstrip(g_strdup(v));
}

/*
 * Whether an Outlook Thread-Index may stand for thread headers. The index
 * is a 22-byte header block, and each reply or forward appends a 5-byte
 * child block ([MS-OXOMSG] PidTagConversationIndex), so a reply made in
 * Outlook carries 27 bytes or more. A well-formed 22-byte index is a
 * conversation's first message: it proves no thread. Anything else
 * (longer, or not readable as an index) is given the benefit of the doubt.
 */
static bool
thread_index_continues(const char *v)
{
	char *s, *w;
	guchar *raw;
	gsize n = 0;

	if (v == NULL)
		return false;
	if (strlen(v) > 1024)
		return true;
	/* Folded values: drop the blanks before decoding. */
	s = g_strdup(v);
	w = s;
	for (const char *r = s; *r != '\0'; r++)
		if (!g_ascii_isspace(*r))
			*w++ = *r;
	*w = '\0';
	raw = g_base64_decode(s, &n);
	g_free(s);
	g_free(raw);
	return n != 22;
}

static void
take_headers(struct emf_scan *scan, GMimeMessage *m)
{
	struct emf_msginfo *mi = &scan->msg;
	GMimeObject *o = GMIME_OBJECT(m);
	InternetAddressList *from = g_mime_message_get_from(m);
	InternetAddressMailbox *mb = first_mailbox(from);
	InternetAddressMailbox *rt = first_mailbox(
	    g_mime_message_get_reply_to(m));
	InternetAddressList *to = g_mime_message_get_to(m);
	const char *irt = g_mime_object_get_header(o, "In-Reply-To");
	const char *refs = g_mime_object_get_header(o, "References");

	if (from != NULL && internet_address_list_length(from) > 0) {
		char *s = internet_address_list_to_string(from, NULL, FALSE);

		mi->from = utf8_or_null(s);
		g_free(s);
	} else {
		mi->from = utf8_or_null(g_mime_object_get_header(o, "From"));
	}
	if (mb != NULL) {
		mi->from_addr = utf8_or_null(internet_address_mailbox_get_addr(mb));
		mi->from_name = utf8_or_null(internet_address_get_name(
		    INTERNET_ADDRESS(mb)));
	}
	if (rt != NULL)
		mi->reply_to_addr = utf8_or_null(
		    internet_address_mailbox_get_addr(rt));
	if (to != NULL && internet_address_list_length(to) > 0) {
		char *s = internet_address_list_to_string(to, NULL, FALSE);

		mi->to = utf8_or_null(s);
		g_free(s);
	}
	{
		char *rp = bare_address(g_mime_object_get_header(o,
		    "Return-Path"));

		mi->return_path = utf8_or_null(rp);
		g_free(rp);
	}
	mi->subject = utf8_or_null(g_mime_message_get_subject(m));
	mi->message_id = utf8_or_null(g_mime_message_get_message_id(m));
	mi->date = utf8_or_null(g_mime_object_get_header(o, "Date"));
	mi->in_reply_to = utf8_or_null(irt);
	mi->references = utf8_or_null(refs);
	/* Outlook threads by Thread-Index and often sends replies without
	 * In-Reply-To; the heuristics need to tell that from a forgery. */
	mi->has_thread_index = thread_index_continues(
	    g_mime_object_get_header(o, "Thread-Index"));
	mi->has_thread_headers = (irt != NULL && *irt != '\0') ||
	    (refs != NULL && *refs != '\0');
	if (mi->subject != NULL)
		emf_text_add(scan, EMF_TEXT_SUBJECT, NULL, mi->subject,
		    strlen(mi->subject));
}

/* ---- leaf parts ---------------------------------------------------------- */

/* The decoded (transfer-encoding removed) content of a part. */
static uint8_t *
part_bytes(GMimePart *part, size_t cap, size_t *len, bool *truncated)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *s;
	GByteArray *ba;
	uint8_t *out;

	*len = 0;
	*truncated = false;
	if (w == NULL)
		return NULL;
	s = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, s);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	*len = ba->len;
	if (*len > cap) {
		*len = cap;
		*truncated = true;
	}
	out = g_memdup2(ba->data, *len);
	g_object_unref(s);
	return out;
}

/*
 * Decode uuencoded "begin NNN name" blocks inside a text body. A block
 * ends at its "end" line or at the next "begin" line, so the work and the
 * bytes decoded stay linear in the text however many "begin" lines it
 * holds (each block used to run to the end of the text, and a freed
 * array's length was read). Searches are bounded by the text's end
 * (memmem, not strstr): a sanitizer's strstr measures the whole rest of
 * the text on every call, which made 2,000 "begin" lines take 8 s.
 */
static void
take_uuencoded(struct walk *w, struct emf_object *obj, const char *text)
{
	const char *p = text, *text_end = text + strlen(text);

	while ((p = memmem(p, (size_t)(text_end - p), "begin ", 6)) != NULL) {
		const char *line_end, *name, *next, *end;
		GByteArray *out;
		int state = GMIME_UUDECODE_STATE_BEGIN;
		guint32 save = 0;
		size_t chunk, outlen;

		if (!(p == text || p[-1] == '\n') || !g_ascii_isdigit(p[6])) {
			p += 6;
			continue;
		}
		line_end = memchr(p, '\n', (size_t)(text_end - p));
		if (line_end == NULL)
			return;
		name = p + 6;
		while (name < line_end && g_ascii_isdigit(*name))
			name++;
		while (name < line_end && *name == ' ')
			name++;
		next = memmem(line_end, (size_t)(text_end - line_end),
		    "\nbegin ", 7);
		next = next ? next + 1 : text_end;
		end = g_strstr_len(line_end, next - line_end, "\nend");
		end = end ? end + 1 : next;
		chunk = (size_t)(end - (line_end + 1));
		out = g_byte_array_sized_new((guint)(chunk * 3 / 4 + 16));
		g_byte_array_set_size(out, (guint)(chunk * 3 / 4 + 16));
		outlen = g_mime_encoding_uudecode_step(
		    (const unsigned char *)line_end + 1, chunk, out->data,
		    &state, &save);
		{
			char *fname = g_strstrip(g_strndup(name,
			    (gsize)(line_end - name)));
			struct emf_object *c = emf_object_child(w->scan, obj,
			    fname, "application/x-uuencode",
			    g_byte_array_free(out, FALSE), outlen);

			g_free(fname);
			if (c == NULL)
				return;
		}
		p = next;
	}
}

static void
take_text(struct walk *w, struct emf_object *obj, GMimeContentType *ct,
    const uint8_t *data, size_t len)
{
	const char *declared = g_mime_content_type_get_parameter(ct, "charset");
	bool html = g_mime_content_type_is_type(ct, "text", "html");
	const char *used;
	char *meta = NULL, *utf8;

	if (html && declared == NULL)
		declared = meta = emf_html_meta_charset((const char *)data, len);
	utf8 = emf_charset_to_utf8(data, len, declared, &used);
	g_free(meta);
	if (html) {
		GPtrArray *urls = g_ptr_array_new_with_free_func(g_free);
		char *text = emf_html_to_text(utf8, strlen(utf8), urls);

		emf_text_add(w->scan, EMF_TEXT_HTML, obj, text, strlen(text));
		for (guint i = 0; i < urls->len; i++)
			emf_strlist_add(&obj->urls, g_ptr_array_index(urls, i));
		g_ptr_array_free(urls, TRUE);
		g_free(text);
	} else {
		emf_text_add(w->scan, EMF_TEXT_BODY, obj, utf8, strlen(utf8));
		take_uuencoded(w, obj, utf8);
	}
	g_free(utf8);
}

static bool
is_attachment(GMimeObject *o)
{
	GMimeContentDisposition *d = g_mime_object_get_content_disposition(o);

	return d != NULL && g_mime_content_disposition_is_attachment(d);
}

static void
take_leaf(struct walk *w, GMimePart *part)
{
	GMimeObject *o = GMIME_OBJECT(part);
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	const char *fname = g_mime_part_get_filename(part);
	char *mime_type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	struct emf_object *obj;
	bool truncated;
	size_t len;
	uint8_t *data = part_bytes(part, w->scan->limits->object_bytes, &len,
	    &truncated);

	obj = emf_object_child(w->scan, w->parent, fname, mime_type, data,
	    len);
	g_free(mime_type);
	if (obj == NULL)
		return;
	if (truncated) {
		obj->truncated = true;
		emf_limit_hit(w->scan, "object_bytes", obj,
		    "part cut to %zu bytes", len);
	}
	/* What a reader sees inline: text parts that are not attachments. */
	if (ct != NULL && !is_attachment(o) &&
	    (g_mime_content_type_is_type(ct, "text", "plain") ||
	    g_mime_content_type_is_type(ct, "text", "html")))
		take_text(w, obj, ct, obj->data, obj->len);
}

/* ---- the walk ------------------------------------------------------------ */

struct frame {
	GMimeObject *obj;
	unsigned depth;
};

static void
walk_tree(struct walk *w, GMimeObject *root)
{
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(struct frame));
	struct frame f = { root, 0 };
	const struct emf_limits *l = w->scan->limits;

	g_array_append_val(stack, f);
	while (stack->len > 0 && !emf_scan_expired(w->scan)) {
		f = g_array_index(stack, struct frame, stack->len - 1);
		g_array_set_size(stack, stack->len - 1);
		if (f.obj == NULL)
			continue;
		if (++w->scan->mime_parts > l->mime_parts) {
			emf_limit_hit(w->scan, "mime_parts", w->parent,
			    "more than %u MIME parts", l->mime_parts);
			break;
		}
		if (f.depth > l->mime_depth) {
			emf_limit_hit(w->scan, "mime_depth", w->parent,
			    "MIME nesting deeper than %u", l->mime_depth);
			continue;
		}
		if (GMIME_IS_MULTIPART(f.obj)) {
			GMimeMultipart *mp = GMIME_MULTIPART(f.obj);
			int n = g_mime_multipart_get_count(mp);

			/* Push in reverse so parts come out in order. */
			for (int i = n - 1; i >= 0; i--) {
				struct frame c = {
					g_mime_multipart_get_part(mp, i),
					f.depth + 1 };

				g_array_append_val(stack, c);
			}
		} else if (GMIME_IS_MESSAGE_PART(f.obj)) {
			GMimeMessage *m = g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(f.obj));
			struct frame c = {
				m ? g_mime_message_get_mime_part(m) : NULL,
				f.depth + 1 };

			g_array_append_val(stack, c);
		} else if (GMIME_IS_PART(f.obj)) {
			take_leaf(w, GMIME_PART(f.obj));
		}
	}
	g_array_free(stack, TRUE);
}

/*
 * GMime builds the whole tree, every header field an object of its own,
 * before the walk can count anything: a 30 MB message of three million
 * empty parts took 4 GB and half a minute, one of three million header
 * fields 2.3 GB. So the parser is given only the bytes before the line
 * that would pass either bound, and the rest is cut and said so:
 *   - delimiter lines ("--..."): a part has an opening and at most one
 *     closing delimiter, so 2 * limits.mime_parts;
 *   - lines shaped like a header field ("Name:"), anywhere (a nested
 *     message's header sits in its parent's body): HEADER_LINES_MAX, far
 *     above any real mail, a few tens of MB for GMime at most.
 * Returns the length to parse; *why names the bound that cut.
 */
#define HEADER_LINES_MAX 50000

static bool
header_field_line(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;

	/* RFC 5322 field name: printable ASCII but ':', then ':'. */
	while (q < end && q - p < 80 && *q > ' ' && *q < 127 && *q != ':')
		q++;
	return q > p && q < end && *q == ':';
}

static size_t
parse_prefix(const uint8_t *msg, size_t len, unsigned max_parts,
    const char **why)
{
	size_t max_delims = (size_t)max_parts * 2 + 64, delims = 0;
	size_t fields = 0;
	const uint8_t *p = msg, *end = msg + len;

	*why = NULL;
	while (p != NULL && p < end) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
			if (++delims > max_delims) {
				*why = "delimiter lines";
				return (size_t)(p - msg);
			}
		} else if (header_field_line(p, end) &&
		    ++fields > HEADER_LINES_MAX) {
			*why = "header fields";
			return (size_t)(p - msg);
		}
		p = memchr(p, '\n', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	return len;
}

/*
 * A message's own header field longer than limits.header_field_bytes is
 * cut to that, as Postfix's header_size_limit does: GMime keeps a field
 * whole and grows its buffer by copying (a 10 MB field took 100 MiB).
 * Only the header that opens the bytes given -- the mail's, or that of
 * a message dug out as an object (an attached .eml) -- is cut: it runs
 * unambiguously to the first empty line, whereas telling a part's header from a long body line that looks
 * like "name:" needs the MIME state, and cutting body text would hide it
 * from the scan. Returns NULL when no field is over the cap, else the
 * copy; *ncut counts the fields cut and name holds the first one's.
 */
#define FIELD_NAME_LEN 64

/* The printable name of the field at p, for the report. */
static void
field_name(const uint8_t *p, const uint8_t *end, char name[FIELD_NAME_LEN])
{
	size_t k = 0;

	while (p + k < end && k + 1 < FIELD_NAME_LEN && p[k] > ' ' &&
	    p[k] < 127 && p[k] != ':')
		k++;
	memcpy(name, p, k);
	name[k] = '\0';
}

static GByteArray *
cap_header_fields(const uint8_t *msg, size_t len, size_t cap,
    unsigned *ncut, char name[FIELD_NAME_LEN])
{
	const uint8_t *p = msg, *end = msg + len, *start = msg;
	GByteArray *out = NULL;
	size_t field = 0;	/* bytes of the current field so far */
	bool cutting = false;

	*ncut = 0;
	while (p < end) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *next = eol != NULL ? eol + 1 : end;
		size_t n = (size_t)(next - p);

		if (*p == '\n' || (n == 2 && p[0] == '\r' && p[1] == '\n'))
			break;	/* the empty line: the body follows */
		if (*p != ' ' && *p != '\t') {
			start = p;
			field = 0;
			cutting = false;
		}
		if (!cutting && field + n > cap) {
			if (out == NULL) {
				out = g_byte_array_sized_new((guint)MIN(len,
				    (size_t)G_MAXUINT));
				g_byte_array_append(out, msg, (guint)(p - msg));
			}
			if ((*ncut)++ == 0)
				field_name(start, end, name);
			g_byte_array_append(out, p, (guint)(cap - field));
			g_byte_array_append(out, (const guint8 *)"\n", 1);
			cutting = true;
		} else if (!cutting && out != NULL) {
			g_byte_array_append(out, p, (guint)n);
		}
		field += n;
		p = next;
	}
	if (out != NULL)
		g_byte_array_append(out, p, (guint)(end - p));
	return out;
}

/*
 * The message as a stream with CRLF turned into LF. GMime 3.2 decides
 * once whether a message uses CRLF and then strips two bytes before every
 * boundary: in a CRLF mail with one LF-only line before a boundary, the
 * last base64 characters of a part were lost (an attachment that no longer
 * opens). LF throughout removes the ambiguity; what is decoded from base64
 * or quoted-printable parts does not change.
 */
static GMimeStream *
lf_stream(const uint8_t *msg, size_t len)
{
	GByteArray *ba = g_byte_array_sized_new((guint)len);
	size_t start = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if (msg[i] == '\r' && msg[i + 1] == '\n') {
			g_byte_array_append(ba, msg + start, (guint)(i - start));
			start = i + 1;
		}
	}
	g_byte_array_append(ba, msg + start, (guint)(len - start));
	/* The stream owns the array from here. */
	return g_mime_stream_mem_new_with_byte_array(ba);
}

void
emf_mime_walk(struct emf_scan *scan, struct emf_object *parent,
    const uint8_t *msg, size_t len)
{
	static const char *fallback[] = { "UTF-8", "CP932", "EUC-JP",
		"windows-1252", NULL };
	struct walk w = { scan, parent, 0 };
	GMimeParserOptions *opts = g_mime_parser_options_new();
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *m;
	GByteArray *capped;

	g_mime_parser_options_set_address_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(opts, TRUE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	g_mime_parser_options_set_warning_callback(opts, on_warning, &w);

	{
		const char *why;
		size_t n = parse_prefix(msg, len, scan->limits->mime_parts,
		    &why);

		if (n < len) {
			emf_limit_hit(scan, strcmp(why, "header fields") == 0 ?
			    "header_fields" : "mime_parts", parent,
			    "too many %s: only the first %zu of %zu bytes "
			    "parsed", why, n, len);
			len = n;
		}
	}
	{
		unsigned ncut;
		char name[FIELD_NAME_LEN] = "";

		capped = cap_header_fields(msg, len,
		    scan->limits->header_field_bytes, &ncut, name);
		if (capped != NULL) {
			emf_limit_hit(scan, "header_field_bytes", parent,
			    "%u header field%s (first: %s) cut to %zu bytes",
			    ncut, ncut == 1 ? "" : "s", name,
			    scan->limits->header_field_bytes);
			msg = capped->data;
			len = capped->len;
		}
	}
	stream = lf_stream(msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(parser, opts);
	if (m == NULL) {
		/* Not even a header: keep the bytes as one opaque part. */
		emf_symbol(scan, "MIME_MALFORMED", parent,
		    "no message structure could be parsed");
		struct emf_object *o = emf_object_child(scan, parent, NULL,
		    NULL, g_memdup2(msg, len), len);

		/* Typed here so the sniffer does not call it a message again:
		 * that loop ran to limits.container_depth on real mail (a
		 * text part opening with "---------- Forwarded message"). */
		if (o != NULL)
			o->type = EMF_FT_TEXT;
	} else {
		if (parent == NULL)
			take_headers(scan, m);
		walk_tree(&w, g_mime_message_get_mime_part(m));
		g_object_unref(m);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	g_mime_parser_options_free(opts);
	if (capped != NULL)
		g_byte_array_free(capped, TRUE);
}
