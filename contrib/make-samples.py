#!/usr/bin/env python3
"""make-samples.py - build emofilter's sample mails.

    contrib/make-samples.py OUTDIR

Writes a few clean mails and a few Emotet-like mails (made by the project,
from the harmless macro documents in tests/data/, see tests/data/NOTICE)
into OUTDIR, plus OUTDIR/expected.tsv: file, lowest expected action,
highest expected action. Needs zip and 7z (contrib/install-deps.sh).

The Emotet-like mails copy the shape of the 2019-2023 campaigns against
Japanese organisations: an invoice mail with a password-protected zip and
the password in the body; a forged reply with a quoted-header block and no
thread headers; an English XLM workbook in an AES zip with an "Enable
Content" lure; an Italian lure with a VelvetSweatshop-encrypted workbook;
and the 2023 trick of a document padded to over 500 MB inside a small zip.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email import encoders, policy
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data")
DATE = "Mon, 25 Nov 2024 09:12:00 +0900"


def data(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def jtext(body):
    """A text/plain part in ISO-2022-JP, as Japanese mailers send it."""
    part = MIMEText(body, "plain", "iso-2022-jp")
    return part


def headers(msg, frm, to, subject, msgid, return_path, extra=None):
    msg["Return-Path"] = "<%s>" % return_path
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = DATE
    msg["Message-ID"] = msgid
    for k, v in (extra or {}).items():
        msg[k] = v
    return msg


def jaddr(name, addr):
    return formataddr((str(Header(name, "iso-2022-jp")), addr))


def attach(msg, payload, filename, ctype="application/octet-stream"):
    main, sub = ctype.split("/")
    part = MIMEApplication(payload, sub, encoders.encode_base64)
    part.set_type(ctype)
    # RFC 2231 names for non-ASCII, as current mailers do.
    part.add_header("Content-Disposition", "attachment",
                    filename=("utf-8", "", filename) if not filename.isascii()
                    else filename)
    msg.attach(part)


def zip_with_password(files, password, aes, workdir):
    """Encrypted zip of {name: bytes}: ZipCrypto via zip -P, AES via 7z."""
    src = os.path.join(workdir, "src")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    for name, payload in files.items():
        with open(os.path.join(src, name), "wb") as f:
            f.write(payload)
    out = os.path.join(workdir, "out.zip")
    if os.path.exists(out):
        os.unlink(out)
    names = list(files)
    if aes:
        cmd = ["7z", "a", "-tzip", "-mem=AES256", "-p" + password, out] + names
    else:
        cmd = ["zip", "-q", "-P", password, out] + names
    subprocess.run(cmd, cwd=src, check=True, stdout=subprocess.DEVNULL)
    with open(out, "rb") as f:
        return f.read()


def write(outdir, name, msg):
    with open(os.path.join(outdir, name), "wb") as f:
        # compat32 folds email.header.Header values (ISO-2022-JP words)
        f.write(msg.as_bytes(policy=policy.compat32.clone(linesep="\r\n")))


SIGN_JA = "\n--\n株式会社エービー商事 経理部\n佐藤 花子\nMail: sato@abc-shoji.co.jp\nTel: 03-1234-5678\n"


def clean_ja_reply(outdir, _):
    body = ("山田様\n\nお世話になっております。\n来週の打ち合わせの件、火曜日の14時で承知しました。\n"
            "よろしくお願いいたします。\n" + SIGN_JA +
            "\n> 差出人: 山田 太郎 <yamada@xyz-kogyo.co.jp>\n> 送信日時: 2024年11月22日 17:03\n"
            "> 宛先: 佐藤 花子 <sato@abc-shoji.co.jp>\n> 件名: 来週の打ち合わせ\n>\n"
            "> 佐藤様\n> 来週どこかでお時間をいただけますか。\n")
    msg = jtext(body)
    headers(msg, jaddr("佐藤 花子", "sato@abc-shoji.co.jp"),
            jaddr("山田 太郎", "yamada@xyz-kogyo.co.jp"),
            Header("Re: 来週の打ち合わせ", "iso-2022-jp"),
            "<20241125091200.A1@abc-shoji.co.jp>", "sato@mail.abc-shoji.co.jp",
            {"In-Reply-To": "<20241122170300.Z9@xyz-kogyo.co.jp>",
             "References": "<20241122170300.Z9@xyz-kogyo.co.jp>"})
    write(outdir, "clean-ja-reply.eml", msg)


def clean_en_newsletter(outdir, _):
    msg = MIMEMultipart("alternative")
    text = ("Hello,\n\nOur November newsletter: new office hours, the holiday "
            "schedule and a recipe.\n\nTo unsubscribe, reply with STOP.\n")
    html = ("<html><body><h1>November news</h1><p>New office hours, the "
            "holiday schedule and a recipe.</p><p><a href=\"https://news."
            "example.com/unsub\">Unsubscribe</a></p></body></html>")
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(MIMEText(html, "html", "utf-8"))
    headers(msg, "Example News <news@example.com>", "reader@example.org",
            "November newsletter", "<nl-2024-11@example.com>",
            "bounce-42@mailer.example.net",
            {"List-Unsubscribe": "<https://news.example.com/unsub>"})
    write(outdir, "clean-en-newsletter.eml", msg)


def clean_ppap(outdir, work):
    """Legitimate Japanese PPAP: the password comes in a separate mail."""
    pdf = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj"
           b"<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    z = zip_with_password({"mitsumori.pdf": pdf}, "Gx7pQ2m", False, work)
    msg = MIMEMultipart("mixed")
    msg.attach(jtext("山田様\n\nお見積書を添付いたします。\nパスワードは別途メールにてお送りします。\n" + SIGN_JA))
    attach(msg, z, "お見積書.zip", "application/zip")
    headers(msg, jaddr("佐藤 花子", "sato@abc-shoji.co.jp"),
            "yamada@xyz-kogyo.co.jp", Header("お見積書の送付", "iso-2022-jp"),
            "<20241125091500.B2@abc-shoji.co.jp>", "sato@abc-shoji.co.jp")
    write(outdir, "clean-ppap-separate-password.eml", msg)


def emotet_pwzip(outdir, work):
    """ばらまき型: invoice zip, password in the body, VBA workbook inside."""
    z = zip_with_password({"請求書_1125.xls": data("39234.xls")}, "L51ylaH",
                          False, work)
    body = ("お世話になっております。\n\n請求書を送付いたします。\nご確認の程よろしくお願いいたします。\n\n"
            "添付ファイルのパスワード：　L51ylaH\n\n"
            "--\n株式会社エービー商事\n経理部 鈴木\nMail: keiri@abc-shoji.co.jp\n")
    msg = MIMEMultipart("mixed")
    msg.attach(jtext(body))
    attach(msg, z, "請求書_1125.zip", "application/zip")
    headers(msg, jaddr("経理部 鈴木 keiri@abc-shoji.co.jp", "tasmika@karya-indo.example.id"),
            "sato@xyz-kogyo.co.jp", Header("請求書の送付", "iso-2022-jp"),
            "<a81c2d@karya-indo.example.id>", "tasmika@karya-indo.example.id")
    write(outdir, "emotet-password-zip.eml", msg)


def emotet_fake_reply(outdir, _):
    """偽装返信型: forged Original Message block, no thread headers."""
    body = ("ご確認ください。\n\n添付の見積書を開き、「コンテンツの有効化」をクリックしてください。\n\n"
            "-----Original Message-----\n差出人: 山田 太郎 <yamada@xyz-kogyo.co.jp>\n"
            "日時: 2024年11月20日 10:31\n宛先: 佐藤 花子 <sato@abc-shoji.co.jp>\n"
            "件名: お見積りの件\n\n佐藤様\nお見積りをお願いできますでしょうか。\n")
    msg = MIMEMultipart("mixed")
    msg.attach(jtext(body))
    attach(msg, data("SimpleMacro.docm"), "見積書.docm",
           "application/vnd.ms-word.document.macroEnabled.12")
    headers(msg, jaddr("山田 太郎", "info@hotel-sakura.example.com"),
            "sato@abc-shoji.co.jp", Header("RE: お見積りの件", "iso-2022-jp"),
            "<f00d@hotel-sakura.example.com>", "info@hotel-sakura.example.com")
    write(outdir, "emotet-fake-reply.eml", msg)


def emotet_xlm_aes(outdir, work):
    """English invoice: AES-256 zip, password in the body, XLM Auto_Open."""
    z = zip_with_password({"Invoice_8841.xls": data("excel4_sample_macro.xls")},
                          "5Xk29", True, work)
    body = ("Dear customer,\n\nPlease find attached the invoice for your last order.\n"
            "The archive password is: 5Xk29\n\nIf the document does not display "
            "correctly, click Enable Editing and then Enable Content.\n\n"
            "Best regards,\nAccounts Department\nEmail: accounts@northwind.example.com\n")
    msg = MIMEMultipart("mixed")
    msg.attach(MIMEText(body, "plain", "utf-8"))
    attach(msg, z, "Invoice_8841.zip", "application/zip")
    headers(msg, "Accounts <billing@mx7.example.biz>", "buyer@example.org",
            "Invoice 8841 overdue", "<inv8841@mx7.example.biz>",
            "billing@mx7.example.biz")
    write(outdir, "emotet-xlm-aes-zip.eml", msg)


def emotet_velvet(outdir, _):
    """Italian lure, workbook encrypted with the default password."""
    body = ("Buongiorno,\n\nin allegato la fattura. Se il documento non si apre, "
            "fare clic su \"Abilita modifiche\" e poi su \"Abilita contenuto\".\n\n"
            "Cordiali saluti\n")
    msg = MIMEMultipart("mixed")
    msg.attach(MIMEText(body, "plain", "iso-8859-1"))
    attach(msg, data("autostart-encrypt-standardpassword.xls"), "fattura_2024.xls",
           "application/vnd.ms-excel")
    headers(msg, "Amministrazione <amministrazione@studio.example.it>",
            "cliente@example.org", "Fattura n. 2024/331", "<f331@studio.example.it>",
            "amministrazione@studio.example.it")
    write(outdir, "emotet-velvet-lure.eml", msg)


def emotet_inflated(outdir, work):
    """2023: a macro document padded with zeros to over 500 MB in a small zip."""
    path = os.path.join(work, "inflated.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("Invoice_2023_03.doc", "w", force_zip64=True) as f:
            f.write(data("39234.xls"))
            zero = bytes(1 << 20)
            for _ in range(520):
                f.write(zero)
    with open(path, "rb") as f:
        z = f.read()
    body = ("Hello,\n\nPlease review the attached invoice and confirm.\n\nThanks,\nMark\n")
    msg = MIMEMultipart("mixed")
    msg.attach(MIMEText(body, "plain", "utf-8"))
    attach(msg, z, "Invoice_2023_03.zip", "application/zip")
    headers(msg, "Mark <mark@partner.example.net>", "ap@example.org",
            "RE: invoice March", "<inf2023@partner.example.net>",
            "mark@partner.example.net")
    write(outdir, "emotet-inflated-doc.eml", msg)


# name, lowest acceptable action, highest acceptable action
EXPECTED = [
    ("clean-ja-reply.eml", "accept", "accept", clean_ja_reply),
    ("clean-en-newsletter.eml", "accept", "accept", clean_en_newsletter),
    ("clean-ppap-separate-password.eml", "accept", "tag", clean_ppap),
    ("emotet-password-zip.eml", "quarantine", "reject", emotet_pwzip),
    ("emotet-fake-reply.eml", "quarantine", "reject", emotet_fake_reply),
    ("emotet-xlm-aes-zip.eml", "quarantine", "reject", emotet_xlm_aes),
    ("emotet-velvet-lure.eml", "quarantine", "reject", emotet_velvet),
    ("emotet-inflated-doc.eml", "quarantine", "reject", emotet_inflated),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-samples.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name, _, _, make in EXPECTED:
            make(outdir, work)
    with open(os.path.join(outdir, "expected.tsv"), "w") as f:
        f.write("# file\tlowest action\thighest action\n")
        for name, lo, hi, _ in EXPECTED:
            f.write("%s\t%s\t%s\n" % (name, lo, hi))


if __name__ == "__main__":
    main()
