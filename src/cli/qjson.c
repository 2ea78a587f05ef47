/*
 * qjson.c - NULL-safe typed JSON access and builder output for
 * emofilter-quarantine (see qjson.h).
 */
#include "config.h"

#include "qjson.h"

#include "core/report.h"

/* The member key of o, or NULL when o is NULL or has no such member. */
static JsonNode *
member(JsonObject *o, const char *key)
{
	if (o == NULL || !json_object_has_member(o, key))
		return NULL;
	return json_object_get_member(o, key);
}

static const char *
node_str(JsonNode *n)
{
	if (n == NULL || JSON_NODE_TYPE(n) != JSON_NODE_VALUE ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

static JsonObject *
node_obj(JsonNode *n)
{
	return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ?
	    json_node_get_object(n) : NULL;
}

const char *
jstr(JsonObject *o, const char *key)
{
	return node_str(member(o, key));
}

const char *
jstr_or(JsonObject *o, const char *key, const char *dflt)
{
	const char *s = jstr(o, key);

	return s != NULL ? s : dflt;
}

double
jnum(JsonObject *o, const char *key)
{
	JsonNode *n = member(o, key);

	if (n == NULL || JSON_NODE_TYPE(n) != JSON_NODE_VALUE)
		return 0;
	switch (json_node_get_value_type(n)) {
	case G_TYPE_DOUBLE:
		return json_node_get_double(n);
	case G_TYPE_INT64:
		return (double)json_node_get_int(n);
	default:
		return 0;
	}
}

bool
jbool(JsonObject *o, const char *key)
{
	JsonNode *n = member(o, key);

	return n != NULL && JSON_NODE_TYPE(n) == JSON_NODE_VALUE &&
	    json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
	    json_node_get_boolean(n);
}

JsonArray *
jarr(JsonObject *o, const char *key)
{
	JsonNode *n = member(o, key);

	return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ?
	    json_node_get_array(n) : NULL;
}

JsonObject *
jobj(JsonObject *o, const char *key)
{
	return node_obj(member(o, key));
}

const char *
jarr_str(JsonArray *a, guint i)
{
	return node_str(json_array_get_element(a, i));
}

JsonObject *
jarr_obj(JsonArray *a, guint i)
{
	return node_obj(json_array_get_element(a, i));
}

void
qjson_add_string_member(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

void
qjson_add_strv_member(JsonBuilder *b, const char *name, const char *const *v)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_array(b);
	for (size_t i = 0; v[i]; i++)
		json_builder_add_string_value(b, v[i]);
	json_builder_end_array(b);
}

char *
qjson_finish(JsonBuilder *b, bool pretty)
{
	JsonGenerator *g = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	char *raw, *text;

	json_generator_set_root(g, root);
	json_generator_set_pretty(g, pretty);
	raw = json_generator_to_data(g, NULL);
	/* Strict JSON: json-glib leaves 0x1f, DEL, U+2028 raw in strings. */
	text = emf_json_strict(raw);
	g_free(raw);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
	return text;
}
