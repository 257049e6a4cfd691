"""The command line: a thin layer over `videoqa.VideoQA`, one module per group of commands."""
