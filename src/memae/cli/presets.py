"""``memae presets``: list the packaged presets, or print one as YAML."""

from __future__ import annotations

import argparse

from memae.presets import list_presets, load_preset


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae presets [NAME]`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "presets", help="list the named presets, or print one",
        description="Without NAME: each packaged preset's name, kind and description. With "
                    "NAME (a preset name or a preset YAML file): that preset's YAML, to read "
                    "or to copy and edit for --preset FILE.")
    parser.add_argument("name", nargs="?", default=None, metavar="NAME",
                        help="a preset name or the path of a preset file")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print one preset's YAML, or each packaged preset's name, kind and description."""
    if args.name is not None:
        preset = load_preset(args.name)
        assert preset.path is not None  # load_preset records the file it read
        print(preset.path.read_text(encoding="utf-8-sig"), end="")
        return 0
    presets = [load_preset(name) for name in list_presets()]
    width = max(len(p.name) for p in presets)
    kinds = max(len(p.kind) for p in presets)
    for preset in presets:
        print(f"{preset.name:<{width}}  {preset.kind:<{kinds}}  {preset.description}")
    return 0
