"""Export (#3): CSV exactly as API.md (RFC 4180 quoting) and XLSX with two sheets."""
import csv
import io
import re
import unittest
import xml.etree.ElementTree as ET
import zipfile

from harness import KeystileCase, acct, uid

HEADER = ["key", "name", "type", "roles", "status", "created_at", "outdated",
          "current_token_created_at", "old_token_created_at", "last_used_at"]
LIMITS = ["allowed_cidrs", "rate_limit", "rate_period_seconds"]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}


def read_xlsx(data, columns=len(HEADER)):
    """Returns {sheet name: [[cell values...] per row]} using only the standard library."""
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
            shared.append("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])))
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    sheets = {}
    for s in wb.find("m:sheets", NS):
        target = targets[s.get("{%s}id" % NS["r"])]
        root = ET.fromstring(z.read("xl/" + target.lstrip("/").replace("xl/", "")))
        rows = []
        for row in root.iter("{%s}row" % NS["m"]):
            cells = {}
            for c in row.findall("m:c", NS):
                col = re.match(r"[A-Z]+", c.get("r")).group(0)
                idx = ord(col) - ord("A")
                v = c.find("m:v", NS)
                kind = c.get("t")
                if v is None:
                    val = None
                elif kind == "s":
                    val = shared[int(v.text)]
                elif kind == "b":
                    val = v.text == "1"
                else:
                    val = float(v.text)
                cells[idx] = (val, c.get("s"))
            rows.append([cells.get(i, (None, None)) for i in range(columns)])
        sheets[s.get("name")] = rows
    return sheets, z


class TestExport(KeystileCase):
    ACCOUNTS = ("acme", "partner")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

    def test_csv_header_rows_and_quoting(self):
        tricky = 'ERP, "main"\nline two'
        k = self.create_key(name=tricky)
        self.renew(k["key"])  # an old token, so old_token_created_at is set
        r = self.call("GET", acct(self.A, "keys", "export"))
        self.assertStatus(r, 200)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/csv"), r.headers)
        text = r.raw.decode("utf-8")
        self.assertTrue(text.startswith(",".join(HEADER) + "\r\n"), text[:200])
        rows = list(csv.reader(io.StringIO(text, newline="")))
        self.assertEqual(rows[0], HEADER)
        mine = [row for row in rows[1:] if row[0] == k["key"]]
        self.assertEqual(len(mine), 1, rows)
        row = dict(zip(HEADER, mine[0]))
        self.assertEqual(row["name"], tricky)
        self.assertEqual(row["type"], "generated")
        self.assertEqual(row["status"], "active")
        self.assertEqual(row["outdated"], "false")
        self.assertTrue(row["old_token_created_at"], row)
        # quoting is RFC 4180: embedded quotes doubled inside a quoted field
        self.assertIn('"ERP, ""main""\nline two"', text)
        # never a token
        for t in self.server.issued_tokens:
            if t:
                self.assertNotIn(t, text)
                self.assertNotIn(t[5:25], text)

    def test_csv_lists_generated_and_external_with_roles_joined(self):
        r1 = self.create_role(["a.read"])
        r2 = self.create_role(["b.read"])
        k = self.create_key(roles=[r1, r2])
        foreign = self.create_key(account="partner", cred=self.server.owner("partner"))
        r = self.call("POST", acct(self.A, "external-keys"), {"key": foreign["key"], "roles": [r2]})
        self.assertStatus(r, 201)
        rows = list(csv.DictReader(io.StringIO(self.call("GET", acct(self.A, "keys", "export")).raw
                                               .decode("utf-8"), newline="")))
        by_key = {row["key"]: row for row in rows}
        self.assertEqual(by_key[k["key"]]["roles"], "%s;%s" % (r1, r2))
        self.assertEqual(by_key[foreign["key"]]["type"], "external")
        self.assertEqual(by_key[foreign["key"]]["roles"], r2)
        # every generated key of the account appears (export pages through all of them)
        listed = {item["key"] for item in self.list_all({}, limit=500)}
        self.assertEqual({row["key"] for row in rows if row["type"] == "generated"}, listed)

    def test_xlsx_two_sheets_real_dates(self):
        name = uid("sheet, \"key\" ")
        k = self.create_key(name=name)
        foreign = self.create_key(account="partner", cred=self.server.owner("partner"))
        self.assertStatus(self.call("POST", acct(self.A, "external-keys"),
                                    {"key": foreign["key"], "roles": []}), 201)
        r = self.call("GET", acct(self.A, "keys", "export") + "?format=xlsx")
        self.assertStatus(r, 200)
        self.assertIn("spreadsheetml", r.headers.get("Content-Type", ""))
        sheets, z = read_xlsx(r.raw)
        self.assertEqual(list(sheets), ["Generated", "External"])
        for sheet in sheets.values():
            self.assertEqual([c[0] for c in sheet[0]], HEADER)
        gen = {row[0][0]: row for row in sheets["Generated"][1:]}
        self.assertIn(k["key"], gen)
        row = gen[k["key"]]
        self.assertEqual(row[1][0], name)
        self.assertEqual(row[2][0], "generated")
        # created_at is a number (a date serial) with a date style, not a string
        self.assertIsInstance(row[5][0], float)
        self.assertGreater(row[5][0], 40000)
        self.assertIsNotNone(row[5][1])
        styles = z.read("xl/styles.xml").decode()
        self.assertIn("yyyy-mm-dd", styles)
        ext = {row[0][0]: row for row in sheets["External"][1:]}
        self.assertIn(foreign["key"], ext)
        self.assertEqual(ext[foreign["key"]][2][0], "external")
        # column widths are set to fit
        sheet1 = z.read("xl/worksheets/sheet1.xml").decode()
        self.assertIn("<cols>", sheet1)

    def test_include_limits_adds_three_columns_after_the_contracts(self):
        limited = self.create_key()
        r = self.call("PATCH", acct(self.A, "keys", limited["key"]),
                      {"allowed_cidrs": ["203.0.113.0/24", "2001:db8::/32"],
                       "rate_limit": {"limit": 100, "period_seconds": 60}})
        self.assertStatus(r, 200)
        plain = self.create_key()
        foreign = self.create_key(account="partner", cred=self.server.owner("partner"))
        self.assertStatus(self.call("PATCH", acct("partner", "keys", foreign["key"]),
                                    {"rate_limit": {"limit": 5, "period_seconds": 1}},
                                    cred=self.server.owner("partner")), 200)
        self.assertStatus(self.call("POST", acct(self.A, "external-keys"),
                                    {"key": foreign["key"], "roles": []}), 201)
        # the default stays the contract's ten columns
        text = self.call("GET", acct(self.A, "keys", "export")).raw.decode("utf-8")
        self.assertTrue(text.startswith(",".join(HEADER) + "\r\n"), text[:200])
        r = self.call("GET", acct(self.A, "keys", "export") + "?include=limits")
        self.assertStatus(r, 200)
        rows = list(csv.reader(io.StringIO(r.raw.decode("utf-8"), newline="")))
        self.assertEqual(rows[0], HEADER + LIMITS)
        by_key = {row[0]: dict(zip(HEADER + LIMITS, row)) for row in rows[1:]}
        self.assertEqual(by_key[limited["key"]]["allowed_cidrs"], "203.0.113.0/24;2001:db8::/32")
        self.assertEqual((by_key[limited["key"]]["rate_limit"], by_key[limited["key"]]["rate_period_seconds"]),
                         ("100", "60"))
        self.assertEqual([by_key[plain["key"]][c] for c in LIMITS], ["", "", ""])
        # an external key's limits belong to its home account
        self.assertEqual([by_key[foreign["key"]][c] for c in LIMITS], ["", "", ""])
        # XLSX: the same columns, the numbers as numbers
        x = self.call("GET", acct(self.A, "keys", "export") + "?format=xlsx&include=limits")
        self.assertStatus(x, 200)
        sheets, _ = read_xlsx(x.raw, len(HEADER + LIMITS))
        self.assertEqual([c[0] for c in sheets["Generated"][0]], HEADER + LIMITS)
        self.assertEqual([c[0] for c in sheets["External"][0]], HEADER + LIMITS)
        gen = {row[0][0]: [c[0] for c in row] for row in sheets["Generated"][1:]}
        self.assertEqual(gen[limited["key"]][10:], ["203.0.113.0/24;2001:db8::/32", 100.0, 60.0])
        self.assertEqual(gen[plain["key"]][10:], [None, None, None])  # empty cells
        self.assertError(self.call("GET", acct(self.A, "keys", "export") + "?include=tokens"),
                         400, "invalid_request", field="include")

    def test_export_needs_view_and_rejects_bad_format(self):
        no_view = self.cred_with(["edit-api-keys"])
        self.assertError(self.call("GET", acct(self.A, "keys", "export"), cred=no_view), 403, "forbidden")
        self.assertError(self.call("GET", acct(self.A, "keys", "export"), cred=None), 401, "unauthenticated")
        self.assertError(self.call("GET", acct(self.A, "keys", "export") + "?format=pdf"),
                         400, "invalid_request", field="format")
        viewer = self.cred_with(["view-api-keys"])
        self.assertStatus(self.call("GET", acct(self.A, "keys", "export"), cred=viewer), 200)


if __name__ == "__main__":
    unittest.main()
