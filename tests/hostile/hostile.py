#!/usr/bin/env python3
"""hostile.py - the hostile-input suite: generate each hostile input at
test time, scan it with emofilter-scan, and check that the verdict came
within the per-message deadline, under the case's memory cap, with the
limit or malformed detail the case is built to trigger.

    hostile.py [--list] [--keep] [CASE...]

Environment: top_srcdir, top_builddir (automake), EMF_HOSTILE_WORK (where
inputs are generated, default $top_builddir/tests/work/hostile).

One line per case in CASES: name, generator, expectations, memory cap in
MiB. Expectations are "limit:NAME" (NAME in limits_hit), "sym:NAME" (that
symbol raised), "objects>=N", and alternatives joined with "|" (any one
will do: a later parser may report the same input differently). Every case
also requires: exit 0 or 1 (a verdict, never a crash or exit 2), one valid
JSON report, no "time" limit unless listed, wall time under the deadline
(tests/hostile/hostile.conf) plus start-up slack, and peak RSS under the
cap. Under AddressSanitizer the memory cap is doubled plus 300 MiB (shadow
memory and the allocator's quarantine) and the deadline tripled (ASan's
realloc never grows a block in place, so GMime's header buffer, grown a
little at a time, is copied over and over: the 12 MB header line takes
0.4 s in the normal build and 13 s under ASan) -- the normal build is the
one measured.

Prints one line per case: name, result, wall ms, scan_ms, peak RSS MiB,
input size; and the worst time and RSS at the end.
"""
import json
import os
import resource
import struct
import subprocess
import shutil
import sys
import tempfile
import threading
import time
import zlib

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("top_builddir") or TOP
SCAN = os.path.join(BUILD, "src", "cli", "emofilter-scan")
CONF = os.path.join(TOP, "tests", "hostile", "hostile.conf")
WORK = os.environ.get("EMF_HOSTILE_WORK") or os.path.join(BUILD, "tests",
                                                           "work", "hostile")
DEADLINE_MS = 20000     # limits.scan_timeout_ms in hostile.conf
SLACK_MS = 5000         # process start, reading the input, writing JSON
ASAN_SLOWDOWN = 3       # deadline factor under AddressSanitizer
PRLIMIT = shutil.which("prlimit")
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

# ---- building blocks ------------------------------------------------------

MB = 1 << 20


def mail(body_headers, body, subject="hostile"):
    """A message with the given top-level Content-* headers and body."""
    return (b"From: sender@example.com\r\nTo: rcpt@example.org\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Tue, 25 Nov 2025 06:00:00 +0000\r\n"
            b"Message-ID: <hostile@example.com>\r\nMIME-Version: 1.0\r\n"
            + body_headers + b"\r\n" + body)


def b64_lines(data):
    """Base64 in 76-column lines, fast enough for tens of MB."""
    import base64
    enc = base64.encodebytes(data)        # 76-column lines, LF
    return enc.replace(b"\n", b"\r\n")


def attach(name, data, ctype=b"application/octet-stream"):
    """A mail carrying data as a base64 attachment."""
    n = name.encode()
    return mail(b'Content-Type: multipart/mixed; boundary="B"\r\n',
                b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                b"--B\r\nContent-Type: " + ctype + b'; name="' + n +
                b'"\r\nContent-Disposition: attachment; filename="' + n +
                b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
                b64_lines(data) + b"--B--\r\n")


def _gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    """CRC-32 of A+B from crc(A), crc(B), len(B): the GF(2) operator for
    len2 zero bytes applied to crc1 (as zlib's crc32_combine does)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]   # one zero bit
    even = _gf2_square(odd)                             # two zero bits
    odd = _gf2_square(even)                             # four zero bits
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def zeros_deflate(nmb, head=b""):
    """Raw deflate of head + nmb MiB of zeros, and its CRC-32, without
    compressing gigabytes: after a full flush the compressor's output for
    each further MiB of zeros is the same bytes, so they are repeated."""
    z = bytes(MB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head + z) + c.flush(zlib.Z_FULL_FLUSH)
    mid = c.compress(z) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(z) + c.flush(zlib.Z_FULL_FLUSH)
    assert mid == again
    tail = c.flush()
    stream = first + mid * (nmb - 1) + tail
    crc_mb = zlib.crc32(z)
    crc = zlib.crc32(head + z)
    # Combine one MiB at a time by doubling: crc of k MiB of zeros.
    k, block, block_len, rest = nmb - 1, crc_mb, MB, nmb - 1
    while rest:
        if rest & 1:
            crc = crc32_combine(crc, block, block_len)
        block = crc32_combine(block, block, block_len)
        block_len *= 2
        rest >>= 1
    del k
    return stream, crc, len(head) + nmb * MB


class Zip:
    """A minimal zip writer that lets the test lie where it must."""

    def __init__(self):
        self.body = bytearray()
        self.cd = []

    def add_raw(self, name, comp, crc, usize, method=8, local=True,
                offset=None, csize=None):
        n = name.encode()
        csize = len(comp) if csize is None else csize
        if local:
            offset = len(self.body)
            self.body += struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0,
                                     method, 0, 0x21, crc, csize, usize,
                                     len(n), 0) + n + comp
        self.cd.append((n, method, crc, csize, usize, offset))
        return offset

    def add(self, name, data, method=8):
        comp = data
        if method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            comp = c.compress(data) + c.flush()
        return self.add_raw(name, comp, zlib.crc32(data), len(data), method)

    def bytes(self):
        cd = bytearray()
        for n, method, crc, csize, usize, off in self.cd:
            cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0,
                              method, 0, 0x21, crc, csize, usize, len(n), 0,
                              0, 0, 0, 0, off) + n
        start = len(self.body)
        count = min(len(self.cd), 0xffff)
        z64 = b""
        if len(self.cd) > 0xfffe:
            # More entries than 16 bits count: the Zip64 end records.
            n = len(self.cd)
            z64 = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0,
                              n, n, len(cd), start)
            z64 += struct.pack("<IIQI", 0x07064b50, 0, start + len(cd), 1)
        end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, count, count,
                          len(cd), start, 0)
        return bytes(self.body) + bytes(cd) + z64 + end


# ---- generators: each returns the bytes of one .eml --------------------------

def gen_deep_multipart():
    n = 1000
    head = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n"
                    % (i, i + 1) for i in range(n))
    tail = b"".join(b"\r\n--b%d--\r\n" % i for i in range(n, -1, -1))
    return mail(b"Content-Type: multipart/mixed; boundary=b0\r\n",
                head + b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" % n
                + tail)


def gen_deep_rfc822():
    n = 1000
    inner = b"Subject: level %d\r\nContent-Type: message/rfc822\r\n\r\n"
    body = b"".join(inner % i for i in range(n))
    return mail(b"Content-Type: message/rfc822\r\n",
                body + b"Subject: bottom\r\n\r\nthe end\r\n")


def gen_many_parts():
    n = 100000
    part = b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return mail(b"Content-Type: multipart/mixed; boundary=p\r\n",
                part * n + b"--p--\r\n")


def gen_parts_max():
    # A message at the size limit made of three million empty parts: GMime
    # would build every one (4 GB) before the walk could count them.
    part = b"--p\r\n\r\nx\r\n"
    return mail(b"Content-Type: multipart/mixed; boundary=p\r\n",
                part * (29 * MB // len(part)) + b"--p--\r\n")


def gen_header_fields():
    # 3.5 million header fields (2.3 GB inside GMime before the cut).
    return mail(b"X-H: v\r\n" * (28 * MB // 8) +
                b"Content-Type: text/plain\r\n", b"x\r\n")


def gen_long_header():
    return mail(b"X-Filler: " + b"A" * (10 * MB) + b"\r\n"
                b"Content-Type: text/plain\r\n", b"hello\r\n",
                subject="=?UTF-8?B?" + "QUFB" * (MB // 2) + "?=")


def gen_unclosed_boundary():
    body = (b"--never\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
            b"--never\r\nContent-Type: application/octet-stream; name=a.bin\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" +
            b64_lines(os.urandom(2 * MB)) +
            b"--almost-never\r\n" + b"y" * (2 * MB))
    return mail(b'Content-Type: multipart/mixed; boundary="never"\r\n', body)


def gen_bad_encodings():
    bad64 = (b"!!!!" + b"QUJD" * 1000 + b"=QUJD=\r\n" + b"Q" * 5000 +
             b"\r\n" + b"\x00\xff" * 1000 + b"\r\nQUJ\r\n") * 20
    badqp = (b"=ZZ=4=\r\n=" + b"=41" * 200000 + b"\r\n" + b"x" * 300000 +
             b"=\r\n=\r\n=0") * 4
    body = (b"--q\r\nContent-Type: application/octet-stream; name=a.zip\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + bad64 +
            b"\r\n--q\r\nContent-Type: text/plain\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + badqp +
            b"\r\n--q\r\nContent-Type: text/plain\r\n"
            b"Content-Transfer-Encoding: x-bogus\r\n\r\nzzz\r\n--q--\r\n")
    return mail(b"Content-Type: multipart/mixed; boundary=q\r\n", body)


def gen_iso2022_broken():
    jis = "パスワード：Abc123 請求書".encode("iso2022_jp_ext")
    broken = (jis[:7] + b"\x1b$" + jis[7:] + b"\x1b(" + b"\x1b$B" + b"%Q%" +
              b"\x1b$B\x80\xff" + b"\x0e\x0f" + b"\x1b$)C" + b"\x1b")
    body = broken * 50000
    subj = "=?ISO-2022-JP?B?GyRCJVElOSVv?= =?ISO-2022-JP?B?GyQ=?="
    return mail(b"Content-Type: text/plain; charset=iso-2022-jp\r\n"
                b"Content-Transfer-Encoding: 7bit\r\n", body + b"\r\n",
                subject=subj)


def gen_mislabelled():
    sjis = "パスワード：Abc123 請求書を送付します".encode("cp932") * 20000
    utf8 = "パスワード：Abc123".encode() * 20000
    utf16 = "パス".encode("utf-16-le")[:-1] * 20000
    parts = [(b"utf-8", sjis), (b"iso-2022-jp", utf8), (b"us-ascii", sjis),
             (b"x-no-such-charset", utf8), (b"utf-16", utf16),
             (b"euc-jp", sjis), (b"", sjis)]
    body = b"".join(b"--m\r\nContent-Type: text/plain; charset=\"" + cs +
                    b"\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + d +
                    b"\r\n" for cs, d in parts)
    body += (b"--m\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
             b"<meta charset=shift_jis>" + utf8 + b"\r\n--m--\r\n")
    return mail(b"Content-Type: multipart/mixed; boundary=m\r\n", body)


def gen_uuencode_begins():
    # Many "begin" lines and no "end": each block must stop at the next one.
    line = b"M" + b"86)C" * 15 + b"\r\n"
    block = b"begin 644 x.bin\r\n" + line * 50
    return mail(b"Content-Type: text/plain\r\n", block * 2000)


def gen_oversized():
    # Bigger than limits.max_message_bytes (30 MiB): not scanned, said so.
    return mail(b"Content-Type: text/plain\r\n", (b"z" * 998 + b"\r\n") *
                (31 * 1024))


def gen_zip_overlap():
    # One deflated kernel, thousands of central-directory entries pointing
    # at the same local header (the "better zip bomb" overlap).
    comp, crc, usize = zeros_deflate(20)
    z = Zip()
    off = z.add_raw("kernel.txt", comp, crc, usize)
    for i in range(2000):
        z.cd.append((b"f%04d.txt" % i, 8, crc, len(comp), usize, off))
    return attach("overlap.zip", z.bytes(), b"application/zip")


def gen_zip_nested_self():
    # A zip inside a zip inside a zip ... 64 deep: each level holds the
    # previous whole, like a self-containing zip unrolled.
    data = b"bottom"
    name = "bottom.txt"
    for i in range(64):
        z = Zip()
        z.add(name, data)
        data, name = z.bytes(), "level%02d.zip" % i
    return attach("self.zip", data, b"application/zip")


def gen_zip_10gb_nested():
    # 16 inner zips x 16 members x 40 MiB of zeros: 10 GiB declared.
    comp, crc, usize = zeros_deflate(40)
    inner = Zip()
    for i in range(16):
        inner.add_raw("zeros%02d.bin" % i, comp, crc, usize)
    inner = inner.bytes()
    outer = Zip()
    for i in range(16):
        outer.add("inner%02d.zip" % i, inner)
    return attach("10gb.zip", outer.bytes(), b"application/zip")


def gen_zip_42():
    # 42.zip's shape: 4 levels of 16 zips, each leaf 4000 MiB of zeros.
    comp, crc, usize = zeros_deflate(4000)
    z = Zip()
    for i in range(16):
        z.add_raw("%x.bin" % i, comp, crc, usize)
    data = z.bytes()
    for level in range(3):
        z = Zip()
        for i in range(16):
            z.add("lib %x.zip" % i, data)
        data = z.bytes()
    return attach("42.zip", data, b"application/zip")


def gen_zip_100k_entries():
    z = Zip()
    for i in range(100000):
        z.add("e%06d.txt" % i, b"x", method=0)
    return attach("many.zip", z.bytes(), b"application/zip")


def gen_ooxml_1gb_shared_strings():
    # A workbook whose sharedStrings.xml claims 1 GiB (declared sizes) and
    # really inflates to 64 MiB: more than any cap.
    head = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats'
            b'.org/spreadsheetml/2006/main"><si><t>')
    comp, crc, _ = zeros_deflate(64, head)
    z = Zip()
    z.add("[Content_Types].xml",
          b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
          b'.org/package/2006/content-types"><Override PartName="/xl/'
          b'workbook.xml" ContentType="application/vnd.openxmlformats-'
          b'officedocument.spreadsheetml.sheet.main+xml"/></Types>')
    z.add("_rels/.rels", b'<?xml version="1.0"?><Relationships/>')
    z.add("xl/workbook.xml", b'<?xml version="1.0"?><workbook/>')
    z.add_raw("xl/sharedStrings.xml", comp, crc, 1 << 30)
    return attach("report.xlsx", z.bytes(),
                  b"application/vnd.openxmlformats-officedocument"
                  b".spreadsheetml.sheet")


def gen_doc_600mb_in_zip():
    # An OLE2 header then 600 MiB of zero padding, deflated in a zip: the
    # 2023 padding trick against size-capped scanners.
    ole = bytearray(512)
    ole[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", ole, 24, 0x3e, 3, 0xfffe, 9)
    struct.pack_into("<H", ole, 32, 6)
    struct.pack_into("<I", ole, 44, 1)          # one FAT sector
    struct.pack_into("<I", ole, 48, 0xfffffffe)  # no directory: broken
    struct.pack_into("<I", ole, 76, 0)          # DIFAT[0] = sector 0
    for i in range(1, 109):
        struct.pack_into("<I", ole, 76 + 4 * i, 0xffffffff)
    comp, crc, usize = zeros_deflate(600, bytes(ole))
    z = Zip()
    z.add_raw("請求書.doc", comp, crc, usize)
    return attach("invoice.zip", z.bytes(), b"application/zip")


# ---- the cases -------------------------------------------------------------

def gen_yara_heavy():
    # Every rule's strings back to back, 16 MiB of them plus a UTF-16LE
    # copy: over a million hits of one string, more than libyara keeps
    # (1,000,000), unless the scanner stops at the first (fast mode).
    unit = (b"Enable Content Enable Editing AutoOpen Shell(\"powershell -enc "
            b"\") CreateObject(\"WScript.Shell\") URLDownloadToFileA "
            b"=EXEC(\"rundll32\") =CALL(\"urlmon\") =REGISTER( ")
    data = unit * (16 * MB // len(unit))
    wide = unit.decode().encode("utf-16-le") * (4 * MB // (2 * len(unit)))
    body = (b"--y\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
            b"".join(b"--y\r\nContent-Type: application/octet-stream; name=" +
                     name + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                     b64_lines(d) for name, d in
                     ((b"a.bin", data), (b"w.bin", wide))) +
            b"--y--\r\n")
    return mail(b"Content-Type: multipart/mixed; boundary=y\r\n", body)


def gen_rtf_deep():
    # Two million nested groups, never closed, around an Equation.3
    # object: the group state stack is bounded, the object still found.
    obj = (b"{\\object\\objemb{\\*\\objdata 01050000020000000b000000"
           + b"Equation.3\0".hex().encode() + b"0000000000000000"
           + b"00000000}}")
    return attach("deep.rtf", b"{\\rtf1" + b"{" * (2 * MB) + obj, b"application/rtf")


def gen_rtf_huge_hex():
    # 20 MB of hex digits in one \objdata, broken by white space and
    # control words every 64 digits (what obfuscators emit).
    unit = b"41424344" * 8 + b"\r\n\\par "
    hexes = unit * (20 * MB // len(unit))
    return attach("big.rtf", b"{\\rtf1{\\object{\\*\\objdata 0105000002000000"
                  + b"08000000" + b"Package\0".hex().encode() + b"00000000"
                  + b"00000000ffffff7f" + hexes + b"}}}", b"application/rtf")


def gen_rtf_many_objects():
    one = (b"{\\object{\\*\\objdata 0105000002000000010000000000000000"
           b"00000000000000}}")
    return attach("many.rtf", b"{\\rtf1" + one * 200000 + b"}", b"application/rtf")


def gen_onenote_many_files():
    guid = bytes.fromhex("e716e3bd65261145a4c48d4d0b7a9eac")
    fdso = guid + struct.pack("<Q", 4) + bytes(12) + b"MZ\x90\x00"
    head = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3") + bytes(64)
    return attach("note.one", head + fdso * 300000, b"application/onenote")


def gen_csv_dense_dde():
    # 9 MiB of '|' cells and DDE formulas: at most 16 links are kept.
    rows = (b"=a|=b|" * 100000 + b"\r\n" + b"=cmd|'/c calc'!A0,\r\n" * 300000)
    return attach("list.csv", rows, b"text/csv")

CASES = [
    # name                  generator                 expectations                                   cap MiB
    ("deep-multipart",      gen_deep_multipart,       ["limit:mime_depth"],                          100),
    ("deep-rfc822",         gen_deep_rfc822,          ["limit:mime_depth"],                          100),
    ("many-parts",          gen_many_parts,           ["limit:mime_parts"],                          100),
    ("parts-3m-29mb",       gen_parts_max,            ["limit:mime_parts"],                          150),
    ("header-fields-3m",    gen_header_fields,        ["limit:header_fields"],                       200),
    ("long-header",         gen_long_header,          ["limit:header_field_bytes"],                  100),
    ("unclosed-boundary",   gen_unclosed_boundary,    ["sym:MIME_MALFORMED", "objects>=2"],          100),
    ("bad-encodings",       gen_bad_encodings,        ["objects>=3"],                                100),
    ("iso2022-broken",      gen_iso2022_broken,       ["objects>=1"],                                100),
    ("mislabelled-charset", gen_mislabelled,          ["objects>=8"],                                100),
    ("uuencode-begins",     gen_uuencode_begins,      ["limit:max_objects"],                         150),
    ("oversized-message",   gen_oversized,            ["limit:max_message_bytes"],                   150),
    ("zip-overlap",         gen_zip_overlap,          ["limit:total_bytes|limit:max_objects|sym:ARCHIVE_MALFORMED"], 300),
    ("zip-nested-64",       gen_zip_nested_self,      ["limit:container_depth"],                     100),
    ("zip-10gb-nested",     gen_zip_10gb_nested,      ["limit:total_bytes|limit:object_bytes"], 300),
    ("zip-42",              gen_zip_42,               ["limit:total_bytes|limit:object_bytes"],      300),
    ("zip-100k-entries",    gen_zip_100k_entries,     ["limit:archive_entries|limit:max_objects"],   200),
    ("ooxml-1gb-sst",       gen_ooxml_1gb_shared_strings, ["limit:object_bytes|sym:OFFICE_MALFORMED|sym:ARCHIVE_MALFORMED"], 150),
    ("doc-600mb-in-zip",    gen_doc_600mb_in_zip,     ["limit:object_bytes|sym:INFLATED_FILE"],      150),
    ("rtf-deep-nesting",    gen_rtf_deep,             ["limit:rtf_depth", "sym:RTF_EXPLOIT_CLASS"],  150),
    ("rtf-20mb-hex",        gen_rtf_huge_hex,         ["sym:RTF_OBJECT"],                            300),
    ("rtf-200k-objects",    gen_rtf_many_objects,     ["limit:rtf_objects"],                         150),
    ("onenote-300k-files",  gen_onenote_many_files,   ["limit:onenote_files"],                       150),
    ("csv-dense-dde",       gen_csv_dense_dde,        ["sym:OFFICE_DDE"],                            150),
    ("yara-many-matches",   gen_yara_heavy,           ["sym:YARA_EMF_LURE_ENABLE_CONTENT_WIDE", "sym:YARA_EMF_LURE_ENABLE_CONTENT_TEXT"], 250),
]


# ---- the runner ---------------------------------------------------------------

def is_asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read() or \
            b"libasan" in subprocess.run(["ldd", path], stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL).stdout


def asan_conf():
    """hostile.conf with the deadline tripled, for an ASan build."""
    path = os.path.join(WORK, "hostile-asan.conf")
    with open(path, "w") as f:
        f.write("limits = { scan_timeout_ms = %d; };\n"
                "yara = { rules_dir = \"%s\"; };\n" %
                (DEADLINE_MS * ASAN_SLOWDOWN, os.path.join(TOP, "rules")))
    return path


def measure(path, cap_mb, asan, deadline_ms, conf):
    """emofilter-scan --json on path: rc, out, err, wall ms and the peak
    RSS of that process alone (os.wait4), started through prlimit (a small
    program, so the RSS before exec is not a copy of this Python)."""
    cmd = [SCAN, "-c", conf, "--json", path]
    if not asan and PRLIMIT:
        # A hard stop well above the cap: a runaway allocation fails here
        # instead of taking the machine (ASan reserves terabytes of
        # address space, so no RLIMIT_AS there).
        cmd = [PRLIMIT, "--as=%d" % (max(cap_mb * 4, 2048) * MB), "--"] + cmd
    # The peak RSS comes from /usr/bin/time (GNU time's %M): a process
    # spawned by this Python starts out in Python's memory (vfork) and
    # Linux keeps that high-water mark across exec, so wait4() on it would
    # report Python's size, not the scanner's.
    tfile = tempfile.NamedTemporaryFile(delete=False)
    tfile.close()
    if TIME:
        cmd = [TIME, "-f", "%M", "-o", tfile.name] + cmd
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        timer = threading.Timer((deadline_ms + SLACK_MS) / 1000 * 3, p.kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        timer.cancel()
        wall = (time.monotonic() - t0) * 1000
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        rss = ru.ru_maxrss / 1024.0
        with open(tfile.name) as f:
            lines = f.read().split()
        os.unlink(tfile.name)
        if TIME and lines and lines[-1].isdigit():
            rss = int(lines[-1]) / 1024.0
        # GNU time passes the status on (a signal becomes 128 + n).
        return {"rc": p.returncode, "out": out.read().decode("utf-8", "replace"),
                "err": err.read().decode("utf-8", "replace")[-2000:],
                "wall": wall, "rss": rss}


def check(report, wants):
    why = []
    limits = report.get("limits_hit", [])
    syms = {s["name"] for s in report.get("symbols", [])}

    def nobj(objs):
        return sum(1 + nobj(o.get("children", []) or []) for o in objs)
    for want in wants:
        ok = False
        for alt in want.split("|"):
            kind, _, arg = alt.partition(":")
            if kind == "limit" and arg in limits:
                ok = True
            elif kind == "sym" and arg in syms:
                ok = True
            elif alt.startswith("objects>="):
                ok = nobj(report.get("objects", [])) >= int(alt[9:])
        if not ok:
            why.append("want %s, got limits_hit=%s symbols=%s" %
                       (want, limits, sorted(syms)))
    return why


def main(argv):
    keep = "--keep" in argv
    names = [a for a in argv if not a.startswith("--")]
    if "--list" in argv:
        for c in CASES:
            print("%-22s %-60s cap %d MiB" % (c[0], " & ".join(c[2]), c[3]))
        return 0
    if not os.access(SCAN, os.X_OK):
        print("FAIL: %s not built" % SCAN)
        return 1
    asan = is_asan(SCAN)
    os.makedirs(WORK, exist_ok=True)
    deadline_ms = DEADLINE_MS * ASAN_SLOWDOWN if asan else DEADLINE_MS
    conf = asan_conf() if asan else CONF
    cases = [c for c in CASES if not names or c[0] in names]
    if names and len(cases) != len(names):
        print("unknown case in %s" % names)
        return 2
    print("hostile: %d cases, deadline %d ms + %d ms slack%s" %
          (len(cases), deadline_ms, SLACK_MS,
           ", AddressSanitizer build (caps x2 + 300 MiB, deadline x%d)" %
           ASAN_SLOWDOWN if asan else ""))
    print("%-22s %-6s %8s %8s %7s %7s %9s" % ("case", "result", "wall-ms",
          "scan-ms", "rss-MiB", "cap", "input-MB"))
    failed, worst_t, worst_m = 0, (0, ""), (0, "")
    for name, gen, wants, cap in cases:
        path = os.path.join(WORK, name + ".eml")
        t0 = time.monotonic()
        data = gen()
        with open(path, "wb") as f:
            f.write(data)
        gen_ms = (time.monotonic() - t0) * 1000
        del data
        ecap = cap * 2 + 300 if asan else cap
        m = measure(path, cap, asan, deadline_ms, conf)
        why = []
        if m["rc"] not in (0, 1):
            why.append("exit %s: %s" % (m["rc"], m["err"][-600:]))
        report = None
        lines = [l for l in m["out"].split("\n") if l]
        if len(lines) != 1:
            why.append("%d reports" % len(lines))
        else:
            try:
                report = json.loads(lines[0])
            except ValueError as e:
                why.append("invalid JSON: %s" % e)
        if report is not None:
            if "time" in report.get("limits_hit", []):
                why.append("hit the scan deadline")
            why += check(report, wants)
        if m["wall"] > deadline_ms + SLACK_MS:
            why.append("took %.0f ms, deadline %d ms" % (m["wall"], deadline_ms))
        if m["rss"] > ecap:
            why.append("peak RSS %.0f MiB over the cap %d MiB" % (m["rss"], ecap))
        scan_ms = report.get("scan_ms", -1) if report else -1
        print("%-22s %-6s %8.0f %8d %7.0f %7d %9.1f" % (
            name, "FAIL" if why else "ok", m["wall"], scan_ms, m["rss"], ecap,
            os.path.getsize(path) / 1e6))
        sys.stdout.flush()
        for w in why:
            print("    %s" % w)
        if m["wall"] > worst_t[0]:
            worst_t = (m["wall"], name)
        if m["rss"] > worst_m[0]:
            worst_m = (m["rss"], name)
        failed += 1 if why else 0
        if not keep:
            os.unlink(path)
        del gen_ms
    print("worst time %.0f ms (%s); worst peak RSS %.0f MiB (%s)" %
          (worst_t[0], worst_t[1], worst_m[0], worst_m[1]))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
