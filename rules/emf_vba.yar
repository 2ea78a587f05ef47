/*
 * emf_vba.yar - Emotet-style VBA droppers (emofilter project, written by us).
 *
 * Emotet's Word and Excel droppers (2014-2022) run from an auto-start
 * procedure and start PowerShell, rundll32 or regsvr32, or fetch the
 * payload with URLDownloadToFile / XMLHTTP. The rules read VBA source as
 * emofilter extracts it (EMF_TEXT_MACRO texts) and the raw bytes of a
 * document, where p-code and the performance cache keep identifiers
 * uncompressed. A VBA procedure ("Sub"/"Function" + "End") is required so
 * that prose about macros in a mail does not match.
 */

rule EMF_VBA_AUTOEXEC_EXEC
{
    meta:
        description = "VBA auto-start procedure that starts a process (Shell, WScript.Shell, Win32_Process)"
        author = "emofilter project"
        score = 3
    strings:
        $auto1 = "AutoOpen" nocase
        $auto2 = "Document_Open" nocase
        $auto3 = "Workbook_Open" nocase
        $auto4 = "Auto_Open" nocase
        $auto5 = "AutoExec" nocase
        $auto6 = "Document_Close" nocase
        $auto7 = "AutoClose" nocase
        $exec1 = "WScript.Shell" nocase
        $exec2 = "Shell(" nocase
        $exec3 = "Shell " nocase
        $exec4 = "Win32_Process" nocase
        $exec5 = "ShellExecute" nocase
        $exec6 = "Shell.Application" nocase
        $vb1 = "Sub " nocase
        $vb2 = "Function " nocase
        $vb3 = "End " nocase
    condition:
        any of ($auto*) and any of ($exec*) and (1 of ($vb1, $vb2)) and $vb3
}

rule EMF_VBA_DOWNLOADER
{
    meta:
        description = "VBA auto-start procedure with a downloader or LOLBin (powershell -enc, rundll32, regsvr32, URLDownloadToFile, XMLHTTP)"
        author = "emofilter project"
        score = 5
    strings:
        $auto1 = "AutoOpen" nocase
        $auto2 = "Document_Open" nocase
        $auto3 = "Workbook_Open" nocase
        $auto4 = "Auto_Open" nocase
        $auto5 = "AutoExec" nocase
        $auto6 = "Document_Close" nocase
        $dl1 = "URLDownloadToFile" nocase
        $dl2 = "MSXML2.XMLHTTP" nocase
        $dl3 = "MSXML2.ServerXMLHTTP" nocase
        $dl4 = "WinHttp.WinHttpRequest" nocase
        $dl5 = "ADODB.Stream" nocase
        $lol1 = "powershell" nocase
        $lol2 = "rundll32" nocase
        $lol3 = "regsvr32" nocase
        $lol4 = "mshta" nocase
        $lol5 = "certutil" nocase
        $lol6 = "bitsadmin" nocase
        $vb1 = "Sub " nocase
        $vb2 = "Function " nocase
    condition:
        any of ($auto*) and any of ($dl*, $lol*) and any of ($vb*)
}

rule EMF_VBA_POWERSHELL_ENCODED
{
    meta:
        description = "PowerShell with an encoded command or a hidden window inside macro code"
        author = "emofilter project"
        score = 4
    strings:
        $ps = "powershell" nocase
        $enc1 = /-e(nc(odedcommand)?)?\s+[A-Za-z0-9+\/=]{40}/ nocase
        $enc2 = /-w(indowstyle)?\s+hidden/ nocase
        $enc3 = "-nop" nocase
        $enc4 = "FromBase64String" nocase
        $vb1 = "Sub " nocase
        $vb2 = "Function " nocase
    condition:
        $ps and any of ($enc*) and any of ($vb*)
}
