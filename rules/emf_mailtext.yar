/*
 * emf_mailtext.yar - mail text of password-protected archive campaigns
 * (emofilter project, written by us).
 *
 * Emotet (2020-2022, and Japan in particular) sent zips encrypted with a
 * password given in the body, so that gateways could not look inside.
 * Sending a password zip and its password in the same mail is also a
 * common, if pointless, practice in Japanese business mail ("PPAP"), so
 * this weighs little: it adds to the archive findings, it does not decide.
 */

rule EMF_PASSWORD_ZIP_TEXT
{
    meta:
        description = "mail text gives the password of an attached archive"
        author = "emofilter project"
        score = 1
    strings:
        $pw1 = /password\s*(is|:)/ nocase
        $pw2 = "パスワード:"
        $pw3 = "パスワード："
        $pw4 = "パスワードは"
        $pw5 = "解凍パスワード"
        $pw6 = "【パスワード】"
        $pw7 = /passwort\s*(lautet|:)/ nocase
        $pw8 = /contraseña\s*(es|:)/ nocase
        $pw9 = /mot de passe\s*(est|:)/ nocase
        $pw10 = /\bpw\s*:/ nocase
        $zip1 = ".zip" nocase
        $zip2 = "zip file" nocase
        $zip3 = "zipファイル" nocase
        $zip4 = "圧縮ファイル"
        $zip5 = "添付ファイル"
        $zip6 = "attached file" nocase
        $zip7 = "the attachment" nocase
    condition:
        any of ($pw*) and any of ($zip*) and filesize < 64KB
}
