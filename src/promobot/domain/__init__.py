"""Pure promotion rules and values: no I/O, no framework imports."""
