"""``losscore losses``, ``--help`` and exit statuses."""

from __future__ import annotations

import pytest

import losscore
from tests.cli._cli import ANSI, run

SUBCOMMANDS = ["losses", "evaluate", "compare", "plot", "train", "predict", "models", "serve"]


def test_losses_json_is_the_catalog() -> None:
    assert run("losses", "--json").json() == [s.as_dict() for s in losscore.list_losses()]


def test_one_loss_json_is_its_spec() -> None:
    spec = next(s for s in losscore.list_losses() if s.aliases and s.params)
    assert run("losses", spec.aliases[0], "--json").json() == spec.as_dict()


def test_filters_read_the_catalog() -> None:
    got = [s["name"] for s in run("losses", "--task", "classification", "--json").json()]
    assert got == [s.name for s in losscore.list_losses() if "classification" in s.training.tasks]
    got = [s["name"] for s in run("losses", "--kind", "multiclass", "--json").json()]
    assert got == [s.name for s in losscore.list_losses() if s.kind == "multiclass"]


def test_losses_table_when_piped_is_plain_and_complete() -> None:
    r = run("losses")
    assert r.code == 0
    assert not ANSI.search(r.out) and "\r" not in r.out
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["name", "aliases", "kind"]
    assert [line.split()[0] for line in lines[1:]] == list(losscore.loss_names())


def test_describe_one_loss() -> None:
    spec = losscore.list_losses()[2]
    r = run("losses", spec.name)
    assert r.code == 0
    assert spec.formula in r.out
    for p in spec.params:
        assert p.name in r.out and str(p.interval) in r.out


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help_with_examples(command: str) -> None:
    r = run(command, "--help")
    assert r.code == 0
    assert "examples:" in r.out and f"losscore {command}" in r.out


def test_top_level_help_lists_every_command() -> None:
    r = run("--help")
    assert r.code == 0
    for command in SUBCOMMANDS:
        assert command in r.out
    assert run().code == 2  # no command: the help, as a usage error


def test_unknown_loss_is_an_error_listing_the_names() -> None:
    r = run("losses", "no_such_loss")
    assert r.code == 1
    assert r.err.startswith("error: NAME: unknown name 'no_such_loss'")
    assert all(name in r.err for name in losscore.loss_names())


def test_usage_errors_exit_2() -> None:
    r = run("evaluate", "--loss", losscore.loss_names()[0], "--prediction", "p.npy")
    assert r.code == 2 and "--target" in r.err
    r = run("compare", "-l", "a,,b", "--prediction", "p", "--target", "t")
    assert r.code == 2 and "empty name" in r.err
