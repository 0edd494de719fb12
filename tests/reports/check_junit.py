#!/usr/bin/env python3
"""check_junit.py REPORT.xml [--tests N] [--failures N] [--errors N] [--case NAME]...
                  [--failure-type NAME=TYPE]...

Validates JUnit XML against what the common schema requires - the Ant format
as the Windy Road JUnit.xsd describes it, the strictest description CI
systems (Jenkins, GitLab, Azure, GitHub test reporters) accept:

  <testsuites>                       no attributes
    <testsuite name package id tests failures errors time timestamp hostname
               [skipped]>            nothing else; id counts from 0
      <properties> <property name value/>* </properties>     exactly once, first
      <testcase name classname time>*                          then the cases
        at most one child: <failure type [message]>, <error type [message]>
        or <skipped>
      <system-out/> <system-err/>                              exactly once, last
  ints are xs:int, times xs:decimal, timestamp YYYY-MM-DDThh:mm:ss (no zone),
  name, hostname, property names non-empty tokens.

The file must also be well-formed XML (xml.etree parses it).  Exit 0 when
valid, 1 with the reasons otherwise.
"""
import argparse
import re
import sys
import xml.etree.ElementTree as ET

INT = re.compile(r"^[+-]?[0-9]+$")
DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")
SUITE_REQUIRED = {"name", "package", "id", "tests", "failures", "errors", "time", "timestamp",
                  "hostname"}
SUITE_OPTIONAL = {"skipped"}
CASE_ATTRS = {"name", "classname", "time"}


def token(v):
    return v is not None and v.strip() != "" and v == " ".join(v.split())


def check_attrs(errs, where, el, required, optional=frozenset()):
    keys = set(el.attrib)
    for k in sorted(required - keys):
        errs.append(f"{where}: missing attribute {k}")
    for k in sorted(keys - required - optional):
        errs.append(f"{where}: attribute {k} is not in the schema")


def check_suite(errs, i, s):
    where = f"testsuite #{i}"
    check_attrs(errs, where, s, SUITE_REQUIRED, SUITE_OPTIONAL)
    a = s.attrib
    for k in ("id", "tests", "failures", "errors", "skipped"):
        if k in a and not INT.match(a[k]):
            errs.append(f"{where}: {k}={a[k]!r} is not an xs:int")
    if a.get("id") not in (None, str(i)):
        errs.append(f"{where}: id={a['id']!r}, expected {i}")
    if "time" in a and not DECIMAL.match(a["time"]):
        errs.append(f"{where}: time={a['time']!r} is not an xs:decimal")
    if "timestamp" in a and not TIMESTAMP.match(a["timestamp"]):
        errs.append(f"{where}: timestamp={a['timestamp']!r} is not YYYY-MM-DDThh:mm:ss")
    for k in ("name", "hostname", "package"):
        if k in a and not token(a[k]):
            errs.append(f"{where}: {k}={a[k]!r} is not a non-empty token")
    kids = list(s)
    tags = [k.tag for k in kids]
    if not tags or tags[0] != "properties" or tags.count("properties") != 1:
        errs.append(f"{where}: <properties> must come first, once (children: {tags})")
    if tags[-2:] != ["system-out", "system-err"] or tags.count("system-out") != 1 \
            or tags.count("system-err") != 1:
        errs.append(f"{where}: must end with <system-out> then <system-err> (children: {tags})")
    middle = tags[1:-2] if len(tags) >= 3 else []
    if any(t != "testcase" for t in middle):
        errs.append(f"{where}: only <testcase> between properties and system-out: {middle}")
    for p in (kids[0] if kids and kids[0].tag == "properties" else []):
        if p.tag != "property":
            errs.append(f"{where}: <properties> holds <{p.tag}>")
            continue
        check_attrs(errs, f"{where} property", p, {"name", "value"})
        if not token(p.get("name")):
            errs.append(f"{where}: property name {p.get('name')!r} is not a non-empty token")
        if len(p):
            errs.append(f"{where}: <property> has children")
    for t in ("system-out", "system-err"):
        el = s.find(t)
        if el is not None and len(el):
            errs.append(f"{where}: <{t}> has element children")
    cases = s.findall("testcase")
    failures = errors = 0
    result = {}
    for c in cases:
        cw = f"{where} testcase {c.get('name')!r}"
        check_attrs(errs, cw, c, CASE_ATTRS)
        if "time" in c.attrib and not DECIMAL.match(c.get("time")):
            errs.append(f"{cw}: time={c.get('time')!r} is not an xs:decimal")
        for k in ("name", "classname"):
            if k in c.attrib and not token(c.get(k)):
                errs.append(f"{cw}: {k}={c.get(k)!r} is not a non-empty token")
        kids = list(c)
        if len(kids) > 1:
            errs.append(f"{cw}: {len(kids)} children; the schema allows one of "
                        "failure, error, skipped")
        for k in kids:
            if k.tag not in ("failure", "error", "skipped"):
                errs.append(f"{cw}: <{k.tag}> is not allowed in a testcase")
            if k.tag in ("failure", "error"):
                check_attrs(errs, f"{cw} {k.tag}", k, {"type"}, {"message"})
                if len(k):
                    errs.append(f"{cw}: <{k.tag}> has element children")
        failures += sum(1 for k in kids if k.tag == "failure")
        errors += sum(1 for k in kids if k.tag == "error")
        result[c.get("name")] = kids[0] if kids else None
    if a.get("tests") and INT.match(a["tests"]) and int(a["tests"]) != len(cases):
        errs.append(f"{where}: tests={a['tests']} but {len(cases)} testcases")
    if a.get("failures") and INT.match(a["failures"]) and int(a["failures"]) != failures:
        errs.append(f"{where}: failures={a['failures']} but {failures} <failure>")
    if a.get("errors") and INT.match(a["errors"]) and int(a["errors"]) != errors:
        errs.append(f"{where}: errors={a['errors']} but {errors} <error>")
    return len(cases), failures, errors, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--tests", type=int)
    ap.add_argument("--failures", type=int)
    ap.add_argument("--errors", type=int)
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--failure-type", action="append", default=[])
    args = ap.parse_args()
    errs = []
    try:
        root = ET.parse(args.report).getroot()
    except ET.ParseError as e:
        print(f"{args.report}: not well-formed XML: {e}", file=sys.stderr)
        return 1
    if root.tag != "testsuites":
        errs.append(f"root is <{root.tag}>, not <testsuites>")
    if root.attrib:
        errs.append(f"<testsuites> has attributes {sorted(root.attrib)}; the schema has none")
    if any(k.tag != "testsuite" for k in root):
        errs.append("<testsuites> holds something other than <testsuite>")
    tests = failures = errors = 0
    results = {}
    for i, s in enumerate(root.findall("testsuite")):
        t, f, e, r = check_suite(errs, i, s)
        tests, failures, errors = tests + t, failures + f, errors + e
        results.update(r)
    if not root.findall("testsuite"):
        errs.append("no <testsuite>")
    for name, want in (("tests", args.tests), ("failures", args.failures),
                       ("errors", args.errors)):
        got = {"tests": tests, "failures": failures, "errors": errors}[name]
        if want is not None and got != want:
            errs.append(f"{got} {name}, expected {want}")
    for name in args.case:
        if name not in results:
            errs.append(f"no testcase named {name!r} (have {sorted(results)})")
    for spec in args.failure_type:
        name, _, typ = spec.rpartition("=")
        r = results.get(name)
        if r is None or r.tag not in ("failure", "error") or r.get("type") != typ:
            errs.append(f"testcase {name!r} should fail with type {typ!r}, has "
                        f"{None if r is None else (r.tag, r.get('type'))}")
    for e in errs:
        print(f"{args.report}: {e}", file=sys.stderr)
    if not errs:
        print(f"{args.report}: valid ({tests} tests, {failures} failures, {errors} errors)")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
