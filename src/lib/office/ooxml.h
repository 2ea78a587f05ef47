/*
 * ooxml.h - Office Open XML packages (.docx .docm .xlsx .xlsm .xlsb .pptx
 * .pptm .vsdm and templates), also when misnamed.
 *
 * Owns: the OOXML handler (declared in modules.h): the format, the VBA
 * projects (vbaProject.bin, and whatever a vbaProject relationship points
 * at) and embedded objects handed back to the dispatcher as children,
 * Excel 4.0 macro sheets (xl/macrosheets/) with their formulas and
 * Auto_Open defined names, external relationships (remote templates:
 * attachedTemplate with TargetMode="External", OLE links, frames,
 * sub-documents; dangerous URI schemes such as ms-msdt: in any of them),
 * DDE: Word field codes (instrText, fldSimple) and Excel ddeLink parts,
 * and the document text of the Word, Excel and PowerPoint parts. The
 * single-file XML forms (Word 2003 XML, SpreadsheetML 2003 with its
 * ss:Formula DDE cells, flat OPC packages): the same links and fields,
 * and their base64 binaries (w:binData, pkg:binaryData) as children.
 * Zip access goes through zipscan.h only.
 *
 * The XML is read with a small tolerant scanner, not a parser: it only
 * needs element names, a few attributes and character data, and must
 * never fail or recurse on hostile markup.
 *
 * LIMITATIONS: of the XLSB binary parts only the macro sheets' formula
 * cells and workbook.bin's defined names are decoded (not its external
 * links: DDE in an .xlsb is not seen); CDATA
 * sections are taken as text; namespaces are ignored (local names only).
 */
#ifndef EMF_OOXML_H
#define EMF_OOXML_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Append the character data of every element whose local name is elem
 * ("t" for text runs, "f" for formulas) in xml[0..len) to out, entities
 * decoded; the end of a paragraph, shared string or cell adds a newline,
 * a tab or break element a space. Stops at cap bytes.
 */
void emf_ooxml_xml_text(const char *xml, size_t len, const char *elem,
    GString *out, size_t cap);

/*
 * Call fn for every <Relationship> of a .rels part: its Type, Target
 * (entities decoded) and whether TargetMode is External. Strings are
 * borrowed for the call.
 */
void emf_ooxml_rels(const char *xml, size_t len,
    void (*fn)(void *ctx, const char *type, const char *target,
    bool external), void *ctx);

/*
 * Call fn with the name attribute of every <definedName> of a
 * workbook.xml part (entities decoded, borrowed).
 */
void emf_ooxml_defined_names(const char *xml, size_t len,
    void (*fn)(void *ctx, const char *name), void *ctx);

#endif /* EMF_OOXML_H */
