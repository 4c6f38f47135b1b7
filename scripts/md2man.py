#!/usr/bin/python3
"""Markdown page -> man page (roff), for docs/cli.md -> finwave.1 and
docs/case-file.md -> finwave-case.5: the man pages are built from the docs, so
they cannot drift from them.

  md2man.py SOURCE.md OUTPUT NAME SECTION "one-line description"

Handles what those pages use: headings, paragraphs, bullet lists, fenced code,
tables (one indented paragraph per row), `code`, **bold**, [links](x).
"""
import re
import sys


def inline(text):
    text = text.replace("\\", "\\e")
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1", text)  # a link: its words
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"\\fI\1\\fR", text)
    return text.replace("-", "\\-")


def line_safe(text):
    """A roff line may not start with '.' or a quote (it would be a request)."""
    return "\\&" + text if text[:1] in (".", "'") else text


def convert(md, name, section, description):
    out = ['.TH %s %s "" "finwave" "finwave manual"' % (name.upper(), section),
           ".SH NAME", "%s \\- %s" % (name, description)]
    lines = md.split("\n")
    i, para = 0, []

    def flush():
        if para:
            if not any(o.startswith(".SH") for o in out[2:]):
                out.append(".SH DESCRIPTION")  # the words before the first heading
            out.append(".PP")
            out.append(line_safe(inline(" ".join(para))))  # `code` may span lines
            para.clear()

    while i < len(lines):
        ln = lines[i]
        if ln.startswith("```"):
            flush()
            out.extend([".PP", ".nf", ".RS 4"])
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_safe(lines[i].replace("\\", "\\e")))
                i += 1
            out.extend([".RE", ".fi"])
        elif ln.startswith("#"):
            flush()
            level = len(ln) - len(ln.lstrip("#"))
            title = ln.lstrip("#").strip()
            if level == 1:
                pass  # the page title is the NAME section
            else:
                out.append((".SH " if level == 2 else ".SS ") + inline(title.upper() if level == 2 else title))
        elif ln.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip())[1:-1]]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            header, body = rows[0], rows[1:]
            for r in body:
                out.append(".TP")
                out.append(line_safe(inline(r[0] if r[0] else "\\(em")))
                rest = ["%s: %s" % (h, c) if h and j > 0 else c
                        for j, (h, c) in enumerate(zip(header, r)) if j > 0 and c]
                out.append(line_safe(inline("; ".join(rest))))
            continue
        elif re.match(r"^\s*[-*] ", ln):
            flush()
            item = [re.sub(r"^\s*[-*] ", "", ln)]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                item.append(lines[i].strip())
            out.extend([".IP \\(bu 2", line_safe(inline(" ".join(item)))])
        elif re.match(r"^\d+\. ", ln):
            flush()
            out.extend([".IP %s 4" % ln.split(".")[0], line_safe(inline(ln.split(". ", 1)[1]))])
        elif ln.startswith("!["):
            pass  # pictures stay in the HTML docs
        elif not ln.strip():
            flush()
        else:
            para.append(ln.strip())
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst, name, section, description = sys.argv[1:]
    with open(src) as f:
        page = convert(f.read(), name, section, description)
    with open(dst, "w") as f:
        f.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
