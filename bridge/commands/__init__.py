"""The ``bridge`` subcommands, grouped by what they work on."""
