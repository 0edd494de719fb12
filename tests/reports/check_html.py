#!/usr/bin/env python3
"""check_html.py REPORT.html [--case NAME]... [--cases N] [--violations N] [--sweep]

Validates an HTML page written by contend (report or sweep) with the standard
library's html.parser, the way a browser without scripts would see it:

  - structure: a doctype, one <html>, <head>, <body>, a <title>, a charset,
    every element closed in order (no stray or crossed end tags);
  - self-containment: a Content-Security-Policy that allows no script and
    no fetch, no <script>/<iframe>/<object>/<embed>/<img>/external <link>,
    no on* event attribute, no URL attribute but data: and #fragments;
  - content: the verdict table has one row per case, and the name in each
    row's first cell is exactly the given name, as text (a name like
    <script>alert(1)</script> that reached the page unescaped would be an
    element here, not text);
  - plots: inline <svg> elements with a size, a <title> and drawn data;
    a timeline with highlighted ops for every violation.

Exit 0 when valid, 1 with the reasons otherwise.
"""
import argparse
import re
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "param", "source", "track", "wbr"}
FORBIDDEN = {"script", "iframe", "object", "embed", "img", "frame", "frameset", "applet",
             "base", "form"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "data",
             "background", "srcset"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.errors = []
        self.stack = []
        self.counts = {}
        self.doctype = None
        self.csp = None
        self.charset = False
        self.title = ""
        self.rows = []          # verdict table: the case name (link text) of each row
        self.svgs = []          # (attrs, {tag: count}, has_title)
        self.in_verdicts = False
        self.link = None        # text of the row's case link, while inside it
        self.row_name = None
        self.in_row = False

    def error(self, msg):
        self.errors.append(f"line {self.getpos()[0]}: {msg}")

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, closed=True)

    def _start(self, tag, attrs, closed):
        a = dict(attrs)
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag in FORBIDDEN:
            self.error(f"<{tag}> is not allowed in a self-contained report")
        for k, v in attrs:
            if k.startswith("on"):
                self.error(f"<{tag}> has an event attribute {k}")
            if k in URL_ATTRS and v is not None and not (v.startswith("#") or v.startswith("data:")):
                self.error(f"<{tag} {k}={v!r}> points outside the page")
            if k == "style" and v and "url(" in v:
                self.error(f"<{tag}> style loads a URL")
        if tag == "meta":
            if a.get("charset", "").lower() == "utf-8":
                self.charset = True
            if a.get("http-equiv", "").lower() == "content-security-policy":
                self.csp = a.get("content", "")
        if tag == "link" and a.get("rel") != "icon":
            self.error(f"<link rel={a.get('rel')!r}> loads a resource")
        if tag == "section" and a.get("id") == "verdicts":
            self.in_verdicts = True
        if tag == "svg":
            self.svgs.append([a, {}, False])
        elif self.svgs and any(t == "svg" for t, _ in self.stack):
            svg = self.svgs[-1]
            svg[1][tag] = svg[1].get(tag, 0) + 1
            if tag == "title" and self.stack[-1][0] == "svg":
                svg[2] = True
        if self.in_verdicts and tag == "tr" and any(t == "tbody" for t, _ in self.stack):
            self.in_row = True
            self.row_name = None
        if self.in_row and tag == "a" and self.row_name is None:
            self.link = ""
        if not closed and tag not in VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack:
            self.error(f"</{tag}> closes nothing")
            return
        open_tag, line = self.stack.pop()
        if open_tag != tag:
            self.error(f"</{tag}> closes <{open_tag}> opened on line {line}")
        if tag == "a" and self.link is not None:
            self.row_name = self.link
            self.link = None
        if tag == "tr" and self.in_row:
            self.rows.append(self.row_name)
            self.in_row = False
        if tag == "section" and self.in_verdicts:
            self.in_verdicts = False

    def handle_data(self, data):
        if self.link is not None:
            self.link += data
        if self.stack and self.stack[-1][0] == "title" and len(self.stack) >= 2 \
                and self.stack[-2][0] == "head":
            self.title += data


def check(path, args):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p = Page()
    p.feed(text)
    p.close()
    errs = list(p.errors)
    if not p.doctype or p.doctype.lower() != "doctype html":
        errs.append(f"doctype is {p.doctype!r}, not 'DOCTYPE html'")
    for tag in ("html", "head", "body", "title"):
        if p.counts.get(tag, 0) < 1:
            errs.append(f"no <{tag}>")
    for tag in ("html", "head", "body"):
        if p.counts.get(tag, 0) > 1:
            errs.append(f"{p.counts[tag]} <{tag}> elements")
    if p.stack:
        errs.append("unclosed elements at the end: " + ", ".join(t for t, _ in p.stack))
    if not p.charset:
        errs.append("no <meta charset=utf-8>")
    csp = (p.csp or "").replace(" ", "")
    if "default-src'none'" not in csp or "script-src" in csp:
        errs.append(f"the Content-Security-Policy does not forbid scripts and fetches: {p.csp!r}")
    if not p.title.strip():
        errs.append("empty <title>")

    drawn = [s for s in p.svgs
             if s[0].get("width") not in (None, "0") and s[0].get("height") not in (None, "0")
             and s[2] and (s[1].get("path", 0) + s[1].get("rect", 0) + s[1].get("circle", 0)) > 1]
    if len(drawn) != len(p.svgs):
        errs.append(f"{len(p.svgs) - len(drawn)} of {len(p.svgs)} <svg> have no size, "
                    "title or data")
    if args.sweep:
        if len(drawn) < 3:
            errs.append(f"a sweep page needs its 3 plots, found {len(drawn)}")
        if not any(s[1].get("path", 0) >= 2 for s in drawn):
            errs.append("no plot draws a line per case")
    else:
        names = p.rows
        if args.cases is not None and len(names) != args.cases:
            errs.append(f"verdict table has {len(names)} rows, expected {args.cases}")
        for want in args.case:
            if want not in names:
                errs.append(f"no verdict row shows the case name {want!r} as text "
                            f"(rows: {names!r})")
        timelines = [s for s in p.svgs if s[0].get("class") == "timeline"]
        if args.violations is not None and len(timelines) < args.violations:
            errs.append(f"{len(timelines)} violation timelines, expected {args.violations}")
        if re.search(r"<script", text, re.I):
            errs.append("the text '<script' appears unescaped")
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--cases", type=int)
    ap.add_argument("--violations", type=int)
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    errs = check(args.report, args)
    for e in errs:
        print(f"{args.report}: {e}", file=sys.stderr)
    if not errs:
        print(f"{args.report}: valid")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
