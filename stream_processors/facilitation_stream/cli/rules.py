"""`facilitation rules validate FILE...` and `facilitation rules show-default`.

``validate`` prints one line per problem, ``FILE:LINE:COL: message``, on stdout and exits 1
when any file has a problem; 0 when all are valid.
"""

from __future__ import annotations

import argparse
import sys

EXIT_INVALID = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rules", help="check and print rule packs")
    actions = parser.add_subparsers(dest="rules_action", metavar="ACTION", required=True)
    validate = actions.add_parser("validate", help="check rule packs: FILE:LINE:COL: problem")
    validate.add_argument("files", nargs="+", metavar="FILE", help="rule pack YAML files")
    validate.set_defaults(func=_validate)
    show = actions.add_parser("show-default", help="print the default rule pack")
    show.set_defaults(func=_show_default)


def _validate(args: argparse.Namespace) -> int:
    from facilitation_rules.packs.loader import PackError, parse_pack, read_pack_text

    failed = False
    for path in args.files:
        try:
            pack = parse_pack(read_pack_text(path))
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            print(f"{path}:1:1: cannot read: {reason}")
            failed = True
            continue
        except PackError as err:
            for problem in err.problems:
                print(problem.format(path))
            failed = True
            continue
        print(f"{path}: valid rule pack {pack.name!r}", file=sys.stderr)
    return EXIT_INVALID if failed else 0


def _show_default(args: argparse.Namespace) -> int:
    from facilitation_rules.packs.loader import default_pack_text

    sys.stdout.write(default_pack_text())
    return 0
