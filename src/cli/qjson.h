/*
 * qjson.h - NULL-safe typed access to report JSON for emofilter-quarantine,
 * and the few JsonBuilder steps its outputs share (string members, and
 * the finished document as text).
 *
 * Reports are read generically (fields other modules add are shown and
 * mined without this tool knowing them), so every lookup must survive a
 * missing member, a NULL object or a value of the wrong type: each
 * accessor then returns NULL, 0 or false instead of failing. The names are
 * short on purpose: the rendering code calls them on nearly every line.
 * Returned strings, arrays and objects are borrowed from the parser that
 * holds the document.
 */
#ifndef EMF_QJSON_H
#define EMF_QJSON_H

#include <stdbool.h>

#include <glib.h>
#include <json-glib/json-glib.h>

/* Member key of o as a string; NULL if o is NULL, key missing or no string. */
const char *jstr(JsonObject *o, const char *key);
/* The same, with dflt in place of NULL. */
const char *jstr_or(JsonObject *o, const char *key, const char *dflt);
/* Member key of o as a number (integer or double); 0 otherwise. */
double jnum(JsonObject *o, const char *key);
/* Whether member key of o is the boolean true. */
bool jbool(JsonObject *o, const char *key);
/* Member key of o as an array or object; NULL otherwise. */
JsonArray *jarr(JsonObject *o, const char *key);
JsonObject *jobj(JsonObject *o, const char *key);
/* Element i of a as a string or object; NULL when it is not one. */
const char *jarr_str(JsonArray *a, guint i);
JsonObject *jarr_obj(JsonArray *a, guint i);

/* In an object being built: member name with a string value (NULL: null). */
void qjson_add_string_member(JsonBuilder *b, const char *name,
    const char *value);

/* Member name with the strings of the NULL-terminated v as an array. */
void qjson_add_strv_member(JsonBuilder *b, const char *name,
    const char *const *v);

/*
 * The document built in b as JSON text (pretty: indented, else one line).
 * Consumes b. The caller frees the text (g_free()).
 */
char *qjson_finish(JsonBuilder *b, bool pretty);

#endif /* EMF_QJSON_H */
