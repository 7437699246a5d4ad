"""``python -m kinship.policy``: print the rule catalogue.

``--list`` prints ``ID<TAB>profiles<TAB>summary`` per rule; ``--markdown`` prints ``docs/rules.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kinship.policy.catalogue import list_lines, markdown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kinship.policy", description="The rules Kinship enforces."
    )
    output = parser.add_mutually_exclusive_group(required=True)
    output.add_argument("--list", action="store_true", help="one line per rule: ID<TAB>profiles<TAB>summary")
    output.add_argument("--markdown", action="store_true", help="the catalogue as Markdown (docs/rules.md)")
    arguments = parser.parse_args(argv)
    sys.stdout.write("\n".join(list_lines()) + "\n" if arguments.list else markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
