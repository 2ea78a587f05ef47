/*
 * emf_xlm.yar - Excel 4.0 (XLM) download macros (emofilter project,
 * written by us).
 *
 * Emotet's 2020-2022 workbooks hid a macro sheet whose Auto_Open formulas
 * REGISTER or CALL urlmon's URLDownloadToFileA and EXEC rundll32/regsvr32
 * on the result. In BIFF8 the formulas are tokens but the string
 * constants stay readable (8-bit or UTF-16LE), so the DLL and function
 * names are matched in both; the formula rule reads the formulas as text
 * (emofilter's XLM extraction, or a SYLK/CSV file).
 */

rule EMF_XLM_URLMON_DOWNLOAD
{
    meta:
        description = "Excel 4.0 macro calling urlmon URLDownloadToFileA"
        author = "emofilter project"
        score = 5
    strings:
        $dll = "urlmon" nocase ascii wide
        $fn = "URLDownloadToFile" nocase ascii wide
        $reg1 = "REGISTER" nocase ascii wide
        $reg2 = "CALL" ascii wide
        $run1 = "rundll32" nocase ascii wide
        $run2 = "regsvr32" nocase ascii wide
        $run3 = "EXEC" ascii wide
    condition:
        $dll and $fn and (any of ($reg*) or any of ($run*))
}

rule EMF_XLM_EXEC_FORMULAS
{
    meta:
        description = "Excel 4.0 formulas that run programs or call DLLs (=EXEC, =CALL, =REGISTER with =HALT)"
        author = "emofilter project"
        score = 4
    strings:
        $f1 = "=EXEC(" nocase
        $f2 = "=CALL(" nocase
        $f3 = "=REGISTER(" nocase
        $f4 = "URLDownloadToFileA" nocase
        $end1 = "=HALT()" nocase
        $end2 = "=RETURN()" nocase
        $end3 = "=FORMULA(" nocase
        $end4 = "=GOTO(" nocase
    condition:
        2 of ($f*) and any of ($end*)
}
