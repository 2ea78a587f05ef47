/*
 * symbols.c - every symbol a detector may raise, with its default weight.
 *
 * The defaults are starting points calibrated on the corpus (see
 * conf/emofilter.conf and docs/scores.md); the configuration overrides
 * them. Weights are chosen so that one sign alone stays below "tag" and
 * the combinations typical of the threat reach quarantine or reject.
 */
#include "config.h"

#include <string.h>

#include "symbols.h"

static const struct emf_symbol_def defs[] = {
	/* sender */
	{ "FROM_ENVELOPE_MISMATCH", 0.3,
	  "header From and envelope sender have different registrable domains" },
	{ "DISPLAY_NAME_SPOOF", 2.0,
	  "the display name holds an address or domain other than the real From" },
	{ "SIGNATURE_DOMAIN_MISMATCH", 2.0,
	  "an address in the body signature has a domain other than From's" },
	{ "REPLY_TO_MISMATCH", 1.0,
	  "Reply-To has a registrable domain other than From's" },
	/* reply forgery */
	{ "FAKE_ORIGINAL_MESSAGE", 3.0,
	  "forged quoted-header block in a mail with no thread headers" },
	{ "REPLY_WITHOUT_THREAD", 1.0,
	  "Re:/Fwd: subject but no In-Reply-To/References" },
	/* correspondence memory (state.memory): what we sent */
	{ "KNOWN_THREAD", 0.0,
	  "a reply to mail we sent its sender (forged-thread signs dropped)" },
	{ "REPLY_UNKNOWN_CORRESPONDENT", 2.0,
	  "a reply with a forged quoted block from a party we never wrote to" },
	/* trust and allowlists: informational, weight 0 by default */
	{ "TRUSTED_SENDER", 0.0,
	  "trusted domain, network or authenticated sender: mail heuristics skipped" },
	{ "MACRO_ALLOWLISTED", 0.0,
	  "the VBA project is allowlisted: its macro findings are dropped" },
	/* lure */
	{ "LURE_ENABLE_CONTENT_BODY", 3.0,
	  "the mail tells the reader to enable editing/content/macros" },
	{ "LURE_ENABLE_CONTENT_DOC", 4.0,
	  "a document tells the reader to enable editing/content/macros" },
	/* archives */
	{ "ARCHIVE_ENCRYPTED", 2.0, "an encrypted archive member" },
	{ "ARCHIVE_PASSWORD_IN_BODY", 3.0,
	  "an encrypted archive was opened with a password found in the mail" },
	{ "ARCHIVE_PASSWORD_UNKNOWN", 3.0,
	  "an encrypted archive could not be opened" },
	{ "ARCHIVE_PASSWORD_SEPARATE", 0.0,
	  "an archive opened with the password a later mail of its sender gave" },
	{ "ARCHIVE_NESTED", 1.0, "an archive inside an archive" },
	/* what an archive hides (composite.c): informational, weight 0 by
	 * default; the shipped composites score the combinations */
	{ "ARCHIVE_ENCRYPTED_INERT", 0.0,
	  "every encrypted member opened; nothing active or unreadable inside" },
	{ "ARCHIVE_ENCRYPTED_ACTIVE", 0.0,
	  "active content (active_content.symbols) inside an encrypted member" },
	{ "ARCHIVE_UNOPENED_INERT_NAMES", 0.0,
	  "no encrypted member opened; all named as types that carry no code" },
	{ "ARCHIVE_ACTIVE_CONTENT", 0.0,
	  "active content (active_content.symbols) packed in an archive" },
	{ "ARCHIVE_MALFORMED", 1.0, "a broken or hostile archive structure" },
	{ "INFLATED_FILE", 6.0,
	  "a member padded to a huge size at an extreme compression ratio" },
	{ "EXECUTABLE_ATTACHMENT", 6.0,
	  "executable or script content or name, attached or in an archive" },
	{ "FILE_TYPE_MISMATCH", 2.0,
	  "the file name's extension disagrees with the content" },
	/* office */
	{ "OFFICE_MACRO", 3.0, "a VBA project is present" },
	{ "MACRO_AUTOEXEC", 3.0, "a macro runs by itself (AutoOpen, Workbook_Open...)" },
	{ "MACRO_SUSPICIOUS", 4.0,
	  "macro code uses shell, download or obfuscation functions" },
	{ "MACRO_URL", 2.0, "a URL or download target inside macro code" },
	{ "XLM_MACRO", 5.0, "an Excel 4.0 macro sheet" },
	{ "OFFICE_ENCRYPTED", 3.0, "an encrypted Office document" },
	{ "OFFICE_MALFORMED", 1.0, "a broken Office document structure" },
	/* office: exploit forms that need no macro (each quarantines) */
	{ "OFFICE_EXTERNAL_TEMPLATE", 10.0,
	  "a remote template is loaded when the document opens" },
	{ "OFFICE_EXTERNAL_OBJECT", 6.0,
	  "a remote OLE object, frame or sub-document is linked" },
	{ "OFFICE_DANGEROUS_SCHEME", 10.0,
	  "a link uses a handler that runs code (ms-msdt:, search-ms:...)" },
	{ "OFFICE_DDE", 10.0, "a DDE field or link launches a program" },
	{ "RTF_OBJECT", 2.0, "an RTF document embeds or links an OLE object" },
	{ "RTF_EXPLOIT_CLASS", 10.0,
	  "an embedded object of an exploited class (Equation Editor, OLE2Link)" },
	{ "VBA_STOMPED", 8.0,
	  "compiled VBA (p-code) that the module source does not match" },
	{ "OFFICE_EXPLOIT_CLASS", 10.0,
	  "an OLE object of an exploited class (Equation Editor 3.0, OLE2Link)" },
	{ "OFFICE_EQUATION_OBJECT", 4.0,
	  "an Equation Editor 3.0 object (the editor removed in 2018)" },
	{ "OFFICE_PACKAGE_EXECUTABLE", 4.0,
	  "an embedded OLE package or OneNote file holds an executable or script" },
	/* the scan itself */
	{ "MIME_MALFORMED", 0.5, "the MIME structure is broken" },
	{ "LIMIT_EXCEEDED", 1.0, "a limit stopped part of the scan" },
	{ "SCAN_FAILED", 0.0, "the scan crashed or ran out of time" },
	{ NULL, 0, NULL }
};

const struct emf_symbol_def *
emf_symbol_defs(void)
{
	return defs;
}

const struct emf_symbol_def *
emf_symbol_def(const char *name)
{
	for (const struct emf_symbol_def *d = defs; d->name != NULL; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

bool
emf_symbol_is_yara(const char *name)
{
	return strncmp(name, "YARA_", 5) == 0 && name[5] != '\0';
}
