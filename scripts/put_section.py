"""Replaces (or appends) the `<!-- NAME:begin -->` ... `<!-- NAME:end -->`
section of a markdown file: how benchmark scripts update docs/BENCHMARKS.md.
Usage: put_section.py FILE NAME TEXT"""
import pathlib
import re
import sys

path, name, text = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3].strip() + "\n"
doc = path.read_text() if path.exists() else "# Benchmarks\n"
pat = re.compile(r"<!-- %s:begin -->.*?<!-- %s:end -->\n?" % (re.escape(name), re.escape(name)), re.S)
doc = pat.sub(lambda _: text, doc) if pat.search(doc) else doc.rstrip("\n") + "\n\n" + text
path.write_text(doc)
