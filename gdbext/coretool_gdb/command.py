"""What every `coretool VERB` command shares: the prefix command, argument
parsing (argparse, errors as one line), running a verb over the session, and
the edge where every error becomes one gdb.GdbError line."""
from __future__ import annotations

import argparse
import re
from typing import Callable, List, NoReturn, Optional, Tuple, Union

import gdb

from . import libct, session
from .libct import CoretoolError, Interrupted

# Exit statuses of the verbs (DESIGN.md / `coretool --help`).
EXIT_OK, EXIT_PARTIAL, EXIT_FATAL, EXIT_USAGE = 0, 1, 2, 64


class ArgParser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting gdb."""

    def __init__(self, verb: str, usage: str) -> None:
        super().__init__(prog=f"coretool {verb}", usage=usage, add_help=False,
                         exit_on_error=False, allow_abbrev=False)
        self.add_argument("--json", action="store_true", help="JSON output, as the CLI's --json")
        self.add_argument("-h", "--help", action="store_true", help="the verb's full help")

    def error(self, message: str) -> NoReturn:
        raise CoretoolError(f"{self.prog}: {message} (usage: {self.usage})")

    def exit(self, status: int = 0, message: Optional[str] = None) -> NoReturn:
        raise CoretoolError(message or f"{self.prog}: bad arguments")


def split_args(arg: str) -> List[str]:
    """Whitespace-separated words, quotes kept: a gdb expression ('main.x',
    "a b") survives as written; expressions are joined back by the commands."""
    return arg.split()


def uint_in(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [lo, hi], as the verb's
    specification gives the range."""
    def parse(text: str) -> int:
        try:
            n = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if n < lo or n > hi:
            raise argparse.ArgumentTypeError(f"{n} is not in {lo}..{hi}")
        return n
    return parse


class CoretoolPrefix(gdb.Command):
    """Go, cgo and C state of the core or process being debugged (libcoretool).

The subcommands run the same verbs, with the same output, as the coretool CLI:
  coretool info                       the process, threads, Go version, modules
  coretool classify EXPR              what an address is (Go heap, stack, C heap, ...)
  coretool triage                     the crash report: real fault, stitched stacks, verdict
  coretool maps                       every Go map reachable from globals
  coretool map EXPR [--layout] [--limit N]   one Go map's entries or buckets/groups
  coretool heap [--top N] [--by-type] Go heap census by size class, or by Go type
  coretool retain EXPR [--paths N]    the paths from a root that keep EXPR's object alive
  coretool cgocheck                   pointers across the cgo boundary
  coretool bt [--all]                 stitched C/Go backtraces
  coretool goroutines [--leaks]       every goroutine, or the leaked ones
Every subcommand takes --json, and --help for the verb's full description.
Go maps print through coretool's pretty-printers (`info pretty-printer`);
`set coretool map-layout on` prints their buckets/groups instead."""

    def __init__(self) -> None:
        super().__init__("coretool", gdb.COMMAND_DATA, gdb.COMPLETE_COMMAND, True)

    def invoke(self, arg: str, from_tty: bool) -> None:
        if arg.strip():
            raise gdb.GdbError(f"coretool: unknown subcommand '{arg.split()[0]}' "
                               "(try `help coretool`)")
        gdb.execute("help coretool", from_tty)


class VerbCommand(gdb.Command):
    """Base of `coretool VERB`: subclasses set the verb (and, where the gdb
    command takes an expression instead of the CLI's arguments, `grammar`);
    the options, their types and the usage line come from libcoretool's verb
    specification (ct_verbs_json), so they are the CLI's."""

    verb = ""
    # The positional arguments in gdb ("EXPR"); None: the CLI's, less the core.
    grammar: Optional[str] = None
    # For a command that is not one of the library's verbs (no specification).
    usage_fallback = ""
    completer = gdb.COMPLETE_NONE
    # Said on stderr when the verb runs over a live process's memory.
    live_note = ""

    def __init__(self) -> None:
        self._parser: Optional[ArgParser] = None
        # `help coretool VERB`: the class's text with the usage line of the
        # specification (when the library can be loaded now).
        try:
            usage = self.usage
        except CoretoolError:
            usage = ""
        if usage and self.__doc__:
            self.__doc__ = re.sub(r"^Usage: .*$", lambda _: f"Usage: {usage}", self.__doc__,
                                  count=1, flags=re.M)
        super().__init__(f"coretool {self.verb}", gdb.COMMAND_DATA)

    def spec(self) -> Optional[dict]:
        return libct.verb_spec(self.verb)

    def spec_options(self) -> List[dict]:
        """The verb's options that apply in a session (not the batch ones)."""
        spec = self.spec()
        return [o for o in spec["options"] if not o.get("cores_only")] if spec else []

    def positional_args(self) -> List[dict]:
        spec = self.spec()
        return [a for a in spec["args"] if a["name"] != "CORE"] if spec else []

    @property
    def usage(self) -> str:
        spec = self.spec()
        if spec is None:
            return self.usage_fallback
        words = [f"coretool {self.verb}"]
        grammar = self.grammar
        if grammar is None:
            grammar = " ".join(a["name"] if a["min"] else f"[{a['name']}]"
                               for a in self.positional_args())
        if grammar:
            words.append(grammar)
        for o in self.spec_options():
            words.append(f"[{o['name']} {o['metavar']}]" if o["metavar"] else f"[{o['name']}]")
        words.append("[--json]")
        return " ".join(words)

    @property
    def parser(self) -> ArgParser:
        if self._parser is None:
            parser = ArgParser(self.verb, self.usage)
            for o in self.spec_options():
                names = [o["name"]] + ([o["alias"]] if o.get("alias") else [])
                dest = o["name"].lstrip("-").replace("-", "_")
                if o["type"] == "flag":
                    parser.add_argument(*names, dest=dest, action="store_true")
                elif o["type"] == "uint":
                    parser.add_argument(*names, dest=dest, type=uint_in(o["min"], o["max"]))
                else:
                    parser.add_argument(*names, dest=dest)
            self._parser = parser
        return self._parser

    def option_args(self, opts: argparse.Namespace) -> List[str]:
        """The options given, as the verb's argv words."""
        out: List[str] = []
        for o in self.spec_options():
            value = getattr(opts, o["name"].lstrip("-").replace("-", "_"), None)
            if o["type"] == "flag":
                out += [o["name"]] if value else []
            elif value is not None:
                out += [o["name"], str(value)]
        return out

    def verb_args(self, opts: argparse.Namespace, rest: List[str]) -> List[str]:
        """The verb's argv after the verb name: the positional words the
        verb takes (beyond the core), then the options."""
        most = sum(10**6 if a["max"] is None else a["max"] for a in self.positional_args())
        if len(rest) > most:
            raise CoretoolError(f"coretool {self.verb}: unexpected argument "
                                f"'{' '.join(rest[most:])}' (usage: {self.usage})")
        return rest + self.option_args(opts)

    def complete(self, text: str, word: Optional[str]) -> Union[int, List[str]]:
        """Options when the word being typed starts with '-', else gdb's own
        completer (expressions for the commands that take one). gdb breaks
        words at '-', so the candidates are cut to replace `word` only."""
        last = "" if not text or text.endswith(" ") else text.split()[-1]
        if last.startswith("-"):
            cut = len(last) - len(word or "")
            return [o[cut:] for o in self.all_options() if o.startswith(last)]
        return self.completer

    def all_options(self) -> List[str]:
        out: List[str] = []
        try:
            actions = self.parser._actions  # argparse has no public accessor
        except CoretoolError:  # no library: the options every command has
            return ["--help", "--json"]
        for action in actions:
            out.extend(action.option_strings)
        return sorted(o for o in out if o.startswith("--"))

    def invoke(self, arg: str, from_tty: bool) -> None:
        # The edge: whatever goes wrong below is one line for the user.
        try:
            self.run(arg, from_tty)
        except CoretoolError as e:
            raise gdb.GdbError(str(e)) from None
        except Interrupted as e:
            raise gdb.GdbError(str(e) if str(e) != "interrupted"
                               else f"coretool {self.verb}: interrupted") from None
        except gdb.GdbError:
            raise
        except gdb.error as e:
            raise gdb.GdbError(f"coretool {self.verb}: {e}") from None
        except (OSError, ValueError, UnicodeError) as e:
            raise gdb.GdbError(f"coretool {self.verb}: {e}") from None

    def parse(self, arg: str) -> Tuple[argparse.Namespace, List[str]]:
        try:
            opts, rest = self.parser.parse_known_args(split_args(arg))
        except argparse.ArgumentError as e:
            raise CoretoolError(f"coretool {self.verb}: {e} (usage: {self.usage})") from None
        unknown = [w for w in rest if w.startswith("--")]
        if unknown:
            raise CoretoolError(f"coretool {self.verb}: unknown option {unknown[0]} "
                                f"(usage: {self.usage})")
        return opts, rest

    def run(self, arg: str, from_tty: bool) -> None:
        opts, rest = self.parse(arg)
        if opts.help:
            self.show_help()
            return
        self.check_available()
        argv = [self.verb] + self.verb_args(opts, rest)
        run_verb(argv, opts.json)
        if self.live_note and not opts.json and session.current().live and \
                not session.current().mapped:
            gdb.write(f"coretool: {self.verb}: {self.live_note}\n", gdb.STDERR)

    def check_available(self) -> None:
        if not libct.has_verb(self.verb):
            raise CoretoolError(f"coretool {self.verb}: not available: this libcoretool "
                                f"({libct.version()}) has no '{self.verb}' verb")

    def show_help(self) -> None:
        """The verb's own description from libcoretool, under the gdb usage
        line (the CLI's usage line and global options do not apply here)."""
        gdb.write(f"Usage: {self.usage}\n")
        text = libct.verb_help(self.verb) or ""
        body = text.split("\n", 1)[1] if text.startswith("Usage:") else text
        body = body.split("\nGlobal options", 1)[0]
        gdb.write(body.rstrip("\n") + "\n")


def run_verb(argv: List[str], json: bool = False) -> int:
    """Runs a verb over the current session and writes its output as the CLI
    would: results on stdout, warnings on stderr; a fatal or usage failure
    becomes one error line."""
    try:
        s = session.current()
        rc, out, err = s.handle.run(argv, json)
    except Interrupted:
        # Ctrl-C: one line; nothing the call found after it is the process's.
        raise Interrupted(f"coretool {argv[0]}: interrupted") from None
    if rc in (EXIT_FATAL, EXIT_USAGE):
        lines = [l for l in err.splitlines() if l.strip() and not l.startswith("Try ")]
        msg = lines[0] if lines else f"{argv[0]} failed (exit status {rc})"
        if msg.startswith("coretool: "):
            msg = msg[len("coretool: "):]
        if json and out.strip():
            gdb.write(out)
        raise CoretoolError(f"coretool {argv[0]}: {msg}")
    gdb.write(out)
    if err:
        gdb.write(err, gdb.STDERR)
    return rc
