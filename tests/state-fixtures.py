#!/usr/bin/env python3
"""state-fixtures.py OUTDIR DATADIR - build the mail pairs of tests/state.sh.

A PPAP pair is a mail with a password zip and, a minute later, a second
mail of the same sender with the password. Built here (no binary fixture
in git), from the harmless test documents in tests/data/:

  mal-a.eml / mal-a-pw.eml   ZipCrypto zip (zip -P) holding 39234.xls (VBA
                             Workbook_Open) as 請求書.xls; the password
                             mail is a gateway notice: 「パスワード通知」
                             heading, the password alone on a later line
  mal-b.eml / mal-b-pw.eml   AES-256 zip (7z) holding excel4_sample_macro.xls
                             (XLM Auto_Open); "Password for the attached
                             file:" then the password ("Tr4!nGate#", whose
                             trailing "#" the labelled pass keeps too)
  ham-c.eml / ham-c-pw.eml   ZipCrypto zip holding a text file; the
                             password in a "パスワード: X!" line whose "!"
                             belongs to it
  ham-c-pw-other.eml         the right password, but from another sender
  ham-c-pw-elsewhere.eml     the right sender and password, to another
                             recipient
  flood-N.eml (N = 1..3)     unopenable zips of one sender (caps)
  spread-N.eml (N = 1..20)   unopenable zips of 20 senders (concurrency)
  mem-out.eml                the correspondence memory: a mail we send
                             (tanaka -> sato, "見積書の件", Message-ID
                             <mem-out-1@corp.example>)
  mem-out2.eml               another mail we send, to two others (caps)
  mem-reply.eml              sato's reply from a webmail that sets no
                             In-Reply-To: "RE: 見積書の件" with a quoted
                             "-----Original Message-----" block (the
                             false alarm the memory removes)
  mem-reply-irt.eml          the same with In-Reply-To: <mem-out-1@...>
  mem-forged.eml             "RE: 見積書の件" with a forged quoted block
                             from a party we never wrote to
  mem-hijack.eml             a stranger whose In-Reply-To names our
                             Message-ID (a stolen thread: not KNOWN_THREAD)

Every mail is written with CRLF line ends, as an MTA hands it over.
"""
import os
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

OUT, DATA = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)

PARTNER = "sato@partner.example"
PARTNER_FROM = "佐藤 花子 <sato@partner.example>"
US = "tanaka@corp.example"


def zip_file(members, password, aes=False):
    """A password zip of members [(name, bytes)] via zip -P or 7z."""
    with tempfile.TemporaryDirectory() as d:
        for name, data in members:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        out = os.path.join(d, "out.zip")
        names = [n for n, _ in members]
        if aes:
            cmd = ["7z", "a", "-tzip", "-mem=AES256", "-p" + password,
                   out] + names
        else:
            cmd = ["zip", "-q", "-P", password, out] + names
        subprocess.run(cmd, cwd=d, check=True, stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            return f.read()


def mail(path, sender, to, subject, body, zipname=None, zipdata=None,
         msgid=None, in_reply_to=None):
    m = EmailMessage(policy=SMTP)
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = msgid or make_msgid(domain=sender.split("@")[-1]
                                          .rstrip(">"))
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    m.set_content(body, charset="utf-8")
    if zipdata is not None:
        m.add_attachment(zipdata, maintype="application", subtype="zip",
                         filename=zipname)
    with open(os.path.join(OUT, path), "wb") as f:
        f.write(m.as_bytes())
    return m["Message-ID"]


def read(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


# mal-a: a VBA workbook, ZipCrypto, gateway notice.
pw_a = "Kx7pQ2mz"
mid = mail("mal-a.eml", PARTNER_FROM, US, "請求書の送付（12月分）",
           "田中様\n\nいつもお世話になっております。\n"
           "12月分の請求書を添付いたします。\n"
           "パスワードは別途お送りいたします。\n\n佐藤\n",
           "請求書_1203.zip",
           zip_file([("請求書.xls", read("39234.xls"))], pw_a))
mail("mal-a-pw.eml", PARTNER_FROM, US, "【パスワード通知】請求書の送付（12月分）",
     "このメールは自動送信されています。\n\nパスワード通知\n\n"
     "添付ファイル: 請求書_1203.zip\n\n" + pw_a + "\n\n"
     "※本メールに心当たりのない場合は破棄してください。\n",
     in_reply_to=mid)

# mal-b: an XLM Auto_Open sheet, AES-256, English notice.
pw_b = "Tr4!nGate#"
mail("mal-b.eml", PARTNER_FROM, US, "Order confirmation 4471",
     "Dear Mr Tanaka,\n\nPlease find the order confirmation attached.\n"
     "The password follows in a separate mail.\n\nHanako Sato\n",
     "order_4471.zip",
     zip_file([("order_4471.xls", read("excel4_sample_macro.xls"))], pw_b,
              aes=True))
mail("mal-b-pw.eml", PARTNER_FROM, US, "Password: Order confirmation 4471",
     "Password for the attached file:\n\n" + pw_b + "\n\nHanako Sato\n")

# ham-c: a harmless text file; a password that ends in "!".
pw_c = "Minato4629!"
mail("ham-c.eml", PARTNER_FROM, US, "打合せ資料のご送付",
     "田中様\n\n打合せ資料をお送りします。\nパスワードは別メールにてお送りします。\n",
     "打合せ資料.zip",
     zip_file([("打合せ資料.txt",
                "12月10日 打合せ議題\n1. 進捗\n2. 日程\n".encode("utf-8"))],
              pw_c))
mail("ham-c-pw.eml", PARTNER_FROM, US, "打合せ資料のご送付 パスワード",
     "田中様\n\n先程のファイルのパスワードです。\n\nパスワード: " + pw_c +
     "\n\n以上、よろしくお願いします。\n佐藤\n")
mail("ham-c-pw-other.eml", "Mallory <mallory@evil.example>", US,
     "打合せ資料のご送付 パスワード",
     "先程のファイル 打合せ資料.zip のパスワードです。\n\nパスワード: " + pw_c +
     "\n")
mail("ham-c-pw-elsewhere.eml", PARTNER_FROM, "suzuki@corp.example",
     "打合せ資料のご送付 パスワード",
     "鈴木様\n\n先程のファイルのパスワードです。\n\nパスワード: " + pw_c + "\n")

# flood: unopenable zips of one sender, and of 20 senders.
for n in range(1, 4):
    mail("flood-%d.eml" % n, "Flood <flood@spam.example>", US,
         "Invoice %d" % n, "Invoice attached.\n", "invoice_%d.zip" % n,
         zip_file([("invoice_%d.txt" % n, b"x" * 64)], "nothing-%d" % n))
for n in range(1, 21):
    mail("spread-%d.eml" % n, "User %d <user%d@many.example>" % (n, n), US,
         "Document %d" % n, "Document attached.\n", "doc_%d.zip" % n,
         zip_file([("doc_%d.txt" % n, b"y" * 64)], "secret-%d" % n))

# the correspondence memory: what we sent, the genuine reply, the forgeries.
QUOTE = ("\n\n-----Original Message-----\nFrom: 田中 一郎 <" + US + ">\n"
         "Sent: Monday, December 1, 2026 10:00 AM\nTo: " + PARTNER_FROM +
         "\nSubject: 見積書の件\n\n佐藤様\n\n見積書をお願いできますでしょうか。\n")
mail("mem-out.eml", "田中 一郎 <" + US + ">", PARTNER_FROM, "見積書の件",
     "佐藤様\n\n見積書をお願いできますでしょうか。\n\n田中\n",
     msgid="<mem-out-1@corp.example>")
mail("mem-out2.eml", "田中 一郎 <" + US + ">", "a@x.example, b@x.example",
     "日程の件", "日程のご相談です。\n", msgid="<mem-out-2@corp.example>")
mail("mem-reply.eml", PARTNER_FROM, US, "RE: 見積書の件",
     "田中様\n\n承知しました。来週お送りします。\n\n佐藤" + QUOTE)
mail("mem-reply-irt.eml", PARTNER_FROM, US, "RE: 見積書の件",
     "田中様\n\n承知しました。\n\n佐藤" + QUOTE,
     in_reply_to="<mem-out-1@corp.example>")
mail("mem-forged.eml", "佐藤 花子 <contact@stranger.example>", US,
     "RE: 見積書の件", "ご確認お願いいたします。\n" + QUOTE)
mail("mem-hijack.eml", "佐藤 花子 <contact@stranger.example>", US,
     "RE: 見積書の件", "ご確認お願いいたします。\n" + QUOTE,
     in_reply_to="<mem-out-1@corp.example>")
