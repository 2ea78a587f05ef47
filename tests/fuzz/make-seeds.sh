#!/bin/sh
# make-seeds.sh - build the fuzzers' seed corpora from ../shared/corpus,
# the bundled samples and the regression inputs.
#
#   tests/fuzz/make-seeds.sh OUTDIR
#
# Writes OUTDIR/<harness>/ for every harness (message mime charset html
# config zip passwords ole vba ooxml biff office composite). Seeds are at most 64 KiB
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
             "composite"]
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
print("seeds:", " ".join("%s=%d" % (h, count[h]) for h in harnesses),
      "" if have_corpus else "(no corpus at %s: samples and regression inputs only)" % corpus)
PY
