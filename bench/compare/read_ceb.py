#!/usr/bin/python3
"""The same work in Python with lxml (Debian's python3-lxml), as an enterprise's script would do
it: parse each official sample message and take every leaf element's text into a dict. Prints
messages/s and MB/s.

    /usr/bin/python3 bench/compare/read_ceb.py spec/samples/import
"""
import pathlib
import sys
import time

from lxml import etree


def read(msgs):
    fields = 0
    for m in msgs:
        f = {}
        for e in etree.fromstring(m).iter():
            if len(e) == 0 and isinstance(e.tag, str):
                f[etree.QName(e).localname] = e.text
                fields += 1
    return fields


def main():
    paths = sorted(pathlib.Path(sys.argv[1]).iterdir())
    msgs = [p.read_bytes() for p in paths]
    size = sum(len(m) for m in msgs)
    end = time.perf_counter() + 1
    while time.perf_counter() < end:
        read(msgs)
    rounds, t0 = 0, time.perf_counter()
    while True:
        read(msgs)
        rounds += 1
        t = time.perf_counter()
        if t - t0 >= 5:
            break
    s = t - t0
    print(f"python-lxml {rounds * len(msgs) / s:.0f} messages/s {rounds * size / s / 1e6:.1f} MB/s")


if __name__ == "__main__":
    main()
