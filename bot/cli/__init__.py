"""The `cunwu` command line: bot.cli.main dispatches to the subcommands in this package."""
