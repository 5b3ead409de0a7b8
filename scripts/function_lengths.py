#!/usr/bin/env python3
"""List the longest C++ functions of the compiler and runtime sources.

  scripts/function_lengths.py [--rev REV] [--top N] [--max LINES] [DIR ...]

Scans the .cpp and .h files under DIR (default: dialects passes lib runtime tools) in the
working tree, or at git revision REV, and prints the N longest function bodies (default
10) as `lines  file:line  name`. A function is a brace block at namespace or class
level whose header has a parameter list (lambdas and blocks inside a function count
toward it); its length runs from the header's line to the closing brace. With --max,
exit status 1 when a function in passes/ or lib/ is longer than LINES.
"""

import argparse
import os
import re
import subprocess
import sys

DIRS = ["dialects", "passes", "lib", "runtime", "tools"]
NOT_FUNCTIONS = re.compile(r"^(namespace|class|struct|union|enum|extern)\b")
TEMPLATE = re.compile(r"^template\s*<[^{]*?>\s*")


def strip(text):
    """Blanks comments and string/char literals, keeping newlines."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """Yields (first line, length in lines, name) of each function body in `text`."""
    code = strip(text)
    stack = []  # per open brace: is it a function body?
    header_start = 0
    in_function = 0
    for i, c in enumerate(code):
        if c == "{":
            header = code[header_start:i]
            head = TEMPLATE.sub("", " ".join(header.split()))
            is_function = (not in_function and "(" in head and ")" in head and
                           not NOT_FUNCTIONS.match(head) and not head.endswith("=") and
                           not re.search(r"\bnamespace\b", head) and
                           not head.startswith("#"))
            if is_function:
                name = re.findall(r"([~\w:]+)\s*\(", head)
                first = code.count("\n", 0, header_start + len(header) - len(header.lstrip()))
                stack.append((True, first + 1, name[0] if name else "?", i))
                in_function += 1
            else:
                stack.append((False, 0, "", i))
            header_start = i + 1
        elif c == "}":
            if stack:
                fn, first, name, _ = stack.pop()
                if fn:
                    in_function -= 1
                    last = code.count("\n", 0, i) + 1
                    yield first, last - first + 1, name
            header_start = i + 1
        elif c == ";":
            header_start = i + 1


def sources(rev, dirs):
    """Yields (path, text) of every source under `dirs`."""
    if rev:
        listing = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, *dirs],
                                 capture_output=True, text=True, check=True).stdout
        for path in listing.split():
            if path.endswith((".cpp", ".h")):
                yield path, subprocess.run(["git", "show", f"{rev}:{path}"],
                                           capture_output=True, text=True,
                                           check=True).stdout
        return
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith((".cpp", ".h")):
                    path = os.path.join(root, f)
                    with open(path) as fh:
                        yield path, fh.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="*", default=DIRS)
    parser.add_argument("--rev", help="git revision to read instead of the working tree")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--max", type=int, help="fail above this many lines in passes/, lib/")
    args = parser.parse_args()
    os.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    found = []
    for path, text in sources(args.rev, args.dirs):
        for first, length, name in functions(text):
            found.append((length, f"{path}:{first}", name))
    found.sort(reverse=True)
    for length, where, name in found[:args.top]:
        print(f"{length:5d}  {where}  {name}")
    if args.max is not None:
        over = [f for f in found if f[0] > args.max and f[1].startswith(("passes/", "lib/"))]
        for length, where, name in over:
            print(f"too long: {length} lines > {args.max}: {where} {name}")
        return 1 if over else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
