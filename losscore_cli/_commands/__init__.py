"""One module per subcommand; each has ``register(subparsers)``."""

from losscore_cli._commands import evaluate, losses, models, plot, predict, serve, train

COMMANDS = (losses, evaluate, plot, train, predict, models, serve)

__all__ = ["COMMANDS"]
