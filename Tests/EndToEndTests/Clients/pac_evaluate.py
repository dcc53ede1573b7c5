"""Evaluates a PAC file with pacparser (a real PAC engine, Mozilla's JavaScript) for each URL given, printing one
`URL<TAB>directive` line per URL. Run with Debian's Python, which has python3-pacparser:

    /usr/bin/python3 pac_evaluate.py FILE URL...
"""

import sys

import pacparser


def main():
    pacparser.init()
    with open(sys.argv[1]) as handle:
        pacparser.parse_pac_string(handle.read())
    for url in sys.argv[2:]:
        print(f"{url}\t{pacparser.find_proxy(url)}")
    pacparser.cleanup()


if __name__ == "__main__":
    main()
