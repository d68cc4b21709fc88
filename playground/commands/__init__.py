"""The `:` commands, one entry each, in one module per family; table.py gathers them."""
