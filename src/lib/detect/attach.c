/*
 * attach.c - checks every object gets once its type is settled: executable
 * content or names, and names that lie about the content.
 */
#include "config.h"

#include "core/modules.h"

static bool
executable_type(enum emf_ftype t)
{
	return t == EMF_FT_PE || t == EMF_FT_ELF || t == EMF_FT_MACHO ||
	    t == EMF_FT_LNK || t == EMF_FT_ONENOTE || t == EMF_FT_ISO;
}

void
emf_attach_check(struct emf_scan *scan, struct emf_object *obj)
{
	const char *tname = emf_filetype_name(obj->type);

	if (executable_type(obj->type))
		emf_symbol(scan, "EXECUTABLE_ATTACHMENT", obj,
		    "%s content", tname);
	else if (obj->name != NULL && emf_filename_is_executable(obj->name))
		emf_symbol(scan, "EXECUTABLE_ATTACHMENT", obj,
		    "executable name %s", obj->name);
	if (obj->name != NULL && emf_filename_mismatch(obj->name, obj->type))
		emf_symbol(scan, "FILE_TYPE_MISMATCH", obj,
		    "%s content named %s", tname, obj->name);
}
