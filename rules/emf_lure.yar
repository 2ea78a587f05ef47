/*
 * emf_lure.yar - "Enable Content" lures (emofilter project, written by us).
 *
 * Emotet documents show an image or a paragraph telling the reader to press
 * "Enable Editing" and "Enable Content". Word and Excel store document text
 * as UTF-16LE (the .doc WordDocument stream, BIFF8 strings), so the
 * document rule looks for the wide form in the raw bytes; the text rule
 * sees the UTF-8 text emofilter extracts from bodies and documents.
 * The lure module (src/lib/detect/lure.c) handles negations and security
 * notices; these rules do not, hence the low text score.
 */

rule EMF_LURE_ENABLE_CONTENT_WIDE
{
    meta:
        description = "Enable Content/Editing/Macros lure as UTF-16LE document text"
        author = "emofilter project"
        score = 3
    strings:
        $en1 = "enable content" nocase wide
        $en2 = "enable editing" nocase wide
        $en3 = "enable macros" nocase wide
        $de1 = "inhalt aktivieren" nocase wide
        $it1 = "abilita contenuto" nocase wide
        $es1 = "habilitar contenido" nocase wide
        $fr1 = "activer le contenu" nocase wide
        // コンテンツの有効化
        $ja1 = { B3 30 F3 30 C6 30 F3 30 C4 30 6E 30 09 67 B9 52 16 53 }
        // 編集を有効にする
        $ja2 = { E8 7D C6 96 92 30 09 67 B9 52 6B 30 59 30 8B 30 }
        // マクロを有効にする
        $ja3 = { DE 30 AF 30 ED 30 92 30 09 67 B9 52 6B 30 59 30 8B 30 }
        // コンテンツを有効にする
        $ja4 = { B3 30 F3 30 C6 30 F3 30 C4 30 92 30 09 67 B9 52 6B 30 59 30 8B 30 }
    condition:
        any of them
}

rule EMF_LURE_ENABLE_CONTENT_TEXT
{
    meta:
        description = "Enable Content/Editing/Macros lure in UTF-8 text"
        author = "emofilter project"
        score = 1
    strings:
        $en1 = "enable content" nocase
        $en2 = "enable editing" nocase
        $en3 = "enable macros" nocase
        $ja1 = "コンテンツの有効化"
        $ja2 = "編集を有効にする"
        $ja3 = "マクロを有効にする"
        $ja4 = "コンテンツを有効にする"
    condition:
        any of them
}
