/*
 * rtf.h - Rich Text Format documents: the OLE objects they carry, their
 * field codes and their text.
 *
 * Owns: the RTF handler (declared in modules.h): a bounded one-pass
 * tokenizer (groups, control words, \'hh, \bin) that finds \objdata and
 * \datastore hex blobs, also obfuscated (white space, control words and
 * ignorable groups inside the hex, \bin runs, an OLE1 header in plain
 * text), decodes the OLE1 object header ([MS-OLEDS] 2.2.4: class,
 * native data), identifies exploit classes (Equation Editor, OLE2Link,
 * scriptlets, by OLE1 class, \objclass or the CLSID of an embedded
 * compound file), unpacks OLE Packages (the embedded file and its name)
 * and queues the payloads as child objects; DDE field codes (\fldinst);
 * the document text for the lure and YARA.
 * Does not own: what the embedded payloads are (the dispatcher sniffs the
 * children), the compound file format (ole.c).
 *
 * Bounds: the input is the object (limits.object_bytes); one blob at most
 * emf_budget_child_cap() bytes; RTF_OBJECTS_MAX objects; the group state
 * stack is RTF_DEPTH_MAX deep (deeper groups share the last state, so a
 * nesting bomb costs nothing); the deadline is checked every 64 KiB.
 *
 * LIMITATIONS: text is decoded as Latin-1 for \'hh unless \ansicpg names
 * another code page (then per run with iconv); the list of destinations
 * that hide their content is Word's common one, not all of RTF 1.9.1;
 * \objdata of an object that is linked (FormatID 1) is not followed.
 */
#ifndef EMF_RTF_H
#define EMF_RTF_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTF_DEPTH_MAX 256
#define RTF_OBJECTS_MAX 64

/* One OLE1 object ([MS-OLEDS] 2.2.4) as far as it was read. */
struct emf_ole1 {
	uint32_t format_id;	/* 1 linked, 2 embedded, 0 none */
	char *class_name;	/* UTF-8 (g_free), or NULL */
	char *topic;		/* linked: the link source, or NULL */
	const uint8_t *native;	/* borrowed from the input */
	size_t native_len;
};

/*
 * Read an OLE1 object header from d[0..len). Returns false when it is not
 * one (bad FormatID, a string running past the end). native_len is cut
 * to what is present. Release with emf_ole1_clear().
 */
bool emf_ole1_parse(const uint8_t *d, size_t len, struct emf_ole1 *o);
void emf_ole1_clear(struct emf_ole1 *o);

/*
 * An OLE Package ([MS-OLEDS] Packager "Ole10Native" layout: label,
 * source path, temporary path, data). On success *name is the file name
 * (UTF-8 basename of the best path, g_free) and *data / *dlen point into
 * d. A package of type 1 (a link that runs a command line) gives the
 * command as *name and *dlen 0. Returns false when d is not a package.
 */
bool emf_ole_package(const uint8_t *d, size_t len, char **name,
    const uint8_t **data, size_t *dlen);

/*
 * The name or command line of a package (emf_ole_package's *name) starts
 * an executable or script: the whole text, or the program before its
 * arguments ("cmd.exe /c calc", "\"C:\\Program Files\\x.exe\" -q").
 */
bool emf_ole_package_runs(const char *name);

/*
 * The exploit-prone class named by an OLE1 class name or \objclass
 * ("Equation.3", "OLE2Link", ...) or by the root CLSID of a compound file
 * d[0..len): a static description, or NULL.
 */
const char *emf_rtf_exploit_class(const char *class_name);
const char *emf_rtf_exploit_clsid(const uint8_t *d, size_t len);

#endif /* EMF_RTF_H */
