#!/bin/sh
# make-seeds.sh - build the fuzzers' seed corpora from ../shared/corpus,
# the bundled samples and the regression inputs.
#
#   tests/fuzz/make-seeds.sh OUTDIR
#
# Writes OUTDIR/<harness>/ for every harness (message mime charset html
# config zip passwords ole vba ooxml biff office composite rtf xlm rels
# onenote state). Seeds are at most 64 KiB
# (the largest -max_len of run.sh) and sampled evenly from each corpus
# folder so every source is represented without thousands of
# near-duplicates. The Office harnesses get what their parser reads, not
# whole files where that would be wasted: ooxml the XML parts of the
# OOXML packages, biff the Workbook / PowerPoint Document / WordDocument
# streams of the compound files (read here with a small [MS-CFB] reader)
# and the SYLK files, vba the dir and module streams of every VBA storage
# (compressed containers), passwords the decoded text parts of mails
# that carry a password label. Without the corpus the seeds are the
# samples and the regression inputs only (a note says so).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: make-seeds.sh OUTDIR}
# The corpus sits beside the checkout (../shared/corpus), or beside the
# worktrees' parent (../../shared/corpus); EMF_CORPUS overrides.
corpus=${EMF_CORPUS:-$top/../shared/corpus}
[ -d "$corpus" ] || [ -n "${EMF_CORPUS:-}" ] || corpus=$top/../../shared/corpus
mkdir -p "$out"

# The bundled samples (contrib/make-samples.py needs zip and 7z).
samples=$out/.samples
rm -rf "$samples"
if command -v zip >/dev/null && command -v 7z >/dev/null; then
	python3 "$top/contrib/make-samples.py" "$samples" >/dev/null ||
	    echo "make-seeds: samples not built" >&2
fi

exec python3 - "$top" "$out" "$corpus" "$samples" <<'PY'
import email, email.policy, hashlib, io, os, re, shutil, struct, sys, \
    unicodedata, zipfile
from zlib import error as zlib_error

top, out, corpus, samples = sys.argv[1:5]
MAX = 65536
harnesses = ["message", "mime", "charset", "html", "config", "zip",
             "passwords", "ole", "vba", "ooxml", "biff", "office",
             "composite", "rtf", "xlm", "rels", "onenote", "state",
             "mproto"]
seen = {h: set() for h in harnesses}
count = {h: 0 for h in harnesses}

def add(h, data, hint=""):
    if not data or len(data) > MAX:
        return
    d = hashlib.sha1(data).hexdigest()
    if d in seen[h]:
        return
    seen[h].add(d)
    os.makedirs(os.path.join(out, h), exist_ok=True)
    with open(os.path.join(out, h, d[:16]), "wb") as f:
        f.write(data)
    count[h] += 1

def files(root):
    for r, _, names in os.walk(root):
        for n in sorted(names):
            p = os.path.join(r, n)
            if os.path.isfile(p) and 0 < os.path.getsize(p) <= MAX:
                yield p

def sample(paths, k):
    paths = sorted(paths)
    if len(paths) <= k:
        return paths
    step = len(paths) / k
    return [paths[int(i * step)] for i in range(k)]

def read(p):
    with open(p, "rb") as f:
        return f.read()

for h in harnesses:
    shutil.rmtree(os.path.join(out, h), ignore_errors=True)
    os.makedirs(os.path.join(out, h))
    reg = os.path.join(top, "tests", "fuzz", "regress", h)
    if os.path.isdir(reg):
        for p in files(reg):
            add(h, read(p))

# Mail: every mail folder of the corpus, up to 40 files each.
mail_dirs = ["spamassassin-corpus", "mimekit-testdata", "thunderbird-testmail",
             "stalwart-mailparser-eml", "ruby-mail-fixtures", "gmime-testdata",
             "sisimai-set-of-emails", "tika-mail", "phishing-pot-subset",
             "spamscope-mailparser-mails", "nodemailer-mailparser-fixtures",
             "cpython-email-testdata", "yara-rules-maldocs/email"]
skip_ext = (".json", ".md", ".tsv", ".py", ".rb", ".js", ".pl", ".yar",
            ".yara", ".png", ".jpg", ".gif", ".gz", ".bz2")
have_corpus = os.path.isdir(corpus)
if have_corpus:
    for d in mail_dirs:
        cand = [p for p in files(os.path.join(corpus, d))
                if not p.lower().endswith(skip_ext)
                and "LICENSE" not in os.path.basename(p).upper()]
        for p in sample(cand, 40):
            data = read(p)
            add("message", data)
            if count["mime"] < 200:
                add("mime", data)
    # Archives and Office files: by magic, not by name.
    arch_dirs = ["go-archive-zip-testdata", "libzip-regress", "tika-archives",
                 "recursiveextractor-testdata", "libarchive-testdata",
                 "clamav-unittest", "tika-office", "poi-testdata",
                 "oletools-testdata", "calamine-tests", "msoffcrypto-testdata",
                 "olefile-tests", "yara-rules-maldocs"]
    for d in arch_dirs:
        cand = []
        for p in files(os.path.join(corpus, d)):
            with open(p, "rb") as f:
                magic = f.read(8)
            if magic[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08") or \
               magic == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
                cand.append(p)
        for p in sample(cand, 60):
            add("zip", read(p))
    for p in files(corpus):
        if p.lower().endswith((".html", ".htm")):
            add("html", read(p))

# ---- Office: a small [MS-CFB] reader, to give each parser its streams ----
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

def ole_streams(data):
    """{path: bytes} of a compound file (each stream cut at MAX); {} when
    it does not parse. Chains are followed with a visited set."""
    try:
        if data[:8] != OLE:
            return {}
        shift = struct.unpack_from("<H", data, 0x1E)[0]
        if not 7 <= shift <= 16:
            return {}
        ssz = 1 << shift
        nsect = (len(data) - ssz + ssz - 1) // ssz
        def sector(s):
            off = (s + 1) * ssz
            return data[off:off + ssz] if 0 <= s < nsect and off < len(data) else None
        difat = [v for v in struct.unpack_from("<109I", data, 0x4C) if v < 0xFFFFFFFA]
        dif, seen = struct.unpack_from("<I", data, 0x44)[0], set()
        while dif < nsect and dif not in seen and len(difat) < nsect:
            seen.add(dif)
            sec = sector(dif)
            if sec is None or len(sec) < ssz:
                break
            vals = struct.unpack_from("<%dI" % (ssz // 4), sec)
            difat += [v for v in vals[:-1] if v < 0xFFFFFFFA]
            dif = vals[-1]
        fat = []
        for s in difat:
            sec = sector(s) or b""
            fat += struct.unpack_from("<%dI" % (len(sec) // 4), sec)
        def chain(start, table, get, unit, limit):
            buf, s, seen = bytearray(), start, set()
            while s < len(table) and s not in seen and len(buf) < limit:
                seen.add(s)
                piece = get(s)
                if piece is None:
                    break
                buf += piece[:unit]
                s = table[s]
            return bytes(buf[:limit])
        dirb = chain(struct.unpack_from("<I", data, 0x30)[0], fat, sector, ssz, 1 << 20)
        ents = []
        for i in range(len(dirb) // 128):
            e = dirb[i * 128:(i + 1) * 128]
            nlen = min(struct.unpack_from("<H", e, 0x40)[0], 64)
            name = e[:max(nlen - 2, 0)].decode("utf-16-le", "replace")
            ents.append((name, e[0x42]) + struct.unpack_from("<III", e, 0x44) +
                        struct.unpack_from("<II", e, 0x74))
        if not ents or ents[0][1] != 5:
            return {}
        mf = chain(struct.unpack_from("<I", data, 0x3C)[0], fat, sector, ssz, 1 << 20)
        minifat = list(struct.unpack_from("<%dI" % (len(mf) // 4), mf))
        ms = chain(ents[0][5], fat, sector, ssz, min(ents[0][6], len(data)))
        def mini(s):
            return ms[s * 64:s * 64 + 64] if s * 64 < len(ms) else None
        cutoff = struct.unpack_from("<I", data, 0x38)[0]
        res, stack, seen = {}, [(ents[0][4], "")], set()
        while stack:
            i, prefix = stack.pop()
            if i >= len(ents) or i in seen:
                continue
            seen.add(i)
            name, kind, left, right, child, start, size = ents[i]
            stack += [(left, prefix), (right, prefix)]
            if kind == 1:
                stack.append((child, prefix + name + "/"))
            elif kind == 2:
                want = min(size, MAX)
                if size < cutoff:
                    res[prefix + name] = chain(start, minifat, mini, 64, want)
                else:
                    res[prefix + name] = chain(start, fat, sector, ssz, want)
        return res
    except (struct.error, IndexError, ValueError):
        return {}

def vba_seeds(streams):
    """The compressed containers of every VBA storage: the dir stream
    whole, each module stream from its source (found as olevba does, by
    the literal "Attribut" that every module source starts with)."""
    for path, d in sorted(streams.items()):
        parts = path.split("/")
        if len(parts) < 2 or parts[-2].upper() != "VBA":
            continue
        if parts[-1].lower() == "dir":
            add("vba", d)
            continue
        k = d.find(b"\x00Attribut")
        if k >= 3 and d[k - 3] == 1:
            add("vba", d[k - 3:])

office_dirs = ["tika-office", "poi-testdata", "calamine-tests", "oletools-testdata",
               "msoffcrypto-testdata", "olefile-tests", "clamav-unittest",
               "yara-rules-maldocs"]
office_ext = (".doc", ".dot", ".xls", ".xlt", ".ppt", ".pps", ".pot", ".docx",
              ".docm", ".dotm", ".xlsx", ".xlsm", ".xlsb", ".xltm", ".pptx",
              ".pptm", ".ppsm", ".potm", ".vsdm", ".slk", ".msg", ".bin")
xml_want = ("document.xml", ".rels", "workbook.xml", "sharedstrings.xml",
            "/macrosheets/", "/slides/slide", "settings.xml")
if have_corpus:
    ole_files, pk_files, whole = [], [], []
    for d in office_dirs:
        for p in files(os.path.join(corpus, d)):
            with open(p, "rb") as f:
                magic = f.read(8)
            if magic == OLE:
                ole_files.append(p)
            elif magic[:4] == b"PK\x03\x04" and p.lower().endswith(office_ext):
                pk_files.append(p)
            if p.lower().endswith(office_ext):
                whole.append(p)
    for p in sample(ole_files, 120):
        add("ole", read(p))
    for p in sample(whole, 160):
        add("office", read(p))
    # Streams of every compound file (also those over 64 KiB: files()
    # stops at MAX, so walk them again without the bound).
    big_ole = []
    for d in office_dirs:
        for r, _, names in os.walk(os.path.join(corpus, d)):
            for n in sorted(names):
                q = os.path.join(r, n)
                if os.path.isfile(q) and os.path.getsize(q) <= 4 << 20:
                    with open(q, "rb") as f:
                        if f.read(8) == OLE:
                            big_ole.append(q)
    for p in sample(big_ole, 400):
        st = ole_streams(read(p))
        for name in ("Workbook", "Book", "PowerPoint Document", "WordDocument"):
            for path, d in st.items():
                if path.lower() == name.lower() and count["biff"] < 160:
                    add("biff", d)
        vba_seeds(st)
    for p in files(corpus):
        if p.lower().endswith(".slk"):
            add("biff", read(p))
    # OOXML: the parts ooxml.c reads, and vbaProject.bin for vba.
    for p in sample(pk_files, 200):
        try:
            z = zipfile.ZipFile(io.BytesIO(read(p)))
            for i in z.infolist()[:60]:
                n = i.filename.lower()
                if i.file_size > 4 << 20:
                    continue
                if n.endswith((".xml", ".rels")) and any(w in n for w in xml_want):
                    if count["ooxml"] < 240:
                        add("ooxml", z.read(i)[:MAX])
                elif n.endswith("vbaproject.bin"):
                    vba_seeds(ole_streams(z.read(i)))
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError,
                EOFError, ValueError, zlib_error):
            pass

# ---- passwords: decoded text parts of mails with a password label -------
label = re.compile(r"(?i)(password|passwd|passcode|\bpwd\b|\bpw\b|パスワード|暗証番号|解凍)")

def mail_texts(data):
    try:
        m = email.message_from_bytes(data, policy=email.policy.default)
        yield str(m.get("subject", ""))
        for part in m.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                t = part.get_content()
                if part.get_content_type() == "text/html":
                    t = re.sub(r"<[^>]*>", " ", t)
                yield t
    except Exception:  # hostile mail: the email package raises anything
        return

def add_texts(data):
    for t in mail_texts(data):
        if label.search(unicodedata.normalize("NFKC", t)):
            add("passwords", t.encode("utf-8", "replace")[:16384])

if have_corpus:
    # Most mail has no label: look at a sample of each folder, keep <= 15.
    for d in mail_dirs:
        start = count["passwords"]
        cand = [p for p in files(os.path.join(corpus, d))
                if not p.lower().endswith(skip_ext)]
        for p in sample(cand, 150):
            if count["passwords"] - start >= 15:
                break
            add_texts(read(p))

# Samples: mails to the mail harnesses, their attachments to zip.
if os.path.isdir(samples):
    for p in files(samples):
        data = read(p)
        if p.endswith(".eml"):
            add("message", data)
            add("mime", data)
            add_texts(data)
        elif data[:2] == b"PK" or data[:4] == b"\xd0\xcf\x11\xe0":
            add("zip", data)
            add("office", data)

# Charset: label length byte + label + text, for every label mail uses.
texts = ["パスワード：Abc123 請求書を送付します。①㈱髙", "Invoice attached. Zürich €",
         "비밀번호 암호", "密码 附件"]
labels = ["iso-2022-jp", "shift_jis", "euc-jp", "utf-8", "cp932", "windows-1252",
          "iso-8859-1", "us-ascii", "gb2312", "big5", "euc-kr", "utf-7",
          "x-unknown", "", "bogus-charset"]
codec = {"iso-2022-jp": "iso2022_jp_ext", "cp932": "cp932", "shift_jis": "cp932",
         "euc-jp": "euc_jp", "utf-7": "utf_7", "gb2312": "gb18030", "big5": "big5",
         "euc-kr": "euc_kr", "windows-1252": "cp1252", "iso-8859-1": "latin-1"}
for lab in labels:
    for t in texts:
        c = codec.get(lab, "utf-8")
        data = t.encode(c, errors="replace")
        add("charset", bytes([len(lab)]) + lab.encode() + data)
        # The same text under a wrong label.
        add("charset", bytes([len(lab)]) + lab.encode() + t.encode("cp932", errors="replace"))
# HTML: a few hand-made pages besides the corpus ones.
for h in [b"<html><head><meta http-equiv=Content-Type content='text/html; charset=iso-2022-jp'></head><body>\x1b$B%Q%9%o!<%I\x1b(B: abc</body></html>",
          b"<p>Enable&nbsp;Content<br><a href='http://x.example/a?b=1&amp;c=2'>x</a><img src=cid:1></p>",
          b"<!-- c --><script>var a='<p>';</script><style>p{}</style><table><tr><td>1<td>2</table>&#12497;&#x30B9;"]:
    add("html", h)
# Config: the shipped file and the test configurations.
for p in [os.path.join(top, "conf", "emofilter.conf")] + \
         [os.path.join(top, "tests", n) for n in os.listdir(os.path.join(top, "tests")) if n.endswith(".conf")]:
    if os.path.isfile(p):
        data = read(p).replace(b'@include "../conf/emofilter.conf"', b"")
        add("config", data)
# Composite: the shipped expressions, each with a few presence masks.
conf = read(os.path.join(top, "conf", "emofilter.conf")).decode("utf-8", "replace")
for i, x in enumerate(re.findall(r'expression = "([^"]*)"', conf)):
    for m in (b"\x00\x00", b"\xff\xff\xff\xff", bytes([i, 255 - i, 7 * i % 256, 3])):
        add("composite", x.encode() + b"\n" + m)
# RTF: the corpus's RTF files (cut to the seed size), OneNote sections.
if have_corpus:
    for d in office_dirs:
        for p in files(os.path.join(corpus, d)):
            if p.lower().endswith((".rtf", ".one")):
                add("rtf", read(p)[:MAX])

# XLM: the parsed formulas (rgce) of the FORMULA records of the corpus's
# workbooks and of the BrtFmla* cells of its .xlsb sheets, each file's as
# one input of 2-byte-length-prefixed formulas (fuzz_xlm.c).
def biff_formulas(d):
    out, pos = [], 0
    while pos + 4 <= len(d) and len(out) < 100:
        t, n = struct.unpack_from("<HH", d, pos)
        body = d[pos + 4:pos + 4 + n]
        pos += 4 + n
        if t == 0x0006 and len(body) >= 22:
            cce = struct.unpack_from("<H", body, 20)[0]
            out.append(body[22:22 + cce])
    return out

def xlsb_formulas(d):
    out, i = [], 0
    while i < len(d) and len(out) < 100:
        t = d[i] & 0x7F
        if d[i] & 0x80:
            i += 1
            if i >= len(d):
                break
            t |= (d[i] & 0x7F) << 7
        i += 1
        sz, k = 0, 0
        while k < 4 and i < len(d):
            sz |= (d[i] & 0x7F) << (7 * k)
            i += 1
            if not d[i - 1] & 0x80:
                break
            k += 1
        body = d[i:i + sz]
        i += sz
        if 8 <= t <= 11 and len(body) >= 8:
            off = 8
            if t == 8:
                if len(body) < 12:
                    continue
                off += 4 + 2 * struct.unpack_from("<I", body, 8)[0]
            else:
                off += 8 if t == 9 else 1
            off += 2
            if off + 4 <= len(body):
                cce = struct.unpack_from("<I", body, off)[0]
                out.append(body[off + 4:off + 4 + cce])
    return out

def add_formulas(h, fs):
    if fs:
        add(h, b"".join(struct.pack("<H", min(len(f), 65535)) + f[:65535]
                        for f in fs)[:16384])

flat_marks = (b"w:wordDocument", b"urn:schemas-microsoft-com:office:spreadsheet",
              b"pkg:package")
if have_corpus:
    for p in sample(big_ole, 400):
        for path, d in ole_streams(read(p)).items():
            if path.lower() in ("workbook", "book") and count["xlm"] < 200:
                add_formulas("xlm", biff_formulas(d))
    for p in pk_files:
        try:
            z = zipfile.ZipFile(io.BytesIO(read(p)))
            for i in z.infolist()[:200]:
                n = i.filename.lower()
                if i.file_size > 4 << 20:
                    continue
                if n.endswith(".bin") and ("/macrosheets/" in n or
                                           "/worksheets/" in n):
                    add_formulas("xlm", xlsb_formulas(z.read(i)))
                # rels: the parts fuzz_rels.c reads, cut to its 16 KiB.
                elif count["rels"] < 300 and (n.endswith(".rels") or
                        n.startswith("xl/externallinks/") or
                        n == "xl/workbook.xml"):
                    add("rels", z.read(i)[:16384])
                elif count["rels"] < 300 and n.startswith("word/") and \
                        n.endswith(".xml"):
                    d = z.read(i)
                    if b"instrText" in d or b"fldSimple" in d:
                        add("rels", d[:16384])
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError,
                EOFError, ValueError, zlib_error, struct.error):
            pass
    for d in office_dirs:
        for p in files(os.path.join(corpus, d)):
            head = read(p)[:4096]
            if head.lstrip().startswith(b"<?xml") and \
                    any(m in head for m in flat_marks):
                add("rels", read(p)[:16384])

# OneNote: the corpus's .one files, else sections built here around
# small real files (the harness also builds its own).
ONE = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")
FDSO = bytes.fromhex("e716e3bd65261145a4c48d4d0b7a9eac")
def section(parts):
    b = ONE + bytes(16)
    for name, data in parts:
        b += FDSO + struct.pack("<Q", len(data)) + bytes(12) + data
        b += name.encode("utf-16-le") + b"\0\0"
    return b
if have_corpus:
    for d in office_dirs:
        for p in files(os.path.join(corpus, d)):
            if p.lower().endswith(".one"):
                add("onenote", read(p)[:MAX])
    small = [p for p in files(corpus) if os.path.getsize(p) <= 8192 and
             p.lower().endswith((".zip", ".doc", ".xls", ".rtf", ".html",
                                 ".hta", ".lnk", ".js"))]
    for k, p in enumerate(sample(small, 24)):
        add("onenote", section([("open%d.%s" % (k, ("hta", "cmd", "pdf")[k % 3]),
                                 read(p))]))
for k, body in enumerate([b"<script>new ActiveXObject('WScript.Shell')</script>",
                          b"@echo off\r\npowershell -enc AAAA\r\n", b""]):
    add("onenote", section([("click%d.hta" % k, body), ("x.wsf", body)]))

# State: the emotet-dev pairs of a held PPAP mail and its password mail
# (labels.tsv "related"), as fuzz_state.c takes them, and password
# notices alone.
if have_corpus:
    dev = os.path.join(corpus, "emotet-dev")
    try:
        with open(os.path.join(dev, "labels.tsv"), encoding="utf-8") as f:
            rows = [l.rstrip("\n").split("\t") for l in f][1:]
    except OSError:
        rows = []
    for r in rows:
        if len(r) > 8 and r[8] and "pw_separate" in r[3]:
            a, b = os.path.join(dev, r[0]), os.path.join(dev, r[8])
            if os.path.isfile(a) and os.path.isfile(b):
                add("state", read(a) + b"\n--8<--\n" + read(b))
                add("state", read(b))
# mproto: what Postfix sends a milter for a message (fuzz_mproto.c):
# negotiation, connect, HELO, MAIL with its macros, RCPT, each header,
# the body in chunks, the end with its macros, QUIT; from the emotet-dev
# mail when the corpus is there, else from the samples.
def mpkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data

def milter_stream(raw, chunk):
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    st = [mpkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)),
          mpkt(b"D", b"C{client_addr}\0" b"192.0.2.7\0"),
          mpkt(b"C", b"mx.example.org\0" b"4" + struct.pack(">H", 25) +
               b"192.0.2.7\0"),
          mpkt(b"H", b"client.example\0"),
          mpkt(b"D", b"Mi\0ABC123\0{auth_authen}\0alice\0"),
          mpkt(b"M", b"<a@example.org>\0SIZE=100\0"),
          mpkt(b"R", b"<b@example.net>\0")]
    for h in re.split(rb"\n(?![ \t])", head):
        name, _, value = h.partition(b":")
        if name:
            st.append(mpkt(b"L", name + b"\0" + value + b"\0"))
    st.append(mpkt(b"N"))
    body = body.replace(b"\n", b"\r\n")
    for i in range(0, len(body), chunk):
        st.append(mpkt(b"B", body[i:i + chunk]))
    st += [mpkt(b"D", b"Ei\0ABC123\0"), mpkt(b"E"), mpkt(b"Q")]
    return b"".join(st)

mails = []
if have_corpus:
    dev = os.path.join(corpus, "emotet-dev")
    for r, _, fs in os.walk(dev):
        mails += [os.path.join(r, f) for f in sorted(fs) if f.endswith(".eml")]
mails += [os.path.join(top, "tests", "fuzz", "regress", "state", f)
          for f in ("notice-forms.eml", "ppap-pair.eml")]
for i, path in enumerate(sorted(mails)[:120]):
    try:
        add("mproto", milter_stream(read(path)[:60000], (512, 4096, 65535)[i % 3]))
    except OSError:
        pass
print("seeds:", " ".join("%s=%d" % (h, count[h]) for h in harnesses),
      "" if have_corpus else "(no corpus at %s: samples and regression inputs only)" % corpus)
PY
