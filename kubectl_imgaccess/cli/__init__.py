"""The command line: flags, the use cases check and fix, output streams."""
